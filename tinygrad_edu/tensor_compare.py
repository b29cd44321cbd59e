"""Comparisons of a `Tensor` (``==``, ``<``, ...): bool tensors, with no gradient (as
PyTorch). ``==`` is elementwise, so `Tensor` keeps ``object.__hash__`` for sets and dicts.

One of the classes `Tensor` is made of (_tensor.py).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .tensor_base import TensorBase, _data

if TYPE_CHECKING:  # annotations only: this module is one of the classes Tensor is made of
    from ._tensor import Tensor


class Comparisons(TensorBase):
    """`Tensor`'s comparison operators."""

    __slots__ = ()

    # --- comparisons (not differentiable) -----------------------------------------------
    def _compare(self, other: Any, op: Callable) -> Tensor:
        return self._wrap(op(self.data, _data(other) if isinstance(other, TensorBase) else other))

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, operator.eq)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, operator.ne)

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, operator.lt)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, operator.le)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, operator.gt)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, operator.ge)
