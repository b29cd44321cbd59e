"""Changing a `Tensor` in place (``x[i] = v``, ``add_``, ``+=``, ...) with PyTorch's rule:
not on a leaf that requires grad while the graph is recorded, nor on a tensor whose
values a recorded op still needs.

One of the classes `Tensor` is made of (_tensor.py).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from . import autograd, backend
from .tensor_base import Number, TensorBase, _data, _plain

if TYPE_CHECKING:  # annotations only: this module is one of the classes Tensor is made of
    from ._tensor import Tensor
from .tensor_indexing import _index_data


class InPlace(TensorBase):
    """`Tensor`'s in-place ops."""

    __slots__ = ()

    # --- in place (PyTorch's rule: not on a leaf that requires grad, outside no_grad) ------
    def _write(self, index: Any, values: Any) -> Tensor:
        """Store `values` at `index` of this tensor's own array."""
        if autograd.is_grad_enabled() and self.requires_grad:
            if self.is_leaf:
                raise RuntimeError(
                    "a leaf Variable that requires grad is being used in an in-place "
                    "operation. (Update parameters under `with tg.no_grad():`, e.g. "
                    "`p -= lr * p.grad`, or write to `p.data`.)"
                )
            raise RuntimeError(
                "in-place change of a tensor that is part of a graph: tinygrad_edu keeps no "
                "version counters to make that safe; write it out of place (y = y + 1)"
            )
        values = _data(values)
        if isinstance(values, np.generic):
            values = values.item()
        elif not isinstance(values, (int, float)):
            values = backend.active.xp.astype(backend.active.asarray(values), self.dtype)
        self.data[index] = values
        return self

    def __setitem__(self, index: Any, value: Any) -> None:
        self._write(_index_data(index), value)

    def add_(self, other: Tensor | Number, alpha: Number = 1) -> Tensor:
        return self._write(..., self.detach().add(_plain(other), alpha).data)

    def sub_(self, other: Tensor | Number, alpha: Number = 1) -> Tensor:
        return self._write(..., self.detach().sub(_plain(other), alpha).data)

    def mul_(self, other: Tensor | Number) -> Tensor:
        return self._write(..., (self.detach() * _plain(other)).data)

    def div_(self, other: Tensor | Number) -> Tensor:
        return self._write(..., (self.detach() / _plain(other)).data)

    def zero_(self) -> Tensor:
        return self._write(..., 0)

    def fill_(self, value: Number) -> Tensor:
        return self._write(..., value)

    def copy_(self, source: Tensor | Any) -> Tensor:
        return self._write(..., source)

    def _augmented(self, other: Any, op: Callable) -> Tensor:
        """``t += x``: in place when no graph is recorded (as PyTorch), else a new tensor
        (PyTorch would change the graph node in place; here the name is rebound)."""
        records = autograd.is_grad_enabled() and (
            self.requires_grad or getattr(other, "requires_grad", False)
        )
        if not records or (self.is_leaf and self.requires_grad):
            return self._write(..., op(self.detach(), _plain(other)).data)
        return op(self, other)

    def __iadd__(self, other: Any) -> Tensor:
        return self._augmented(other, operator.add)

    def __isub__(self, other: Any) -> Tensor:
        return self._augmented(other, operator.sub)

    def __imul__(self, other: Any) -> Tensor:
        return self._augmented(other, operator.mul)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._augmented(other, operator.truediv)
