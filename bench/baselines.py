"""Hand-written NumPy baselines: the practical limit that the engines are measured against.

They do no wasted work: no gradient for the input, a fused softmax cross-entropy, ReLU
and bias added in place, and an in-place SGD update. Written against an ``xp`` module
(NumPy, or CuPy for the GPU workload) with only what both provide.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def init_mlp(sizes: list[int], seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """He-uniform float32 weights (out, in) and zero biases, as NumPy arrays to copy from."""
    rs = np.random.default_rng(seed)
    weights, biases = [], []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        bound = np.sqrt(6.0 / fan_in)
        weights.append(rs.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        biases.append(np.zeros(fan_out, dtype=np.float32))
    return weights, biases


def classification_batch(
    batch: int, features: int, classes: int, seed: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    rs = np.random.default_rng(seed)
    x = rs.standard_normal((batch, features)).astype(np.float32)
    y = rs.integers(0, classes, batch).astype(np.int64)
    return x, y


class HandMLP:
    """An MLP (ReLU between layers) trained with softmax cross-entropy and plain SGD."""

    def __init__(self, weights: list[Any], biases: list[Any], lr: float, xp: Any = np):
        self.xp = xp
        self.W = [xp.array(w, copy=True) for w in weights]
        self.b = [xp.array(b, copy=True) for b in biases]
        self.lr = lr
        self._rows: Any = None

    def step(self, x: Any, y: Any) -> Any:
        """One train step; returns the mean loss (a 0-d array: no device sync)."""
        xp, W, b, lr = self.xp, self.W, self.b, self.lr
        n = x.shape[0]
        if self._rows is None or self._rows.shape[0] != n:
            self._rows = xp.arange(n)
        rows = self._rows
        acts = [x]
        h = x
        last = len(W) - 1
        for i in range(len(W)):
            z = h @ W[i].T
            z += b[i]
            if i < last:
                xp.maximum(z, 0, out=z)
            acts.append(z)
            h = z
        # fused, stable softmax cross-entropy: loss and dlogits from one exp
        logits = h
        logits -= logits.max(axis=1, keepdims=True)
        picked = logits[rows, y]
        e = xp.exp(logits)
        s = e.sum(axis=1, keepdims=True)
        loss = (xp.log(s).sum() - picked.sum()) / n
        e /= s
        e[rows, y] -= 1.0
        e *= 1.0 / n
        g = e
        for i in range(last, -1, -1):
            a = acts[i]
            dW = g.T @ a
            db = g.sum(axis=0)
            if i > 0:  # no gradient for the input itself
                g_prev = g @ W[i]
                g_prev *= a > 0
            dW *= lr
            W[i] -= dW
            db *= lr
            b[i] -= db
            if i > 0:
                g = g_prev
        return loss


# --- the micrograd demo (W3) -----------------------------------------------------------


def make_moons(n: int = 100, noise: float = 0.1, seed: int = 1337) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's make_moons), labels in {-1, +1}."""
    rs = np.random.RandomState(seed)
    n_out, n_in = n // 2, n - n // 2
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    X = np.vstack(
        [
            np.column_stack([np.cos(t_out), np.sin(t_out)]),
            np.column_stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5]),
        ]
    )
    X += rs.normal(scale=noise, size=X.shape)
    y = np.concatenate([-np.ones(n_out), np.ones(n_in)])
    return X, y


class HandMoonsNet:
    """micrograd's demo network (2-16-16-1, ReLU) in float64 NumPy: max-margin loss + L2."""

    def __init__(
        self, weights: list[np.ndarray], biases: list[np.ndarray], lr: float, alpha: float
    ):
        self.W = [np.array(w, dtype=np.float64) for w in weights]
        self.b = [np.array(b, dtype=np.float64) for b in biases]
        self.lr, self.alpha = lr, alpha

    def step(self, X: np.ndarray, y: np.ndarray) -> float:
        W, b, lr, alpha = self.W, self.b, self.lr, self.alpha
        n = X.shape[0]
        acts = [X]
        h = X
        for i in range(len(W)):
            z = h @ W[i].T
            z += b[i]
            if i < len(W) - 1:
                np.maximum(z, 0, out=z)
            acts.append(z)
            h = z
        margin = 1.0 - y * h[:, 0]
        active = margin > 0
        reg = sum(float(np.vdot(w, w)) + float(np.vdot(c, c)) for w, c in zip(W, b))
        loss = float(np.sum(margin[active])) / n + alpha * reg
        g = (np.where(active, -y, 0.0) / n)[:, None]
        for i in range(len(W) - 1, -1, -1):
            a = acts[i]
            dW = g.T @ a
            db = g.sum(axis=0)
            if i > 0:
                g_prev = g @ W[i]
                g_prev *= a > 0
            dW += 2 * alpha * W[i]
            db += 2 * alpha * b[i]
            W[i] -= lr * dW
            b[i] -= lr * db
            if i > 0:
                g = g_prev
        return loss
