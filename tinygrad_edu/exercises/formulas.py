"""Each op's derivative, in words and symbols, and its rule at a kink: one entry per op.

The op exercises take their hint (the formula a student derives) and their tie rule from
here and nowhere else, so the text a student reads, the message a failed check prints and
the rule the grader applies at a kink cannot disagree. This table is the one seam between
the exercises and the engine: when the engine keeps its ops' derivatives in one table of
its own, `op_formula` reads that table instead, and nothing else here changes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OpFormula:
    """What the backward of one op computes, as a student should derive it."""

    op: str
    forward: str  # the forward computation, in symbols
    derivative: str  # the local derivative(s), in symbols
    tie: str = ""  # the value chosen where the derivative is not defined, and whose rule it is


OPS: dict[str, OpFormula] = {
    f.op: f
    for f in (
        OpFormula("add", "out = a + b", "d(a + b)/da = 1, d(a + b)/db = 1"),
        OpFormula("mul", "out = a * b", "d(a * b)/da = b, d(a * b)/db = a"),
        OpFormula("pow", "out = x ** p (p a number)", "d(x^p)/dx = p * x^(p - 1)"),
        OpFormula("tanh", "out = tanh(x)", "d tanh(x)/dx = 1 - tanh(x)^2"),
        OpFormula(
            "relu",
            "out = max(x, 0)",
            "d relu(x)/dx = 1 if x > 0 else 0",
            "at x = 0 the derivative is 0, as PyTorch's",
        ),
        OpFormula("exp", "out = exp(x)", "d exp(x)/dx = exp(x)"),
    )
}


def op_formula(op: str) -> OpFormula:
    """The derivative of `op` as the exercises teach it (the seam described above)."""
    return OPS[op]
