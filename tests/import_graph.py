"""The package's import graph as `tools/import_cycles.py` reads it (every import a module
can run, those inside functions too), shared by the tests of the layout."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tool():
    spec = importlib.util.spec_from_file_location(
        "import_cycles", ROOT / "tools" / "import_cycles.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("import_cycles", module)
    spec.loader.exec_module(module)
    return module


TOOL = _tool()
"""tools/import_cycles.py, loaded as a module."""
GRAPH = TOOL.import_graph(ROOT / "tinygrad_edu")
"""Each module's dotted name -> the package's modules it imports."""
