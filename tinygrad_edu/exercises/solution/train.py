"""minigrad's training loop: the lecture's MLP learns the MNIST digits."""

from __future__ import annotations

import numpy as np

from . import optim
from . import tensor_ops as ops
from .nn import MLP


def accuracy(model: MLP, X: np.ndarray, y: np.ndarray) -> float:
    """The fraction of rows of X whose largest output is at the label in y."""
    return float((model.forward(X).argmax(axis=1) == y).mean())


def train(
    X: np.ndarray,
    y: np.ndarray,
    epochs: int = 5,
    lr: float = 0.1,
    momentum: float = 0.9,
    batch_size: int = 32,
    seed: int = 0,
) -> MLP:
    """Exercise train-mnist."""
    model = MLP([X.shape[1], 128, 10], seed=seed)
    velocities = [np.zeros_like(p) for p in model.parameters()]
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            rows = order[start : start + batch_size]
            logits = model.forward(X[rows])
            grads = model.backward(ops.softmax_cross_entropy_backward(logits, y[rows]))
            for param, grad, velocity in zip(model.parameters(), grads, velocities):
                optim.sgd_momentum_step(param, grad, velocity, lr, momentum)
    return model
