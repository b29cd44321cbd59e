"""Pictures of a finished run or sweep, as PNG files next to its results.

`plot_run(run_dir)` draws what fits the run's data:

- ``learning_curves.png``: loss and accuracy (regression: loss, MAE and R^2) per epoch,
  training split against held-out split, from ``metrics.csv``, with a note where the
  held-out loss has turned while the training loss keeps falling (`overfitting`);
- ``decision_boundary.png`` for 2-D inputs: the class the model predicts over a grid,
  with the data points on top (the lecture's Figure 4);
- ``fit.png`` for 1-D regression: the target function, the data and the fitted curve;
- ``first_layer_weights.png`` for 28x28 images: each first-layer unit's weights drawn as
  an image (the lecture's Figure 8), each tile on its own colour scale, dead units marked;
- ``confusion_matrix.png`` for classification and ``misclassified.png`` for images
  (`classification`);
- ``hidden_units.png`` for 2-D inputs (each hidden unit over the plane) and ``network.png``
  for networks small enough to draw (`network`);
- ``diagnostics.png`` for runs trained with ``train.diagnostics: true``: dead ReLU units,
  gradient and weight norm per layer and epoch (`training.diagnostics`).

`animate_run(run_dir)` (``plot --animate``) draws the decision boundary or the fit once per
epoch from the weights ``train.snapshots: true`` saved, as ``decision_boundary.gif`` or
``fit.gif``.

`plot_sweep(sweep_dir)` draws the final metrics against the first swept field, the mean over
each point's seeds with error bars of one standard deviation (``sweep_metrics.png``), every
point's held-out learning curve, mean with a ±std band (``sweep_learning_curves.png``) and,
for 1-D regression, one fitted curve per point in one picture (``fit.png``, the lecture's
Figure 6).

Each plot is made from the run folder alone: its spec (the data is loaded again with the
spec's seed, so the split is the one the run trained on) and its ``model.npz``.

matplotlib is optional (the ``plot`` extra, `extras.install_hint`) and imported only here,
inside the functions. Figures are drawn on matplotlib's `Figure` directly, never through
``pyplot``: that needs no display and leaves the backend of a notebook as it was.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserError
from ..extras import install_hint
from .conventions import SIGN_LEGEND, class_colors, layer_labels, signed_colormap
from .overfitting import find_overfitting

MISSING_MATPLOTLIB = f"plots need matplotlib: {install_hint('plot')}"
IMAGE_SIDE = 28  # a flat input of 28 * 28 = 784 features is an MNIST-like image
DEAD_COLOR = "#b00020"  # the playground's mark of a dead unit
DPI = 110
LOSS_NAMES = {
    "cross_entropy": "cross-entropy",
    "mse": "mean squared error (MSE)",
    "binary_cross_entropy_with_logits": "binary cross-entropy",
    "hinge": "hinge loss",
}
"""How each loss is called on a plot's axis (other losses by their spec name)."""


class PlotsUnavailable(UserError):
    """matplotlib is not installed."""


def try_plot_run(folder: str | Path) -> str | None:
    """Plot a run folder (or a sweep folder, one with sweep.csv) if matplotlib is there.

    For the end of a training: returns the one-line hint instead of raising when
    matplotlib is missing, so a run without the extra still succeeds; None otherwise.
    """
    from ..training.sweep import SWEEP_CSV

    folder = Path(folder)
    try:
        if (folder / SWEEP_CSV).is_file():
            plot_sweep(folder)
        else:
            plot_run(folder)
    except PlotsUnavailable as error:
        return str(error)
    return None


def plot_run(run_dir: str | Path, units: int | None = None) -> list[Path]:
    """Write every plot that fits the run's data into its folder; returns the files.

    ``units`` limits the first-layer weight tiles to the first `units` units (default: all).
    """
    from . import classification, network

    _matplotlib()
    run_dir = Path(run_dir)
    run = load_trained(run_dir)
    classifies = run.setup.objective.task == "classification"
    written = []
    if (run_dir / "metrics.csv").is_file():
        loss = run.setup.objective.loss
        written.append(learning_curves(run_dir / "metrics.csv", run.name, run_dir, loss))
    if classifies and run.input_features == 2:
        written.append(decision_boundary(run, run_dir / "decision_boundary.png"))
    if run.setup.objective.task == "regression" and run.input_features == 1:
        written.append(fit([run], run_dir / "fit.png"))
    if run.first_image_layer() is not None:
        path = run_dir / "first_layer_weights.png"
        written.append(first_layer_weights(run, path, units))
    if classifies and len(run.setup.dataset.X_test):
        written.append(classification.confusion_matrix(run, run_dir / "confusion_matrix.png"))
        if run.image_shape is not None:
            written.append(classification.misclassified(run, run_dir / "misclassified.png"))
    if run.input_features == 2 and network.hidden_layers(run.setup.model):
        written.append(network.hidden_units(run, run_dir / "hidden_units.png"))
    if network.drawable(run.setup.model):
        written.append(network.network(run, run_dir / "network.png"))
    if (run_dir / "diagnostics.csv").is_file():
        labels = layer_labels(run.setup.model, tuple(run.setup.dataset.input_shape))
        path = run_dir / "diagnostics.png"
        written.append(diagnostics(run_dir / "diagnostics.csv", run.name, path, labels))
    return written


def plot_sweep(sweep_dir: str | Path) -> list[Path]:
    """``sweep_metrics.png`` and ``sweep_learning_curves.png`` for any sweep, and
    ``fit.png`` for 1-D regression sweeps (one curve per point, its first seed's run)."""
    from ..spec import load_spec
    from ..training.loop import SPEC
    from ..training.sweep import group_by_point, point_label, read_sweep_csv
    from ..training.sweep_plan import field_names

    _matplotlib()
    sweep_dir = Path(sweep_dir)
    paths, rows = read_sweep_csv(sweep_dir)
    model = load_spec(sweep_dir / rows[0]["run_dir"] / SPEC).model.model_dump(exclude_none=True)
    names = field_names(paths, model.get("layers"))  # "hidden width"
    written = [
        sweep_metrics(paths, rows, sweep_dir / "sweep_metrics.png", names),
        sweep_learning_curves(paths, rows, sweep_dir, names),
    ]
    firsts = [min(group, key=lambda row: row["seed"] or 0) for group in group_by_point(paths, rows)]
    runs = [load_trained(sweep_dir / row["run_dir"]) for row in firsts]
    if runs and runs[0].setup.objective.task == "regression" and runs[0].input_features == 1:
        several = len(firsts) < len(rows)
        for run, row in zip(runs, firsts):
            seed = f" (seed {row['seed']})" if several else ""
            run.label = point_label(paths, row, names) + seed
        written.append(fit(runs, sweep_dir / "fit.png"))
    return written


# --- loading a run ------------------------------------------------------------------------


@dataclass
class TrainedRun:
    """A run folder's model with its trained weights, and the data it was trained on."""

    setup: Any  # train.Setup: spec, model (trained weights, eval mode), objective, dataset
    name: str
    label: str = "model"

    @property
    def input_features(self) -> int:
        return math.prod(self.setup.dataset.input_shape)

    @property
    def image_shape(self) -> tuple[int, int] | None:
        """(height, width) for image inputs: 2-D samples, or 784 = 28 x 28 flat features."""
        shape = tuple(self.setup.dataset.input_shape)
        if len(shape) == 2:
            return shape
        return (IMAGE_SIDE, IMAGE_SIDE) if shape == (IMAGE_SIDE * IMAGE_SIDE,) else None

    def first_image_layer(self) -> tuple[str, Any] | None:
        """(name, layer) of the first Linear layer, if it sees each image whole."""
        from ..nn import Linear

        if self.image_shape is None:
            return None
        pixels = math.prod(self.image_shape)
        for name, module in self.setup.model.named_modules():
            if isinstance(module, Linear):
                return (name, module) if module.in_features == pixels else None
        return None

    def predict(self, raw_inputs: np.ndarray) -> np.ndarray:
        """The model's outputs for inputs in the data's own units (normalized here)."""
        from ..data import apply_normalization
        from ..training.objectives import predict_arrays

        ds = self.setup.dataset
        X = apply_normalization(ds.normalization, raw_inputs)
        return predict_arrays(self.setup.model, X.reshape(len(X), *ds.input_shape))

    def raw(self, X: np.ndarray) -> np.ndarray:
        """Normalized features back in the data's own units, for the axes of a plot."""
        stats = self.setup.dataset.normalization
        return X * np.asarray(stats["scale"], np.float32) + np.asarray(stats["shift"], np.float32)

    def test_metrics(self) -> dict[str, float]:
        from ..training.objectives import evaluate_arrays

        ds = self.setup.dataset
        return evaluate_arrays(self.setup.model, self.setup.objective, ds.X_test, ds.y_test)


def load_trained(run_dir: str | Path) -> TrainedRun:
    """Rebuild a run: its spec's data (same seed, same split) and its saved weights."""
    from ..training.runs import restore

    setup = restore(run_dir)
    return TrainedRun(setup, setup.spec.name)


# --- the plots ------------------------------------------------------------------------------


def learning_curves(metrics_csv: Path, name: str, folder: Path, loss: str | None = None) -> Path:
    """Each metric per epoch, training split against held-out split, from metrics.csv;
    the loss axis names the loss (`loss` is the spec's loss name)."""
    rows = _read_metrics(metrics_csv)
    held = "val" if "val_loss" in rows[0] else "test"
    metrics = [m for m in ("loss", "accuracy", "mae", "r2") if f"train_{m}" in rows[0]]
    loss_name = LOSS_NAMES.get(loss, loss) if loss else "loss"
    titles = {
        "loss": loss_name,
        "accuracy": "accuracy (fraction correct)",
        "mae": "mean absolute error",
        "r2": "R² (1 = perfect fit)",
    }
    fig = _figure(figsize=(4.2 * len(metrics), 3.4))
    epochs = [row["epoch"] for row in rows]
    for index, metric in enumerate(metrics):
        ax = fig.add_subplot(1, len(metrics), index + 1)
        for split, style in (("train", "o-"), (held, "s--")):
            values = [row.get(f"{split}_{metric}", math.nan) for row in rows]
            ax.plot(epochs, values, style, markersize=3, label=_split_name(split))
        if metric in ("loss", "mae") and _spans_decades(rows, metric):
            ax.set_yscale("log")
        ax.set_title(titles[metric].split(" (")[0])
        turned = find_overfitting(rows, held) if metric == "loss" else None
        if turned is not None:  # say what the curves show (`overfitting`)
            ax.axvline(turned.best_epoch, color="0.4", linestyle=":", linewidth=1)
            ax.set_title(f"{ax.get_title()}\n{turned.note(_split_name(held))}", fontsize=8)
        ax.set_xlabel("epoch")
        ax.set_ylabel(titles[metric])
        ax.yaxis.set_major_formatter(_significant_formatter())
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(f"{name}: learning curves, training vs {_split_name(held)} split")
    return _save(fig, folder / "learning_curves.png")


def decision_boundary(run: TrainedRun, path: Path, resolution: int = 300) -> Path:
    """The predicted class over a grid around the data, with the points on top."""
    fig = _figure(figsize=(5.2, 4.6))
    draw_decision_boundary(fig.add_subplot(1, 1, 1), run, _plane(run, resolution))
    return _save(fig, path)


def draw_decision_boundary(ax: Any, run: TrainedRun, plane: tuple, title: str = "") -> None:
    """`decision_boundary`'s picture on `ax` for the model's current weights (also one frame
    of `animate_run`); `plane` is `_plane`'s grid, `title` goes before the test accuracy."""
    ds, objective = run.setup.dataset, run.setup.objective
    grid_x, grid_y, grid, train = plane
    test = run.raw(ds.X_test)
    classes = objective.predict(run.predict(grid)).reshape(grid_x.shape)
    count = max(ds.num_classes or 2, 2)
    colors = class_colors(count)
    levels = np.arange(count + 1) - 0.5
    ax.contourf(grid_x, grid_y, classes, levels=levels, colors=colors, alpha=0.25)
    ax.contour(grid_x, grid_y, classes, levels=levels[1:-1], colors="k", linewidths=0.8)
    names = ds.class_names or [str(c) for c in range(count)]
    splits = (("train", train, ds.y_train, "o"), ("test", test, ds.y_test, "^"))
    for c in range(count):
        for split, X, y, marker in splits:
            chosen = X[y == c]
            ax.scatter(
                chosen[:, 0],
                chosen[:, 1],
                s=14 if split == "train" else 22,
                marker=marker,
                color=colors[c],
                edgecolors="white",
                linewidths=0.4,
                label=f"class {names[c]} ({split})",
            )
    accuracy = run.test_metrics().get("accuracy", math.nan)
    ax.set_title(f"{title or run.name}: test accuracy {accuracy:.1%}")
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    ax.legend(fontsize=7, loc="best", framealpha=0.8)


def _plane(run: TrainedRun, resolution: int) -> tuple[np.ndarray, ...]:
    """A grid over the data's plane with a margin: (grid_x, grid_y, points (n, 2), the
    training points), all in the data's own units."""
    ds = run.setup.dataset
    train = run.raw(ds.X_train)
    points = np.concatenate([train, run.raw(ds.X_test)])
    lo, hi = points.min(axis=0), points.max(axis=0)
    pad = 0.1 * (hi - lo)
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    return grid_x, grid_y, np.stack([grid_x.ravel(), grid_y.ravel()], axis=1), train


def fit(runs: list[TrainedRun], path: Path, resolution: int = 400) -> Path:
    """The target function (if the data is one), the training points, and each run's curve."""
    fig = _figure(figsize=(6.4, 4.2))
    draw_fit(fig.add_subplot(1, 1, 1), runs, resolution)
    return _save(fig, path)


def draw_fit(ax: Any, runs: list[TrainedRun], resolution: int = 400, title: str = "") -> None:
    """`fit`'s picture on `ax` for the runs' current weights (also one frame of
    `animate_run`, whose y axis stays the data's so that frames do not jump)."""
    from ..data.synthetic import FUNCTION_ALIASES, FUNCTIONS

    first = runs[0]
    ds, data_spec = first.setup.dataset, first.setup.spec.data
    x_train = first.raw(ds.X_train)[:, 0]
    if data_spec.source == "function":
        lo, hi = data_spec.interval
    else:
        lo, hi = float(x_train.min()), float(x_train.max())
    xs = np.linspace(lo, hi, resolution).reshape(-1, 1)

    ax.scatter(x_train, ds.y_train[:, 0], s=6, color="0.7", label="training data", zorder=1)
    if data_spec.source == "function":
        name = data_spec.function
        target = FUNCTIONS[FUNCTION_ALIASES.get(name, name)](xs[:, 0])
        ax.plot(xs[:, 0], target, color="k", linewidth=2.5, alpha=0.35, label=f"target {name}(x)")
    colors = _sequence_colors(len(runs))
    for run, color in zip(runs, colors):
        mse = run.test_metrics()["loss"]
        label = f"{run.label}: test MSE {mse:.2g}"
        ax.plot(xs[:, 0], run.predict(xs).reshape(-1), color=color, linewidth=1.6, label=label)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title or f"{first.name}: fitted curve" + ("s" if len(runs) > 1 else ""))


def first_layer_weights(run: TrainedRun, path: Path, units: int | None = None) -> Path:
    """Each first-layer unit's weights as an image: the pattern that excites it most.

    Each tile is scaled on its own (its largest |weight| is full colour): on one shared
    scale the few strongest units set the range and most tiles fade to white, hiding the
    strokes and blobs the lecture's "first layers learn simple features" is about. Units
    that are zero on every training image (dead ReLUs, `network.dead_units`) are marked.

    The tiles are one image (`tile_mosaic`), drawn by one ``imshow``: 128 small axes took
    matplotlib's layout about 3 s, longer than training the lecture's network."""
    name, layer = run.first_image_layer()
    weights = layer.weight.numpy()
    shown = len(weights) if units is None else max(1, min(units, len(weights)))
    columns = min(16, shown)
    rows = math.ceil(shown / columns)
    height, width = run.image_shape
    tiles = weights[:shown].reshape(shown, height, width).astype(np.float64)
    largest = np.abs(tiles).max(axis=(1, 2), keepdims=True)
    tiles = tiles / np.where(largest > 0, largest, 1.0)
    gap, band = max(1, width // 7), max(2, height // 3)  # band: room for each tile's number
    fig = _figure(figsize=(0.8 * columns + 1.0, 0.8 * rows + 0.9))
    ax = fig.add_subplot()
    image = ax.imshow(
        tile_mosaic(tiles, columns, gap, band),
        cmap=signed_colormap(bad="#d0d0d0"),
        vmin=-1.0,
        vmax=1.0,
        interpolation="nearest",
        aspect="equal",
    )
    dead = _dead_first_units(run, name)[:shown]
    labels = [f"{index} dead" if dead[index] else str(index) for index in range(shown)]
    label_tiles(ax, labels, columns, (height, width), gap, band)
    for text, is_dead in zip(ax.texts, dead):
        if is_dead:
            text.set_color(DEAD_COLOR)
            text.set_fontweight("bold")
    ax.set_axis_off()
    fig.colorbar(
        image, ax=ax, shrink=0.8, label=f"weight / the tile's largest |weight|\n({SIGN_LEGEND})"
    )
    count = int(np.sum(dead))
    fig.suptitle(
        f"{run.name}: first-layer weights ({layer_label(run, name)}), units 0-{shown - 1} of "
        f"{len(weights)}, one {height}x{width} tile per unit, each tile on its own scale"
        + (f"; {count} dead (zero on every training image)" if count else ""),
        fontsize=9,
    )
    return _save(fig, path)


def _dead_first_units(run: TrainedRun, name: str) -> np.ndarray:
    """Which units of the first layer are zero on every training image (all False when
    that layer is not a hidden one)."""
    from .network import dead_units, hidden_activations

    ds = run.setup.dataset
    hidden = dict(hidden_activations(run.setup.model, ds.X_train))
    units = run.first_image_layer()[1].out_features
    return dead_units(hidden[name]) if name in hidden else np.zeros(units, dtype=bool)


def layer_label(run: TrainedRun, name: str) -> str:
    """The summary's name of the model's layer `name` (``Linear: 1-2``), the numbering every
    picture uses (`conventions.layer_labels`)."""
    labels = layer_labels(run.setup.model, tuple(run.setup.dataset.input_shape))
    return labels.get(name, f"layer {name}")


def label_tiles(
    ax: Any,
    labels: list[str],
    columns: int,
    tile: tuple[int, int],
    gap: int,
    band: int,
    **text: Any,
) -> None:
    """Write each tile's label in the band above it, on a `tile_mosaic` drawn in `ax`."""
    height, width = tile
    for index, label in enumerate(labels):
        row, column = divmod(index, columns)
        x, y = column * (width + gap) + (width - 1) / 2, row * (height + band) + band - 1.5
        ax.text(x, y, label, ha="center", va="bottom", **{"fontsize": 6, **text})


def tile_mosaic(tiles: np.ndarray, columns: int, gap: int, band: int) -> np.ndarray:
    """Tiles ``(n, h, w)`` laid out row by row, `columns` to a row, in one float array:
    `gap` columns between tiles and a `band` of rows above each row of tiles (for labels),
    NaN there (drawn in the colour map's "bad" colour)."""
    count, height, width = tiles.shape
    rows = math.ceil(count / columns)
    mosaic = np.full((rows * (height + band), columns * (width + gap) - gap), np.nan)
    for index, tile in enumerate(tiles):
        row, column = divmod(index, columns)
        top, left = row * (height + band) + band, column * (width + gap)
        mosaic[top : top + height, left : left + width] = tile
    return mosaic


def diagnostics(
    diagnostics_csv: Path, name: str, path: Path, labels: dict[str, str] | None = None
) -> Path:
    """Per layer and epoch, from diagnostics.csv (`training.diagnostics`): the fraction of
    dead units of each hidden layer, the last step's gradient norm and the weight norm.
    `labels` names each layer as the summary does (`conventions.layer_labels`)."""
    from ..training.diagnostics import read_diagnostics

    rows = read_diagnostics(diagnostics_csv)
    if not rows:
        raise UserError(f"{diagnostics_csv} has no rows yet: let at least one epoch finish")
    layers = list(dict.fromkeys(row["layer"] for row in rows))
    panels = (
        ("dead_fraction", "dead units (fraction of the layer)", "dead ReLU units (hidden layers)"),
        ("grad_norm", "‖gradient‖₂ of the epoch's last step", "gradient norm"),
        ("weight_norm", "‖W‖₂ (Frobenius)", "weight norm"),
    )
    fig = _figure(figsize=(12.6, 3.6))
    colors = _sequence_colors(len(layers))
    for index, (column, ylabel, title) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), index + 1)
        for layer, color in zip(layers, colors):
            mine = [row for row in rows if row["layer"] == layer and row[column] != ""]
            if mine:
                units = mine[0]["units"]
                ax.plot(
                    [int(row["epoch"]) for row in mine],
                    [float(row[column]) for row in mine],
                    "o-",
                    markersize=3,
                    color=color,
                    label=f"{(labels or {}).get(layer, f'layer {layer}')} "
                    f"({units} unit{'' if units == '1' else 's'})",
                )
        if column == "dead_fraction":
            ax.set_ylim(-0.05, 1.05)
        elif column == "grad_norm":  # gradients span decades; symlog still shows a dead 0
            ax.set_yscale("symlog", linthresh=1e-6)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
        else:  # a network without hidden layers has no dead units to count
            ax.text(0.5, 0.5, "no hidden layer", transform=ax.transAxes, ha="center")
    fig.suptitle(f"{name}: inside the network, layer by layer, at the end of each epoch")
    return _save(fig, path)


def animate_run(run_dir: str | Path, fps: int = 4) -> Path:
    """``decision_boundary.gif`` (2-D classification) or ``fit.gif`` (1-D regression): one
    frame per epoch, from the weights ``train.snapshots`` saved; drawn by the PNGs' own
    functions and written by matplotlib's PillowWriter."""
    from matplotlib.animation import PillowWriter

    from ..training.checkpoint import atomic_path, load_npz, unflatten
    from ..training.diagnostics import SNAPSHOTS, list_snapshots

    _matplotlib()
    run_dir = Path(run_dir)
    snapshots = list_snapshots(run_dir)
    if not snapshots:
        raise UserError(
            f"{run_dir} has no snapshots ({run_dir / SNAPSHOTS}/epoch_001.npz, ...), so there "
            "is nothing to animate: train with --snapshots (train.snapshots: true) to save "
            "the weights of every epoch, e.g. python cli.py train SPEC --snapshots"
        )
    run = load_trained(run_dir)
    task = run.setup.objective.task
    if task == "classification" and run.input_features == 2:
        name, size, plane = "decision_boundary.gif", (5.2, 4.6), _plane(run, 150)

        def draw(ax: Any, title: str) -> None:
            draw_decision_boundary(ax, run, plane, title)

    elif task == "regression" and run.input_features == 1:
        name, size = "fit.gif", (6.4, 4.2)
        y = run.setup.dataset.y_train[:, 0]
        pad = 0.25 * float(y.max() - y.min()) or 1.0
        limits = (float(y.min()) - pad, float(y.max()) + pad)

        def draw(ax: Any, title: str) -> None:
            draw_fit(ax, [run], 200, title)
            ax.set_ylim(*limits)

    else:
        raise UserError(
            f"plot --animate draws the decision boundary of 2-D classification or the fitted "
            f"curve of 1-D regression; {run_dir} is {task} with {run.input_features} input "
            "features: use plot without --animate"
        )
    fig = _figure(figsize=size)
    ax = fig.add_subplot(1, 1, 1)
    writer = PillowWriter(fps=fps)
    path = run_dir / name
    with atomic_path(path) as temporary:
        with writer.saving(fig, str(temporary), dpi=DPI):
            for snapshot in snapshots:
                flat = load_npz(snapshot)
                run.setup.model.load_state_dict(unflatten("model", flat))
                ax.clear()
                draw(ax, f"{run.name}, epoch {int(flat['meta/epoch'])}")
                writer.grab_frame()
    return path


def sweep_metrics(
    paths: list[str], rows: list[dict[str, Any]], path: Path, names: dict[str, str] | None = None
) -> Path:
    """The final held-out metrics of a sweep against the first swept field: per point the
    mean over its seeds with an error bar of one standard deviation (ddof=1), every run as
    a faint dot, and one line per value of the other fields. On the loss's log axis a bar
    that would reach 0 or below stops at the point's lowest run instead. `names` are the
    fields' names on the plot (`sweep_plan.field_names`; default the sweep's short names)."""
    from ..training.sweep import format_value, group_by_point, point_label, summarize
    from ..training.sweep_plan import fields_title, short_names

    names = names or short_names(paths)
    metrics = [m for m in ("test_loss", "test_accuracy", "test_r2") if rows[0].get(m) is not None]
    first = paths[0] if paths else None
    values = list(dict.fromkeys(row[first] for row in rows)) if first else ["spec"]
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    position = dict(zip(map(format_value, values), values if numeric else range(len(values))))
    lines: dict[str, list[tuple[dict, list[dict]]]] = {}  # other fields' label -> points
    for point, group in zip(summarize(paths, rows), group_by_point(paths, rows)):
        lines.setdefault(point_label(paths[1:], point, names) if paths[1:] else "", []).append(
            (point, group)
        )
    fig = _figure(figsize=(4.2 * len(metrics), 3.4))
    for index, metric in enumerate(metrics):
        ax = fig.add_subplot(1, len(metrics), index + 1)
        losses = [row[metric] for row in rows]
        # a log axis only across a decade or more (within one it would show no tick labels)
        log = metric == "test_loss" and min(losses) > 0 and max(losses) >= 10 * min(losses)
        for label, points in lines.items():
            xs = [position[format_value(p[first]) if first else "spec"] for p, _ in points]
            means = [p[f"{metric}_mean"] for p, _ in points]
            stds = [p[f"{metric}_std"] or 0.0 for p, _ in points]
            # a log axis has no 0: a bar reaching below it stops at the point's lowest run
            lows = [
                m - p[f"{metric}_min"] if log and m - s <= 0 else s
                for m, s, (p, _) in zip(means, stds, points)
            ]
            bar = ax.errorbar(
                xs, means, yerr=[lows, stds], fmt="o-", capsize=3, label=label or None
            )
            for x, (_, group) in zip(xs, points):
                ys = [row[metric] for row in group]
                ax.plot([x] * len(ys), ys, ".", color=bar.lines[0].get_color(), alpha=0.3)
        if numeric and min(values) > 0 and max(values) >= 10 * min(values):
            ax.set_xscale("log")
        if log:
            ax.set_yscale("log")
        ax.set_xticks(list(position.values()), list(position))
        ax.minorticks_off()
        ax.set_xlabel(names[first] if first else "")
        ax.set_title({"test_r2": "test R²"}.get(metric, metric.replace("_", " ")))
        ax.grid(alpha=0.3)
        if len(lines) > 1:
            ax.legend(fontsize=7)
    seeds = len({row["seed"] for row in rows})
    spread = f": mean ± std over {seeds} seeds" if seeds > 1 else ""
    fig.suptitle(f"sweep of {fields_title(paths, names) or 'the seed'}{spread}", fontsize=9)
    return _save(fig, path)


def sweep_learning_curves(
    paths: list[str],
    rows: list[dict[str, Any]],
    sweep_dir: Path,
    names: dict[str, str] | None = None,
) -> Path:
    """Every point's held-out loss per epoch: the mean over its seeds, with a band of one
    standard deviation (ddof=1) when it has several, from each run's metrics.csv; `names`
    as `sweep_metrics`'s."""
    from ..training.sweep import group_by_point, point_label

    groups = group_by_point(paths, rows)
    fig = _figure(figsize=(6.4, 4.2))
    ax = fig.add_subplot(1, 1, 1)
    log, held = True, "test"
    for group, color in zip(groups, _sequence_colors(len(groups))):
        curves = [_read_metrics(sweep_dir / row["run_dir"] / "metrics.csv") for row in group]
        held = "val" if "val_loss" in curves[0][0] else "test"
        epochs = min(len(curve) for curve in curves)  # the same for the runs of one point
        losses = np.array([[m.get(f"{held}_loss", math.nan) for m in c[:epochs]] for c in curves])
        mean = losses.mean(axis=0)
        log = log and bool(np.all(losses > 0))
        x = [m["epoch"] for m in curves[0][:epochs]]
        label = point_label(paths, group[0], names)
        ax.plot(x, mean, "o-", markersize=3, color=color, label=label)
        if len(group) > 1:
            std = losses.std(axis=0, ddof=1)
            # a log axis has no 0: where the band would reach it, it stops at the lowest run
            low = np.where(mean - std > 0, mean - std, losses.min(axis=0))
            ax.fill_between(x, low, mean + std, color=color, alpha=0.15, linewidth=0)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"{_split_name(held)} loss")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    band = ", mean ± std over its seeds" if len(groups) < len(rows) else ""
    ax.set_title(f"learning curve of each point{band}", fontsize=10)
    return _save(fig, sweep_dir / "sweep_learning_curves.png")


# --- helpers --------------------------------------------------------------------------------


def _significant_formatter() -> Any:
    """Tick labels with three significant digits, so 0.00029 does not print as 0.0003."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _: f"{value:.3g}")


def _matplotlib() -> Any:
    """The matplotlib module, or PlotsUnavailable with the one-line install hint."""
    try:
        import matplotlib
        import matplotlib.figure  # noqa: F401 - the submodule every plot needs
    except ImportError:
        raise PlotsUnavailable(MISSING_MATPLOTLIB) from None
    return matplotlib


def _figure(**options: Any) -> Any:
    return _matplotlib().figure.Figure(layout="constrained", **options)


def _fit_suptitle(fig: Any, title: Any, margin: float = 0.4) -> None:
    """Widen `fig` until its `title` (a `fig.suptitle`) fits with `margin` inches to spare:
    a long run name must never be cut (a 340-pixel confusion matrix once read "on the tes")."""
    fig.draw_without_rendering()
    needed = title.get_window_extent().width / fig.dpi + margin
    if needed > fig.get_figwidth():
        fig.set_figwidth(needed)


def _save(fig: Any, path: Path) -> Path:
    """Write the PNG atomically (a half-written picture never replaces a good one)."""
    from ..training.checkpoint import atomic_write

    with atomic_write(path) as handle:
        fig.savefig(handle, format="png", dpi=DPI)
    return path


def _read_metrics(path: Path) -> list[dict[str, float]]:
    """The rows of a metrics.csv (`compare.read_metrics_csv`); a plot needs at least one."""
    from ..training.compare import read_metrics_csv

    rows = read_metrics_csv(path)
    if not rows:
        raise UserError(f"{path} has no rows yet: let at least one epoch finish")
    return rows


def _spans_decades(rows: list[dict[str, float]], metric: str) -> bool:
    values = [v for row in rows for k, v in row.items() if k.endswith(f"_{metric}")]
    positive = [v for v in values if v > 0]
    return len(positive) == len(values) and max(positive) > 10 * min(positive)


def _split_name(split: str) -> str:
    return {"train": "training", "val": "validation", "test": "test"}[split]


def _sequence_colors(count: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(0.9 * i / max(count - 1, 1)) for i in range(count)]
