"""Layer types from outside the package: modules named with ``--import`` and installed packages.

A spec is plain data: it names layer types and never imports code itself. A layer type
registered from Python (`register_layer`) therefore has to be registered before the spec
is read, by code the user chose to run. Two ways:

- ``--import MODULE`` on the command line (`import_modules`): the module is imported as
  Python's ``import`` would find it, with the current folder searched first, as for
  ``python -m``; its ``@register_layer`` decorators run on import.
- An installed package declares an entry point in the group ``tinygrad_edu.layers``
  (`ENTRY_POINT_GROUP`), naming the module that registers its layers::

      [project.entry-points."tinygrad_edu.layers"]
      my_layers = "my_package.layers"

  `load_entry_points` imports them all, once, the first time a spec is read (not at
  ``import tinygrad_edu``: a command that reads no spec pays nothing).

Either way, a failure is the user's to fix: one paragraph naming the module or package.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import traceback
from collections.abc import Iterable

from ..errors import UserError

ENTRY_POINT_GROUP = "tinygrad_edu.layers"

_MODULE = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_entry_points_loaded = False


def import_modules(names: Iterable[str]) -> None:
    """Import each module named (``my_layers``, ``my_package.layers``), so that the layer
    types it registers can be named in specs; the current folder is searched first."""
    for name in names:
        if not _MODULE.fullmatch(name) or name.endswith(".py"):  # a file name, not a module
            stem = re.sub(r"\.py$", "", name).replace("/", ".").replace("\\", ".").strip(".")
            example = stem if _MODULE.fullmatch(stem) else "my_layers"
            raise UserError(
                f"--import {name}: not a module name; give it as Python's import does, e.g. "
                f"--import {example} for {example.replace('.', '/')}.py in the current folder"
            )
        cwd = os.getcwd()
        if cwd not in sys.path and "" not in sys.path:
            sys.path.insert(0, cwd)
        try:
            importlib.import_module(name)
        except Exception as error:  # the user's code may fail in any way: theirs to fix
            raise UserError(f"--import {name}: {_import_failure(name, error)}") from None


def load_entry_points() -> None:
    """Import the modules that installed packages register layers from (once per process)."""
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    from importlib import metadata  # a few ms, paid by the first spec read only

    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            entry_point.load()
        except Exception as error:
            package = entry_point.dist.name if entry_point.dist is not None else "a package"
            raise UserError(
                f"the installed package {package} registers layer types through the entry "
                f"point '{entry_point.name} = {entry_point.value}' (group {ENTRY_POINT_GROUP}), "
                f"but loading it failed: {_import_failure(entry_point.module, error)}. Fix or "
                f"reinstall that package, or uninstall it (pip uninstall {package})"
            ) from None
    _entry_points_loaded = True


def _import_failure(name: str, error: Exception) -> str:
    """What went wrong importing module `name`, and where, in a few words."""
    if isinstance(error, ModuleNotFoundError) and error.name is not None:
        if name == error.name or name.startswith(error.name + "."):
            return (
                f"no module named '{error.name}' in the current folder ({os.getcwd()}) or on "
                "the Python path; check the name, or run from the folder that holds it"
            )
        return f"it imports '{error.name}', which is not installed (pip install {error.name})"
    if isinstance(error, SyntaxError):
        return f"SyntaxError: {error.msg} ({error.filename}, line {error.lineno})"
    frames = traceback.extract_tb(error.__traceback__)
    own = [f for f in frames if not f.filename.startswith(("<", _PACKAGE_DIR))] or frames
    where = f" ({own[-1].filename}, line {own[-1].lineno})" if own else ""
    return f"importing it failed: {type(error).__name__}: {error}{where}"


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # our own frames
