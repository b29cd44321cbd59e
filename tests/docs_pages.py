"""The documentation's pages as the tests read them: the README and every page under docs/.

The docs are load-bearing: their Python blocks and their ``$ python cli.py`` sessions are run
by the tests (tests/test_docs.py, tests/test_papercuts.py), and other tests check that an
example they show is the shipped file. They all find that text here, so a page can move
without a test losing sight of it.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md"] + sorted(
    p for p in DOCS.rglob("*.md") if "_build" not in p.relative_to(DOCS).parts
)


def name(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def read(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def python_blocks() -> list[tuple[Path, str]]:
    """Every ```python block of every page, with its page."""
    return [(p, b) for p in PAGES for b in re.findall(r"```python\n(.*?)```", read(p), re.S)]


def sessions() -> list[tuple[Path, str, str]]:
    """Every shown ``$ python cli.py ...`` session: page, command, what it prints."""
    pattern = r"```\n\$ (python cli\.py [^\n]*)\n(.*?)```"
    return [(p, c, shown) for p in PAGES for c, shown in re.findall(pattern, read(p), re.S)]


def all_text() -> str:
    """The README and every page, one after the other."""
    return "\n".join(read(p) for p in PAGES)


def page(relative: str) -> str:
    """One page's text, by its path from the repository root (``docs/howto/sweeps.md``)."""
    return read(ROOT / relative)
