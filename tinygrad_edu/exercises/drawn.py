"""Inputs drawn by hypothesis: many shapes and values, the same ones at every grading.

A check states what it tests at (a strategy: shapes with size-1 and empty dimensions,
broadcast pairs, values at and near kinks) and a few fixed cases that a student's first
mistake meets at once, with round numbers in its message. `for_all` runs the fixed cases in
order, then `EXAMPLES` drawn ones; on a failure hypothesis shrinks the input to the simplest
one that still fails, and that is the case the message names. Drawing is derandomized (the
seed is a hash of the check), so the same workspace gets the same grade every time, on the
same versions of Python and hypothesis.

hypothesis is a dependency of grading only (the ``exercises`` extra): `runner` imports the
checks, and so this module, when it grades.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import HealthCheck, Verbosity, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

EXAMPLES = 60  # drawn cases per check, after the fixed ones

GRADING = settings(
    derandomize=True,
    database=None,  # nothing written into the workspace or the current folder
    max_examples=EXAMPLES,
    deadline=None,  # the runner's time limit is the one limit
    verbosity=Verbosity.quiet,
    report_multiple_bugs=False,  # one failure, the simplest: what the message names
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


def for_all(
    strategy: st.SearchStrategy, check: Callable[[Any], None], fixed: Sequence = ()
) -> None:
    """``check(case)`` for every case of `fixed`, in order, then for cases drawn from
    `strategy`; the first failure (shrunk when drawn) propagates."""

    def one(case: Any) -> None:
        check(case)

    run = given(strategy)(one)
    for case in reversed(fixed):
        run = example(case)(run)
    GRADING(run)()


def floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 0) -> st.SearchStrategy:
    """Shapes of up to `max_dims` dimensions of 0 to 4, so size-1 and empty ones among them."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=4)


@st.composite
def broadcast_pairs(draw: Callable) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(operand shape, the shape it is broadcast to): dimensions added in front, size-1
    dimensions stretched (to 0 as well)."""
    shape = draw(shapes(max_dims=3))
    lead = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    stretched = tuple(draw(st.integers(0, 4)) if n == 1 else n for n in shape)
    return shape, lead + stretched


seeds = st.integers(0, 2**32 - 1)
"""A seed for numpy's generator: the values of a case, drawn cheaply once its shape is."""
