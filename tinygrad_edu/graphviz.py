"""The computation graph as Graphviz DOT text, for teaching (micrograd's ``draw_dot``).

Each value or tensor is a record node (label, data or shape, grad); each operation is a
small oval between its inputs and its output. Producing the text needs nothing extra;
rendering it needs the Graphviz ``dot`` program (``dot -Tsvg graph.dot -o graph.svg``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .autograd import topological_order


def _describe(node: Any, name: str | None = None) -> str:
    if hasattr(node, "shape"):  # Tensor
        dtype = getattr(node.dtype, "name", str(node.dtype).rsplit(".", 1)[-1])
        text = f"{name} | " if name else ""
        text += f"shape {node.shape} | {dtype}"
        if node._grad is not None:  # a leaf after backward(): its gradient has its shape
            text += f" | grad {tuple(node._grad.shape)}"
        return text
    label = f"{node.label} | " if getattr(node, "label", "") else ""
    return f"{label}data {node.data:.4f} | grad {node.grad:.4f}"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("{", "\\{").replace("}", "\\}")


def to_dot(root: Any, rankdir: str = "LR", names: Mapping[int, str] | None = None) -> str:
    """DOT text of everything `root` was computed from (Values or Tensors).

    ``names`` maps ``id(tensor)`` to a name shown first in that tensor's node (parameter
    names such as '1.weight'); Values show their own ``label``.
    """
    names = names or {}
    lines = [
        "digraph G {",
        f"  rankdir={rankdir};",
        '  node [fontname="Helvetica", fontsize=10];',
    ]
    order = topological_order(root)
    number = {id(node): i for i, node in enumerate(order)}  # the same text on every run
    for node in order:
        uid = f"n{number[id(node)]}"
        label = _escape(_describe(node, names.get(id(node))))
        lines.append(f'  {uid} [shape=record, label="{{ {label} }}"];')
        if node._op:
            lines.append(f'  {uid}_op [shape=oval, label="{_escape(node._op)}"];')
            lines.append(f"  {uid}_op -> {uid};")
            for parent in node._prev:
                lines.append(f"  n{number[id(parent)]} -> {uid}_op;")
    lines.append("}")
    return "\n".join(lines) + "\n"


draw_dot = to_dot
