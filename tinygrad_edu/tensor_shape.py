"""Shape ops of a `Tensor` (reshape, flatten, squeeze, permute, transpose, broadcast_to,
repeat): each moves the values and its backward moves the gradient back.

One of the classes `Tensor` is made of (_tensor.py); indexing stays there (it scatters).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Union

from . import ops
from .dims import (
    Axis,
    ShapeError,
    _axes,
    _dim,
    _shape_arg,
)

if TYPE_CHECKING:  # annotations only: this module is one of the classes Tensor is made of
    from ._tensor import Tensor

Number = Union[int, float]


class ShapeOps:
    """`Tensor`'s shape ops; ``view`` is ``reshape`` and ``expand`` is ``broadcast_to``."""

    __slots__ = ()

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        new_shape = _shape_arg(shape)
        old_shape = self.data.shape
        try:
            data = ops.RESHAPE.forward(self.data, new_shape)
        except ValueError:
            raise ShapeError(
                f"reshape: cannot view shape {self.shape} ({self.numel()} elements) as {new_shape}"
            ) from None
        backward = ops.RESHAPE.backward[0]
        return self._unary("reshape", data, lambda g: backward(g, old_shape))

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge dimensions start_dim..end_dim into one (PyTorch's semantics)."""
        start, end = _dim(start_dim, self.ndim), _dim(end_dim, self.ndim)
        if self.ndim == 0:
            return self.reshape(1)
        if start > end:
            raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
        if start == end:  # no dimensions to merge: the input itself, as torch.flatten
            return self
        shape = self.shape
        merged = math.prod(shape[start : end + 1])
        return self.reshape(shape[:start] + (merged,) + shape[end + 1 :])

    def unsqueeze(self, dim: int) -> Tensor:
        """A new dimension of size 1 at `dim` (in [-ndim - 1, ndim])."""
        d = _dim(dim, self.ndim + 1)
        return self.reshape(self.shape[:d] + (1,) + self.shape[d:])

    def squeeze(self, dim: Axis = None) -> Tensor:
        """Drop dimensions of size 1 (all, or those of `dim` that have size 1, as PyTorch)."""
        axes = range(self.ndim) if dim is None else _axes(dim, self.ndim)
        drop = {a for a in axes if self.shape[a] == 1}
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if i not in drop))

    def permute(self, *dims: int | Sequence[int]) -> Tensor:
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        if len(dims) != self.ndim:
            raise RuntimeError(
                "permute(): number of dimensions in the tensor input does not match the "
                "length of the desired ordering of dimensions i.e. input.dim() = "
                f"{self.ndim} is not equal to len(dims) = {len(dims)}"
            )
        order = tuple(_dim(d, self.ndim) for d in dims)
        if len(set(order)) != len(order):
            raise RuntimeError("permute(): duplicate dims are not allowed.")
        inverse = tuple(sorted(range(len(order)), key=order.__getitem__))
        backward = ops.PERMUTE.backward[0]  # permute the gradient back: the inverse order
        data = ops.PERMUTE.forward(self.data, order)
        return self._unary("permute", data, lambda g: backward(g, inverse))

    def transpose(self, dim0: int = -2, dim1: int = -1) -> Tensor:
        """Swap two dimensions (the last two by default)."""
        order = list(range(self.ndim))
        dim0, dim1 = _dim(dim0, self.ndim), _dim(dim1, self.ndim)
        if self.ndim:
            order[dim0], order[dim1] = order[dim1], order[dim0]
        return self.permute(order)

    @property
    def T(self) -> Tensor:
        """All dimensions reversed (the matrix transpose for 2-D tensors)."""
        return self.permute(tuple(reversed(range(self.ndim))))

    @property
    def mT(self) -> Tensor:
        """The last two dimensions swapped (a batch of matrices transposed)."""
        if self.ndim < 2:
            raise RuntimeError(
                "tensor.mT is only supported on matrices or batches of matrices. "
                f"Got {self.ndim}-D tensor."
            )
        return self.transpose(-2, -1)

    def t(self) -> Tensor:
        """The transpose of a tensor with at most 2 dimensions."""
        if self.ndim > 2:
            raise RuntimeError(
                f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D"
            )
        return self.transpose(0, 1) if self.ndim == 2 else self

    def broadcast_to(self, *shape: int | Sequence[int]) -> Tensor:
        """Repeat size-1 dimensions (no copy); -1 keeps a dimension's size, as PyTorch."""
        target = list(_shape_arg(shape))
        lead = len(target) - self.ndim
        for i, n in enumerate(target):
            if n == -1:
                if i < lead:
                    raise RuntimeError(
                        f"The expanded size of the tensor (-1) isn't allowed in a leading, "
                        f"non-existing dimension {i}"
                    )
                target[i] = self.shape[i - lead]
        target = tuple(target)
        try:
            data = ops.BROADCAST_TO.forward(self.data, target)
        except ValueError:
            raise ShapeError(
                f"broadcast_to: cannot broadcast shape {self.shape} to {target}"
            ) from None
        # the gradient passes on; `_accumulate` sums it over the broadcast dimensions
        return self._unary("broadcast_to", data, ops.BROADCAST_TO.backward[0])

    def repeat(self, *sizes: int | Sequence[int]) -> Tensor:
        """Tile the tensor `sizes[d]` times along each dimension d, as PyTorch."""
        sizes = _shape_arg(sizes)
        if len(sizes) < self.ndim:
            raise RuntimeError(
                "Number of dimensions of repeat dims can not be smaller than number of "
                "dimensions of tensor"
            )
        shape = (1,) * (len(sizes) - self.ndim) + self.shape
        # (1, s0, 1, s1, ..) broadcast to (r0, s0, r1, s1, ..), merged to (r0 s0, r1 s1, ..):
        # built from differentiable shape ops, so the gradient sums over the copies
        spread = tuple(v for n in shape for v in (1, n))
        tiled = tuple(v for r, n in zip(sizes, shape) for v in (r, n))
        merged = tuple(r * n for r, n in zip(sizes, shape))
        return self.reshape(spread).broadcast_to(tiled).reshape(merged)

    view = reshape
    expand = broadcast_to


def _same(g: Any) -> Any:
    return g
