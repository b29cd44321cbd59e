"""The documentation site, built once for this module as CI builds it (warnings are errors; the
notebooks' results come from the build's cache): its reference pages have an entry for every
command, option, layer type and the main API, and in a real headless Chromium, served on
127.0.0.1, the home page, tutorials, the API page and a search for "backward" open without a
page error.

Skipped, with the reason, without the docs extra (``pip install -e ".[docs]"``; CI installs
it); the browser's tests also without Playwright or Chromium."""

from __future__ import annotations

import functools
import html
import http.server
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

for module, extra in (("sphinx", "docs"), ("myst_nb", "docs"), ("furo", "docs"),
                      ("sphinxarg", "docs"), ("sphinx_autodoc_typehints", "docs")):  # fmt: skip
    pytest.importorskip(module, reason=f"{module} not installed: pip install -e '.[{extra}]'")

ROOT = Path(__file__).resolve().parents[1]
API_ENTRIES = [
    "tinygrad_edu.Tensor",
    "tinygrad_edu.Value",
    "tinygrad_edu.nn.Linear",
    "tinygrad_edu.optim.SGD",
    "tinygrad_edu.functional.cross_entropy",
    "tinygrad_edu.compile",
    "tinygrad_edu.summary",
    "tinygrad_edu.training.runs.load_model",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site as CI builds it (warnings are errors), into a fresh folder."""
    out = tmp_path_factory.mktemp("html")
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]
    result = subprocess.run(
        [*command, str(ROOT / "docs"), str(out)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.fixture(scope="module")
def served(site):
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # the test's output, not a log of requests
        pass


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.on("requestfailed", lambda r: page.problems.append(f"failed: {r.url}"))
    try:
        yield page
    finally:
        context.close()


@pytest.mark.parametrize(
    "path, heading",
    [
        ("index.html", "tinygrad_edu"),
        ("tutorials/activations.html", "Activation functions (Figure 4)"),
        ("tutorials/mnist_mlp.html", "The MNIST MLP and its summary"),
        ("reference/api.html", "Python API"),
        ("reference/cli.html", "Command line"),
        ("reference/spec.html", "Spec format"),
        ("reference/errors.html", "Error messages and what to do"),
    ],
)
def test_a_page_opens_without_errors(page, served, path, heading):
    response = page.goto(f"{served}/{path}")
    assert response is not None and response.ok
    assert page.locator("h1").first.inner_text().rstrip("#¶ \n") == heading
    page.wait_for_load_state("networkidle")
    assert page.problems == []


def test_the_api_page_documents_the_engines(page, served):
    page.goto(f"{served}/reference/api.html")
    for name in ("tinygrad_edu.Tensor.backward", "tinygrad_edu.Value.backward"):
        assert page.locator(f"[id='{name}']").count() == 1, name


def test_the_pictures_of_a_tutorial_load(page, served):
    page.goto(f"{served}/tutorials/activations.html")
    page.wait_for_load_state("networkidle")
    images = page.locator("article img")
    assert images.count() >= 4
    widths = images.evaluate_all("imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
    assert all(w > 0 for w in widths), widths
    assert page.problems == []


def test_a_search_for_backward_finds_results(page, served):
    page.goto(f"{served}/search.html?q=backward")
    results = page.locator("#search-results ul.search li")
    results.first.wait_for(timeout=20_000)
    assert results.count() >= 3
    texts = " ".join(results.all_inner_texts())
    assert "Python API" in texts or "Value" in texts, texts
    assert page.problems == []


def test_every_command_option_and_layer_type_has_a_reference_entry(site):
    """The generated reference pages list every CLI command and every spec layer type."""
    import argparse

    from tinygrad_edu.cli import build_parser
    from tinygrad_edu.spec import registry

    cli_page = (site / "reference" / "cli.html").read_text(encoding="utf-8")
    (commands,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    for name, parser in commands.choices.items():
        assert f'id="{name}"' in cli_page, name
        for action in parser._actions:
            for option in action.option_strings:
                assert option in cli_page, (name, option)
    spec_page = (site / "reference" / "spec.html").read_text(encoding="utf-8")
    sections = set(re.findall(r'<section id="spec-([a-z0-9-]+)"', spec_page))
    for layer in registry.layer_names():
        assert layer.replace("_", "-") in sections, layer
    for kind in ("name-sgd", "name-adam", "name-cross-entropy", "name-one-cycle", "source-csv"):
        assert kind in sections, kind
    api_page = (site / "reference" / "api.html").read_text(encoding="utf-8")
    for name in API_ENTRIES:
        assert f'id="{name}"' in api_page, name


def test_the_error_reference_lists_every_message_the_scan_reads(site):
    """The errors page of the site as built holds each message the source scan reads."""
    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    try:
        from error_reference import scan
    finally:
        sys.path.remove(str(ROOT / "docs" / "_ext"))
    page = (site / "reference" / "errors.html").read_text(encoding="utf-8")
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", "", page)).split())
    messages = scan().messages
    assert len(messages) > 200
    for message in messages:
        assert " ".join(message.template.split()) in text, (message.module, message.template)
