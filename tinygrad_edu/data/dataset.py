"""The container every data source ends up in, and the steps shared by all sources.

A source only produces examples (`Examples`); this module turns them into a `Dataset`:
a seeded (stratified, for classification) train/validation/test split, normalization
fitted on the training split alone, and mini-batches drawn with the caller's generator.

Normalization is stored as plain numbers (`Dataset.normalization`) rather than as code,
so a checkpoint can keep it and `predict` can apply the same transform to new raw inputs
with `apply_normalization`, without loading the training data again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import UserError

NORMALIZE_METHODS = ("none", "scale", "standardize")


@dataclass
class Examples:
    """What a source loader returns: raw features and targets, before any split.

    ``X`` is (n, d). ``y`` holds class indices, numbers or strings; `build_dataset`
    turns it into labels or regression targets once the task is known. ``X_test`` and
    ``y_test`` are set by sources with an official test split (full MNIST).
    """

    X: np.ndarray
    y: np.ndarray
    task: str | None = None
    num_classes: int | None = None
    class_names: list[str] | None = None
    images: bool = False
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None


@dataclass
class Dataset:
    """Train, validation and test arrays plus what a model and `predict` need to know.

    Features are float32 of shape (n, d), already normalized. Classification labels are
    int64 class indices of shape (n,); regression targets are float32 of shape (n, 1),
    the shape of a one-output model, so ``mse_loss(model(X), y)`` needs no reshape.
    ``X_val``/``y_val`` are None when no validation fraction was asked for.
    ``normalization`` holds the fitted statistics (see `fit_normalization`); ``shuffle``
    is the spec's ``data.shuffle``, for the training loop's `iterate_batches`.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray | None
    y_val: np.ndarray | None
    X_test: np.ndarray
    y_test: np.ndarray
    input_shape: tuple[int, ...]
    num_classes: int | None
    class_names: list[str] | None
    task: str
    name: str
    normalization: dict[str, Any]
    shuffle: bool = True

    def transform(self, X: Any) -> np.ndarray:
        """Normalize new raw inputs exactly as the training data was (for predict)."""
        return apply_normalization(self.normalization, X)

    def describe(self) -> str:
        """One line for logs: sizes, features and classes."""
        sizes = f"{len(self.X_train)} train"
        if self.X_val is not None:
            sizes += f" / {len(self.X_val)} validation"
        sizes += f" / {len(self.X_test)} test"
        kind = f"{self.num_classes} classes" if self.task == "classification" else "regression"
        features = "x".join(str(n) for n in self.input_shape)
        plural = "" if self.input_shape == (1,) else "s"
        return f"{self.name}: {sizes}, {features} feature{plural}, {kind}"


def fit_normalization(X: np.ndarray, method: str, images: bool) -> dict[str, Any]:
    """Statistics of the training features for ``(X - shift) / scale``.

    Images are normalized as a whole (one shift and scale for all pixels): pixels measure
    the same thing everywhere, and per-pixel statistics would divide by ~0 at the borders
    that are always empty. Other data is normalized per feature. Constant features get
    scale 1, so they map to 0 instead of dividing by zero.
    """
    X = np.asarray(X)
    if method == "none":
        shift, scale = np.float64(0.0), np.float64(1.0)
    elif method == "scale" and images:
        shift, scale = np.float64(0.0), np.float64(255.0)
    elif method == "scale":
        shift = X.min(axis=0).astype(np.float64)
        scale = X.max(axis=0) - shift
    elif method == "standardize":
        axis = None if images else 0
        shift, scale = X.mean(axis=axis, dtype=np.float64), X.std(axis=axis, dtype=np.float64)
    else:
        raise UserError(
            f"data.normalize must be one of {', '.join(NORMALIZE_METHODS)}, got {method!r}"
        )
    scale = np.where(scale > 0, scale, 1.0)
    return {"method": method, "shift": np.asarray(shift), "scale": np.asarray(scale)}


def apply_normalization(stats: dict[str, Any], X: Any) -> np.ndarray:
    """``(X - shift) / scale`` as float32, with statistics from `fit_normalization`.

    Computed in float32 (the statistics are rounded to it), so the full MNIST training
    set needs no float64 copy.
    """
    X = np.asarray(X, dtype=np.float32)
    shift = np.asarray(stats["shift"], dtype=np.float32)
    return (X - shift) / np.asarray(stats["scale"], dtype=np.float32)


def split_indices(
    n: int, fraction: float, rng: np.random.Generator, labels: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled indices (kept, taken) with ``round(n * fraction)`` taken.

    With ``labels`` the split is stratified: every class gives its share, so a 20% test
    split of 500 images per digit takes exactly 100 of each digit. Shares that are not
    whole numbers are rounded by largest remainder, which keeps the total exact.
    """
    if labels is None:
        order = rng.permutation(n)
        taken = round(n * fraction)
        return order[taken:], order[:taken]
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    exact = counts * fraction
    per_class = np.floor(exact).astype(int)
    missing = round(n * fraction) - int(per_class.sum())
    per_class[np.argsort(-(exact - per_class), kind="stable")[:missing]] += 1
    kept, taken = [], []
    for c in range(len(classes)):
        members = rng.permutation(np.flatnonzero(inverse == c))
        taken.append(members[: per_class[c]])
        kept.append(members[per_class[c] :])
    return rng.permutation(np.concatenate(kept)), rng.permutation(np.concatenate(taken))


def iterate_batches(
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    shuffle: bool,
    generator: np.random.Generator | None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Mini-batches covering every sample once; the last one may be smaller.

    Without ``shuffle`` the samples come in order and ``generator`` may be None
    (evaluation).

    The order is drawn from ``generator`` (the training loop passes
    ``tinygrad_edu.rng.generator``) when this function is called, not when the first
    batch is requested, so the generator's state right after the call is well defined:
    saving it there and restoring it later reproduces the following epochs exactly.
    """
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise UserError(f"batch_size must be a positive integer, got {batch_size!r}")
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} samples but y has {len(y)}")
    order = generator.permutation(len(X)) if shuffle else np.arange(len(X))

    def batches() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for start in range(0, len(order), batch_size):
            index = order[start : start + batch_size]
            yield X[index], y[index]

    return batches()


def build_dataset(
    examples: Examples,
    *,
    name: str,
    seed: int,
    task: str | None,
    test_fraction: float,
    validation_fraction: float,
    normalize: str,
    shuffle: bool,
) -> Dataset:
    """Resolve the task, split, fit normalization on the training split and pack it all.

    The split uses its own generator derived from ``seed``, independent of the one that
    generated synthetic data and of the global training generator, so loading data never
    shifts the random numbers a training run will draw.
    """
    official_test = examples.X_test is not None
    y_all = examples.y if not official_test else np.concatenate([examples.y, examples.y_test])
    task = task or examples.task or _infer_task(y_all)
    y_all, num_classes, class_names = _targets(
        y_all, task, name, examples.num_classes, examples.class_names
    )
    rng = np.random.default_rng([seed, 1])
    stratify = task == "classification"
    if official_test:
        n = len(examples.y)
        X_train, y_train, X_test, y_test = examples.X, y_all[:n], examples.X_test, y_all[n:]
    else:
        train, test = split_indices(len(y_all), test_fraction, rng, y_all if stratify else None)
        X_train, y_train = examples.X[train], y_all[train]
        X_test, y_test = examples.X[test], y_all[test]
    X_val = y_val = None
    if validation_fraction > 0:
        train, val = split_indices(
            len(y_train), validation_fraction, rng, y_train if stratify else None
        )
        X_train, y_train, X_val, y_val = X_train[train], y_train[train], X_train[val], y_train[val]
    if len(y_train) == 0:
        raise UserError(
            f"data '{name}': the training split is empty; lower data.test_fraction "
            "or data.validation_fraction, or use more samples"
        )
    stats = fit_normalization(X_train, normalize, examples.images)
    splits = {"train": (X_train, y_train), "validation": (X_val, y_val), "test": (X_test, y_test)}
    arrays: dict[str, Any] = {}
    for split, (X, y) in splits.items():
        arrays[f"X_{split}"] = None if X is None else apply_normalization(stats, X)
        for kind, array in (("features", arrays[f"X_{split}"]), ("targets", y)):
            _check_finite(name, split, kind, array)
    return Dataset(
        X_train=arrays["X_train"],
        y_train=y_train,
        X_val=arrays["X_validation"],
        y_val=y_val,
        X_test=arrays["X_test"],
        y_test=y_test,
        input_shape=tuple(examples.X.shape[1:]),
        num_classes=num_classes,
        class_names=class_names,
        task=task,
        name=name,
        normalization=stats,
        shuffle=shuffle,
    )


def _check_finite(name: str, split: str, kind: str, array: np.ndarray | None) -> None:
    """Non-finite features or targets make the first loss NaN: say so before training."""
    if array is None or array.dtype.kind != "f" or np.all(np.isfinite(array)):
        return
    index = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
    raise UserError(
        f"data '{name}': the {split} {kind} hold non-finite values (at {list(index)}: "
        f"{array[index]}), so every loss would be NaN. Values beyond +-3.4e38 overflow float32: "
        "for generated data lower the noise or the interval, for a file scale its values "
        "or remove the rows with nan/inf"
    )


def _infer_task(y: np.ndarray) -> str:
    """Classification for text or whole-number targets, regression otherwise."""
    if y.dtype.kind in "US" or np.all(np.mod(y, 1) == 0):
        return "classification"
    return "regression"


def _targets(
    y: np.ndarray, task: str, name: str, num_classes: int | None, class_names: list[str] | None
) -> tuple[np.ndarray, int | None, list[str] | None]:
    """Labels (int64, (n,)) or regression targets (float32, (n, 1)) for ``task``.

    Whole-number labels that are all >= 0 are used as class indices as they are
    (``num_classes = max + 1`` unless the source knows better); text labels and labels
    with negative values (such as -1/+1) are replaced by their rank among the sorted
    distinct values, and those values become the class names.
    """
    text = y.dtype.kind in "US"
    if task == "regression":
        if text:
            raise UserError(
                f"data '{name}': the targets are text (e.g. {str(y[0])!r}), but the task is "
                "regression, which needs numbers; use a classification loss"
            )
        return y.astype(np.float32).reshape(-1, 1), None, None
    if task != "classification":
        raise UserError(f"task must be 'classification' or 'regression', got {task!r}")
    if not text:
        fractional = np.flatnonzero(np.mod(y, 1) != 0)
        if len(fractional):
            raise UserError(
                f"data '{name}': classification needs whole-number or text class labels, but "
                f"a target is {y[fractional[0]].item()!r}; use a regression loss (e.g. mse) "
                "for continuous targets"
            )
        y = y.astype(np.int64)
    if text or (len(y) and y.min() < 0):
        values, labels = np.unique(y, return_inverse=True)
        return labels.astype(np.int64).reshape(-1), len(values), [str(v) for v in values]
    return y, num_classes or (int(y.max()) + 1 if len(y) else 0), class_names
