"""What the page draws, computed from the model: the output over the plane, every unit's
own picture, the weights, dead units and the ReLU breakpoints (the lecture's Figure 6).

`View.static` is sent once per session (the data and the drawing's layout); `View.frame`
at the page's pace while training. Heatmaps are sent as bytes (0..255, base64) so a
100 x 100 output and every unit's 25 x 25 picture fit in a few kilobytes. Weights are
sent as their raw bytes (base64, the model's dtype), so the page shows them exactly and
tests can compare them bit for bit, at 5 characters a weight rather than about 20; a
network of over `EXACT_WEIGHTS` weights sends them as float16 (3 significant digits, what
its edges and formulas show), a third of its frame instead of nine tenths.

A big network stays fluid (6 x 64 units: over 10 updates a second on 2 cores) because
nothing is computed finer than it is seen: each unit's picture has the resolution its tile
has on screen (`unit_side`: the page's tiles shrink as a layer widens), computed on its
own coarse grid, and a network that costs many multiply-adds a point has its output drawn
from a 50 x 50 grid, 34 x 34 past twice that (`output_grid`), smoothed by the canvas as
the 100 x 100 one is; and one forward pass gives a frame everything it draws.
"""

from __future__ import annotations

import base64
import functools
import math
from typing import Any

import numpy as np

from .. import nn
from .._tensor import Tensor
from ..autograd import no_grad
from ..data import load_dataset
from ..data.synthetic import FUNCTION_ALIASES, FUNCTIONS
from ..features import LABELS, InputFeatures
from ..objectives import MetricAccumulator, evaluate_arrays
from ..training.loop import Progress, Setup
from . import state

GRID = 100  # the output heatmap: GRID x GRID points (TensorFlow Playground's size)
COARSE_GRID = 50  # ... for a network over HEAVY multiply-adds a point
COARSEST_GRID = 34  # ... over twice that (6 x 64 units): 10 pixels a cell on the page
HEAVY = 8192  # multiply-adds a point: more than two 64 x 64 layers
UNIT_SIDES = (25, 20, 10, 5)  # a unit's picture: side x side points
EXACT_WEIGHTS = 1500  # weights sent in the model's dtype; more: float16 (the page's SVG_EDGES)
NET_HEIGHT = 400  # pixels the page gives the tallest column of units (app.js buildNetwork)
CURVE = 200  # regression: points of the fitted curve
KINKED = ("relu", "leaky_relu")  # activations whose units bend the curve at one point


class View:
    """The fixed layout of one session and the frames of its model."""

    max_fps = 60  # frames a second while playing, at most

    def __init__(self, spec: Any, setup: Setup, dataset: str):
        self.setup = setup
        self.dataset = setup.dataset
        self.regression = spec.loss == "mse" or getattr(spec.loss, "name", "") == "mse"
        self.curve = dataset.startswith("function:")  # a 1-D set: the fit is a curve
        self.modules = list(setup.model.children())
        self.linears = [i for i, m in enumerate(self.modules) if isinstance(m, nn.Linear)]
        # the module after each hidden Linear is its activation (see state.settings_to_spec)
        self.activations = [i + 1 for i in self.linears[:-1]]
        self.activation_names = [spec.model.layer_list()[i].type for i in self.activations]
        ds = self.dataset
        points = np.concatenate([ds.X_train, ds.X_test])
        if self.curve:
            lo, hi = float(points.min()), float(points.max())
            pad = 0.05 * (hi - lo)
            self.xs = np.linspace(lo - pad, hi + pad, CURVE)
            self.grid = self.xs.reshape(-1, 1)
            name = dataset.split(":", 1)[1]  # the target, also when the points are the page's
            self.target = FUNCTIONS[FUNCTION_ALIASES.get(name, name)](self.xs)
        else:
            lo2, hi2 = points.min(axis=0), points.max(axis=0)
            pad2 = 0.1 * (hi2 - lo2)
            self.domain = [float(v) for v in (*(lo2 - pad2), *(hi2 + pad2))]
            widths = [self.modules[i].out_features for i in self.linears[:-1]]
            self.side = output_grid([self.modules[self.linears[0]].in_features, *widths])
            self.unit_side = unit_side(max(widths, default=1))
            self.unit_grid = self._plane(self.unit_side).astype(ds.X_train.dtype)
            self.grid = self._plane(self.side)
        self.grid = self.grid.astype(ds.X_train.dtype)
        weights = sum(self.modules[i].weight.numpy().size for i in self.linears)
        self.exact = weights <= EXACT_WEIGHTS

    def _plane(self, side: int) -> np.ndarray:
        """side x side points over the domain, row by row from the top."""
        x1 = np.linspace(self.domain[0], self.domain[2], side)
        x2 = np.linspace(self.domain[3], self.domain[1], side)  # top row first
        g1, g2 = np.meshgrid(x1, x2)
        return np.stack([g1.ravel(), g2.ravel()], axis=1)

    def static(self) -> dict[str, Any]:
        ds = self.dataset
        layers = [
            {"units": self.modules[i].out_features, "activation": a}
            for i, a in zip(self.linears, self.activation_names)
        ]
        features = self.modules[0] if isinstance(self.modules[0], InputFeatures) else None
        names = features.names if features is not None else ["x1", "x2"]
        out: dict[str, Any] = {
            "task": "regression" if self.regression else "classification",
            "view": "curve" if self.curve else "plane",
            "layers": layers,
            "inputs": ["x"] if self.curve else [LABELS[name] for name in names],
            "outputs": self.modules[self.linears[-1]].out_features,
            "train": _points(ds.X_train, ds.y_train),
            "test": _points(ds.X_test, ds.y_test),
        }
        if self.curve:
            out["xs"] = _rounded(self.xs)
            out["target"] = _rounded(self.target)
        else:
            out["domain"] = self.domain
            out["grid"] = self.side
            out["unit_grid"] = self.unit_side
            out["input_images"] = self._input_pictures(features)
        return out

    def _input_pictures(self, features: InputFeatures | None) -> list[dict[str, Any]]:
        """What each input unit shows over the plane: x1, x2, or each chosen feature."""
        values = Tensor(self.unit_grid)
        if features is not None:
            with no_grad():
                values = features(values)
        return self._unit_pictures(values.numpy())

    def frame(self, progress: Progress, steps_per_epoch: int) -> dict[str, Any]:
        """The model as it is now (called between steps, with the engine held)."""
        ds = self.dataset
        # one pass for everything drawn: the splits' losses, the dead units (training points),
        # the output's grid and the units' pictures (the plane: their own coarse grid)
        parts = [ds.X_train, ds.X_test, self.grid] + ([] if self.curve else [self.unit_grid])
        outputs, hidden = self._forward(np.concatenate(parts))
        at = np.cumsum([len(part) for part in parts])[:-1]
        out_train, out_test, grid_out, *_ = np.split(outputs, at)
        train_units = [np.split(a, at)[0] for a in hidden]
        grid_units = [np.split(a, at)[-1] for a in hidden]
        train, test = self._metrics(out_train, ds.y_train), self._metrics(out_test, ds.y_test)
        frame: dict[str, Any] = {
            "type": "frame",
            "step": progress.global_step,
            "epoch": progress.global_step // steps_per_epoch,  # whole epochs done
            "train": {k: _finite(v) for k, v in train.items()},
            "test": {k: _finite(v) for k, v in test.items()},
            "weights": [_raw(self.modules[i], self.exact) for i in self.linears],
            "dead": [_dead(a, name) for a, name in zip(train_units, self.activation_names)],
        }
        if self.curve:
            frame["curve"] = _rounded(grid_out[:, 0])
            frame["units"] = [[_rounded(a[::4, j]) for j in range(a.shape[1])] for a in grid_units]
            frame.update(self._kinks(ds.X_train, train_units))
        else:
            frame["output"] = _bytes(self._colour_position(grid_out.astype(np.float64)))
            frame["units"] = [self._unit_pictures(a) for a in grid_units]
        return frame

    def _metrics(self, outputs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
        """A split's loss and metrics from the model's outputs on it (`evaluate_arrays`'s,
        without a second forward pass)."""
        objective = self.setup.objective
        metrics = MetricAccumulator(objective)
        if len(labels):
            with no_grad():
                loss = objective(Tensor(outputs), objective.targets(labels)).item()
            metrics.update(loss, outputs, labels)
        return metrics.result()

    def _colour_position(self, outputs: np.ndarray) -> np.ndarray:
        """Where each output lies on the page's colour scale, 0 (orange) to 1 (blue): class
        1's probability, or a regression output from -1 to 1 (clipped, as TensorFlow
        Playground's targets lie there)."""
        if self.regression:
            return (np.clip(outputs[:, 0], -1.0, 1.0) + 1.0) / 2.0
        margin = np.clip(outputs[:, 0] - outputs[:, 1], -500.0, 500.0)  # no overflow
        return 1.0 / (1.0 + np.exp(margin))  # softmax's class 1

    def _forward(self, X: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """The output and each hidden layer's activations, in evaluation mode."""
        model = self.setup.model
        was_training = model.training
        model.eval()
        hidden = []
        with no_grad():
            x = Tensor(X)
            for index, module in enumerate(self.modules):
                x = module(x)
                if index in self.activations:
                    hidden.append(x.numpy())
        model.train(was_training)
        return x.numpy(), hidden

    def _unit_pictures(self, activations: np.ndarray) -> list[dict[str, Any]]:
        """Each unit's picture scaled by its largest magnitude, all units at once (a layer of
        64 costs one pass, not 64)."""
        values = activations.reshape(self.unit_side**2, -1).astype(np.float64)
        scales = np.max(np.abs(values), axis=0)
        scales[scales == 0] = 1.0
        pixels = np.clip(np.round((values / scales + 1.0) / 2.0 * 255.0), 0, 255).astype(np.uint8)
        return [
            {"scale": float(scale), "image": base64.b64encode(column.tobytes()).decode("ascii")}
            for scale, column in zip(scales, np.ascontiguousarray(pixels.T))
        ]

    def _kinks(self, X_train: np.ndarray, train_units: list[np.ndarray]) -> dict[str, Any]:
        """Figure 6: where each first-layer ReLU unit bends the curve, inside the data.

        A unit computes relu(w x + b): its one breakpoint is x = -b / w. It shows as a kink
        of the fitted curve only where it lies between the smallest and the largest training
        x, i.e. when the unit is off for some training points and on for others.
        """
        if not self.activation_names or self.activation_names[0] not in KINKED:
            return {"kinks": [], "kink_units": None}
        first = self.modules[self.linears[0]]
        w = first.weight.numpy()[:, 0].astype(np.float64)
        b = first.bias.numpy().astype(np.float64) if first.bias is not None else np.zeros_like(w)
        lo, hi = float(X_train.min()), float(X_train.max())
        kinks = []
        for j in range(len(w)):
            if w[j] != 0 and lo < -b[j] / w[j] < hi:
                kinks.append({"unit": j, "x": float(-b[j] / w[j])})
        active = train_units[0] > 0
        return {
            "kinks": kinks,
            "kink_units": {
                "total": len(w),
                "dead": int(np.sum(~active.any(axis=0))),
                "always_on": int(np.sum(active.all(axis=0))),
            },
        }


THUMBNAIL_POINTS = 200  # points in each data set's picture on the page


@functools.cache
def thumbnails() -> dict[str, list[list[float | None]]]:
    """Each data set's picture for the page's data-set buttons, from the generators a run
    uses (seed 0): ``[u, v, colour]`` per point, u and v scaled to [0, 1], colour a class
    (0 or 1), a target from -1 to 1 as 0 to 1, or None for a 1-D function's points."""
    looks = {}
    for name in state.DATASETS:
        settings = {"dataset": name, "n": THUMBNAIL_POINTS}
        data = state.settings_to_spec(settings)["data"]
        task = "regression" if state.is_regression(settings) else "classification"
        ds = load_dataset(data, seed=0, task=task)
        X = np.concatenate([ds.X_train, ds.X_test]).astype(np.float64)
        y = np.concatenate([ds.y_train, ds.y_test]).astype(np.float64).reshape(len(X))
        if state.is_curve(settings):
            X, colour = np.stack([X[:, 0], y], axis=1), [None] * len(X)
        else:
            colour = ((np.clip(y, -1, 1) + 1) / 2 if task == "regression" else y).tolist()
        lo, hi = X.min(axis=0), X.max(axis=0)
        uv = np.round((X - lo) / np.where(hi > lo, hi - lo, 1.0), 2)
        looks[name] = [
            [*point, None if c is None else round(c, 2)] for point, c in zip(uv.tolist(), colour)
        ]
    return looks


def unit_side(widest: int) -> int:
    """The side of each unit's picture: no finer than its tile on the page, which is
    ``NET_HEIGHT / widest`` pixels apart from the next (at most 34 pixels wide)."""
    room = NET_HEIGHT / max(1, widest)
    return next((side for side in UNIT_SIDES if side <= room), UNIT_SIDES[-1])


def output_grid(widths: list[int]) -> int:
    """The output heatmap's side: `GRID`, `COARSE_GRID` for a network over `HEAVY`
    multiply-adds a point (the input, the hidden widths, the two outputs), `COARSEST_GRID`
    over twice that: the grid is most of a frame's work, and the canvas smooths it."""
    sizes = [*widths, 2]
    cost = sum(a * b for a, b in zip(sizes, sizes[1:]))
    return GRID if cost <= HEAVY else COARSE_GRID if cost <= 2 * HEAVY else COARSEST_GRID


def _raw(linear: Any, exact: bool) -> dict[str, Any]:
    """A Linear layer's weight and bias as their bytes (little-endian), dtype and shape."""
    dtype = linear.weight.numpy().dtype if exact else np.dtype(np.float16)
    W = linear.weight.numpy()
    out: dict[str, Any] = {"dtype": dtype.name, "shape": list(W.shape), "W": _b64(W, dtype)}
    out["b"] = _b64(linear.bias.numpy(), dtype) if linear.bias is not None else None
    return out


def _b64(values: np.ndarray, dtype: np.dtype) -> str:
    data = np.ascontiguousarray(values, dtype=dtype.newbyteorder("<"))
    return base64.b64encode(data.tobytes()).decode("ascii")


def _dead(activations: np.ndarray, name: str) -> list[bool]:
    """ReLU units that are zero on every training point: no gradient reaches them."""
    if name != "relu":
        return [False] * activations.shape[1]
    return [bool(v) for v in np.all(activations <= 0, axis=0)]


def _points(X: np.ndarray, y: np.ndarray) -> list[list[float]]:
    rows = np.concatenate([X.astype(np.float64), np.asarray(y, np.float64).reshape(len(y), -1)], 1)
    return np.round(rows, 5).tolist()


def _bytes(values: np.ndarray) -> str:
    """Values in [0, 1] as base64 bytes 0..255, row by row."""
    data = np.clip(np.round(np.asarray(values).ravel() * 255.0), 0, 255).astype(np.uint8)
    return base64.b64encode(data.tobytes()).decode("ascii")


def _rounded(values: np.ndarray) -> list[float | None]:
    return [_finite(round(float(v), 5)) for v in values]


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


class TestLossWatch:
    """Says when the test loss has turned: it is `MARGIN` above its lowest value while the
    training loss is below where it was then (the network is fitting its training set,
    not the task). Fed with each frame's losses."""

    MARGIN = 0.05

    def __init__(self) -> None:
        self.best: tuple[float, float, int] | None = None  # (test loss, train loss, step)

    def update(self, step: int, train: float | None, test: float | None) -> dict | None:
        if train is None or test is None:
            return None
        if self.best is None or test < self.best[0]:
            self.best = (test, train, step)
            return None
        best_test, best_train, best_step = self.best
        if test > best_test * (1 + self.MARGIN) and train < best_train:
            return {"best": best_test, "best_step": best_step, "now": test}
        return None


DIGITS_SHOWN = 48  # test images in the grid of predictions
LIVE_SAMPLES = 1000  # images the live losses are measured on, from each split


class ImageView:
    """The view of a spec the plane cannot show, such as MNIST (the lecture's Figure 8):
    live losses, the first layer's weights as one image per unit, and a grid of test
    images with the model's predictions (misclassified ones marked)."""

    max_fps = 10  # a frame measures 2,000 images: fewer frames, more steps

    def __init__(self, spec: Any, setup: Setup):
        self.setup = setup
        self.dataset = setup.dataset
        self.modules = list(setup.model.modules())
        self.first = next((m for m in self.modules if isinstance(m, nn.Linear)), None)
        features = int(np.prod(self.dataset.input_shape))
        side = int(round(math.sqrt(features)))
        self.side = side if side * side == features else None  # square images get tiles
        self.watch = TestLossWatch()

    def static(self) -> dict[str, Any]:
        ds = self.dataset
        shown = ds.X_test[:DIGITS_SHOWN].reshape(len(ds.X_test[:DIGITS_SHOWN]), -1)
        lo, hi = float(shown.min()), float(shown.max())
        return {
            "task": "images",
            "side": self.side,
            "classes": ds.class_names or [str(i) for i in range(ds.num_classes or 0)],
            "digits": [_bytes((x - lo) / ((hi - lo) or 1.0)) for x in shown] if self.side else [],
            "labels": [int(v) for v in ds.y_test[:DIGITS_SHOWN]],
            "live_samples": min(LIVE_SAMPLES, len(ds.X_train)),
            "layers": [],
            "inputs": [],
            "outputs": 0,
            "train": [],
            "test": [],
        }

    def frame(self, progress: Progress, steps_per_epoch: int) -> dict[str, Any]:
        s, ds = self.setup, self.dataset
        n = LIVE_SAMPLES
        train = evaluate_arrays(s.model, s.objective, ds.X_train[:n], ds.y_train[:n])
        test = evaluate_arrays(s.model, s.objective, ds.X_test[:n], ds.y_test[:n])
        was_training = s.model.training
        s.model.eval()
        with no_grad():
            outputs = s.model(Tensor(ds.X_test[:DIGITS_SHOWN])).numpy()
        s.model.train(was_training)
        frame: dict[str, Any] = {
            "type": "frame",
            "step": progress.global_step,
            "epoch": progress.global_step // steps_per_epoch,
            "train": {k: _finite(v) for k, v in train.items()},
            "test": {k: _finite(v) for k, v in test.items()},
            "predictions": [int(v) for v in s.objective.predict(outputs)],
        }
        frame["overfitting"] = self.watch.update(
            progress.global_step, frame["train"]["loss"], frame["test"]["loss"]
        )
        if self.first is not None and self.side and self.first.in_features == self.side**2:
            W = self.first.weight.numpy().astype(np.float64)
            scale = np.max(np.abs(W), axis=1, keepdims=True)
            scale[scale == 0] = 1.0
            # 0 (orange) for -1 to 255 (blue) for +1 of each unit's largest |weight|
            frame["tiles"] = [_bytes(row) for row in (W / scale + 1.0) / 2.0]
        return frame
