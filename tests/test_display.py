"""What Jupyter shows: graphs drawn inline (text where Graphviz is missing), the summary as an
HTML table with the text table's numbers, a run folder with its metrics, record and plots, and
training as one live display without terminal escape codes."""

from __future__ import annotations

import base64
import builtins
import html
import io
import os
import re
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from notebook_outputs import shown_text

import tinygrad_edu as tg
from tinygrad_edu import Tensor, Value, graph_text, nn
from tinygrad_edu.errors import UserError
from tinygrad_edu.graph_text import DOT_HINT, MAX_INLINE_NODES
from tinygrad_edu.runs.record import FROM_PYTHON, describe
from tinygrad_edu.training import progress

ROOT = Path(__file__).resolve().parents[1]
needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz's dot is not installed"
)


def small_graph() -> tuple[Value, Value, Value]:
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    c.label = "c"
    L = c + a
    L.label = "L"
    L.backward()
    return a, b, L


def ipython_formats(obj: object) -> dict:
    """The mime bundle IPython's own formatter makes of `obj`, as a notebook receives it."""
    formatters = pytest.importorskip(
        "IPython.core.formatters", reason="IPython not installed: pip install -e '.[test]'"
    )
    data, _ = formatters.DisplayFormatter().format(obj)
    return data


class Cells(HTMLParser):
    """The cells of every <tr> of an HTML table, as text."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def table_cells(text: str) -> list[list[str]]:
    parser = Cells()
    parser.feed(text)
    return parser.rows


# --- graphs ---------------------------------------------------------------------------------


@needs_dot
def test_a_computed_value_and_tg_draw_render_as_svg():
    a, _, L = small_graph()
    svg = L._repr_svg_()
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    for text in ("data -6.0000", "grad -2.0000", "grad 1.0000"):
        assert text in html.unescape(svg)  # dot writes '-' as &#45;
    assert tg.draw(L)._repr_svg_() == svg  # the same picture: Value's hook draws the same graph
    assert a._repr_svg_() is None  # a leaf keeps its one-line repr
    formats = ipython_formats(L)
    assert "image/svg+xml" in formats and formats["text/plain"] == repr(L)
    assert "image/svg+xml" not in ipython_formats(a)


@needs_dot
def test_a_graph_too_big_to_read_keeps_its_text_repr():
    total = Value(0.0)
    for i in range(MAX_INLINE_NODES):
        total = total + Value(float(i))
    assert total._repr_svg_() is None
    assert tg.draw(total)._repr_svg_().startswith("<svg")  # asked for explicitly, it draws


def test_the_text_form_lists_each_node_with_its_op_and_inputs(monkeypatch):
    _, _, L = small_graph()
    graph = tg.draw(L)
    assert str(graph) == tg.to_dot(L)  # print(tg.draw(x)) shows the DOT text
    lines = repr(graph).splitlines()
    assert lines[0] == "graph of 4 nodes, inputs first:"
    assert "  n2  c | data -6.0000 | grad 1.0000  = * (n0, n1)" in lines
    assert "  n3  L | data -4.0000 | grad 1.0000  = + (n2, n0)" in lines


def test_without_dot_the_text_form_with_the_hint(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on the PATH
    _, _, L = small_graph()
    assert L._repr_svg_() is None and tg.draw(L)._repr_svg_() is None
    assert repr(tg.draw(L)).splitlines()[-1] == DOT_HINT
    formats = ipython_formats(tg.draw(L))
    assert "image/svg+xml" not in formats and DOT_HINT in formats["text/plain"]


def fake_dot(folder: Path) -> Path:
    """A stand-in for Graphviz's dot in `folder`: reads DOT text, writes an SVG."""
    folder.mkdir(exist_ok=True)
    dot = folder / "dot"
    dot.write_text("#!/bin/sh\ncat > /dev/null\necho '<svg><g>a picture</g></svg>'\n")
    dot.chmod(0o755)
    return folder


@pytest.mark.parametrize("dot", ["missing", "present"])
def test_a_computed_value_in_jupyter_shows_its_graph_as_text_without_dot(
    monkeypatch, tmp_path, dot
):
    """Issue 20: notebook 06 promised one line per node without dot, and showed
    Value(label='L', data=-4.0, grad=1.0). Where dot draws, the picture shows the graph and
    the text is the repr; where it cannot, the text is the graph. repr() never changes."""
    programs = fake_dot(tmp_path / "bin") if dot == "present" else tmp_path
    monkeypatch.setenv("PATH", str(programs))
    a, _, L = small_graph()
    formats = ipython_formats(L)
    assert repr(L) == "Value(label='L', data=-4.0, grad=1.0)"
    if dot == "present":
        assert "a picture" in formats["image/svg+xml"] and formats["text/plain"] == repr(L)
    else:
        assert "image/svg+xml" not in formats
        assert formats["text/plain"] == repr(tg.draw(L))
        lines = formats["text/plain"].splitlines()
        assert "  n3  L | data -4.0000 | grad 1.0000  = + (n2, n0)" in lines
        assert lines[-1] == DOT_HINT
    assert ipython_formats(a)["text/plain"] == repr(a)  # a leaf keeps its one line


def test_a_graph_too_big_to_read_keeps_its_one_line_without_dot(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    total = Value(0.0)
    for i in range(MAX_INLINE_NODES):
        total = total + Value(float(i))
    assert ipython_formats(total)["text/plain"] == repr(total)


def test_a_tensor_graph_names_its_tensors_and_keeps_their_numbers():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    loss = model(Tensor.randn(4, 3)).sum()
    graph = tg.draw(loss, {id(p): n for n, p in model.named_parameters()})
    assert "0.weight | shape (2, 3) | float32" in repr(graph)
    # a tensor shows its numbers in a notebook, never a graph in their place
    assert "image/svg+xml" not in ipython_formats(loss)


@needs_dot
def test_a_tensor_graph_draws_with_its_names():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    loss = model(Tensor.randn(4, 3)).sum()
    graph = tg.draw(loss, {id(p): n for n, p in model.named_parameters()})
    assert "0.weight" in html.unescape(graph._repr_svg_())


def test_draw_limits_its_text_form(monkeypatch):
    monkeypatch.setattr(graph_text, "MAX_TEXT_NODES", 3)
    _, _, L = small_graph()
    assert repr(tg.draw(L)).splitlines()[4] == "  ... and 1 more node"


# --- summary --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"col_names": ("input_size", "output_size", "num_params", "params_percent", "trainable")},
        {"verbose": 2, "row_settings": ("depth", "var_names")},
    ],
)
def test_summary_html_has_the_text_tables_columns_and_numbers(options):
    tg.manual_seed(0)
    model = nn.MLP(784, [128], 10)
    result = tg.summary(model, input_size=(32, 784), **options)
    text = str(result).splitlines()
    rules = [i for i, line in enumerate(text) if set(line) == {"="}]
    header, *body = text[rules[0] + 1 : rules[2]]
    del body[0]  # the rule under the header
    rows = table_cells(result._repr_html_())
    width = header.index(rows[0][1])  # where the name column ends
    assert len(rows) - 1 == len(body)
    for cells, line in zip(rows, [header, *body]):
        assert cells[0] == line[:width].rstrip()  # the name, with its tree drawing
        assert [c.strip() for c in cells[1:] if c.strip()] == re.split(
            r"\s{2,}", line[width:].strip()
        )
    page = html.unescape(result._repr_html_())
    for line in text[rules[2] + 1 :]:
        if set(line) != {"="}:
            assert line in page  # totals and sizes
    assert "text/html" in ipython_formats(result)


# --- run folders ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    from tinygrad_edu.runs import train

    out = tmp_path_factory.mktemp("runs") / "moons"
    train(ROOT / "specs" / "activation_relu.yaml", {"train.epochs": 2}, out=out, quiet=True)
    (out / "learning_curves.png").write_bytes(b"\x89PNG first picture")
    (out / "fit.png").write_bytes(b"\x89PNG second picture")
    return out


def test_a_run_folder_shows_metrics_record_and_plots(run_dir):
    run = tg.runs.open(run_dir)
    csv_rows = (run_dir / "metrics.csv").read_text().splitlines()
    assert [m["epoch"] for m in run.metrics] == [1, 2] and len(csv_rows) == 3
    assert run.spec.train.epochs == 2 and run.record["status"] == "finished"
    assert list(run.plots) == ["fit", "learning_curves"]
    page = run._repr_html_()
    rows = table_cells(page)
    columns = [c for c in csv_rows[0].split(",") if c not in ("lr", "seconds")]
    assert rows[0] == columns and [r[0] for r in rows[1:]] == ["1", "2"]
    last = dict(zip(columns, rows[2]))
    assert float(last["test_accuracy"]) == pytest.approx(run.metrics[-1]["test_accuracy"], 1e-4)
    assert html.escape(describe(run.record)) in page
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert [base64.b64decode(i) for i in images] == [p.read_bytes() for p in run.plots.values()]
    text = repr(run)
    assert "Metrics per epoch" in text and "plots: fit, learning_curves" in text
    assert "text/html" in ipython_formats(run)


def test_a_run_folders_text_has_no_escape_codes_where_jupyter_forces_colour(run_dir, monkeypatch):
    """Jupyter's kernels set FORCE_COLOR; the text view still holds no escape codes (issue 20)."""
    monkeypatch.setenv("FORCE_COLOR", "1")
    text = repr(tg.runs.open(run_dir))
    assert "\x1b" not in text and "┃ epoch ┃" in text


def test_a_run_folders_model_is_the_trained_one(run_dir):
    x = Tensor(np.random.default_rng(0).normal(size=(5, 2)).astype(np.float32))
    with tg.no_grad():
        ours = tg.runs.open(run_dir).load_model()(x).numpy()
        direct = tg.runs.load_model(run_dir)(x).numpy()
    assert np.array_equal(ours, direct)


def test_opening_a_folder_that_is_not_a_run_says_so(tmp_path):
    with pytest.raises(UserError, match="holds no spec.yaml"):
        tg.runs.open(tmp_path)


# --- training in a notebook -----------------------------------------------------------------


class ZMQInteractiveShell:
    """What ``get_ipython()`` returns in a Jupyter kernel, as far as rich's test looks."""


class FakeDisplay:
    """IPython's ``display(..., display_id=True)`` and the handle's ``update``."""

    def __init__(self) -> None:
        self.bundles: list[dict] = []

    def __call__(self, bundle: dict, raw: bool, display_id: bool) -> FakeDisplay:
        assert raw and display_id
        self.bundles.append(bundle)
        return self

    def update(self, bundle: dict, raw: bool) -> None:
        self.bundles.append(bundle)


def test_choose_reporter_picks_the_live_display_in_jupyter(monkeypatch):
    assert type(progress.choose_reporter(False, sys.stdout)) is progress.PlainReporter
    monkeypatch.setattr(builtins, "get_ipython", ZMQInteractiveShell, raising=False)
    assert type(progress.choose_reporter(False, sys.stdout)) is progress.NotebookReporter
    assert type(progress.choose_reporter(False, io.StringIO())) is progress.PlainReporter
    assert type(progress.choose_reporter(True, sys.stdout)) is progress.Reporter


def test_training_in_jupyter_updates_one_display_without_escape_codes(
    monkeypatch, capsys, tmp_path
):
    from tinygrad_edu.runs import train

    pytest.importorskip("IPython", reason="IPython not installed: pip install -e '.[test]'")
    display = FakeDisplay()
    monkeypatch.setattr(builtins, "get_ipython", ZMQInteractiveShell, raising=False)
    monkeypatch.setattr("IPython.display.display", display)
    train(ROOT / "specs" / "activation_relu.yaml", {"train.epochs": 3}, out=tmp_path / "run")
    printed = capsys.readouterr().out
    assert "\x1b" not in printed and "test accuracy" in printed
    assert len(display.bundles) >= 4  # the first picture and one update per epoch at least
    first, last = display.bundles[0]["text/plain"], display.bundles[-1]["text/plain"]
    assert "0/3" in first and "Metrics per epoch" not in first
    assert "3/3" in last and "Metrics per epoch" in last and "train loss" in last
    for bundle in display.bundles:
        assert "\x1b" not in bundle["text/plain"] + bundle["text/html"]
        assert bundle["text/html"].startswith("<pre")


def test_a_notebook_cell_that_trains_shows_a_live_display(tmp_path, monkeypatch):
    nbformat = pytest.importorskip(
        "nbformat", reason="nbformat not installed: pip install -e '.[test]'"
    )
    nbclient = pytest.importorskip(
        "nbclient", reason="nbclient not installed: pip install -e '.[test]'"
    )
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    spec = ROOT / "specs" / "activation_relu.yaml"
    code = (
        "from tinygrad_edu.runs import train\n"
        f"final = train({str(spec)!r}, {{'train.epochs': 2}}, out={str(tmp_path / 'run')!r})"
    )
    view = f"import tinygrad_edu as tg\ntg.runs.open({str(tmp_path / 'run')!r})"
    cells = [nbformat.v4.new_code_cell(code), nbformat.v4.new_code_cell(view)]
    notebook = nbformat.v4.new_notebook(cells=cells)
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    outputs = notebook.cells[0].outputs
    assert "\x1b" not in shown_text(notebook)
    # the run folder's view (issue 20): the kernel's launch command is not how the run was made
    (folder,) = notebook.cells[1].outputs
    text, page = folder["data"]["text/plain"], html.unescape(folder["data"]["text/html"])
    assert "Metrics per epoch" in text and "<table" in page
    for shown in (text, page):
        assert FROM_PYTHON in shown and "ipykernel" not in shown
    shown = [o for o in outputs if o["output_type"] == "display_data"]
    assert len(shown) == 1  # one display, updated in place
    assert "2/2" in shown[0]["data"]["text/plain"] and "<pre" in shown[0]["data"]["text/html"]
    assert "test accuracy" in "".join(o.get("text", "") for o in outputs)
