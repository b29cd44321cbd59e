"""Where a backward pass explained by ``backprop`` left the finite numbers, in words.

Floats follow IEEE 754: ``1 / 0`` is inf, ``1e200 * 1e200`` overflows to inf (the largest
float64 is about 1.8e308), ``log(-1)`` and ``0 * inf`` are nan, and every number computed
from an inf or a nan is one too. The engine computes them as NumPy and PyTorch do, and
``backprop`` shows them, since seeing ``1 / 0`` become inf is part of the lesson. But a
table full of inf says nothing about where it began, so `first_non_finite` names the first
value that stopped being finite although everything it was computed from was finite, and
says why: a division by zero, an overflow, or an operation undefined there.
"""

from __future__ import annotations

import math
import sys
from typing import Any

from .autograd import topological_order

LARGEST = sys.float_info.max  # 1.7976931348623157e308


def first_non_finite(explanation: Any) -> str | None:
    """One sentence about the first non-finite value of `explanation` (an `explain.Explanation`):
    the forward pass first (inputs, then each node in the order it was computed), then the
    backward pass's chain-rule terms in the order they were added; None if all are finite."""

    names = explanation.names
    formulas = {step.name: step.formula for step in explanation.steps}
    for node in topological_order(explanation.root):
        if math.isfinite(node.data):
            continue
        name = names[id(node)]
        if not node._prev:
            return (
                f"the input {name} is {node.data}, so every value computed from it is not "
                "finite either"
            )
        inputs = ", ".join(f"{names[id(p)]} = {p.data:g}" for p in node._prev)
        formula = formulas.get(name, name)
        why = _why(node.data, [p.data for p in node._prev])
        return f"{formula} is {node.data} although its inputs are finite ({inputs}): {why}"
    for step in explanation.steps:
        for term in step.terms:
            if math.isfinite(term.contribution):
                continue
            derivative = f"d{term.output}/d{term.name} = {term.local_formula}"
            if not math.isfinite(term.local):
                why = _why(term.local, [])
                return f"the local derivative {derivative} is {term.local} here: {why}"
            return (
                f"dL/d{term.name} = dL/d{term.output} * d{term.output}/d{term.name} = "
                f"{term.upstream:g} * {term.local:g} is {term.contribution}: "
                f"{_why(term.contribution, [term.upstream, term.local])}"
            )
    return None


def warn_non_finite(explanation: Any) -> None:
    """Print `first_non_finite` as a warning on stderr, if there is one: the explanation
    itself stands (exit code 0), as it does for any other value."""
    note = first_non_finite(explanation)
    if note is not None:
        print(f"warning: {note}", file=sys.stderr)


def _why(result: float, inputs: list[float]) -> str:
    if math.isnan(result):
        return (
            "the operation is undefined there (nan), such as the log or a fractional power "
            "of a negative number, or 0 * inf"
        )
    if any(x == 0 for x in inputs) or not inputs:
        return (
            "the exact result is infinite (a division by zero, a negative power or the log "
            "of 0, or a derivative that is infinite at that point)"
        )
    return (
        f"the result overflowed: its size exceeds the largest float64, about {LARGEST:.2g}; "
        "give inputs of smaller size"
    )
