"""minigrad's multi-layer perceptron, built from the functions of `tensor_ops`.

``MLP([784, 128, 10])`` is the lecture's network: Linear(784, 128), ReLU, Linear(128, 10).
Its weights start as PyTorch's ``nn.Linear`` starts them: uniform in +-1/sqrt(fan_in).
"""

from __future__ import annotations

import numpy as np

from . import tensor_ops as ops


class MLP:
    """Linear layers with ReLU between them; `forward` keeps what `backward` needs."""

    def __init__(self, sizes: list[int], seed: int = 0, activation: str = "relu"):
        rng = np.random.default_rng(seed)
        self.activation = activation
        self.weights, self.biases = [], []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            bound = 1 / np.sqrt(fan_in)
            self.weights.append(rng.uniform(-bound, bound, (fan_out, fan_in)))
            self.biases.append(rng.uniform(-bound, bound, fan_out))

    def parameters(self) -> list[np.ndarray]:
        return [p for pair in zip(self.weights, self.biases) for p in pair]

    def _activate(self, x: np.ndarray) -> np.ndarray:
        return ops.relu(x) if self.activation == "relu" else ops.identity(x)

    def forward(self, X: np.ndarray) -> np.ndarray:
        self._inputs, self._pre = [], []
        for k, (W, b) in enumerate(zip(self.weights, self.biases)):
            self._inputs.append(X)
            X = ops.linear_forward(X, W, b)
            if k < len(self.weights) - 1:
                self._pre.append(X)
                X = self._activate(X)
        return X

    def backward(self, grad_out: np.ndarray) -> list[np.ndarray]:
        """The gradients of `parameters`, in their order, from dL/d output."""
        grads = []
        for k in reversed(range(len(self.weights))):
            if k < len(self.weights) - 1 and self.activation == "relu":
                grad_out = ops.relu_backward(self._pre[k], grad_out)
            W, b = self.weights[k], self.biases[k]
            grad_out, grad_W, grad_b = ops.linear_backward(self._inputs[k], W, b, grad_out)
            grads[:0] = [grad_W, grad_b]
        return grads


def count_parameters(sizes: list[int]) -> int:
    """Exercise count-parameters."""
    return sum(fan_in * fan_out + fan_out for fan_in, fan_out in zip(sizes[:-1], sizes[1:]))
