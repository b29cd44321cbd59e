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
    return [(p, code) for p, code, _ in python_examples()]


# A ```python block, then (after at most one blank line) an unlabelled block that is not a
# `$ ` session: what the code prints, shown as the reader will see it.
_EXAMPLE = re.compile(r"```python\n(.*?)```[ \t]*\n(?:\n?```\n(?!\$ )(.*?)```)?", re.S)


def python_examples(pages: list[Path] | None = None) -> list[tuple[Path, str, str | None]]:
    """Every ```python block with the output shown right after it (None when none is shown).

    The convention (docs/explanation/testing.md): the output block holds exactly what the code
    prints; ``...`` stands for any text there (doctest's ELLIPSIS), for what depends on the
    machine or is too long to show."""
    return [
        (p, code, shown)
        for p in (PAGES if pages is None else pages)
        for code, shown in ((m.group(1), m.group(2)) for m in _EXAMPLE.finditer(read(p)))
    ]


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
