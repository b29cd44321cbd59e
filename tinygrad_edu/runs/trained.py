"""A finished run rebuilt for pictures: its model with the trained weights, the data it was
trained on (same seed, same split), and what the pictures need computed from them.

`viz` draws; what it draws is computed here, in the layer that owns the run: predictions
in the data's own units, the plane around 2-D data, the test split's predicted classes,
the dead units of the first layer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..data import apply_normalization
from ..nn import Linear
from ..objectives import evaluate_arrays, predict_arrays
from ..training.hidden import dead_units, hidden_activations
from .finished import restore

IMAGE_SIDE = 28  # a flat input of 28 * 28 = 784 features is an MNIST-like image


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
        if self.image_shape is None:
            return None
        pixels = math.prod(self.image_shape)
        for name, module in self.setup.model.named_modules():
            if isinstance(module, Linear):
                return (name, module) if module.in_features == pixels else None
        return None

    def predict(self, raw_inputs: np.ndarray) -> np.ndarray:
        """The model's outputs for inputs in the data's own units (normalized here)."""
        ds = self.setup.dataset
        X = apply_normalization(ds.normalization, raw_inputs)
        return predict_arrays(self.setup.model, X.reshape(len(X), *ds.input_shape))

    def raw(self, X: np.ndarray) -> np.ndarray:
        """Normalized features back in the data's own units, for the axes of a plot."""
        stats = self.setup.dataset.normalization
        return X * np.asarray(stats["scale"], np.float32) + np.asarray(stats["shift"], np.float32)

    def test_metrics(self) -> dict[str, float]:
        ds = self.setup.dataset
        return evaluate_arrays(self.setup.model, self.setup.objective, ds.X_test, ds.y_test)

    def plane(self, resolution: int) -> tuple[np.ndarray, ...]:
        """A grid over the data's plane with a margin: (grid_x, grid_y, points (n, 2), the
        training points), all in the data's own units."""
        ds = self.setup.dataset
        train = self.raw(ds.X_train)
        points = np.concatenate([train, self.raw(ds.X_test)])
        lo, hi = points.min(axis=0), points.max(axis=0)
        pad = 0.1 * (hi - lo)
        xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
        ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
        grid_x, grid_y = np.meshgrid(xs, ys)
        return grid_x, grid_y, np.stack([grid_x.ravel(), grid_y.ravel()], axis=1), train

    def test_predictions(self) -> tuple[np.ndarray, np.ndarray]:
        """(true class, predicted class) of every test sample."""
        ds, objective = self.setup.dataset, self.setup.objective
        outputs = self.predict(self.raw(ds.X_test.reshape(len(ds.X_test), -1)))
        return np.asarray(ds.y_test, np.int64), objective.predict(outputs)

    def dead_first_units(self) -> np.ndarray:
        """Which units of the first image layer are zero on every training image (all False
        when that layer is not a hidden one)."""
        name, layer = self.first_image_layer()
        hidden = dict(hidden_activations(self.setup.model, self.setup.dataset.X_train))
        return dead_units(hidden[name]) if name in hidden else np.zeros(layer.out_features, bool)


def load_trained(run_dir: str | Path) -> TrainedRun:
    """Rebuild a run: its spec's data (same seed, same split) and its saved weights."""
    setup = restore(run_dir)
    return TrainedRun(setup, setup.spec.name)
