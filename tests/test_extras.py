"""A missing extra is reported with the install command that fits the installation: the clone's
``pip install -e ".[x]"`` where the package runs from a clone, the package index's
``pip install "tinygrad-edu[x]"`` elsewhere; every hint in the package comes from one helper."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tinygrad_edu import extras
from tinygrad_edu.extras import install_hint

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "tinygrad_edu"


def test_in_a_clone_from_its_folder_the_hint_is_the_editable_install(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert extras.clone_root() == ROOT
    assert install_hint("plot") == 'pip install -e ".[plot]"'


def test_in_a_clone_from_another_folder_the_hint_names_the_clone(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # "." would be the wrong folder here
    assert install_hint("export") == f'pip install -e "{ROOT}[export]"'


def test_an_installed_package_gets_the_package_index_command(monkeypatch, tmp_path):
    site = tmp_path / "site-packages"
    (site / "tinygrad_edu").mkdir(parents=True)
    monkeypatch.setattr(extras, "__file__", str(site / "tinygrad_edu" / "extras.py"))
    assert extras.clone_root() is None
    assert install_hint("plot") == 'pip install "tinygrad-edu[plot]"'
    # another project's pyproject.toml beside the package folder is not this clone
    (site / "pyproject.toml").write_text('[project]\nname = "something-else"\n')
    assert install_hint("playground") == 'pip install "tinygrad-edu[playground]"'


def test_every_hint_in_the_package_comes_from_the_helper():
    """No module spells out an install command for an extra itself (issue 20: the hints said
    ``pip install "tinygrad-edu[export]"`` to someone who installed from a clone)."""
    spelled = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "extras.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(r"pip install[^\n]*\[", line)
    ]
    assert spelled == []


@pytest.mark.parametrize(
    "module, name, extra",
    [
        ("tinygrad_edu.viz.figures", "MISSING_MATPLOTLIB", "plot"),
        ("tinygrad_edu.explain", "GIF_MISSING", "plot"),
        ("tinygrad_edu.export.bundle", "EXPORT_HINT", "export"),
        ("tinygrad_edu.playground.server", "HINT", "playground"),
        ("tinygrad_edu.training.tensorboard", "MISSING_TENSORBOARDX", "tensorboard"),
    ],
)
def test_the_hints_end_with_the_command_for_their_extra(module, name, extra):
    hint = getattr(__import__(module, fromlist=[name]), name)
    assert hint.endswith(install_hint(extra))


@pytest.mark.parametrize("where", ["clone", "elsewhere"])
def test_the_cli_prints_the_command_for_where_it_runs(tmp_path, where):
    """``python cli.py playground`` without uvicorn, run from the clone and from another
    folder: the editable install, with the clone's path when "." would be the wrong folder."""
    blocked = tmp_path / "blocked"  # first on the path: "import uvicorn" fails there
    blocked.mkdir()
    (blocked / "uvicorn.py").write_text("raise ImportError('uvicorn is not installed')\n")
    cwd = ROOT if where == "clone" else tmp_path
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocked), str(ROOT)])}
    result = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "playground", "--no-browser"],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
    )
    expected = 'pip install -e ".[playground]"' if where == "clone" else f'"{ROOT}[playground]"'
    assert result.returncode == 2 and expected in result.stderr
    assert "tinygrad-edu[" not in result.stderr and "Traceback" not in result.stderr
