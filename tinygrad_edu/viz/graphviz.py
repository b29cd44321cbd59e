"""The computation graph as Graphviz DOT text, for teaching (micrograd's ``draw_dot``).

The text is written by the engine's `graph_text` (a `Value` draws itself in Jupyter, and the
engine imports nothing above it); this module gives it micrograd's names, ``tg.to_dot`` and
``tg.draw_dot``. Rendering it needs the Graphviz ``dot`` program
(``dot -Tsvg graph.dot -o graph.svg``).
"""

from __future__ import annotations

from ..graph_text import to_dot

draw_dot = to_dot

__all__ = ["draw_dot", "to_dot"]
