"""The error reference (docs/reference/errors.md) is generated from the package's source by
docs/_ext/error_reference.py: it finds every raise site, reads each message it can, and names
the ones it cannot in the build log. These tests check it against a plain text search of the
same source, read at test time (so they follow the modules as they move), and on a small
package of their own with each pattern the scan is meant to read."""

from __future__ import annotations

import html
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from docs_pages import DOCS, ROOT

sys.path.insert(0, str(DOCS / "_ext"))
import error_reference  # noqa: E402  (the extension lives with the docs, not in the package)

PACKAGE = ROOT / "tinygrad_edu"
SOURCE = {p: p.read_text(encoding="utf-8") for p in sorted(PACKAGE.rglob("*.py"))}


def _grep_family() -> set[str]:
    """`UserError` and the classes that derive from it, by their ``class X(...)`` lines."""
    text = "\n".join(SOURCE.values())
    family, grown = {"UserError"}, True
    while grown:
        found = {
            name
            for name, bases in re.findall(r"^\s*class (\w+)\(([^)]*)\)", text, re.M)
            if {b.strip().split(".")[-1] for b in bases.split(",")} & family
        }
        grown = not found <= family
        family |= found
    return family


def _grep_raise_sites() -> int:
    """Raise sites as a text search counts them: ``raise X(`` where X is a `UserError` class
    or a function annotated as returning one (``def f(...) -> X:``)."""
    text = "\n".join(SOURCE.values())
    family = _grep_family()
    returns = re.findall(r"def (\w+)\([^)]*\)\s*->\s*([\w.]+)\s*:", text)
    makers = family | {name for name, kind in returns if kind.split(".")[-1] in family}
    names = "|".join(sorted(makers))
    return len(re.findall(rf"\braise\s+(?:[\w.]+\.)?(?:{names})\(", text))


def test_the_scan_finds_every_raise_site_a_text_search_finds():
    result = error_reference.scan(PACKAGE)
    assert result.raise_sites == _grep_raise_sites()
    assert result.raise_sites > 200  # the package's messages, not a handful


def _sample_messages() -> list[str]:
    """The fixed text of real messages, read from the source: a plain literal raised as is,
    and the opening words of f-strings raised directly."""
    text = "\n".join(SOURCE.values())
    family = "|".join(sorted(_grep_family()))
    plain = re.findall(rf'raise (?:{family})\(\s*"([^"{{}}\\]{{20,}})"\s*\)', text)
    opening = re.findall(r'raise UserError\(\s*f"([^"{}\\]{25,})\{', text)
    sample = sorted(set(plain))[::2] + sorted(set(opening))[::7]
    assert len(sample) >= 10, sample
    return sample


def test_the_reference_lists_a_sample_of_the_real_messages():
    templates = [m.template for m in error_reference.scan(PACKAGE).messages]
    for message in _sample_messages():
        assert any(message in template for template in templates), message


def test_every_part_of_the_program_with_messages_has_its_section():
    result = error_reference.scan(PACKAGE)
    groups = {m.group for m in result.messages}
    subpackages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    raising = {
        p.relative_to(PACKAGE).parts[0]
        for p, text in SOURCE.items()
        if len(p.relative_to(PACKAGE).parts) > 1 and re.search(r"raise UserError\(", text)
    }
    assert raising <= groups <= subpackages | {""}
    assert "" in groups  # the engine's own, at the package's root


FAKE = {
    "__init__.py": '"""fake: a package to scan."""\n',
    "errors.py": "class UserError(Exception):\n    pass\n",
    "parts/__init__.py": '"""Parts: where things go wrong."""\n',
    "parts/things.py": """
        from dataclasses import dataclass
        from ..errors import UserError

        HINT = "install it: " + "pip install thing"


        class ThingError(UserError):
            def __init__(self, name, count):
                super().__init__(f"{name} has {count} things; give fewer")


        @dataclass
        class Problem:
            file: str
            message: str


        def _text(name):
            return f"no thing called {name}"


        def refuse(what) -> UserError:
            return UserError(f"{what} is refused; try another")


        def plain(x):
            raise UserError("a plain literal " "joined with the next")


        def variable(x):
            msg = "the variable {x}"
            if x:
                msg += f", and more {x.size}"
            raise UserError(msg)


        def formatted(x):
            raise UserError("{} formatted by .format".format(x))


        def helper(x):
            raise UserError(_text(x))


        def through_factory(x):
            raise refuse(f"the value {x:.3g}")


        def own_init(x):
            raise ThingError(x, len(x))


        def constant():
            raise UserError(HINT)


        def problems(x):
            raise UserError(Problem("f.yaml", f"key {x} is unknown"))


        def unreadable(error):
            raise UserError(str(error))
    """,
}


def _fake_package(tmp_path: Path) -> Path:
    package = tmp_path / "fake"
    for name, text in FAKE.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(textwrap.dedent(text))
    return package


def test_the_scan_reads_each_pattern_of_message_and_names_what_it_cannot(tmp_path):
    result = error_reference.scan(_fake_package(tmp_path))
    assert result.raise_sites == 9
    assert {m.template for m in result.messages} == {
        "a plain literal joined with the next",
        "the variable {x}",
        "the variable {x}, and more {size}",
        "{} formatted by .format",
        "no thing called {name}",  # a helper's field, named as the helper names it
        "{what} is refused; try another",
        "{name} has {count} things; give fewer",
        "install it: pip install thing",
        "key {x} is unknown",
    }
    assert {m.group for m in result.messages} == {"parts"}
    assert result.groups["parts"] == "Parts: where things go wrong."
    assert [(u.module, u.expression) for u in result.unread] == [
        ("fake.parts.things", "UserError(str(error))")
    ]


def test_the_build_log_names_each_message_the_scan_cannot_read(tmp_path):
    pytest.importorskip("sphinx", reason="sphinx not installed: pip install -e '.[docs]'")
    source = tmp_path / "src"
    source.mkdir()
    (source / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(DOCS / '_ext')!r})\n"
        "extensions = ['error_reference']\n"
    )
    (source / "index.rst").write_text("Errors\n======\n\n.. error-reference::\n")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-b", "html", str(source), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    unread = error_reference.scan(PACKAGE).unread
    assert unread  # the package has some (messages passed on from other exceptions)
    for site in unread:
        assert str(site) in result.stdout, str(site)
    page = _text_of((tmp_path / "out" / "index.html").read_text(encoding="utf-8"))
    for message in _sample_messages():
        assert " ".join(message.split()) in page, message


def _text_of(page: str) -> str:
    """An HTML page's text (a literal's words are spans of their own), spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", page)).split())
