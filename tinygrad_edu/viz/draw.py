"""A computation graph that draws itself in Jupyter: ``tg.draw(loss)`` as the last line of a cell.

`draw(root)` wraps a `Value` or `Tensor` graph in a `Graph`. Jupyter asks an object for its
richest picture: `Graph._repr_svg_` gives the SVG that Graphviz's ``dot`` makes of the DOT text
(`graphviz.to_dot`, rendered in memory by `graphs.dot_output`); where ``dot`` is not installed
it returns None, and Jupyter falls back to the text form, `Graph.__repr__`: one line per node
(the same fields as the picture, ``n2 = * (n0, n1)`` for an operation) and a one-line hint.
``str(graph)`` is the DOT text, so ``print(tg.draw(loss))`` shows what ``dot`` reads.

Why an object rather than a picture for every value: Jupyter shows the richest format an object
has, so an SVG hook on `Tensor` would hide every tensor's numbers behind a graph. A computed
`Value` (one with inputs) does draw itself (`Value._repr_svg_` calls `inline_svg`): its node
shows its data and gradient anyway. Without ``dot`` its IPython text form is the graph's text
form (`inline_text`), while ``repr()`` stays micrograd's one line. Leaves, and graphs of more
than `MAX_INLINE_NODES` nodes (one step of micrograd's demo has thousands), keep their repr.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..autograd import topological_order
from .graphs import INSTALL_GRAPHVIZ

MAX_INLINE_NODES = 200
"""Largest graph a `Value` draws by itself in Jupyter; a bigger one would not be readable."""
MAX_TEXT_NODES = 60
"""Nodes listed by the text form; the rest are counted."""
DOT_HINT = f"(to see it drawn, {INSTALL_GRAPHVIZ})"


class Graph:
    """The graph of everything `root` was computed from, shown inline in Jupyter."""

    def __init__(self, root: Any, names: Mapping[int, str] | None = None, rankdir: str = "LR"):
        self.root = root
        self.names = dict(names or {})
        self.rankdir = rankdir

    @property
    def dot(self) -> str:
        """The graph as Graphviz DOT text (`graphviz.to_dot`)."""
        from .graphviz import to_dot

        return to_dot(self.root, rankdir=self.rankdir, names=self.names)

    def svg(self) -> str:
        """The graph as SVG text, drawn by Graphviz's ``dot`` (`GraphvizMissing` without it)."""
        from .graphs import dot_output

        picture = dot_output(self.dot, "svg").decode("utf-8")
        return picture[picture.find("<svg") :]  # inline SVG: no XML prolog or DOCTYPE

    def _repr_svg_(self) -> str | None:
        from .graphs import GraphvizMissing

        try:
            return self.svg()
        except GraphvizMissing:
            return None  # Jupyter then shows __repr__

    def __str__(self) -> str:
        return self.dot

    def __repr__(self) -> str:
        from .graphs import dot_installed
        from .graphviz import _fields

        order = topological_order(self.root)
        number = {id(node): i for i, node in enumerate(order)}  # the DOT text's node ids
        count = f"{len(order)} node{'s' * (len(order) != 1)}"
        lines = [f"graph of {count}, inputs first:"]
        for node in order[:MAX_TEXT_NODES]:
            line = f"  n{number[id(node)]}  " + " | ".join(_fields(node, self.names.get(id(node))))
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


def draw(root: Any, names: Mapping[int, str] | None = None, rankdir: str = "LR") -> Graph:
    """The computation graph of `root` (a `Value` or a `Tensor`), drawn inline in Jupyter.

    ``names`` maps ``id(tensor)`` to a name shown in its node, e.g.
    ``{id(p): n for n, p in model.named_parameters()}``; Values show their own labels. A
    Tensor graph is freed by ``backward()``: draw it before, or after
    ``backward(retain_graph=True)``.
    """
    return Graph(root, names, rankdir)


def _drawn_inline(value: Any) -> bool:
    """Whether Jupyter shows a `Value` as its graph: a computed one of at most
    `MAX_INLINE_NODES` nodes (a leaf, or a bigger graph, keeps its one-line repr)."""
    return bool(value._prev) and len(topological_order(value)) <= MAX_INLINE_NODES


def inline_svg(value: Any) -> str | None:
    """The SVG Jupyter shows for a computed `Value`, or None (its text form, `inline_text`)
    for a leaf, a graph of more than `MAX_INLINE_NODES` nodes, or a machine without ``dot``."""
    return Graph(value)._repr_svg_() if _drawn_inline(value) else None


def inline_text(value: Any) -> str:
    """The text IPython shows for a `Value` (its ``_repr_pretty_``): where `inline_svg` would
    draw the graph but ``dot`` is missing, the graph's text form with the hint, so the cell
    still shows the graph; otherwise the value's own repr, which ``repr()`` always gives."""
    from .graphs import dot_installed

    if _drawn_inline(value) and not dot_installed():
        return repr(Graph(value))
    return repr(value)
