"""Hypothesis strategies shared by the engine tests: small shapes, float64 arrays kept away
from kinks and domain edges, broadcastable pairs, reduction axes and basic indices.

Sizes stay small (at most `MAX_ELEMENTS` elements) because gradcheck perturbs every
element of every input twice.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg

MAX_ELEMENTS = 24

# @given tests that use the function-scoped `xp_backend` fixture: the fixture only picks
# the backend, which stays the same for every example, so sharing it is safe.
with_fixtures = settings(
    suppress_health_check=[
        *settings.default.suppress_health_check,
        HealthCheck.function_scoped_fixture,
    ]
)


def floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


ANY = floats(-3, 3)
POSITIVE = floats(0.1, 3)


def away_from_zero(limit: float = 3.0, gap: float = 0.1) -> st.SearchStrategy[float]:
    """Values with gap <= |x| <= limit: clear of the kinks of relu/abs and of poles at 0."""
    return st.one_of(floats(-limit, -gap), floats(gap, limit))


def grid(offset: float = 0.0, step: float = 0.05, count: int = 60) -> st.SearchStrategy[float]:
    """Values ``offset + i * step``: two grids with offsets that differ by less than `step`
    never meet, so comparisons (max, maximum, clip bounds) have no ties, and any two
    values are at least a step apart, far more than gradcheck's eps."""
    return st.integers(-count, count).map(lambda i: offset + i * step)


def shapes(
    min_dims: int = 0, max_dims: int = 3, max_side: int = 3
) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes with 0-d and size-1 dimensions, at most MAX_ELEMENTS elements."""
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side
    ).filter(lambda s: math.prod(s) <= MAX_ELEMENTS)


def arrays(
    shape: tuple[int, ...] | st.SearchStrategy, elements=ANY, unique: bool = False
) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, shape, elements=elements, unique=unique)


def broadcastable_shapes(num_shapes: int = 2, max_dims: int = 3) -> st.SearchStrategy:
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=0, max_dims=max_dims, min_side=1, max_side=3
    ).filter(lambda b: math.prod(b.result_shape) <= MAX_ELEMENTS)


@st.composite
def broadcast_pair(draw, first=ANY, second=ANY) -> tuple[np.ndarray, np.ndarray]:
    """Two arrays of mutually broadcastable shapes (either may be 0-d or broadcast)."""
    a_shape, b_shape = draw(broadcastable_shapes()).input_shapes
    return draw(arrays(a_shape, first), label="a"), draw(arrays(b_shape, second), label="b")


@st.composite
def reduction_axes(draw, ndim: int):
    """An ``axis`` argument: None, an int (maybe negative) or a tuple of distinct axes."""
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return None
    if ndim == 0:  # PyTorch accepts dim 0 or -1 (and no dims) for a 0-d tensor
        return draw(st.sampled_from([0, -1, (), (0,)]))
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    axes = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    negative = draw(st.lists(st.booleans(), min_size=len(axes), max_size=len(axes)))
    return tuple(a - ndim if neg else a for a, neg in zip(axes, negative))


def numpy_axis(axis, ndim: int):
    """The NumPy axis argument for a PyTorch-style one (0-d tensors accept 0 and -1)."""
    return () if ndim == 0 and axis is not None else axis


@st.composite
def basic_indices(draw, shape: tuple[int, ...]):
    """An index of integers, slices, None and Ellipsis, in bounds (as the array API asks)."""

    def part(n: int):
        kind = draw(st.sampled_from(["int", "slice", "all"]))
        if kind == "int":
            return draw(st.integers(-n, n - 1))
        if kind == "all":
            return slice(None)
        bound = st.none() | st.integers(-n, n - 1)
        return slice(draw(bound), draw(bound), draw(st.sampled_from([None, 1, 2, -1, -2])))

    ndim = len(shape)
    if draw(st.booleans()):  # leading parts, then ... for the rest
        front = draw(st.integers(0, ndim))
        back = draw(st.integers(0, ndim - front))
        parts = [part(n) for n in shape[:front]] + [Ellipsis]
        parts += [part(n) for n in shape[ndim - back :]]
    else:  # leading parts only (NumPy's implicit trailing ...)
        parts = [part(n) for n in shape[: draw(st.integers(0, ndim))]]
    for _ in range(draw(st.integers(0, 2))):
        parts.insert(draw(st.integers(0, len(parts))), None)
    if len(parts) == 1 and draw(st.booleans()):
        return parts[0]
    return tuple(parts)


def leaf(array: np.ndarray) -> tg.Tensor:
    """A float64 leaf tensor on the active backend that requires gradients."""
    return tg.Tensor(array, dtype="float64", requires_grad=True)
