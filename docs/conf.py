"""Sphinx configuration of the tinygrad_edu documentation.

Build it with ``python -m sphinx -W --keep-going -b html docs docs/_build/html`` after
``pip install -e ".[docs]"``. Pages are Markdown (MyST); the notebooks are executed at build
time and cached (jupyter-cache), so a rebuild only runs the notebooks that changed. The
reference pages are generated: the API from docstrings (autodoc), the command line from the
argument parser (sphinx-argparse), the spec format from its JSON Schema and the error messages
from the package's source (both in ``_ext``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # the checkout's package, installed or not
sys.path.insert(0, str(DOCS / "_ext"))
# the notebook kernels are fresh interpreters: they find this checkout too
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")

project = "tinygrad_edu"
author = "the tinygrad_edu authors"
copyright = "the tinygrad_edu authors, MIT license"

extensions = [
    "myst_nb",  # Markdown pages (MyST) and executed notebooks
    "sphinx.ext.autodoc",
    "sphinx_autodoc_typehints",
    "sphinxarg.ext",
    "spec_reference",
    "error_reference",
]

exclude_patterns = ["_build", "_ext", "Thumbs.db", ".DS_Store"]
html_theme = "furo"
html_title = "tinygrad_edu"
html_static_path = ["_static"]
html_favicon = "_static/favicon.svg"  # also spares browsers a request for /favicon.ico
highlight_language = "none"  # unlabelled blocks are program output, not code

myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

# notebooks: run at build time, results cached under _build/.jupyter_cache
nb_execution_mode = "cache"
nb_execution_cache_path = str(DOCS / "_build" / ".jupyter_cache")
nb_execution_timeout = 180
nb_execution_raise_on_error = True
nb_execution_show_tb = True

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "show-inheritance": False}
always_document_param_types = False
typehints_fully_qualified = False
# names a docstring mentions in type hints that are not documented objects themselves
nitpicky = False
suppress_warnings = ["myst.header"]

# The docstrings are plain text with Markdown's `code`: single backticks show as code, and
# the `|x|` and `*` of formulas are text, not reStructuredText markup.
default_role = "code"


def _plain_text_docstring(app, what, name, obj, options, lines):
    import re

    literal = re.compile(r"(``.*?``|`[^`]*`)")
    for i, line in enumerate(lines):
        parts = literal.split(line)
        lines[i] = "".join(
            part if j % 2 else re.sub(r"(?<!\\)([|*])", r"\\\1", part)
            for j, part in enumerate(parts)
        )


def setup(app):
    app.connect("autodoc-process-docstring", _plain_text_docstring, priority=400)
