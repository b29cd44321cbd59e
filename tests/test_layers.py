"""The upper rows of the package's layout (issue 22): `io` sits just above the engine,
`training` below `runs`, and `viz` and `export` above both; no import circle among them.

The graph is `tools/import_cycles.py`'s: every import a module can run, inside function
bodies too (only ``if TYPE_CHECKING:`` blocks are left out)."""

from __future__ import annotations

import pytest
from import_graph import GRAPH, ROOT, TOOL

PACKAGE = "tinygrad_edu"
UPPER = ("io", "training", "runs", "viz", "export")


def _group(module: str) -> str:
    """``tinygrad_edu.runs.sweep`` -> ``runs``; a module at the root -> its own name."""
    return module.split(".")[1] if module.count(".") else ""


def _imports_of(group: str) -> dict[str, set[str]]:
    return {m: deps for m, deps in GRAPH.items() if _group(m) == group}


def test_the_graph_sees_imports_inside_functions():
    """The check below could pass by missing imports: a known function-level import is seen."""
    # the grader imports its checks inside a function (they need hypothesis, an optional extra)
    assert "tinygrad_edu.exercises.checks" in GRAPH["tinygrad_edu.exercises.runner"]


def test_no_import_circle_among_io_training_runs_viz_and_export():
    """Among these packages' own modules (tests/test_architecture.py checks the whole
    package)."""
    upper = {m: {d for d in deps if _group(d) in UPPER} for m, deps in GRAPH.items()
             if _group(m) in UPPER}  # fmt: skip
    assert TOOL.circles(upper) == []


@pytest.mark.parametrize(
    ("group", "above"),
    [
        ("io", {"nn", "optim", "data", "spec", "jit", "training", "runs", "viz", "export", "cli"}),
        ("data", {"training", "runs", "viz", "export", "playground", "exercises", "cli"}),
        ("spec", {"training", "runs", "viz", "export", "playground", "exercises", "cli"}),
        ("training", {"runs", "viz", "export", "playground", "exercises", "cli"}),
        ("runs", {"viz", "export", "playground", "exercises", "cli"}),
    ],
)
def test_a_layer_imports_nothing_above_it(group, above):
    """`io` only needs the engine (row 2); data and specs (row 4) never import training or
    runs (what a loss means is `objectives`, at the root); `training` never imports `runs`,
    `viz` or `export`; `runs` never imports `viz` or `export` (they draw and export what it
    holds)."""
    found = {
        (module, dep)
        for module, deps in _imports_of(group).items()
        for dep in deps
        if _group(dep) in above
    }
    assert found == set()


def test_run_folder_file_names_are_written_in_one_module():
    """``"metrics.csv"`` and the other names appear as text only in `training.layout`."""
    names = ('"metrics.csv"', '"model.npz"', '"checkpoint.npz"', '"spec.yaml"', '"run.json"',
             '"diagnostics.csv"', '"sweep.csv"', '"sweep_summary.csv"', '"sweep.yaml"',
             '".lock"')  # fmt: skip
    spelled = {
        (str(path.relative_to(ROOT)), name)
        for path in (ROOT / PACKAGE).rglob("*.py")
        for name in names
        if name in path.read_text(encoding="utf-8")
    }
    assert spelled == {(f"{PACKAGE}/training/layout.py", name) for name in names}
