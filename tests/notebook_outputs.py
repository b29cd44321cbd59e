"""What a notebook's cells show, for tests that run notebooks (test_notebooks, test_display)."""

from __future__ import annotations

from typing import Any


def shown_text(notebook: Any) -> str:
    """Every text a notebook's outputs show, decoded: an escape code in an output is the
    character itself here (the notebook's JSON file spells it \\u001b, which a search for
    "\\x1b" in the file would never find)."""
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            texts.extend(v for v in output.get("data", {}).values() if isinstance(v, str))
    return "\n".join(texts)
