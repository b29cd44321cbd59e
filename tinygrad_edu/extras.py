"""The one command that installs an optional extra, said the way this installation takes it.

Optional features (plots, export, the playground, ...) come as pip extras, and a missing one
is reported with the command that brings it. Who reads the hint decides which command works:
someone who cloned the repository installed it with ``pip install -e ".[plot]"`` and must do
so again (``pip install "tinygrad-edu[plot]"`` would fetch a second copy from the package
index), while someone who installed the package from the index has no clone to point at. The
package tells them apart by its own location: a clone has the project's ``pyproject.toml``
beside the package folder, an installed wheel does not.
"""

from __future__ import annotations

from pathlib import Path

DISTRIBUTION = "tinygrad-edu"
"""The name the package index knows the project by (pyproject.toml's ``project.name``)."""


def clone_root() -> Path | None:
    """The clone this package runs from (the folder holding its pyproject.toml), or None for
    a package installed from the index."""
    root = Path(__file__).resolve().parent.parent
    try:
        text = (root / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return None
    return root if f'name = "{DISTRIBUTION}"' in text else None


def install_hint(extra: str) -> str:
    """The command that installs `extra`: ``pip install -e ".[extra]"`` in a clone (with the
    clone's path in place of ``.`` when the current folder is elsewhere), else
    ``pip install "tinygrad-edu[extra]"``."""
    root = clone_root()
    if root is None:
        return index_install(extra)
    try:
        here = Path.cwd().resolve() == root
    except OSError:  # the current folder was deleted
        here = False
    return f'pip install -e "{"." if here else root}[{extra}]"'


def index_install(extra: str) -> str:
    """``pip install "tinygrad-edu[extra]"``: the command from the package index, for a
    machine with no clone whatever this one has (a CI runner grading a student's push)."""
    return f'pip install "{DISTRIBUTION}[{extra}]"'
