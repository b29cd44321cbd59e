"""The lecture's notebooks run top to bottom (a notebook that breaks fails the build), and
they are stored without outputs, so their diffs stay readable."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import docs_pages
import pytest
from notebook_outputs import shown_text

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_the_notebooks_extra_brings_jupyter_and_the_readme_says_how_to_open_them():
    """Issue 20: the README said "open them with Jupyter", and nothing it installed had it."""
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in Python 3.11 and newer")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {
        re.split(r"[<>=\[ ]", need)[0] for need in project["optional-dependencies"]["notebooks"]
    }
    assert {"jupyterlab", "nbconvert", "ipykernel", "matplotlib"} <= names
    readme = docs_pages.page("README.md")
    tutorials = docs_pages.page("docs/tutorials/index.md")
    assert 'pip install -e ".[notebooks]" && jupyter lab notebooks/' in readme
    assert 'pip install -e ".[notebooks]" && jupyter lab notebooks/' in tutorials
    executed = "jupyter nbconvert --to notebook --execute notebooks/02_activations.ipynb"
    assert executed in tutorials
    assert "*.nbconvert.ipynb" in (ROOT / ".gitignore").read_text().splitlines()


def test_there_is_one_notebook_per_part_of_the_lecture():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06", "07", "08"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path):
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, (
                f"{path.name}: strip the outputs before committing "
                f"(jupyter nbconvert --clear-output --inplace {path.relative_to(ROOT)})"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, monkeypatch):
    nbformat = pytest.importorskip(
        "nbformat", reason="nbformat not installed: pip install -e '.[test]'"
    )
    nbclient = pytest.importorskip(
        "nbclient", reason="nbclient not installed: pip install -e '.[test]'"
    )
    # the kernel is a fresh interpreter: it finds this checkout even where it is not installed
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, when one fails
    errors = [
        o for c in notebook.cells for o in c.get("outputs", []) if o["output_type"] == "error"
    ]
    assert not errors
    # what a notebook shows is HTML or plain text: terminal escape codes would print as garbage
    # (searched in the decoded outputs: the notebook's JSON spells the character \\u001b)
    assert "\x1b" not in shown_text(notebook)
    # a run made in the notebook does not claim the kernel's launch command made it
    assert "ipykernel_launcher" not in shown_text(notebook)
