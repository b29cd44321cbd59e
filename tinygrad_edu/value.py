"""The scalar engine: a micrograd-compatible `Value` that a student can read in one sitting.

Each operation creates a new `Value` that remembers its parents (``_prev``), the name of
the operation (``_op``) and a function ``_grad_fn(out)`` that applies the chain rule
locally: it adds ``local derivative * out.grad`` to each parent's ``grad``. ``backward()``
then walks the graph in reverse topological order (`autograd`), so each node's gradient is
complete before it is passed on to its parents.

Read it in this order:

1. the class `Value`: micrograd's shape, each operation followed by its backward function.
   The local derivatives this engine shares with `Tensor` are written once, in the op
   table `ops` (``ops.EXP.local``, ``ops.POW.local``, ...); the hot ones (+, *, relu, tanh)
   repeat theirs inline in one line, marked, because a function call per node would cost
   the training loop (bench W3) its speed;
2. below the line "skip on first reading": the speed tricks (why ``_grad_fn`` gets ``out``
   as an argument, `_node`, `Value.dot`), the micrograd-compatible ``_backward``, Jupyter's
   display, and the IEEE 754 edges: where Python's float arithmetic raises, a `Value` gives
   the result PyTorch gives in float64.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Union

from . import autograd, graph_text, ops

Number = Union[int, float]


class Value:
    """A scalar that records how it was computed, so its gradient can be propagated back."""

    __slots__ = ("data", "grad", "label", "_prev", "_op", "_grad_fn")

    def __init__(self, data: Number, _children: tuple = (), _op: str = "", label: str = ""):
        self.data = float(data)
        self.grad = 0.0
        self.label = label
        self._prev = tuple(_children)
        self._op = _op
        self._grad_fn: Callable[[Value], None] | None = None

    # --- arithmetic: each op, then its backward ----------------------------------------
    def __add__(self, other: Value | Number) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return _node(self.data + other.data, (self, other), "+", Value._add_backward)

    @staticmethod
    def _add_backward(out: Value) -> None:
        a, b = out._prev
        # d(a+b)/da = 1, d(a+b)/db = 1: ops.ADD.local, inline (hot path)
        a.grad += out.grad
        b.grad += out.grad

    def __mul__(self, other: Value | Number) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return _node(self.data * other.data, (self, other), "*", Value._mul_backward)

    @staticmethod
    def _mul_backward(out: Value) -> None:
        a, b = out._prev
        # d(ab)/da = b, d(ab)/db = a: ops.MUL.local, inline (hot path)
        a.grad += b.data * out.grad
        b.grad += a.data * out.grad

    def __pow__(self, other: Value | Number) -> Value:
        if isinstance(other, Value):
            return self._pow_value(other)
        if not isinstance(other, (int, float)):
            return NotImplemented
        try:
            out = Value(self.data**other, (self,), f"**{other}")
        except _FLOAT_ERRORS:  # 0.0 ** -1, 10.0 ** 400, (-2.0) ** 0.5: see the tail
            return self._unary(_ieee_pow(self.data, other), f"**{other}",
                               _pow_grad(self.data, other))  # fmt: skip

        def _backward(out: Value) -> None:
            try:  # d(x^p)/dx = p * x^(p-1)
                local = _POW_LOCAL(self.data, other, out.data)
            except _FLOAT_ERRORS:  # 0.0 ** (p - 1) for p < 1, overflow: see the tail
                local = _pow_grad(self.data, other)
            self.grad += local * out.grad

        out._grad_fn = _backward
        return out

    def _pow_value(self, exponent: Value) -> Value:
        """``x ** p`` with a `Value` exponent: a gradient for both."""
        careful = False
        try:
            out = Value(self.data**exponent.data, (self, exponent), "**")
        except _FLOAT_ERRORS:
            out = Value(_ieee_pow(self.data, exponent.data), (self, exponent), "**")
            careful = True  # then x^(p-1) may be complex too: d/dx on the careful path

        def _backward(out: Value) -> None:
            x, p = self.data, exponent.data
            try:  # d(x^p)/dx = p * x^(p-1)
                local = _pow_grad(x, p) if careful else _POW_LOCAL(x, p, out.data)
            except _FLOAT_ERRORS:
                local = _pow_grad(x, p)
            self.grad += local * out.grad
            exponent.grad += _pow_exponent_grad(x, p, out.data) * out.grad  # x^p * ln(x)

        out._grad_fn = _backward
        return out

    # everything else is made of the ops above, as in micrograd
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
        try:
            return self * other**-1
        except ZeroDivisionError:  # a number 0: x / 0 = inf, -inf or nan (IEEE, the tail)
            return self * _ieee_pow(other, -1)

    def __rtruediv__(self, other: Number) -> Value:
        return other * self**-1

    # --- non-linearities ----------------------------------------------------------------
    def _unary(self, data: float, op: str, local_grad: float) -> Value:
        """A one-input op whose derivative at this point is `local_grad` (a closure, which
        captures ``self`` and `local_grad` but not ``out``: no reference cycle)."""
        out = Value(data, (self,), op)

        def _backward(out: Value) -> None:
            self.grad += local_grad * out.grad

        out._grad_fn = _backward
        return out

    def relu(self) -> Value:
        return _node(self.data if self.data > 0 else 0.0, (self,), "ReLU", Value._relu_backward)

    @staticmethod
    def _relu_backward(out: Value) -> None:
        # d relu(x)/dx = 1 if x > 0 else 0 (0 at the kink, as PyTorch): ops.RELU, inline (hot)
        if out.data > 0:
            out._prev[0].grad += out.grad

    def tanh(self) -> Value:
        return _node(math.tanh(self.data), (self,), "tanh", Value._tanh_backward)

    @staticmethod
    def _tanh_backward(out: Value) -> None:
        # d tanh(x)/dx = 1 - tanh(x)^2: ops.TANH.local, inline (hot path)
        out._prev[0].grad += (1.0 - out.data * out.data) * out.grad

    def exp(self) -> Value:
        e = _ieee_exp(self.data)
        return self._unary(e, "exp", ops.EXP.local(self.data, e))  # d e^x/dx = e^x

    def log(self) -> Value:
        x = self.data
        try:
            out = math.log(x)
            return self._unary(out, "log", ops.LOG.local(x, out))  # d ln(x)/dx = 1/x
        except _FLOAT_ERRORS:  # ln 0 = -inf with 1/0 = inf; ln x = nan for x < 0
            return self._unary(_ieee_log(x), "log", _ieee_pow(x, -1))

    def sigmoid(self) -> Value:
        s = _sigmoid(self.data)
        return self._unary(s, "sigmoid", ops.SIGMOID.local(self.data, s))  # s (1 - s)

    # --- the backward pass --------------------------------------------------------------
    def backward(self) -> None:
        """Fill ``.grad`` of every node this value depends on with d(self)/d(node).

        Gradients accumulate (``+=``), as in micrograd and PyTorch: reset them (for example
        with ``zero_grad``) before a new backward pass over the same leaves. A second
        ``backward()`` over the same graph keeps micrograd's arithmetic (the inputs'
        gradients grow by a second pass, interior nodes' too) where PyTorch raises; it warns
        once per process, since micrograd's users keep asking why their gradients doubled.
        """
        if self.grad != 0.0:  # only a backward pass (or a hand-set grad) leaves it nonzero
            _warn_backward_again()
        self.grad = 1.0
        autograd.backpropagate_scalars(self)  # the shared walk, calling `_grad_fn` directly

    def zero_grad(self) -> None:
        """Set the gradient of this value and of everything it depends on to zero."""
        for node in autograd.topological_order(self):
            node.grad = 0.0

    def __repr__(self) -> str:
        label = f"label={self.label!r}, " if self.label else ""
        return f"Value({label}data={self.data}, grad={self.grad})"

    # --- skip on first reading: a fused op for speed, micrograd's `_backward`, Jupyter ------
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
        return _node(total, (b, *ws, *xs), "dot", Value._dot_backward)

    @staticmethod
    def _dot_backward(out: Value) -> None:
        g = out.grad
        n = (len(out._prev) - 1) // 2
        out._prev[0].grad += g  # the bias
        for w, x in zip(out._prev[1 : n + 1], out._prev[n + 1 :]):
            # d(w.x)/dw_i = x_i, d(w.x)/dx_i = w_i: ops.MUL.local, inline (hot path)
            w.grad += x.data * g
            x.grad += w.data * g

    @property
    def _backward(self) -> Callable[[], None] | None:
        """This node's backward step in micrograd's form, a function of no arguments."""
        fn = self._grad_fn
        return None if fn is None else partial(fn, self)

    @_backward.setter
    def _backward(self, fn: Callable[[], None] | None) -> None:
        # micrograd style, for ops written outside this class: out._backward = closure
        self._grad_fn = None if fn is None else (lambda out: fn())

    def _repr_svg_(self) -> str | None:
        """Jupyter draws a computed value as its graph; a leaf, or a graph too big to read,
        shows the repr above (see `graph_text`)."""
        return graph_text.inline_svg(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's text form: where Jupyter would draw the graph but Graphviz's ``dot`` is
        missing, the graph one line per node; else the repr above (see `graph_text`)."""
        printer.text(graph_text.inline_text(self))


_POW_LOCAL = ops.POW.local[0]  # d(x^y)/dx = y x^(y-1), the formula Tensor's pow uses too


# === skip on first reading ==================================================================
#
# Speed. micrograd's ``_backward`` closure captures its output node, which makes a reference
# cycle (node -> closure -> node) per operation. A dropped graph then waits for Python's
# cyclic garbage collector, which walks every node, several times per training step. Here the
# backward function gets ``out`` as an argument instead, and the hot operations (``+``, ``*``,
# ``relu``, ``tanh``, `Value.dot`) use one shared function per operation rather than a new
# closure per node: no cycles, fewer objects, and reference counting frees a graph as soon as
# it is dropped. The hot operations also build their node with `_node`, which skips
# ``__init__``'s conversions, and ``backward()`` walks the graph with
# `autograd.backpropagate_scalars`, which calls each ``_grad_fn`` directly (no ``partial`` per
# node). bench/run.py (W3, W4) measures the effect: micrograd's demo, written with
# micrograd's own classes, runs about 15x faster than on micrograd's engine.

_new_value = object.__new__  # makes an empty Value without running __init__


def _node(data: float, parents: tuple, op: str, grad_fn: Callable[[Value], None]) -> Value:
    """A new `Value` made by an operation: ``data`` is already a float (the result of float
    arithmetic), so this skips ``__init__``'s conversions, which cost the hot operations
    (``+``, ``*``, ``relu``) about a quarter of their time."""
    out = _new_value(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out._prev = parents
    out._op = op
    out._grad_fn = grad_fn
    return out


_warned_backward_again = False


def _warn_backward_again() -> None:
    """Say once per process why gradients grow when ``backward()`` runs twice on one graph."""
    global _warned_backward_again
    if not _warned_backward_again:
        _warned_backward_again = True
        warnings.warn(
            "Value.backward() ran again on a graph whose gradients were not reset, so every "
            "node's .grad now adds up both passes (micrograd's arithmetic; PyTorch raises): "
            "call zero_grad() on the output (or set the inputs' .grad to 0) first, or build "
            "the graph again",
            UserWarning,
            stacklevel=3,
        )


# IEEE 754 edges. Where Python's float arithmetic raises (``0.0 ** -1``, ``math.log(0)``,
# ``math.exp(1000)``, ``10.0 ** 400``) or turns complex (``(-2.0) ** 0.5``), a `Value` gives
# the IEEE 754 result that PyTorch gives in float64 (inf, -inf, nan), for values and gradients
# alike. The careful path runs only in the ``except`` clauses above, so ordinary operations
# cost nothing extra.

# What Python's float arithmetic raises where IEEE 754 has a result (TypeError: a complex
# power such as (-2.0) ** 0.5, which float() refuses)
_FLOAT_ERRORS = (ZeroDivisionError, OverflowError, ValueError, TypeError)


def _ieee_pow(x: float, p: float) -> float:
    """``x ** p`` as IEEE 754 (C's pow, PyTorch) defines it where Python raises or turns
    complex: 0 ** -1 = inf, 10.0 ** 400 = inf, (-2.0) ** 0.5 = nan."""
    odd = float(p).is_integer() and int(p) % 2 == 1
    try:
        result = x**p
    except (ZeroDivisionError, OverflowError):  # +-inf: negative for x < 0 and an odd p
        return math.copysign(math.inf, x) if odd else math.inf
    return math.nan if isinstance(result, complex) else float(result)


def _ieee_exp(x: float) -> float:
    """e^x, inf beyond the largest float (where `math.exp` raises)."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _ieee_log(x: float) -> float:
    """ln x where `math.log` raises: ln 0 = -inf, ln of a negative number = nan."""
    return -math.inf if x == 0 else math.nan


def _pow_grad(x: float, p: float) -> float:
    """d(x^p)/dx = p * x^(p-1) in IEEE arithmetic; 0 for p = 0 even at x = 0 (PyTorch)."""
    return 0.0 if p == 0 else p * _ieee_pow(x, p - 1)


def _pow_exponent_grad(x: float, p: float, out: float) -> float:
    """d(x^p)/dp = x^p * ln(x), with PyTorch's rule where ln(x) is not finite: nan for
    x < 0 (x^p is not real-differentiable in p), and for x = 0: -inf if p < 0, else 0."""
    if x > 0:
        return out * math.log(x)
    if x < 0:
        return math.nan
    return -math.inf if p < 0 else 0.0


def _sigmoid(x: float) -> float:
    """Logistic function without overflow for large |x|."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)
