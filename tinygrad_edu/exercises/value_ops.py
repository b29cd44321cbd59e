"""The Value-op exercises, read from the engine's op table (`tinygrad_edu.ops`).

An op named in ``ops.EXERCISES`` is an exercise (``value-<op>``): the student writes its
``<op>_backward`` on minigrad's `Value`. What the exercise says and checks comes from the op's
row: the hint and the failure messages format the row's ``words`` (its local derivative in
symbols), the rule at a kink is the row's ``tie``, and the expected gradient is what the row's
own ``backward`` computes. So the formula a student reads, the message a failed check prints
and the gradient the grader expects are the engine's, and cannot drift from it.

What a row does not say is how minigrad's `Value` spells the op in Python: `_PYTHON` (the
symbol and method of the ops that are Python operators) and `NUMBER_ARGUMENT` (an op whose
second input minigrad takes as a plain number, as the exponent of ``x ** p``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .. import ops

_PYTHON = {
    "add": (" + ", "__add__"),
    "sub": (" - ", "__sub__"),
    "mul": (" * ", "__mul__"),
    "div": (" / ", "__truediv__"),
    "pow": ("^", "__pow__"),
}
"""How a binary row's op is written between its inputs, and the Value method that applies it."""

NUMBER_ARGUMENT = {"pow": "p"}
"""Binary ops whose second input minigrad's Value takes as a number (``x ** 2``), by its name."""


@dataclass(frozen=True)
class OpFormula:
    """One op of the engine's table as an exercise: how minigrad's Value applies it, in which
    symbols its messages speak, and its gradients as the engine's row computes them."""

    row: ops.Unary | ops.Binary
    method: str  # how a Value applies it: x.tanh(), a.__add__(b), x.__pow__(p)
    expression: str  # its output in the messages' symbols: tanh(x), a + b, x^p
    inputs: tuple[str, ...]  # the names of its Value inputs
    number: str = ""  # the name of its plain-number argument (the p of x^p), if any
    points: int = 1

    @property
    def op(self) -> str:
        return self.row.name

    @property
    def forward(self) -> str:
        taken = f" ({self.number} a number)" if self.number else ""
        return f"out = {self.expression}{taken}"

    @property
    def derivative(self) -> str:
        """The local derivative of each Value input, the row's ``words`` in these symbols:
        ``d tanh(x)/dx = 1 - tanh(x)^2``, ``d(a * b)/da = b, d(a * b)/db = a``."""
        unary = isinstance(self.row, ops.Unary)
        out = self.expression if unary else f"({self.expression})"
        x, y = (*self.inputs, self.number)[:2] if not unary else (self.inputs[0], "")
        words = (self.row.words,) if unary else self.row.words[: len(self.inputs)]
        d = f"d {out}" if unary else f"d{out}"
        return ", ".join(
            f"{d}/d{name} = {text.format(x=x, y=y, out=out)}"
            for name, text in zip(self.inputs, words)
        )

    @property
    def tie(self) -> str:
        """The row's rule at a kink. Not for an op with a number argument: its row's rule
        speaks of the second input as an array (``d/dy``), and the base is drawn off 0, the
        one place where its rule for the first input differs from the formula (x^p at 0)."""
        return "" if self.number else self.row.tie

    def output(self, values: tuple[float, ...], args: tuple = ()) -> float:
        """The op's forward on float64 numbers, by the engine's row."""
        return float(self.row.forward(*(np.asarray(v, np.float64) for v in values), *args))

    def gradients(
        self, values: tuple[float, ...], args: tuple, out: float, upstream: float
    ) -> tuple[float, ...]:
        """What each Value input receives from a node of output `out` whose gradient is
        `upstream`: the engine's own backward of this op."""
        g, out_ = np.asarray(upstream, np.float64), np.asarray(out, np.float64)
        x, *rest = (np.asarray(v, np.float64) for v in values)
        if isinstance(self.row, ops.Unary):
            return (float(self.row.backward(g, x, out_, *args)),)
        if self.number:
            return (float(self.row.backward[0](g, x, *args, out_)),)
        return tuple(float(step(g, x, *rest, out_)) for step in self.row.backward)


def describe(name: str) -> OpFormula:
    """The row `name` of the engine's table as an exercise (marked or not)."""
    if name in ops.UNARY:
        return OpFormula(ops.UNARY[name], name, f"{name}(x)", ("x",))
    symbol, method = _PYTHON[name]
    if name in NUMBER_ARGUMENT:
        number = NUMBER_ARGUMENT[name]
        return OpFormula(ops.BINARY[name], method, f"x{symbol}{number}", ("x",), number)
    return OpFormula(ops.BINARY[name], method, f"a{symbol}b", ("a", "b"))


def formulas(marked: Iterable[str] = ops.EXERCISES) -> dict[str, OpFormula]:
    """The marked ops as exercises, in the order they are marked."""
    return {name: describe(name) for name in marked}


OPS = formulas()
