"""minigrad's optimizer: stochastic gradient descent with momentum, as PyTorch's SGD."""

from __future__ import annotations

import numpy as np


def sgd_momentum_step(
    param: np.ndarray, grad: np.ndarray, velocity: np.ndarray, lr: float, momentum: float
) -> None:
    """Exercise sgd-momentum."""
    velocity *= momentum
    velocity += grad
    param -= lr * velocity
