"""The documentation's examples run as written (docs that lie are a bug): every Python block
of the README and of the pages under docs/ runs and, where the page shows its output in the
block right after it, prints exactly that; every relative link between them resolves.
The ``$ python cli.py`` sessions they show are replayed in tests/test_papercuts.py."""

from __future__ import annotations

import doctest
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from docs_pages import DOCS, PAGES, ROOT, name, python_examples, read

EXAMPLES = python_examples()
BLOCKS = [(page, code) for page, code, _ in EXAMPLES]


def test_the_docs_have_python_examples():
    assert len(BLOCKS) >= 4
    assert {name(p) for p, _ in BLOCKS} > {"README.md"}  # the pages' own, not only the README's
    assert sum(shown is not None for _, _, shown in EXAMPLES) >= 5  # and outputs to compare


@pytest.mark.parametrize(
    "page, code, shown",
    EXAMPLES,
    ids=[f"{name(p)}:block{i}" for i, (p, _, _) in enumerate(EXAMPLES)],
)
def test_docs_python_example_runs(page, code, shown, capsys):
    check_example(page, code, shown, capsys)


def check_example(page: Path, code: str, shown: str | None, capsys) -> None:
    """Run a page's block; where the page shows its output, the block prints exactly that
    (``...`` in the shown output stands for any text, as doctest's ELLIPSIS)."""
    from tinygrad_edu.spec import registry

    names = set(registry.layer_names())
    capsys.readouterr()
    try:
        exec(compile(code, str(page), "exec"), {"__name__": "docs_example"})
    finally:
        for layer in set(registry.layer_names()) - names:  # examples may register layers
            registry.unregister_layer(layer)
    printed = (
        capsys.readouterr().out.rstrip("\n") + "\n"
    )  # a page cannot show blank lines at the end
    if shown is not None and not doctest.OutputChecker().check_output(
        shown, printed, doctest.ELLIPSIS
    ):
        where = name(page) if page.is_relative_to(ROOT) else str(page)
        pytest.fail(f"{where}: the page shows\n{shown}\nbut the block prints\n{printed}")


def test_a_wrong_output_on_a_page_fails_the_check(tmp_path, capsys):
    page = tmp_path / "page.md"
    block = "```python\nprint(6 * 7)\nprint('a' * 30)\n```\n\n```\n"
    page.write_text(block + "42\naaa...\n```\n")
    ((_, code, shown),) = python_examples([page])
    assert shown == "42\naaa...\n"
    check_example(page, code, shown, capsys)  # the right output, with an ellipsis, passes
    page.write_text(block + "43\naaa...\n```\n")
    ((_, code, shown),) = python_examples([page])
    with pytest.raises(pytest.fail.Exception, match="the page shows\n43"):
        check_example(page, code, shown, capsys)


def test_a_session_after_a_python_block_is_not_its_output(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("```python\nx = 1\n```\n\n```\n$ python cli.py --help\nusage\n```\n")
    assert python_examples([page]) == [(page, "x = 1\n", None)]


@pytest.mark.parametrize("page", PAGES, ids=[name(p) for p in PAGES])
def test_the_pages_show_outputs_in_output_blocks_not_comments(page):
    """The old convention, ``print(x)  # prints 1.5``, is not checked exactly: show the output."""
    claims = re.findall(r"^print\(.*\)  # prints .*$", read(page), re.M)
    assert not claims, f"{name(page)}: move these to an output block after the code: {claims}"


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


def _heading_anchors(page: Path) -> dict[str, str]:
    """The anchors of a page's headings (levels 1-3, as ``myst_heading_anchors``), each with
    its heading: GitHub's slug (lower case, punctuation dropped, spaces as hyphens)."""
    text = re.sub(r"```.*?```", "", read(page), flags=re.S)
    headings = re.findall(r"^#{1,3} (.+)$", text, re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-"): h for h in headings}


@pytest.mark.parametrize("page", PAGES, ids=[name(p) for p in PAGES])
def test_every_link_to_a_heading_finds_it_with_either_myst(page):
    """MyST-Parser 4 (Sphinx 8, Python 3.10) and 5 make different anchors of a heading with
    code or ``--`` in it, so a link into a page names a heading of plain words."""
    for link in _relative_links(page):
        path, _, anchor = link.partition("#")
        if not anchor or not path.endswith(".md"):
            continue
        headings = _heading_anchors(_target(page, link))
        assert anchor in headings, f"{name(page)}: {link}: no heading has that anchor"
        heading = headings[anchor]
        assert "`" not in heading and "--" not in heading, f"{name(page)}: {link}: {heading!r}"


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
    sys.path.insert(0, str(ROOT / "tools"))  # the tool that wrote examples/digits.csv
    try:
        from make_example_digits import example_digits
    finally:
        sys.path.remove(str(ROOT / "tools"))
    labels = [int(label) for label in example_digits()[1]]
    assert sum(p == t for p, t in zip(predicted, labels)) >= 8, (predicted, labels)


@pytest.mark.parametrize("page", PAGES, ids=[name(p) for p in PAGES])
def test_the_docs_do_not_speak_of_how_the_project_is_developed(page):
    text = read(page)
    for pattern in (r"\bissue \d+", r"\bthis session\b", r"\bbusy hour\b", r"\bquiet hour\b"):
        assert not re.search(pattern, text, re.I), (name(page), pattern)
