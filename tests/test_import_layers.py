"""The spec language (row 4 of the layout, issue 22) reads as a layer: it imports no trainer
of row 5, and its own modules import each other in one order, without a circle.

The import graph is the one `tools/import_cycles.py` reads: every import a module can run,
those inside functions included."""

from __future__ import annotations

from import_graph import GRAPH, TOOL


def _spec_graph() -> dict[str, set[str]]:
    return {
        name: imports
        for name, imports in GRAPH.items()
        if name.split(".")[:2] == ["tinygrad_edu", "spec"]
    }


def test_the_spec_checks_import_no_trainer():
    """validate's check of train.engine: value comes from the training code through
    `check_spec_file`'s more_checks, not from spec importing the scalar trainer."""
    importing = sorted(
        name for name, imports in _spec_graph().items() if "tinygrad_edu.training.scalar" in imports
    )
    assert importing == []


def test_the_spec_modules_import_each_other_without_a_circle():
    """registry -> fields -> the sections -> schema -> problems -> yaml_positions -> messages
    -> compose -> checks -> loader -> the package: each module uses only those before it
    (the loader imported compose and checks inside functions, and they imported it back)."""
    graph = _spec_graph()
    inside = {name: imports & set(graph) for name, imports in graph.items()}
    assert TOOL.circles(inside) == []
