"""What a loss means for training: the task, the targets it wants, predictions, metrics.

The spec names a loss; everything else follows from it. ``cross_entropy``,
``binary_cross_entropy_with_logits`` and ``hinge`` make a classification task (metrics:
loss and accuracy), ``mse``, ``l1`` and ``huber`` a regression task (loss, MAE, R^2).
Each `Objective` turns the dataset's labels into the target tensor its loss expects
(class indices, 0/1 columns, +-1 signs or real values) and model outputs into predictions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import functional as F
from ._tensor import Tensor, get_default_dtype
from .autograd import no_grad
from .errors import UserError

REGRESSION_LOSSES = ("mse", "l1", "huber")


def task_of(loss: str) -> str:
    """'classification' or 'regression', inferred from the loss name."""
    return "regression" if loss in REGRESSION_LOSSES else "classification"


@dataclass(frozen=True)
class Objective:
    """A loss bound to its options and to the model's number of outputs."""

    loss: str
    num_outputs: int
    options: dict

    @property
    def task(self) -> str:
        return task_of(self.loss)

    def check(self, num_classes: int | None) -> None:
        """Fail early (exit 2) when the model's outputs cannot serve this loss and data."""
        if self.loss == "cross_entropy" and num_classes and self.num_outputs != num_classes:
            raise UserError(
                f"the model has {self.num_outputs} outputs but the data has {num_classes} "
                f"classes; cross_entropy needs one output per class: make the last linear "
                f"layer {num_classes} wide"
            )
        if self.loss == "binary_cross_entropy_with_logits":
            if self.num_outputs != 1 or (num_classes is not None and num_classes != 2):
                raise UserError(
                    "binary_cross_entropy_with_logits needs one model output and data with "
                    f"two classes, found {self.num_outputs} outputs and {num_classes} classes; "
                    "use cross_entropy for more classes"
                )
        if self.loss == "hinge" and self.num_outputs == 1 and num_classes not in (None, 2):
            raise UserError(
                f"hinge with one output separates two classes, but the data has {num_classes}; "
                f"give the model {num_classes} outputs (multi-class hinge) or use cross_entropy"
            )
        if (
            self.loss == "hinge"
            and self.num_outputs > 1
            and num_classes not in (None, self.num_outputs)
        ):
            raise UserError(
                f"the model has {self.num_outputs} outputs but the data has {num_classes} "
                "classes; multi-class hinge needs one output per class"
            )

    def targets(self, labels: np.ndarray) -> Tensor:
        """The tensor the loss compares outputs with, from dataset labels."""
        if self.loss == "cross_entropy" or (self.loss == "hinge" and self.num_outputs > 1):
            return Tensor(np.asarray(labels, dtype=np.int64))
        column = np.asarray(labels).reshape(len(labels), -1)
        if self.loss == "hinge":
            column = 2.0 * column - 1.0  # classes 0/1 -> signs -1/+1
        return Tensor(column.astype(np.float64), dtype=get_default_dtype())

    def __call__(self, outputs: Tensor, targets: Tensor) -> Tensor:
        return _LOSS_FUNCTIONS[self.loss](outputs, targets, **self.options)

    def predict(self, outputs: np.ndarray) -> np.ndarray:
        """Class indices (classification) or values (regression) from model outputs."""
        if self.task == "regression":
            return outputs
        if self.num_outputs == 1:
            return (outputs.reshape(-1) > 0).astype(np.int64)
        return outputs.argmax(axis=1)

    def probabilities(self, outputs: np.ndarray) -> np.ndarray | None:
        """Class probabilities for classification outputs (softmax or sigmoid)."""
        if self.task == "regression":
            return None
        if self.num_outputs == 1:
            p1 = 1.0 / (1.0 + np.exp(-outputs.reshape(-1).astype(np.float64)))
            return np.stack([1.0 - p1, p1], axis=1)
        shifted = outputs.astype(np.float64) - outputs.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        return e / e.sum(axis=1, keepdims=True)


_LOSS_FUNCTIONS: dict[str, Callable[..., Tensor]] = {
    "cross_entropy": F.cross_entropy,
    "binary_cross_entropy_with_logits": F.binary_cross_entropy_with_logits,
    "hinge": F.hinge_loss,
    "mse": F.mse_loss,
    "l1": F.l1_loss,
    "huber": F.huber_loss,
}


class MetricAccumulator:
    """Sums over batches that give the metrics of a whole epoch or split.

    Plain Python floats in a fixed order, so the same batches give bit-identical
    metrics, and the sums can be saved in a checkpoint and resumed mid-epoch.
    """

    def __init__(self, objective: Objective, state: dict[str, float] | None = None):
        self.objective = objective
        self.sums: dict[str, float] = (
            dict(state)
            if state
            else {
                "count": 0.0,
                "loss": 0.0,
                "correct": 0.0,
                "abs_err": 0.0,
                "sq_err": 0.0,
                "y_sum": 0.0,
                "y_sq_sum": 0.0,
            }
        )

    def update(self, loss: float, outputs: np.ndarray, labels: np.ndarray) -> None:
        n = len(labels)
        s = self.sums
        s["count"] += n
        s["loss"] += loss * n
        if self.objective.task == "classification":
            s["correct"] += float(np.sum(self.objective.predict(outputs) == labels))
        else:
            err = outputs.astype(np.float64) - labels.reshape(outputs.shape)
            s["abs_err"] += float(np.sum(np.abs(err)))
            s["sq_err"] += float(np.sum(err * err))
            s["y_sum"] += float(np.sum(labels, dtype=np.float64))
            s["y_sq_sum"] += float(np.sum(np.square(labels, dtype=np.float64)))

    def result(self) -> dict[str, float]:
        s = self.sums
        n = max(s["count"], 1.0)
        if self.objective.task == "classification":
            return {"loss": s["loss"] / n, "accuracy": s["correct"] / n}
        total_var = s["y_sq_sum"] - s["y_sum"] ** 2 / n
        r2 = 1.0 - s["sq_err"] / total_var if total_var > 0 else math.nan
        return {"loss": s["loss"] / n, "mae": s["abs_err"] / n, "r2": r2}


def evaluate_arrays(
    model: Any, objective: Objective, X: np.ndarray, labels: np.ndarray, batch_size: int = 1000
) -> dict[str, float]:
    """Metrics of `model` on a whole split, in evaluation mode and without a graph."""
    was_training = getattr(model, "training", False)
    model.eval()
    metrics = MetricAccumulator(objective)
    with no_grad():
        for start in range(0, len(X), batch_size):
            xb, yb = X[start : start + batch_size], labels[start : start + batch_size]
            outputs = model(Tensor(xb))
            loss = objective(outputs, objective.targets(yb)).item()
            metrics.update(loss, outputs.numpy(), yb)
    model.train(was_training)
    return metrics.result()


def predict_arrays(model: Any, X: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """Raw model outputs for all rows of X, as one NumPy array."""
    model.eval()
    with no_grad():
        parts = [model(Tensor(X[i : i + batch_size])).numpy() for i in range(0, len(X), batch_size)]
    return np.concatenate(parts) if parts else np.zeros((0,))


def loss_options(spec_loss: Any) -> tuple[str, dict]:
    """(name, options) from a spec's loss entry: a string or a mapping with ``name``."""
    if isinstance(spec_loss, str):
        return spec_loss, {}
    data = dict(spec_loss) if isinstance(spec_loss, dict) else spec_loss.model_dump()
    name = data.pop("name")
    return name, {k: v for k, v in data.items() if v is not None}
