"""The computation graph as Graphviz DOT text, for teaching (micrograd's ``draw_dot``).

Each value or tensor is a record node (label, data or shape, grad); each operation is a
small oval between its inputs and its output. Producing the text needs nothing extra;
rendering it needs the Graphviz ``dot`` program (``dot -Tsvg graph.dot -o graph.svg``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from ..autograd import topological_order


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


draw_dot = to_dot
