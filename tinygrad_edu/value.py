"""The scalar engine: a micrograd-compatible `Value` that a student can read in one sitting.

Each operation creates a new `Value` that remembers its parents (``_prev``), the name of
the operation (``_op``) and a closure ``_backward`` that applies the chain rule locally:
it adds ``local derivative * out.grad`` to each parent's ``grad``. ``backward()`` then
walks the graph in reverse topological order with the shared core in `autograd`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Union

from . import autograd

Number = Union[int, float]


class Value:
    """A scalar that records how it was computed, so its gradient can be propagated back."""

    __slots__ = ("data", "grad", "label", "_prev", "_op", "_backward")

    def __init__(self, data: Number, _children: tuple = (), _op: str = "", label: str = ""):
        self.data = float(data)
        self.grad = 0.0
        self.label = label
        self._prev = tuple(_children)
        self._op = _op
        self._backward = None

    # --- arithmetic -------------------------------------------------------------------
    def __add__(self, other: Value | Number) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            # d(a+b)/da = 1, d(a+b)/db = 1
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other: Value | Number) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            # d(ab)/da = b, d(ab)/db = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, other: Value | Number) -> Value:
        if isinstance(other, Value):
            return self._pow_value(other)
        if not isinstance(other, (int, float)):
            return NotImplemented
        out = Value(self.data**other, (self,), f"**{other}")

        def _backward():
            # d(x^p)/dx = p * x^(p-1)
            self.grad += other * self.data ** (other - 1) * out.grad

        out._backward = _backward
        return out

    def _pow_value(self, exponent: Value) -> Value:
        out = Value(self.data**exponent.data, (self, exponent), "**")

        def _backward():
            # d(x^p)/dx = p * x^(p-1), d(x^p)/dp = x^p * ln(x)
            self.grad += exponent.data * self.data ** (exponent.data - 1) * out.grad
            if self.data > 0:
                exponent.grad += out.data * math.log(self.data) * out.grad
            elif self.data < 0:  # x^p is not real-differentiable in p for x < 0
                exponent.grad = math.nan

        out._backward = _backward
        return out

    def __rpow__(self, base: Number) -> Value:
        return Value(base) ** self

    def __neg__(self) -> Value:
        return self * -1

    def __radd__(self, other: Number) -> Value:
        return self + other

    def __sub__(self, other: Value | Number) -> Value:
        return self + (-other)

    def __rsub__(self, other: Number) -> Value:
        return other + (-self)

    def __rmul__(self, other: Number) -> Value:
        return self * other

    def __truediv__(self, other: Value | Number) -> Value:
        return self * other**-1

    def __rtruediv__(self, other: Number) -> Value:
        return other * self**-1

    @staticmethod
    def dot(
        weights: Sequence[Value | Number],
        inputs: Sequence[Value | Number],
        bias: Value | Number = 0,
    ) -> Value:
        """``bias + w_1 x_1 + ... + w_n x_n`` as one node, instead of the 2n nodes of
        ``sum((w * x for ...), bias)`` (micrograd's neuron). Same value (same order of
        additions) and same gradients; fewer nodes to build and to walk backwards."""
        if len(weights) != len(inputs):
            raise ValueError(
                f"Value.dot: {len(weights)} weights but {len(inputs)} inputs; they must match"
            )
        ws = [w if isinstance(w, Value) else Value(w) for w in weights]
        xs = [x if isinstance(x, Value) else Value(x) for x in inputs]
        b = bias if isinstance(bias, Value) else Value(bias)
        total = b.data
        for w, x in zip(ws, xs):
            total += w.data * x.data
        out = Value(total, (b, *ws, *xs), "dot")

        def _backward():
            g = out.grad
            b.grad += g
            for w, x in zip(ws, xs):
                # d(w.x)/dw_i = x_i, d(w.x)/dx_i = w_i
                w.grad += x.data * g
                x.grad += w.data * g

        out._backward = _backward
        return out

    # --- non-linearities --------------------------------------------------------------
    def _unary(self, data: float, op: str, local_grad: float) -> Value:
        """A one-input op whose derivative at this point is `local_grad`."""
        out = Value(data, (self,), op)

        def _backward():
            self.grad += local_grad * out.grad

        out._backward = _backward
        return out

    def relu(self) -> Value:
        # d relu(x)/dx = 1 if x > 0 else 0 (0 at the kink, as PyTorch)
        return self._unary(self.data if self.data > 0 else 0.0, "ReLU", float(self.data > 0))

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        # d tanh(x)/dx = 1 - tanh(x)^2
        return self._unary(t, "tanh", 1.0 - t * t)

    def exp(self) -> Value:
        e = math.exp(self.data)
        # d e^x/dx = e^x
        return self._unary(e, "exp", e)

    def log(self) -> Value:
        # d ln(x)/dx = 1/x
        return self._unary(math.log(self.data), "log", 1.0 / self.data)

    def sigmoid(self) -> Value:
        s = _sigmoid(self.data)
        # d sigma(x)/dx = sigma(x) * (1 - sigma(x))
        return self._unary(s, "sigmoid", s * (1.0 - s))

    # --- graph ------------------------------------------------------------------------
    def backward(self) -> None:
        """Fill ``.grad`` of every node this value depends on with d(self)/d(node).

        Gradients accumulate (``+=``), as in micrograd and PyTorch: reset them (for example
        with ``zero_grad``) before a new backward pass over the same leaves.
        """
        self.grad = 1.0
        autograd.backpropagate(self)

    def zero_grad(self) -> None:
        """Set the gradient of this value and of everything it depends on to zero."""
        for node in autograd.topological_order(self):
            node.grad = 0.0

    def __repr__(self) -> str:
        label = f"label={self.label!r}, " if self.label else ""
        return f"Value({label}data={self.data}, grad={self.grad})"


def _sigmoid(x: float) -> float:
    """Logistic function without overflow for large |x|."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)
