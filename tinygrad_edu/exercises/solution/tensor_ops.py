"""minigrad's array operations, each a forward function and its backward, on NumPy arrays.

A backward function gets the forward's inputs and ``grad_out`` (dL/d output, the shape
of the output) and returns dL/d input for each input, each in that input's shape.
"""

from __future__ import annotations

import numpy as np


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Exercise unbroadcast."""
    extra = grad.ndim - len(shape)
    grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=stretched, keepdims=True).reshape(shape)


def linear_forward(X: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exercise linear-forward."""
    return X @ W.T + b


def linear_backward(
    X: np.ndarray, W: np.ndarray, b: np.ndarray, grad_out: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exercise linear-backward."""
    grad_X = grad_out @ W
    grad_W = grad_out.T @ X
    grad_b = unbroadcast(grad_out, b.shape)
    return grad_X, grad_W, grad_b


def relu(x: np.ndarray) -> np.ndarray:
    """Exercise relu."""
    return np.maximum(x, 0.0)


def relu_backward(x: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
    """Exercise relu-backward."""
    return np.where(x > 0, grad_out, 0.0)


def identity(x: np.ndarray) -> np.ndarray:
    """No activation: what a network without ReLU computes between its layers."""
    return x


def softmax_cross_entropy(logits: np.ndarray, targets: np.ndarray) -> float:
    """Exercise softmax-ce."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(targets)), targets].mean())


def softmax_cross_entropy_backward(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Exercise softmax-ce-backward."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted)
    probs /= probs.sum(axis=1, keepdims=True)
    probs[np.arange(len(targets)), targets] -= 1.0
    return probs / len(targets)
