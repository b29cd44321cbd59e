"""minigrad's scalar engine: a `Value` remembers how it was computed.

Each operation makes a new `Value` whose ``_prev`` holds its inputs and whose
``_backward_step`` is the function that applies the chain rule at that node: it adds
``local derivative * out.grad`` to each input's ``grad``. `Value.backward` walks the graph
from the output back to the inputs and calls each node's step once, outputs before inputs.
"""

from __future__ import annotations

import math


class Value:
    """A float that records the operation that made it, so gradients can flow back."""

    def __init__(self, data: float, _prev: tuple = (), _op: str = "", _backward_step=None):
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_prev)
        self._op = _op
        self._backward_step = _backward_step  # a function of the output node, or None
        self.exponent = None  # the number p of ``x ** p``, which ``pow_backward`` needs

    def __repr__(self) -> str:
        return f"Value(data={self.data!r}, grad={self.grad!r})"

    # --- the operations: forward here, the chain rule in the *_backward functions -------
    def __add__(self, other) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), "+", Value.add_backward)

    def __mul__(self, other) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), "*", Value.mul_backward)

    def __pow__(self, p: float) -> Value:
        out = Value(self.data**p, (self,), f"**{p}", Value.pow_backward)
        out.exponent = p
        return out

    def tanh(self) -> Value:
        return Value(math.tanh(self.data), (self,), "tanh", Value.tanh_backward)

    def relu(self) -> Value:
        return Value(max(self.data, 0.0), (self,), "relu", Value.relu_backward)

    def exp(self) -> Value:
        return Value(math.exp(self.data), (self,), "exp", Value.exp_backward)

    def __neg__(self) -> Value:
        return self * -1

    def __sub__(self, other) -> Value:
        return self + (-other)

    def __radd__(self, other) -> Value:
        return self + other

    def __rmul__(self, other) -> Value:
        return self * other

    def __truediv__(self, other) -> Value:
        return self * other**-1

    # --- the local chain rule of each operation ------------------------------------------
    @staticmethod
    def add_backward(out: Value) -> None:
        """Exercise value-add."""
        a, b = out._prev
        a.grad += out.grad
        b.grad += out.grad

    @staticmethod
    def mul_backward(out: Value) -> None:
        """Exercise value-mul."""
        a, b = out._prev
        a.grad += b.data * out.grad
        b.grad += a.data * out.grad

    @staticmethod
    def pow_backward(out: Value) -> None:
        """Exercise value-pow."""
        (x,) = out._prev
        p = out.exponent
        x.grad += p * x.data ** (p - 1) * out.grad

    @staticmethod
    def tanh_backward(out: Value) -> None:
        """Exercise value-tanh."""
        (x,) = out._prev
        x.grad += (1 - out.data**2) * out.grad

    @staticmethod
    def relu_backward(out: Value) -> None:
        """Exercise value-relu."""
        (x,) = out._prev
        x.grad += (1.0 if x.data > 0 else 0.0) * out.grad

    @staticmethod
    def exp_backward(out: Value) -> None:
        """Exercise value-exp."""
        (x,) = out._prev
        x.grad += out.data * out.grad

    # --- the walk --------------------------------------------------------------------------
    def backward(self) -> None:
        """Exercise backward-walk."""
        order, visited = [], set()
        stack = [(self, False)]
        while stack:
            node, children_done = stack.pop()
            if children_done:
                order.append(node)
            elif id(node) not in visited:
                visited.add(id(node))
                stack.append((node, True))
                stack.extend((child, False) for child in node._prev)
        self.grad = 1.0
        for node in reversed(order):
            if node._backward_step is not None:
                node._backward_step(node)
