"""Pictures of the network itself: what each hidden unit computes, and its weights as edges.

- `hidden_units` draws, for a model with 2 inputs, every hidden unit's activation over the
  plane of the data (``hidden_units.png``): the static counterpart of the playground's small
  unit heatmaps. A ReLU unit that is zero on every training point is marked dead: no gradient
  reaches its weights, so it never learns again.
- `network` draws the network as neurons and edges (``network.png``, the lecture's Figure 5):
  one column per layer, every weight an edge whose width grows with its magnitude, blue for
  positive and orange for negative weights (`conventions`, the playground's colours); it is
  drawn only for networks small enough to read.

Both work on `nn.Sequential` models (every spec builds one): the hidden layers, their
activations and dead units are computed in `training.hidden`, drawn here.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ..data import apply_normalization
from ..nn import Linear, Sequential
from ..training.hidden import dead_units, hidden_activations, hidden_layers
from . import figures
from .conventions import (
    SIGN_LEGEND,
    SIGN_LEGEND_NONNEGATIVE,
    layer_labels,
    sign_color,
    signed_colormap,
)

MAX_DRAWN_UNITS = 24
"""Widest layer (inputs included) that `network` draws; wider ones would be a grey smear."""
MAX_HEATMAPS = 64
"""Most hidden units `hidden_units` shows (the first ones of each layer, in order)."""


def hidden_units(run: Any, path: Path, resolution: int = 60) -> Path:
    """Every hidden unit's activation over the data's plane, dead ReLU units marked.

    The legend says what the colours can show: a layer of ReLUs is never negative, so its
    panels are white (zero) to blue, and only units that can be negative get orange."""
    grid_x, grid_y, grid, train = run.plane(resolution)
    ds = run.setup.dataset
    X_grid = apply_normalization(ds.normalization, grid).astype(np.float32)
    over_plane = hidden_activations(run.setup.model, X_grid)
    on_data = dict(hidden_activations(run.setup.model, ds.X_train.reshape(len(ds.X_train), -1)))
    labels = layer_labels(run.setup.model, tuple(ds.input_shape))
    panels = [
        (name, unit, values[:, unit], bool(dead_units(on_data[name])[unit]))
        for name, values in over_plane
        for unit in range(values.shape[1])
    ][:MAX_HEATMAPS]
    columns = min(8, max(len(panels), 1))
    rows = max(math.ceil(len(panels) / columns), 1)
    fig = figures.new_figure(figsize=(1.6 * columns + 0.8, 1.6 * rows + 0.8))
    extent = (grid_x.min(), grid_x.max(), grid_y.min(), grid_y.max())
    colours = signed_colormap()
    for index, (name, unit, values, dead) in enumerate(panels):
        ax = fig.add_subplot(rows, columns, index + 1)
        image = values.reshape(grid_x.shape)
        limit = float(np.abs(image).max()) or 1.0
        ax.imshow(image, origin="lower", extent=extent, cmap=colours, vmin=-limit, vmax=limit)
        ax.scatter(train[:, 0], train[:, 1], s=1, color="k", alpha=0.25)
        ax.set_xticks([])
        ax.set_yticks([])
        title = f"{labels.get(name, name)}\nunit {unit}" + (" (dead)" if dead else "")
        ax.set_title(title, fontsize=7, color="#b00020" if dead else "black")
    total = sum(v.shape[1] for _, v in over_plane)
    shown = f"{len(panels)} of {total}" if len(panels) < total else f"all {total}"
    negative = any(float(values.min()) < 0 for _, _, values, _ in panels)
    fig.suptitle(
        f"{run.name}: hidden units over the plane, each after its activation ({shown}; "
        f"{SIGN_LEGEND if negative else SIGN_LEGEND_NONNEGATIVE}, each on its own scale)\n"
        "'dead': zero on every training point",
        fontsize=9,
    )
    return figures.save_png(fig, path)


def drawable(model: Any) -> bool:
    """Whether `network` can draw this model legibly (a Sequential of small Linear layers)."""
    if not isinstance(model, Sequential):
        return False
    linears = [m for m in model.modules() if isinstance(m, Linear)]
    widths = [linears[0].in_features, *(m.out_features for m in linears)] if linears else []
    return bool(linears) and max(widths) <= MAX_DRAWN_UNITS and len(linears) <= 8


def network(run: Any, path: Path) -> Path:
    """The network as neurons and edges, width and colour by weight (the lecture's Figure 5);
    each column is named as the summary names its layer (``Linear: 1-2``)."""
    model = run.setup.model
    named = [(name, m) for name, m in model.named_modules() if isinstance(m, Linear)]
    linears = [m for _, m in named]
    labels = layer_labels(model, tuple(run.setup.dataset.input_shape))
    groups = dict(hidden_layers(model))
    activation = {
        id(modules[0]): " ".join(type(m).__name__ for m in modules[1:]) or "identity"
        for modules in groups.values()
    }
    widths = [linears[0].in_features, *(m.out_features for m in linears)]
    largest = max(float(np.abs(m.weight.numpy()).max()) for m in linears) or 1.0
    fig = figures.new_figure(figsize=(1.9 * len(widths) + 1, 0.42 * max(widths) + 1.6))
    ax = fig.add_subplot(1, 1, 1)

    def y_of(count: int) -> np.ndarray:
        return (np.arange(count) - (count - 1) / 2)[::-1]

    for column, layer in enumerate(linears):
        weights = layer.weight.numpy()  # (out, in): an edge from input i to unit j
        y_in, y_out = y_of(layer.in_features), y_of(layer.out_features)
        for j in range(layer.out_features):
            for i in range(layer.in_features):
                w = float(weights[j, i])
                ax.plot(
                    [column, column + 1],
                    [y_in[i], y_out[j]],
                    color=sign_color(w),
                    linewidth=0.2 + 3.0 * abs(w) / largest,
                    alpha=0.75,
                    zorder=1,
                )
    for column, count in enumerate(widths):
        ax.scatter(
            np.full(count, column), y_of(count), s=160, color="white", edgecolors="k", zorder=2
        )
        if column == 0:
            title = f"input\n{count} features"
        else:
            name, layer = named[column - 1]
            label = labels.get(name, name)
            if column == len(widths) - 1:
                title = f"{label} (output)\n{count} units"
            else:
                title = f"{label}\n{count} units, {activation.get(id(layer), '')}"
        ax.text(column, y_of(count)[0] + 0.9, title, ha="center", va="bottom", fontsize=8)
    ax.set_xlim(-0.7, len(widths) - 0.3)  # room for the outer columns' names
    ax.set_ylim(-max(widths) / 2 - 0.5, max(widths) / 2 + 1.6)
    ax.axis("off")
    title = fig.suptitle(
        f"{run.name}: the network, every weight an edge\n"
        f"({SIGN_LEGEND}, width by |w|, largest {largest:.2g})",
        fontsize=9,
    )
    figures.fit_suptitle(fig, title)
    return figures.save_png(fig, path)
