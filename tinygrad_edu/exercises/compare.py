"""How a check compares a student's answer with the expected one, and the words it fails in.

A check gets a `Context` (the student's function placed into the reference engine, that
engine's modules, and the reference function it replaced); the first input that disagrees
raises `Failed` with a message that names the input, what was expected, what came back and
the formula. Every element is compared; where the math is exact (sums of integers, max,
comparisons) the comparison is exact, elsewhere to `TOL`, relative.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from .numeric import Slopes

TOL = 1e-9  # relative, for float results computed in another order than the reference's


class Failed(AssertionError):
    """The student's function gave a wrong answer; the message says where and why."""


@dataclass
class Context:
    fn: Callable  # the student's function, as the engine now calls it
    ref: SimpleNamespace  # the engine's modules (value, tensor_ops, nn, optim, train)
    original: Callable  # the reference function it replaced


def show(x: Any) -> str:
    """A number or an array, short enough for a message."""
    if isinstance(x, np.ndarray):
        return np.array2string(x, precision=4, threshold=12, separator=", ")
    if isinstance(x, float):
        return f"{x:.6g}"
    return repr(x)


def same(got: Any, expected: np.ndarray, exact: bool = False) -> bool:
    got = np.asarray(got, dtype=float) if not isinstance(got, np.ndarray) else got
    if got.shape != expected.shape:
        return False
    if exact:
        return bool(np.array_equal(got, expected, equal_nan=True))
    return bool(np.allclose(got, expected, rtol=TOL, atol=1e-12, equal_nan=True))


def expect_array(call: str, got: Any, expected: np.ndarray, why: str, exact=False) -> None:
    expected = np.asarray(expected)
    got = np.asarray(got) if isinstance(got, np.generic) else got  # 0-d results are scalars
    if not isinstance(got, np.ndarray):
        raise Failed(f"{call}: got {type(got).__name__} {show(got)}, expected an array {why}")
    if got.shape != expected.shape:
        raise Failed(
            f"{call}: got shape {got.shape}, expected shape {expected.shape} "
            f"({show(expected)}) {why}"
        )
    if not same(got, expected, exact):
        bad = np.unravel_index(int(np.argmax(~np.isclose(got, expected, TOL, 1e-12))), got.shape)
        where = f" (first difference at index {tuple(int(i) for i in bad)}: "
        where += f"{show(float(got[bad]))} instead of {show(float(expected[bad]))})"
        raise Failed(f"{call}: got {show(got)}, expected {show(expected)}{where} {why}")


def close(got: Any, expected: float) -> bool:
    try:
        return math.isclose(float(got), expected, rel_tol=TOL, abs_tol=1e-12)
    except (TypeError, ValueError):
        return False


def expect_slopes(call: str, got: Any, numeric: Slopes, of: str) -> None:
    """`got` agrees with the central differences of `of` wherever that function is smooth
    (after `expect_array` has checked its type and shape)."""
    bad = numeric.disagreement(np.asarray(got, dtype=float))
    if bad is not None:
        raise Failed(
            f"{call}: at index {bad} got {show(float(np.asarray(got)[bad]))}, but central "
            f"differences of {of} give {show(float(numeric.central[bad]))}"
        )
