"""L1 regularization of a spec's ``train.l1``: TensorFlow Playground's L1, the PyTorch way.

The penalty ``rate * sum(|w|)`` over the weights (parameters of two or more dimensions: a
Linear's matrix, a convolution's kernels; not biases, nor a normalization's scale, as the
Playground regularizes only its links) is added to the loss the gradients come from, so
each weight's gradient gains ``rate * sign(w)`` (0 at w = 0) before the optimizer's step:
with plain SGD, ``w -= lr * (dE/dw + rate * sign(w))``, the Playground's update. The loss a
run reports leaves the penalty out (the Playground's losses do too). L2 is the optimizer's
``weight_decay`` (PyTorch's: on every parameter).
"""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor


def l1_penalty(model: Any, rate: float) -> Tensor | None:
    """``rate * sum(|w|)`` over the model's weights, or None for rate 0 (nothing to add)."""
    if not rate:
        return None
    weights = [p for p in model.parameters() if p.ndim >= 2]
    total = weights[0].abs().sum()
    for weight in weights[1:]:
        total = total + weight.abs().sum()
    return total * rate


def regularized(loss: Tensor, model: Any, rate: float) -> Tensor:
    """The loss to take gradients of: the data loss plus the L1 penalty, if any."""
    penalty = l1_penalty(model, rate)
    return loss if penalty is None else loss + penalty
