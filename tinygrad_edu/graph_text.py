"""A computation graph as text: DOT for Graphviz (micrograd's ``draw_dot``), one line per node.

Each value or tensor is a record node (label, data or shape, grad); each operation is a small
oval between its inputs and its output. `to_dot` writes the DOT text and `text_form` the same
graph one line per node (``n2  c | data -6.0000 | grad 1.0000  = * (n0, n1)``); neither needs
anything extra. `dot_output` renders DOT text with the Graphviz ``dot`` program, a program
called as a subprocess, not a Python package.

It sits in the engine row because a `Value` shows itself as its graph in Jupyter
(`inline_svg`, `inline_text`): the engine must not import the drawing tools above it, so
those tools (`viz.draw`, `viz.graphs`, `explain`) are built on this module instead.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from .autograd import topological_order
from .errors import UserError

INSTALL_GRAPHVIZ = (
    "install Graphviz (apt-get install graphviz, brew install graphviz, "
    "conda install -c conda-forge graphviz, or winget install graphviz)"
)
"""How to get ``dot``: it is a program, not a Python package, so no extra brings it."""
DOT_MISSING = f"the Graphviz dot program is not installed; {INSTALL_GRAPHVIZ}"
DOT_HINT = f"(to see it drawn, {INSTALL_GRAPHVIZ})"
"""The text form's last line where ``dot`` is missing."""

RENDERED_FORMATS = ("svg", "png", "pdf")
"""The picture formats ``dot -T<format>`` writes; ``.dot`` files get the text itself."""

MAX_INLINE_NODES = 200
"""Largest graph a `Value` draws by itself in Jupyter; a bigger one would not be readable."""
MAX_TEXT_NODES = 60
"""Nodes listed by the text form; the rest are counted."""


class GraphvizMissing(UserError):
    """The ``dot`` program is not on the PATH."""


# --- the DOT text ---------------------------------------------------------------------------


def _fields(node: Any, name: str | None = None) -> list[str]:
    """The fields of a node's record: name or label, data or shape and dtype, grad."""
    fields = [name] if name else []
    if hasattr(node, "shape"):  # Tensor
        dtype = getattr(node.dtype, "name", str(node.dtype).rsplit(".", 1)[-1])
        fields += [f"shape {node.shape}", dtype]
        if node._grad is not None:  # a leaf after backward(): its gradient has its shape
            fields.append(f"grad {tuple(node._grad.shape)}")
        return fields
    if getattr(node, "label", ""):
        fields.append(node.label)
    return fields + [f"data {node.data:.4f}", f"grad {node.grad:.4f}"]


def _escape(text: str) -> str:
    """Backslash the characters that are syntax inside a DOT record label."""
    for char in '\\"{}|<>':
        text = text.replace(char, "\\" + char)
    return text


def to_dot(
    root: Any,
    rankdir: str = "LR",
    names: Mapping[int, str] | None = None,
    highlight: Collection[int] = (),
    title: str = "",
) -> str:
    """DOT text of everything `root` was computed from (Values or Tensors).

    ``names`` maps ``id(tensor)`` to a name shown first in that tensor's node (parameter
    names such as '1.weight'); Values show their own ``label``. Nodes whose id is in
    ``highlight`` are filled (the backprop explainer marks the nodes done so far); a
    ``title`` is written above the graph (the explainer's step).
    """
    names = names or {}
    lines = [
        "digraph G {",
        f"  rankdir={rankdir};",
        '  node [fontname="Helvetica", fontsize=10];',
    ]
    if title:
        quoted = title.replace("\\", "\\\\").replace('"', '\\"')  # a plain label, not a record
        lines.append(f'  labelloc=t; fontname="Helvetica"; label="{quoted}";')
    order = topological_order(root)
    number = {id(node): i for i, node in enumerate(order)}  # the same text on every run
    for node in order:
        uid = f"n{number[id(node)]}"
        label = " | ".join(_escape(f) for f in _fields(node, names.get(id(node))))
        fill = ', style=filled, fillcolor="#ffe082"' if id(node) in highlight else ""
        lines.append(f'  {uid} [shape=record, label="{{ {label} }}"{fill}];')
        if node._op:
            lines.append(f'  {uid}_op [shape=oval, label="{_escape(node._op)}"];')
            lines.append(f"  {uid}_op -> {uid};")
            for parent in node._prev:
                lines.append(f"  n{number[id(parent)]} -> {uid}_op;")
    lines.append("}")
    return "\n".join(lines) + "\n"


# --- one line per node ----------------------------------------------------------------------


def text_form(root: Any, names: Mapping[int, str] | None = None) -> str:
    """The graph one line per node, inputs first, with the DOT text's node ids and fields
    (``n2  c | data -6.0000 | grad 1.0000  = * (n0, n1)``); at most `MAX_TEXT_NODES` lines,
    then a count, and `DOT_HINT` where ``dot`` is missing."""
    names = names or {}
    order = topological_order(root)
    number = {id(node): i for i, node in enumerate(order)}  # the DOT text's node ids
    count = f"{len(order)} node{'s' * (len(order) != 1)}"
    lines = [f"graph of {count}, inputs first:"]
    for node in order[:MAX_TEXT_NODES]:
        line = f"  n{number[id(node)]}  " + " | ".join(_fields(node, names.get(id(node))))
        if node._op:
            inputs = ", ".join(f"n{number[id(p)]}" for p in node._prev)
            line += f"  = {node._op} ({inputs})"
        lines.append(line)
    if len(order) > MAX_TEXT_NODES:
        more = len(order) - MAX_TEXT_NODES
        lines.append(f"  ... and {more} more node{'s' * (more != 1)}")
    if not dot_installed():
        lines.append(DOT_HINT)
    return "\n".join(lines)


# --- rendering with Graphviz's dot ----------------------------------------------------------


def dot_installed() -> bool:
    """Whether Graphviz's ``dot`` program is on the PATH."""
    import shutil  # here, not above: `import tinygrad_edu` stays the engine's cost

    return shutil.which("dot") is not None


def require_dot(request: str, otherwise: str) -> None:
    """Refuse `request` (the option that needs a drawing, e.g. ``--frames DIR``) where ``dot``
    is not installed, saying how to install it and what works without it (`otherwise`).

    Commands call this after checking the rest of the request, so a mistake in it is reported
    first, and before they print or create anything, so a refusal leaves nothing behind.
    """
    if not dot_installed():
        raise GraphvizMissing(
            f"{request} needs the Graphviz dot program, which is not installed; "
            f"{INSTALL_GRAPHVIZ}; {otherwise}"
        )


def dot_output(dot_text: str, fmt: str) -> bytes:
    """What ``dot -T<fmt>`` makes of DOT text (one of `RENDERED_FORMATS`), in memory: for
    a notebook's inline SVG and the frames of a GIF, which need no file."""
    import shutil  # here, not above: `import tinygrad_edu` stays the engine's cost
    import subprocess

    if fmt not in RENDERED_FORMATS:
        raise ValueError(f"dot renders {', '.join(RENDERED_FORMATS)} here, not {fmt!r}")
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizMissing(DOT_MISSING)
    result = subprocess.run([dot, f"-T{fmt}"], input=dot_text.encode(), capture_output=True)
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip()
        raise UserError(f"dot could not render the graph: {message}")
    return result.stdout


def svg_or_none(dot_text: str) -> str | None:
    """DOT text as inline SVG (no XML prolog or DOCTYPE), or None where ``dot`` is missing:
    Jupyter then shows the object's text form."""
    try:
        picture = dot_output(dot_text, "svg").decode("utf-8")
    except GraphvizMissing:
        return None
    return picture[picture.find("<svg") :]


# --- a Value in Jupyter ---------------------------------------------------------------------


def _drawn_inline(value: Any) -> bool:
    """Whether Jupyter shows a `Value` as its graph: a computed one of at most
    `MAX_INLINE_NODES` nodes (a leaf, or a bigger graph, keeps its one-line repr)."""
    return bool(value._prev) and len(topological_order(value)) <= MAX_INLINE_NODES


def inline_svg(value: Any) -> str | None:
    """The SVG Jupyter shows for a computed `Value`, or None (its text form, `inline_text`)
    for a leaf, a graph of more than `MAX_INLINE_NODES` nodes, or a machine without ``dot``."""
    return svg_or_none(to_dot(value)) if _drawn_inline(value) else None


def inline_text(value: Any) -> str:
    """The text IPython shows for a `Value` (its ``_repr_pretty_``): where `inline_svg` would
    draw the graph but ``dot`` is missing, the graph's text form with the hint, so the cell
    still shows the graph; otherwise the value's own repr, which ``repr()`` always gives."""
    if _drawn_inline(value) and not dot_installed():
        return text_form(value)
    return repr(value)
