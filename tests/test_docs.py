"""The documentation's examples run as written (docs that lie are a bug): every Python block
of the README and of the pages under docs/, and every relative link between them resolves.
The ``$ python cli.py`` sessions they show are replayed in tests/test_papercuts.py."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from docs_pages import DOCS, PAGES, ROOT, name, python_blocks, read

BLOCKS = python_blocks()


def test_the_docs_have_python_examples():
    assert len(BLOCKS) >= 4
    assert {name(p) for p, _ in BLOCKS} > {"README.md"}  # the pages' own, not only the README's


@pytest.mark.parametrize(
    "page, code", BLOCKS, ids=[f"{name(p)}:block{i}" for i, (p, _) in enumerate(BLOCKS)]
)
def test_docs_python_example_runs(page, code, capsys):
    from tinygrad_edu.spec import registry

    names = set(registry.layer_names())
    try:
        exec(compile(code, str(page), "exec"), {"__name__": "docs_example"})
    finally:
        for layer in set(registry.layer_names()) - names:  # examples may register layers
            registry.unregister_layer(layer)
    printed = capsys.readouterr().out.splitlines()
    for claim in printed_claims(code):
        assert claim in printed, f"{name(page)}: the page says it prints {claim!r}: {printed}"


def printed_claims(code: str) -> list[str]:
    """What a block says a ``print(...)`` line prints: ``print(x)  # prints 1.5 (why)`` -> 1.5."""
    return re.findall(r"^print\(.*\)  # prints (.+?)(?: \(.*\))?$", code, re.M)


def test_a_claim_of_what_is_printed_is_read_as_written():
    code = "print(a)  # prints 0.99 4.5 (dd/da, dd/db)\nprint(b)  # prints (2, 3)\nprint(c)  # no\n"
    assert printed_claims(code) == ["0.99 4.5", "(2, 3)"]


def _relative_links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", read(page), flags=re.S)  # links inside code are not links
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    return [t for t in targets if not re.match(r"[a-z]+:", t) and not t.startswith("#")]


def _target(page: Path, link: str) -> Path:
    path = link.split("#", 1)[0]
    if path.startswith("/"):  # MyST: from the docs' root
        return DOCS / path.lstrip("/")
    return (page.parent / path).resolve()


@pytest.mark.parametrize("page", PAGES, ids=[name(p) for p in PAGES])
def test_every_relative_link_resolves(page):
    missing = [link for link in _relative_links(page) if not _target(page, link).exists()]
    assert not missing, f"{name(page)}: links to nothing: {missing}"


def test_the_link_check_sees_a_broken_link(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("[ok](page.md) [gone](nothing.md#x) [web](https://example.org)\n")
    assert [link for link in _relative_links(page) if not _target(page, link).exists()] == [
        "nothing.md#x"
    ]


def test_the_readme_is_a_landing_page():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    assert "docs/" in readme  # it links into the documentation


def test_the_messages_the_errors_page_quotes_are_the_packages():
    """The reference's table of messages quotes each message's start; the package says it."""
    page = (DOCS / "reference" / "errors.md").read_text(encoding="utf-8")
    table = page.split("## Messages you may meet", 1)[1].split("\n## ", 1)[0]
    quoted = re.findall(r"^\| `([^`]+)` \|", table, re.M)
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tinygrad_edu").rglob("*.py"))
    assert len(quoted) >= 8
    for message in quoted:
        # FILE, PATH, N, ...: what the message fills in; the fixed words between them are checked
        words = [w for w in re.split(r"\b(?:FILE|LINE|COLUMN|PATH|RUN_DIR|N|M)\b", message)]
        for fixed in (w.strip(" :") for w in words):
            if len(fixed) > 3:
                assert fixed in source or fixed.split(": ", 1)[-1] in source, (message, fixed)


def test_the_train_evaluate_predict_example_runs_as_shown(tmp_path):
    """The how-to's commands, in order, on a run folder of the test's own."""
    page = (DOCS / "howto" / "own_data.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```bash\n(.*?)```", page, re.S) if "predict" in b)
    run_dir, preds = tmp_path / "try", tmp_path / "preds.csv"
    for line in block.splitlines():
        command = shlex.split(line.split("  #")[0])
        assert command[:2] == ["python", "cli.py"], line
        command = [str(run_dir) if c == "runs/try" else c for c in command[2:]]
        command = [str(preds) if c == "preds.csv" else c for c in command]
        result = subprocess.run(
            [
                sys.executable,
                str(ROOT / "cli.py"),
                *command,
                *(["--no-plots"] if command[0] == "train" else []),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert result.returncode == 0, (line, result.stdout + result.stderr)
    rows = preds.read_text().splitlines()
    assert len(rows) == 1 + 10  # a header, then one prediction per digit of examples/digits.csv
    predicted = [int(row.split(",")[0]) for row in rows[1:]]
    assert sum(p == t for p, t in zip(predicted, [8, 5, 4, 2, 3, 4, 4, 0, 7, 5])) >= 7, predicted


@pytest.mark.parametrize("page", PAGES, ids=[name(p) for p in PAGES])
def test_the_docs_do_not_speak_of_how_the_project_is_developed(page):
    text = read(page)
    for pattern in (r"\bissue \d+", r"\bthis session\b", r"\bbusy hour\b", r"\bquiet hour\b"):
        assert not re.search(pattern, text, re.I), (name(page), pattern)
