"""Dims and shapes as PyTorch takes them: ``dim=``/``keepdim=`` beside NumPy's
``axis=``/``keepdims=``, negative dims, ``reshape(2, 3)`` as ``reshape((2, 3))``; and
`ShapeError`, raised when two operands' shapes do not fit together."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any, Union

Axis = Union[int, Sequence[int], None]


class ShapeError(ValueError):
    """Two operands of an op have shapes that do not fit together."""


def _axes(axis: Axis, ndim: int) -> tuple[int, ...]:
    """Normalise an axis argument (None, an int-like or a sequence) to a tuple of
    non-negative ints; None and () mean every dimension, as PyTorch."""
    if axis is None:
        return tuple(range(ndim))
    if not isinstance(axis, (tuple, list)):
        axis = (axis,)
    if not axis:
        return tuple(range(ndim))
    result = []
    for a in axis:
        d = _dim(a, ndim)
        if d in result:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        if ndim:  # a 0-d tensor accepts axis 0 or -1 (as PyTorch) and has nothing to reduce
            result.append(d)
    return tuple(result)


def _dim(dim: Any, ndim: int) -> int:
    """One dimension as a non-negative int (NumPy integers and one-element integer tensors
    too), checked as PyTorch checks it; a 0-d tensor accepts 0 and -1."""
    d = operator.index(dim)
    size = max(ndim, 1)
    if not -size <= d < size:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-size}, {size - 1}], "
            f"but got {d})"
        )
    return d % size


def _torch_names(axis: Any, keepdims: bool, dim: Any, keepdim: bool | None) -> tuple:
    """Accept PyTorch's ``dim=``/``keepdim=`` for NumPy's ``axis=``/``keepdims=``."""
    if dim is not None:
        if axis is not None:
            raise TypeError("give the dimensions as axis= or as dim=, not both")
        axis = dim
    return axis, keepdims if keepdim is None else keepdim


def _kept_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _reduced_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def _shape_arg(shape: tuple) -> tuple[int, ...]:
    """Accept both ``f(2, 3)`` and ``f((2, 3))``, as PyTorch does."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(n) for n in shape)
