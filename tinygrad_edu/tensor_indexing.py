"""Reading a `Tensor` through an index (``x[1:, [0, 2]]``, ``x[mask]``), PyTorch's and
NumPy's indexing; the gradient lands where each element was read (scatter-add when an
integer array reads an element twice). The helpers also serve writes (tensor_inplace.py).

One of the classes `Tensor` is made of (_tensor.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from . import autograd, backend
from .tensor_base import TensorBase

if TYPE_CHECKING:  # annotations only: this module is one of the classes Tensor is made of
    from ._tensor import Tensor


class Indexing(TensorBase):
    """`Tensor`'s ``__getitem__``."""

    __slots__ = ()

    def __getitem__(self, index: Any) -> Tensor:
        xp = backend.active.xp
        index = _index_data(index)
        select = _selector(index)
        data = select(self.data)
        if not (autograd.is_grad_enabled() and self.requires_grad):
            return self._wrap(data)
        shape, dtype = self.data.shape, self.dtype
        if not _is_basic_index(index):
            # integer arrays or a boolean mask: find which element of x each output element
            # came from (select from an array of positions the same way), then scatter-add
            size = math.prod(shape)
            positions = xp.reshape(select(xp.reshape(xp.arange(size), shape)), (-1,))

            def scatter_add(g):
                # d x[idx]/dx: each output element's gradient adds up at the element it read
                flat = _sum_at(positions, xp.reshape(g, (-1,)), size)
                return xp.reshape(xp.astype(flat, dtype), shape)

            return self._unary("getitem", data, scatter_add)
        # setitem takes no None (new axes): write through the index without them
        target = tuple(p for p in index if p is not None)
        target_shape = self.data[target].shape

        def scatter(g):
            # d x[idx]/dx: the gradient lands at idx, zero elsewhere
            full = xp.zeros(shape, dtype=dtype)
            full[target] = xp.reshape(g, target_shape)
            return full

        return self._unary("getitem", data, scatter)


def _index_data(index: Any) -> Any:
    """Replace tensors, lists and NumPy arrays inside an index by backend arrays (NumPy
    integers and one-element integer tensors by ints); make NumPy's implicit trailing
    ``...`` explicit, as the array API standard asks."""
    parts = tuple(map(_index_part, index if isinstance(index, tuple) else (index,)))
    if _is_basic_index(parts) and Ellipsis not in parts:
        parts = parts + (Ellipsis,)
    return parts


def _is_basic_index(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, slice)) or p is None or p is Ellipsis for p in parts)


def _index_part(part: Any) -> Any:
    if isinstance(part, TensorBase):
        if part.ndim == 0 and backend.active.xp.isdtype(part.dtype, "integral"):
            return int(part)
        return part.data
    if isinstance(part, np.integer):
        return int(part)
    if isinstance(part, (list, np.ndarray)):
        array = backend.active.asarray(part)
        if math.prod(array.shape) == 0 and not backend.active.xp.isdtype(array.dtype, "bool"):
            # x[[]]: an empty list is a float array to NumPy; PyTorch reads it as no positions
            return backend.active.xp.astype(array, backend.active.xp.int64)
        return array
    return part


def _selector(index: tuple) -> Callable[[Any], Any]:
    """``array[index]``; ``take`` for one integer array on the first axis (``x[rows]``),
    which the array API standard spells that way (its indexing mixes integer arrays only
    with integers)."""
    parts = [p for p in index if p is not Ellipsis]
    first = parts[0] if len(parts) == 1 else None
    xp = backend.active.xp
    if getattr(first, "ndim", 0) == 1 and xp.isdtype(first.dtype, "integral"):
        return lambda array: xp.take(array, first, axis=0)
    return lambda array: array[index]


def _sum_at(positions: Any, values: Any, size: int) -> Any:
    """Scatter-add with array-API functions only: ``out[p] = sum(values[positions == p])``.

    Sort by position, take a running sum (in float64, so no precision is lost), and
    for every p subtract the running sums at the two ends of its run (binary search).
    """
    xp = backend.active.xp
    order = xp.argsort(positions)
    sorted_positions = xp.take(positions, order)
    running = xp.cumulative_sum(xp.astype(xp.take(values, order), xp.float64), include_initial=True)
    every = xp.arange(size, dtype=sorted_positions.dtype)
    first = xp.searchsorted(sorted_positions, every, side="left")
    after = xp.searchsorted(sorted_positions, every, side="right")
    return xp.take(running, after) - xp.take(running, first)
