"""Pictures of the network itself: what each hidden unit computes, and its weights as edges.

- `hidden_units` draws, for a model with 2 inputs, every hidden unit's activation over the
  plane of the data (``hidden_units.png``): the static counterpart of the playground's small
  unit heatmaps. A ReLU unit that is zero on every training point is marked dead: no gradient
  reaches its weights, so it never learns again.
- `network` draws the network as neurons and edges (``network.png``, the lecture's Figure 5):
  one column per layer, every weight an edge whose width grows with its magnitude, red for
  positive and blue for negative weights; it is drawn only for networks small enough to read.

Both work on `nn.Sequential` models (every spec builds one): the hidden layers are the
outputs of the layers that follow each `Linear` but the last.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

MAX_DRAWN_UNITS = 24
"""Widest layer (inputs included) that `network` draws; wider ones would be a grey smear."""
MAX_HEATMAPS = 64
"""Most hidden units `hidden_units` shows (the first ones of each layer, in order)."""


def hidden_layers(model: Any) -> list[tuple[str, list[Any]]]:
    """The hidden layers of a Sequential model, each as (its name, the modules that make it).

    A hidden layer is a `Linear` with the modules after it up to the next `Linear` (its
    activation, dropout, ...); the last `Linear` is the output layer, not a hidden one.
    """
    from ..nn import Linear, Sequential

    if not isinstance(model, Sequential):
        return []
    groups: list[tuple[str, list[Any]]] = []
    for name, module in model.named_children():
        if isinstance(module, Linear):
            groups.append((name, [module]))
        elif groups:
            groups[-1][1].append(module)
    return groups[:-1]


def hidden_activations(model: Any, X: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Each hidden layer's outputs for the normalized inputs `X`: (name, (n, units))."""
    from ..autograd import no_grad
    from ..tensor import Tensor

    ends = {id(modules[-1]): name for name, modules in hidden_layers(model)}
    out = []
    with no_grad():
        h = Tensor(X)
        for _, module in model.named_children() if ends else ():
            h = module(h)
            if id(module) in ends:
                out.append((ends[id(module)], h.numpy().reshape(len(X), -1)))
    return out


def dead_units(activations: np.ndarray) -> np.ndarray:
    """Which units are zero on every sample (a dead ReLU), as a boolean per unit."""
    return np.all(activations == 0, axis=0)


def hidden_units(run: Any, path: Path, resolution: int = 60) -> Path:
    """Every hidden unit's activation over the data's plane, dead ReLU units marked."""
    from .plots import _figure, _plane, _save

    grid_x, grid_y, grid, train = _plane(run, resolution)
    ds = run.setup.dataset
    from ..data import apply_normalization

    X_grid = apply_normalization(ds.normalization, grid).astype(np.float32)
    over_plane = hidden_activations(run.setup.model, X_grid)
    on_data = dict(hidden_activations(run.setup.model, ds.X_train.reshape(len(ds.X_train), -1)))
    panels = [
        (name, unit, values[:, unit], bool(dead_units(on_data[name])[unit]))
        for name, values in over_plane
        for unit in range(values.shape[1])
    ][:MAX_HEATMAPS]
    columns = min(8, max(len(panels), 1))
    rows = max(math.ceil(len(panels) / columns), 1)
    fig = _figure(figsize=(1.6 * columns + 0.8, 1.6 * rows + 0.8))
    extent = (grid_x.min(), grid_x.max(), grid_y.min(), grid_y.max())
    for index, (name, unit, values, dead) in enumerate(panels):
        ax = fig.add_subplot(rows, columns, index + 1)
        image = values.reshape(grid_x.shape)
        limit = float(np.abs(image).max()) or 1.0
        ax.imshow(image, origin="lower", extent=extent, cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.scatter(train[:, 0], train[:, 1], s=1, color="k", alpha=0.25)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"layer {name}, unit {unit}" + (" (dead)" if dead else ""), fontsize=7)
    total = sum(v.shape[1] for _, v in over_plane)
    shown = f"{len(panels)} of {total}" if len(panels) < total else f"all {total}"
    fig.suptitle(
        f"{run.name}: hidden units over the plane ({shown}; red positive, blue negative, "
        "each on its own scale)\n'dead': zero on every training point",
        fontsize=9,
    )
    return _save(fig, path)


def drawable(model: Any) -> bool:
    """Whether `network` can draw this model legibly (a Sequential of small Linear layers)."""
    from ..nn import Linear, Sequential

    if not isinstance(model, Sequential):
        return False
    linears = [m for m in model.modules() if isinstance(m, Linear)]
    widths = [linears[0].in_features, *(m.out_features for m in linears)] if linears else []
    return bool(linears) and max(widths) <= MAX_DRAWN_UNITS and len(linears) <= 8


def network(run: Any, path: Path) -> Path:
    """The network as neurons and edges, width and colour by weight (the lecture's Figure 5)."""
    from ..nn import Linear
    from .plots import _figure, _save

    model = run.setup.model
    linears = [m for m in model.modules() if isinstance(m, Linear)]
    groups = dict(hidden_layers(model))
    activation = {
        id(modules[0]): " ".join(type(m).__name__ for m in modules[1:]) or "identity"
        for modules in groups.values()
    }
    widths = [linears[0].in_features, *(m.out_features for m in linears)]
    largest = max(float(np.abs(m.weight.numpy()).max()) for m in linears) or 1.0
    fig = _figure(figsize=(1.9 * len(widths) + 1, 0.42 * max(widths) + 1.6))
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
                    color="#c62828" if w > 0 else "#1565c0",
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
        elif column == len(widths) - 1:
            title = f"output\n{count} units"
        else:
            title = f"hidden {column}\n{count} units, {activation.get(id(linears[column - 1]), '')}"
        ax.text(column, y_of(count)[0] + 0.9, title, ha="center", va="bottom", fontsize=8)
    ax.set_xlim(-0.5, len(widths) - 0.5)
    ax.set_ylim(-max(widths) / 2 - 0.5, max(widths) / 2 + 1.6)
    ax.axis("off")
    ax.set_title(
        f"{run.name}: the network, every weight an edge "
        f"(red positive, blue negative, width by |w|, largest {largest:.2g})",
        fontsize=9,
    )
    return _save(fig, path)
