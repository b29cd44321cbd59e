"""Pictures of a classifier's mistakes: which classes it confuses, and on which images.

- `confusion_matrix` counts, for the test split, how often each true class was predicted as
  each class (``confusion_matrix.png``): the diagonal holds the right answers, and a bright
  off-diagonal cell names the pair of classes the model mixes up.
- `misclassified` shows test images the model got wrong, each with its true and predicted
  label (``misclassified.png``), for image data such as MNIST.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from . import figures

MAX_MISTAKES = 32
"""Most misclassified images drawn."""


def confusion_counts(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """(num_classes, num_classes) counts: row = true class, column = predicted class."""
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64)), 1)
    return counts


def confusion_matrix(run: Any, path: Path) -> Path:
    """The test split's confusion matrix, with counts in the cells; the figure is as wide
    as its title needs."""
    ds = run.setup.dataset
    count = max(ds.num_classes or 2, 2)
    y_true, y_pred = run.test_predictions()
    counts = confusion_counts(y_true, y_pred, count)
    names = ds.class_names or [str(c) for c in range(count)]
    fig = figures.new_figure(figsize=(1.0 + 0.45 * count + 1.2, 1.0 + 0.45 * count))
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(counts, cmap="Blues")
    fig.colorbar(image, ax=ax, label="test samples")
    for i in range(count):
        for j in range(count):
            dark = counts[i, j] > counts.max() / 2
            ax.text(
                j,
                i,
                str(counts[i, j]),
                ha="center",
                va="center",
                fontsize=7,
                color="white" if dark else "black",
            )
    ax.set_xticks(range(count), names)
    ax.set_yticks(range(count), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    accuracy = float(np.trace(counts)) / max(int(counts.sum()), 1)
    title = fig.suptitle(
        f"{run.name}: confusion matrix on the test split\naccuracy {accuracy:.1%}", fontsize=9
    )
    figures.fit_suptitle(fig, title)
    return figures.save_png(fig, path)


def misclassified(run: Any, path: Path, limit: int = MAX_MISTAKES) -> Path:
    """Test images the model got wrong, with their true and predicted labels: one image of
    tiles (`figures.tile_mosaic`), each labelled above, as ``first_layer_weights.png``."""
    ds = run.setup.dataset
    y_true, y_pred = run.test_predictions()
    wrong = np.flatnonzero(y_true != y_pred)
    shown = wrong[:limit]
    names = ds.class_names or [str(c) for c in range(max(ds.num_classes or 2, 2))]
    columns = min(8, max(len(shown), 1))
    rows = max(math.ceil(len(shown) / columns), 1)
    height, width = run.image_shape
    gap, band = max(1, width // 4), max(2, (height * 3) // 10)  # band: two lines of label
    images = run.raw(ds.X_test[shown].reshape(len(shown), -1)).reshape(-1, height, width)
    fig = figures.new_figure(figsize=(1.2 * columns, 1.35 * rows + 0.7))
    ax = fig.add_subplot()
    if len(shown):
        colours = figures.require_matplotlib().colormaps["gray_r"].with_extremes(bad="white")
        ax.imshow(
            figures.tile_mosaic(images, columns, gap, band), cmap=colours, interpolation="nearest"
        )
    labels = [f"true {names[y_true[i]]}\npredicted {names[y_pred[i]]}" for i in shown]
    figures.label_tiles(
        ax, labels, columns, (height, width), gap, band, fontsize=7, color="#b71c1c"
    )
    ax.set_axis_off()
    fig.suptitle(
        f"{run.name}: {len(wrong)} of {len(y_true)} test images misclassified"
        + (f" (the first {len(shown)})" if len(shown) < len(wrong) else ""),
        fontsize=9,
    )
    return figures.save_png(fig, path)
