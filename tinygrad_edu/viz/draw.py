"""A computation graph that draws itself in Jupyter: ``tg.draw(loss)`` as the last line of a cell.

`draw(root)` wraps a `Value` or `Tensor` graph in a `Graph`. Jupyter asks an object for its
richest picture: `Graph._repr_svg_` gives the SVG that Graphviz's ``dot`` makes of the DOT text
(`graph_text.to_dot`, rendered in memory by `graph_text.svg_or_none`); where ``dot`` is not
installed it returns None, and Jupyter falls back to the text form, `Graph.__repr__`: one line
per node (the same fields as the picture, ``n2 = * (n0, n1)`` for an operation) and a one-line
hint. ``str(graph)`` is the DOT text, so ``print(tg.draw(loss))`` shows what ``dot`` reads.

Why an object rather than a picture for every value: Jupyter shows the richest format an object
has, so an SVG hook on `Tensor` would hide every tensor's numbers behind a graph. A computed
`Value` (one with inputs) does draw itself, with the same functions of the engine's
`graph_text` (`inline_svg`, `inline_text`): its node shows its data and gradient anyway, and
``repr()`` stays micrograd's one line. Leaves, and graphs of more than
`graph_text.MAX_INLINE_NODES` nodes (one step of micrograd's demo has thousands), keep their
repr.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..graph_text import svg_or_none, text_form, to_dot


class Graph:
    """The graph of everything `root` was computed from, shown inline in Jupyter."""

    def __init__(self, root: Any, names: Mapping[int, str] | None = None, rankdir: str = "LR"):
        self.root = root
        self.names = dict(names or {})
        self.rankdir = rankdir

    @property
    def dot(self) -> str:
        """The graph as Graphviz DOT text (`graph_text.to_dot`)."""
        return to_dot(self.root, rankdir=self.rankdir, names=self.names)

    def _repr_svg_(self) -> str | None:
        return svg_or_none(self.dot)  # None without dot: Jupyter then shows __repr__

    def __str__(self) -> str:
        return self.dot

    def __repr__(self) -> str:
        return text_form(self.root, self.names)


def draw(root: Any, names: Mapping[int, str] | None = None, rankdir: str = "LR") -> Graph:
    """The computation graph of `root` (a `Value` or a `Tensor`), drawn inline in Jupyter.

    ``names`` maps ``id(tensor)`` to a name shown in its node, e.g.
    ``{id(p): n for n, p in model.named_parameters()}``; Values show their own labels. A
    Tensor graph is freed by ``backward()``: draw it before, or after
    ``backward(retain_graph=True)``.
    """
    return Graph(root, names, rankdir)
