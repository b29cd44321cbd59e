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
    """What the backward of one op computes, as a student should derive it, and how the
    exercise calls it. An op in `OPS` is an exercise (``value-<op>``): marking an op is
    adding it here, with its ``<op>_backward`` written in the reference `solution.value`."""

    op: str
    method: str  # how a Value applies it: x.tanh(), a.__add__(b), x.__pow__(p)
    forward: str  # the forward computation, in symbols
    derivative: str  # the local derivative(s), in symbols
    inputs: tuple[str, ...] = ("x",)  # the names of its Value inputs, as the messages use them
    tie: str = ""  # the value chosen where the derivative is not defined, and whose rule it is
    kinks: tuple[float, ...] = ()  # inputs where the tie rule applies: always checked
    points: int = 1


OPS: dict[str, OpFormula] = {
    f.op: f
    for f in (
        OpFormula("add", "__add__", "out = a + b", "d(a + b)/da = 1, d(a + b)/db = 1", ("a", "b")),
        OpFormula("mul", "__mul__", "out = a * b", "d(a * b)/da = b, d(a * b)/db = a", ("a", "b")),
        OpFormula("pow", "__pow__", "out = x ** p (p a number)", "d(x^p)/dx = p * x^(p - 1)"),
        OpFormula("tanh", "tanh", "out = tanh(x)", "d tanh(x)/dx = 1 - tanh(x)^2"),
        OpFormula(
            "relu",
            "relu",
            "out = max(x, 0)",
            "d relu(x)/dx = 1 if x > 0 else 0",
            tie="at x = 0 the derivative is 0, as PyTorch's",
            kinks=(0.0,),
        ),
        OpFormula("exp", "exp", "out = exp(x)", "d exp(x)/dx = exp(x)"),
    )
}


def op_formula(op: str) -> OpFormula:
    """The derivative of `op` as the exercises teach it (the seam described above)."""
    return OPS[op]
