"""Plots of runs and sweeps: each kind is written as a real PNG for tiny runs, and a
missing matplotlib gives the one-line install hint instead of a traceback."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from tinygrad_edu.extras import install_hint
from tinygrad_edu.training import runs
from tinygrad_edu.training.sweep import run_sweep
from tinygrad_edu.viz import plots

needs_matplotlib = pytest.mark.skipif(
    importlib.util.find_spec("matplotlib") is None,
    reason='matplotlib is not installed (the "plot" extra: pip install -e ".[plot]")',
)

PNG = b"\x89PNG\r\n\x1a\n"

MOONS = """\
name: moons-plot
model:
  input: [2]
  layers: [linear: 8, relu, linear: 2]
data: {source: moons, n_samples: 100}
loss: cross_entropy
optimizer: {name: adam, lr: 0.05}
train: {epochs: 2, batch_size: 32}
"""

SINE = """\
name: sine-plot
model:
  input: [1]
  layers: [linear: 8, relu, linear: 1]
data: {source: function, function: sin, n_samples: 80}
loss: mse
optimizer: {name: adam, lr: 0.02}
train: {epochs: 2, batch_size: 16}
"""

IMAGES = """\
name: images-plot
model:
  input: [784]
  layers: [linear: 12, relu, linear: 10]
data: {source: npz, path: images.npz, normalize: scale}
loss: cross_entropy
optimizer: {name: adam, lr: 0.01}
train: {epochs: 1, batch_size: 20}
"""


def train(tmp_path: Path, text: str, name: str) -> Path:
    spec = tmp_path / f"{name}.yaml"
    spec.write_text(text)
    runs.train(spec, {}, out=tmp_path / name, quiet=True)
    return tmp_path / name


def assert_png(path: Path, min_bytes: int = 5_000) -> None:
    data = path.read_bytes()
    assert data.startswith(PNG), f"{path.name} is not a PNG"
    assert min_bytes < len(data) < 400_000, f"{path.name}: {len(data)} bytes"


def names(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


@needs_matplotlib
def test_a_2d_classification_run_gets_learning_curves_and_its_decision_boundary(tmp_path):
    run = train(tmp_path, MOONS, "moons")
    written = plots.plot_run(run)
    assert names(written) == [
        "learning_curves.png",
        "decision_boundary.png",
        "confusion_matrix.png",
        "hidden_units.png",
        "network.png",
    ]
    for path in written:
        assert path.parent == run
        assert_png(path)


@needs_matplotlib
def test_a_1d_regression_run_gets_its_fit(tmp_path):
    run = train(tmp_path, SINE, "sine")
    written = plots.plot_run(run)
    assert names(written) == ["learning_curves.png", "fit.png", "network.png"]
    for path in written:
        assert_png(path)


@needs_matplotlib
def test_an_image_run_gets_its_first_layer_weights(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "images.npz", X=rng.integers(0, 256, (60, 784)), y=np.arange(60) % 10)
    run = train(tmp_path, IMAGES, "images")
    written = plots.plot_run(run)
    assert names(written) == [
        "learning_curves.png",
        "first_layer_weights.png",
        "confusion_matrix.png",
        "misclassified.png",
    ]  # 784-12-10 has too many inputs to draw as a network
    assert_png(run / "first_layer_weights.png", min_bytes=20_000)
    assert_png(run / "misclassified.png", min_bytes=10_000)


@needs_matplotlib
def test_a_sweep_gets_its_metrics_and_one_fitted_curve_per_value(tmp_path):
    spec = tmp_path / "sine.yaml"
    spec.write_text(SINE)
    sweep = run_sweep(spec, "model.layers[0].linear.out_features", [2, 8], out=tmp_path / "sw")
    written = plots.plot_sweep(sweep.folder)
    assert names(written) == ["sweep_metrics.png", "sweep_learning_curves.png", "fit.png"]
    for path in written:
        assert path.parent == sweep.folder
        assert_png(path)
    (sweep.folder / "fit.png").unlink()
    assert plots.try_plot_run(sweep.folder) is None  # the helper knows a sweep folder
    assert_png(sweep.folder / "fit.png")


@needs_matplotlib
def test_try_plot_run_plots_a_run_folder(tmp_path):
    run = train(tmp_path, MOONS, "moons")
    assert plots.try_plot_run(run) is None
    assert (run / "decision_boundary.png").is_file()


@pytest.mark.parametrize("module", ["matplotlib", "matplotlib.figure"])
def test_without_matplotlib_plots_give_the_install_hint(tmp_path, monkeypatch, module):
    run = train(tmp_path, MOONS, "moons")
    monkeypatch.setitem(sys.modules, module, None)  # "import matplotlib..." now fails
    with pytest.raises(plots.PlotsUnavailable) as info:
        plots.plot_run(run)
    message = str(info.value)
    assert message == f"plots need matplotlib: {install_hint('plot')}"
    assert "\n" not in message
    assert plots.try_plot_run(run) == message  # the training's helper: a message, no error
    assert list(run.glob("*.png")) == []


def test_confusion_counts_row_is_the_true_class_column_the_prediction():
    from tinygrad_edu.viz.classification import confusion_counts

    counts = confusion_counts(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2]), 3)
    assert counts.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]


def test_hidden_activations_are_each_hidden_layers_outputs_and_dead_units_are_found():
    import tinygrad_edu as tg
    from tinygrad_edu import nn
    from tinygrad_edu.viz import network

    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    with tg.no_grad():
        model[0].bias.data[1] = -100.0  # unit 1 of the first layer never activates
    X = np.random.default_rng(0).normal(size=(50, 2)).astype(np.float32)
    layers = network.hidden_activations(model, X)
    assert [(name, values.shape) for name, values in layers] == [("0", (50, 3)), ("2", (50, 4))]
    first = np.maximum(X @ model[0].weight.numpy().T + model[0].bias.numpy(), 0)
    np.testing.assert_allclose(layers[0][1], first, rtol=1e-6)
    assert network.dead_units(layers[0][1]).tolist() == [False, True, False]
    assert network.drawable(model)
    assert not network.drawable(nn.Sequential(nn.Linear(784, 10)))


@needs_matplotlib
def test_learning_curves_name_the_loss_on_the_y_axis(tmp_path, monkeypatch):
    run = train(tmp_path, SINE, "sine")
    figures = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: figures.append(fig) or path)
    plots.learning_curves(run / "metrics.csv", "sine", run, loss="mse")
    labels = [ax.get_ylabel() for ax in figures[0].axes]
    assert labels == ["mean squared error (MSE)", "mean absolute error", "R² (1 = perfect fit)"]


@needs_matplotlib
def test_weight_tiles_scale_each_unit_on_its_own_and_mark_dead_units(tmp_path, monkeypatch):
    from matplotlib.colors import to_rgba

    from tinygrad_edu.viz.conventions import NEGATIVE, POSITIVE

    rng = np.random.default_rng(0)
    np.savez(tmp_path / "images.npz", X=rng.integers(0, 256, (60, 784)), y=np.arange(60) % 10)
    run = plots.load_trained(train(tmp_path, IMAGES, "images"))
    layer = run.first_image_layer()[1]
    weights, bias = layer.weight.numpy(), layer.bias.numpy()
    X = run.setup.dataset.X_train
    dead = np.all(np.maximum(X @ weights.T + bias, 0) == 0, axis=0)  # zero on every image
    assert 0 < dead.sum() < len(dead)  # uniform noise images: some units never fire
    figures = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: figures.append(fig) or path)
    plots.first_layer_weights(run, tmp_path / "all.png")
    plots.first_layer_weights(run, tmp_path / "five.png", units=5)
    for fig, shown in zip(figures, [12, 5]):  # 12 units in all, then the first 5
        (ax,) = [ax for ax in fig.axes if ax.images]  # one image holds every tile
        mosaic = np.ma.getdata(ax.images[0].get_array())
        expected = [f"{i} dead" if dead[i] else str(i) for i in range(shown)]
        assert [t.get_text() for t in ax.texts] == expected
        assert np.isfinite(mosaic).sum() == shown * 784
        tiles = mosaic[:, np.isfinite(mosaic).any(axis=0)]  # the gaps between tiles dropped
        tiles = tiles[np.isfinite(tiles).any(axis=1)]
        own_scale = weights[:shown] / np.abs(weights[:shown]).max(axis=1, keepdims=True)
        np.testing.assert_allclose(
            tiles.reshape(28, shown, 28).transpose(1, 0, 2), own_scale.reshape(-1, 28, 28)
        )
        assert ax.images[0].get_clim() == (-1.0, 1.0)
        colours = ax.images[0].get_cmap()
        assert colours(1.0) == to_rgba(POSITIVE) and colours(0.0) == to_rgba(NEGATIVE)
        assert "each tile on its own scale" in fig.get_suptitle()
    (bar,) = [ax for ax in figures[0].axes if not ax.images]  # the colour bar says it all
    assert bar.get_ylabel() == (
        "weight / the tile's largest |weight|\n(blue positive, orange negative)"
    )
    assert f"{dead.sum()} dead (zero on every training image)" in figures[0].get_suptitle()


def test_a_mosaic_lays_tiles_out_row_by_row_with_gaps_and_label_bands():
    tiles = np.arange(5 * 2 * 3, dtype=float).reshape(5, 2, 3)
    mosaic = plots.tile_mosaic(tiles, columns=2, gap=1, band=1)
    assert mosaic.shape == (3 * (1 + 2), 2 * 3 + 1)
    np.testing.assert_array_equal(mosaic[1:3, 0:3], tiles[0])
    np.testing.assert_array_equal(mosaic[1:3, 4:7], tiles[1])
    np.testing.assert_array_equal(mosaic[4:6, 0:3], tiles[2])
    np.testing.assert_array_equal(mosaic[7:9, 0:3], tiles[4])
    assert np.isnan(mosaic[0]).all() and np.isnan(mosaic[:, 3]).all()  # band and gap
    assert np.isnan(mosaic[7:9, 4:7]).all()  # no sixth tile


@needs_matplotlib
def test_misclassified_shows_each_wrong_test_image_with_its_labels(tmp_path, monkeypatch):
    from tinygrad_edu.viz import classification

    rng = np.random.default_rng(0)
    np.savez(tmp_path / "images.npz", X=rng.integers(0, 256, (60, 784)), y=np.arange(60) % 10)
    run = plots.load_trained(train(tmp_path, IMAGES, "images"))
    y_true, y_pred = classification._test_predictions(run)
    wrong = np.flatnonzero(y_true != y_pred)
    assert 0 < len(wrong) <= classification.MAX_MISTAKES  # random labels: mistakes
    figures = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: figures.append(fig) or path)
    classification.misclassified(run, tmp_path / "misclassified.png")
    (ax,) = [ax for ax in figures[0].axes if ax.images]
    assert [t.get_text() for t in ax.texts] == [
        f"true {y_true[i]}\npredicted {y_pred[i]}" for i in wrong
    ]
    mosaic = np.ma.getdata(ax.images[0].get_array())
    tiles = [mosaic[r : r + 28, c : c + 28] for r, c in _tile_corners(mosaic, len(wrong))]
    images = run.raw(run.setup.dataset.X_test[wrong]).reshape(-1, 28, 28)
    np.testing.assert_array_equal(np.stack(tiles), images)


def _tile_corners(mosaic: np.ndarray, count: int) -> list[tuple[int, int]]:
    """The top-left corners of the tiles of a mosaic (rows of 8, 28x28, gaps of NaN)."""
    rows = [r for r in range(mosaic.shape[0]) if np.isfinite(mosaic[r]).any()]
    cols = [c for c in range(mosaic.shape[1]) if np.isfinite(mosaic[:, c]).any()]
    tops = [r for r in rows if r - 1 not in rows]
    lefts = [c for c in cols if c - 1 not in cols]
    return [(tops[i // 8], lefts[i % 8]) for i in range(count)]


# --- one convention in every picture (issue 20, 6) ---------------------------------------

TANH_MOONS = MOONS.replace("name: moons-plot", "name: moons-tanh").replace(
    "[linear: 8, relu, linear: 2]", "[linear: 4, tanh, linear: 2]"
)
LONG_NAME = "a-two-class-run-whose-name-is-rather-long"


def drawn(monkeypatch, draw, *args) -> object:
    """The matplotlib Figure that `draw(*args)` would have saved."""
    figures = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: figures.append(fig) or path)
    draw(*args)
    (fig,) = figures
    return fig


@needs_matplotlib
def test_hidden_units_legend_is_true_for_relu_and_for_tanh(tmp_path, monkeypatch):
    from tinygrad_edu.viz import network
    from tinygrad_edu.viz.conventions import POSITIVE

    relu = plots.load_trained(train(tmp_path, MOONS, "relu"))
    fig = drawn(monkeypatch, network.hidden_units, relu, tmp_path / "h.png")
    title = fig.get_suptitle()
    assert "blue positive, white zero" in title and "orange" not in title  # ReLU: never < 0
    panels = [ax for ax in fig.axes if ax.images]
    assert all(np.ma.getdata(ax.images[0].get_array()).min() >= 0 for ax in panels)
    assert panels[0].get_title().startswith("Linear: 1-1\nunit 0")  # the summary's row
    assert panels[0].images[0].get_cmap()(1.0)[:3] == pytest.approx(
        tuple(int(POSITIVE[i : i + 2], 16) / 255 for i in (1, 3, 5))
    )
    tanh = plots.load_trained(train(tmp_path, TANH_MOONS, "tanh"))
    fig = drawn(monkeypatch, network.hidden_units, tanh, tmp_path / "t.png")
    assert "blue positive, orange negative" in fig.get_suptitle()


@needs_matplotlib
def test_network_edges_are_blue_positive_orange_negative_and_layers_the_summarys(
    tmp_path, monkeypatch
):
    from matplotlib.colors import to_rgba

    from tinygrad_edu.summary import summary
    from tinygrad_edu.viz import network
    from tinygrad_edu.viz.conventions import NEGATIVE, POSITIVE

    run = plots.load_trained(train(tmp_path, MOONS, "moons"))
    fig = drawn(monkeypatch, network.network, run, tmp_path / "n.png")
    (ax,) = fig.axes
    model = run.setup.model
    weights = [model[0].weight.numpy(), model[2].weight.numpy()]
    signs = [w > 0 for layer in weights for w in layer.ravel()]  # drawn out unit by out unit
    assert [to_rgba(line.get_color()) for line in ax.lines] == [
        to_rgba(POSITIVE if positive else NEGATIVE) for positive in signs
    ]
    assert "(blue positive, orange negative" in fig.get_suptitle()
    columns = [t.get_text().split("\n")[0] for t in ax.texts]
    assert columns == ["input", "Linear: 1-1", "Linear: 1-3 (output)"]
    table = str(summary(model, (1, 2), verbose=0))
    assert "Linear: 1-1" in table and "Linear: 1-3" in table and "hidden" not in "".join(columns)


@needs_matplotlib
def test_diagnostics_name_each_layer_as_the_summary_does(tmp_path, monkeypatch):
    spec = tmp_path / "moons.yaml"
    spec.write_text(MOONS.replace("batch_size: 32}", "batch_size: 32, diagnostics: true}"))
    runs.train(spec, {}, out=tmp_path / "run", quiet=True)
    figures = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: figures.append(fig) or path)
    plots.plot_run(tmp_path / "run")
    (fig,) = [f for f in figures if "inside the network" in f.get_suptitle()]
    legends = [[t.get_text() for t in ax.get_legend().get_texts()] for ax in fig.axes]
    assert legends[0] == ["Linear: 1-1 (8 units)"]  # dead units: hidden layers only
    assert legends[1] == legends[2] == ["Linear: 1-1 (8 units)", "Linear: 1-3 (2 units)"]


@needs_matplotlib
def test_the_two_class_confusion_matrix_is_wide_enough_for_its_title(tmp_path, monkeypatch):
    from tinygrad_edu.viz import classification

    text = MOONS.replace("name: moons-plot", f"name: {LONG_NAME}")
    run = plots.load_trained(train(tmp_path, text, "long"))
    fig = drawn(monkeypatch, classification.confusion_matrix, run, tmp_path / "c.png")
    fig.draw_without_rendering()
    titles = [t for t in [fig._suptitle, *(ax.title for ax in fig.axes)] if t and t.get_text()]
    assert any(f"{LONG_NAME}: confusion matrix on the test split" in t.get_text() for t in titles)
    for title in titles:
        box = title.get_window_extent()
        assert 0 <= box.x0 and box.x1 <= fig.bbox.width, title.get_text()


@needs_matplotlib
def test_two_classes_are_the_playgrounds_orange_and_blue(tmp_path, monkeypatch):
    from matplotlib.colors import to_rgba

    from tinygrad_edu.viz.conventions import NEGATIVE, POSITIVE

    run = plots.load_trained(train(tmp_path, MOONS, "moons"))
    fig = drawn(monkeypatch, plots.decision_boundary, run, tmp_path / "d.png")
    (ax,) = fig.axes
    points = [c for c in ax.collections if c.get_label().startswith("class")]
    colours = {c.get_label(): to_rgba(c.get_facecolor()[0]) for c in points}
    assert colours["class 0 (train)"] == to_rgba(NEGATIVE)
    assert colours["class 1 (train)"] == to_rgba(POSITIVE)


def curve_rows(train: list[float], test: list[float]) -> list[dict[str, float]]:
    return [
        {"epoch": e + 1, "train_loss": a, "test_loss": b}
        for e, (a, b) in enumerate(zip(train, test))
    ]


# the lecture's MLP at lr 0.1 (specs/mlp.yaml, seed 0): the training loss falls to 0.002
MEMORISING = curve_rows(
    [0.68, 0.27, 0.18, 0.12, 0.076, 0.061, 0.026, 0.010, 0.0082, 0.0020],
    [0.48, 0.28, 0.35, 0.32, 0.31, 0.29, 0.265, 0.34, 0.28, 0.295],
)


def test_overfitting_is_named_when_the_held_out_loss_has_turned_and_training_falls_on():
    from tinygrad_edu.viz.overfitting import find_overfitting

    found = find_overfitting(MEMORISING)
    assert (found.best_epoch, found.best_loss, found.last_epoch) == (7, 0.265, 10)
    assert found.note() == (
        "overfitting: test loss lowest at epoch 7 (0.265), 11% higher by epoch 10\n"
        "while the training loss kept falling (to 0.002)"
    )
    still_learning = curve_rows([0.6, 0.4, 0.3, 0.25, 0.2], [0.62, 0.45, 0.33, 0.3, 0.26])
    assert find_overfitting(still_learning) is None  # both fall: no note
    one_bad_epoch = curve_rows([0.6, 0.4, 0.3, 0.2, 0.1], [0.6, 0.4, 0.3, 0.25, 0.4])
    assert find_overfitting(one_bad_epoch) is None  # lowest one epoch ago: noise, not a turn
    both_rise = curve_rows([0.5, 0.3, 0.2, 0.3, 0.4], [0.5, 0.3, 0.2, 0.3, 0.4])
    assert find_overfitting(both_rise) is None  # the training loss rises too: not memorising
    small_rise = curve_rows([0.6, 0.3, 0.1, 0.05, 0.01], [0.5, 0.3, 0.29, 0.3, 0.31])
    assert find_overfitting(small_rise) is None  # 7 % above the lowest: within the noise
    assert find_overfitting(MEMORISING[:3]) is None  # too few epochs to tell


@needs_matplotlib
def test_learning_curves_note_overfitting_on_the_loss_panel(tmp_path, monkeypatch):
    lines = ["epoch,train_loss,test_loss"] + [
        f"{r['epoch']},{r['train_loss']},{r['test_loss']}" for r in MEMORISING
    ]
    (tmp_path / "metrics.csv").write_text("\n".join(lines) + "\n")
    fig = drawn(monkeypatch, plots.learning_curves, tmp_path / "metrics.csv", "mlp", tmp_path)
    (loss,) = fig.axes
    assert "overfitting: test loss lowest at epoch 7" in loss.get_title()
    assert [line.get_xdata()[0] for line in loss.lines if line.get_linestyle() == ":"] == [7]
    (tmp_path / "metrics.csv").write_text("\n".join(lines[:7]) + "\n")  # 6 epochs: 4 % up
    fig = drawn(monkeypatch, plots.learning_curves, tmp_path / "metrics.csv", "mlp", tmp_path)
    assert "overfitting" not in fig.axes[0].get_title()


def test_a_swept_hidden_layer_width_is_called_hidden_width():
    from tinygrad_edu.training.sweep_plan import field_names, short_names

    def names(paths, layers):
        return field_names(paths, layers, short_names(paths))

    layers = [{"linear": {"out_features": 8}}, "relu", {"linear": {"out_features": 1}}]
    hidden, output = "model.layers[0].linear.out_features", "model.layers[2].linear.out_features"
    assert names([hidden, "optimizer.lr"], layers) == {hidden: "hidden width", "optimizer.lr": "lr"}
    assert names(["model.layers[0].linear"], layers) == {"model.layers[0].linear": "hidden width"}
    assert names([output], layers) == {output: "out_features"}  # the output layer's
    deep = [{"linear": 4}, "relu", {"linear": 4}, "relu", {"linear": 1}]
    two = ["model.layers[0].linear", "model.layers[2].linear"]
    assert names(two, deep) == {
        two[0]: "hidden width (layers.0.linear)",
        two[1]: "hidden width (layers.2.linear)",
    }
    assert names(["model.mlp.hidden[0]"], None) == {"model.mlp.hidden[0]": "hidden width"}


@needs_matplotlib
def test_sweep_plots_say_hidden_width_where_out_features_is_swept(tmp_path, monkeypatch):
    spec = tmp_path / "sine.yaml"
    spec.write_text(SINE)
    sweep = run_sweep(spec, "model.layers[0].linear.out_features", [2, 8], out=tmp_path / "sw")
    figures = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: figures.append(fig) or path)
    plots.plot_sweep(sweep.folder)
    metrics, curves, fitted = figures
    assert {ax.get_xlabel() for ax in metrics.axes} == {"hidden width"}
    (ax,) = curves.axes
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "hidden width 2",
        "hidden width 8",
    ]
    legend = [t.get_text() for t in fitted.axes[0].get_legend().get_texts()]
    assert [text.split(":")[0] for text in legend[-2:]] == ["hidden width 2", "hidden width 8"]
    assert "out_features" not in " ".join(legend)
    title = metrics.get_suptitle()  # the path as written, after what it means
    assert title.startswith("sweep of hidden width (model.layers[0].linear.out_features)")
    console = Console(width=120, record=True)
    console.print(sweep.table())  # the summary table says what the plots say
    text = console.export_text()
    assert "sweep of hidden width (model.layers[0].linear.out_features)" in text
    assert [column.header for column in sweep.table().columns][0] == "hidden width"
