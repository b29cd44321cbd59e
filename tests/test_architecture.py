"""The house as a whole (issue 22): the rows declared in pyproject's ``[tool.importlinter]``
hold, no import circle anywhere in the package (imports inside functions counted), no module
over 800 lines, and the contract's engine rows are `tg.ENGINE`, the reading order, so the two
cannot drift apart. Where one row or one package is checked more closely: tests/test_package.py
(the engine), tests/test_import_layers.py (spec), tests/test_layers.py (io, training, runs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from import_graph import GRAPH, ROOT, TOOL

import tinygrad_edu as tg

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: import-linter brings tomli there
    tomllib = pytest.importorskip("tomli", reason="reading pyproject.toml on 3.10 needs tomli")

PACKAGE = ROOT / "tinygrad_edu"
CONTRACT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
    "importlinter"
]["contracts"][0]
MAX_LINES = 800


def rows() -> list[set[str]]:
    """The contract's rows, highest first, each as the set of names in it."""
    return [{name.strip() for name in row.split(":")} for row in CONTRACT["layers"]]


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` as CI runs it, on the package found from `cwd`."""
    code = (
        "import sys; from importlinter.cli import lint_imports_command; "
        "sys.exit(lint_imports_command())"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(cwd), "HOME": str(cwd)},
    )


def test_lint_imports_keeps_the_contract():
    pytest.importorskip("importlinter", reason="import-linter comes with the test extra")
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 kept, 0 broken" in result.stdout


def test_lint_imports_catches_an_upward_import(tmp_path):
    """The contract can fail: a copy of the package where the engine imports the CLI."""
    pytest.importorskip("importlinter", reason="import-linter comes with the test extra")
    copy = tmp_path / "tree"
    copy.mkdir()
    (copy / "pyproject.toml").write_text(
        (ROOT / "pyproject.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    subprocess.run(["cp", "-r", str(PACKAGE), str(copy / "tinygrad_edu")], check=True)
    ops = copy / "tinygrad_edu" / "ops.py"
    ops.write_text(
        ops.read_text(encoding="utf-8") + "\n\ndef _upward():\n    from .cli import main\n",
        encoding="utf-8",
    )
    result = lint_imports(copy)
    assert result.returncode != 0
    assert "tinygrad_edu.ops is not allowed to import tinygrad_edu.cli" in result.stdout


def test_no_import_circle_in_the_whole_package():
    assert TOOL.circles(GRAPH) == []


def test_no_module_is_over_800_lines():
    long = {
        str(path.relative_to(ROOT)): lines
        for path in PACKAGE.rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_every_module_of_the_package_has_its_row():
    """A new module or package at the root must be placed in the house, not slip past it."""
    placed = set().union(*rows())
    at_root = {
        path.stem if path.is_file() else path.name
        for path in PACKAGE.iterdir()
        if (path.suffix == ".py" or (path / "__init__.py").exists())
    }
    assert at_root - {"__init__", "__main__", "_version"} - placed == set()


def test_the_engine_rows_are_the_reading_order():
    """The contract lists the engine lowest last; read upward, it is `tg.ENGINE`."""
    engine = [next(iter(row)) for row in rows() if len(row) == 1 and next(iter(row)) in tg.ENGINE]
    assert list(reversed(engine)) == list(tg.ENGINE)
