"""Plots of runs and sweeps: each kind is written as a real PNG for tiny runs, and a
missing matplotlib gives the one-line install hint instead of a traceback."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

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
def test_weight_tiles_show_every_unit_on_one_scale_or_the_first_n(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "images.npz", X=rng.integers(0, 256, (60, 784)), y=np.arange(60) % 10)
    run = plots.load_trained(train(tmp_path, IMAGES, "images"))
    weights = run.first_image_layer()[1].weight.numpy()
    figures = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: figures.append(fig) or path)
    plots.first_layer_weights(run, tmp_path / "all.png")
    plots.first_layer_weights(run, tmp_path / "five.png", units=5)
    for fig, shown in zip(figures, [12, 5]):  # 12 units in all, then the first 5
        (ax,) = [ax for ax in fig.axes if ax.images]  # one image holds every tile
        mosaic = np.ma.getdata(ax.images[0].get_array())
        assert [t.get_text() for t in ax.texts] == [str(i) for i in range(shown)]
        assert np.isfinite(mosaic).sum() == shown * 784
        tiles = mosaic[:, np.isfinite(mosaic).any(axis=0)]  # the gaps between tiles dropped
        tiles = tiles[np.isfinite(tiles).any(axis=1)]
        np.testing.assert_array_equal(
            tiles.reshape(28, shown, 28).transpose(1, 0, 2), weights[:shown].reshape(-1, 28, 28)
        )
        limit = np.abs(weights[:shown]).max()  # one colour scale for every tile
        assert ax.images[0].get_clim() == pytest.approx((-limit, limit))
    assert any(ax.get_ylabel() == "weight" for ax in figures[0].axes)  # the colour bar


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
