"""New tensors by shape, PyTorch's factories: ``zeros``, ``ones``, ``full``, ``*_like``,
``randn``, ``rand``, ``uniform``, ``arange`` (also at the package level: ``tg.zeros``).

One of the classes `Tensor` is made of (_tensor.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Union

from . import backend, rng
from .dims import (
    _shape_arg,
)
from .dtypes import get_default_dtype

if TYPE_CHECKING:  # annotations only: this module is one of the classes Tensor is made of
    from ._tensor import Tensor

Number = Union[int, float]


class Factories:
    """`Tensor`'s factories, as class methods (``cls.zeros(2, 3)``)."""

    __slots__ = ()

    @classmethod
    def zeros(
        cls, *shape: int | Sequence[int], dtype: Any = None, requires_grad: bool = False
    ) -> Tensor:
        return _factory(cls, "zeros", shape, dtype, requires_grad)

    @classmethod
    def ones(
        cls, *shape: int | Sequence[int], dtype: Any = None, requires_grad: bool = False
    ) -> Tensor:
        return _factory(cls, "ones", shape, dtype, requires_grad)

    @classmethod
    def full(
        cls,
        shape: Sequence[int],
        fill_value: Number,
        dtype: Any = None,
        requires_grad: bool = False,
    ) -> Tensor:
        b = backend.active
        if dtype is None:  # as PyTorch: the fill value's kind picks the dtype
            kinds = {bool: "bool", int: "int64"}
            dtype = kinds.get(type(fill_value), get_default_dtype())
        data = b.xp.full(_shape_arg((shape,)), fill_value, dtype=b.dtype(dtype))
        return cls._wrap(data).requires_grad_(requires_grad)

    @classmethod
    def zeros_like(cls, other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        return cls.zeros(other.shape, dtype=dtype or other.dtype, requires_grad=requires_grad)

    @classmethod
    def ones_like(cls, other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        return cls.ones(other.shape, dtype=dtype or other.dtype, requires_grad=requires_grad)

    @classmethod
    def randn(
        cls, *shape: int | Sequence[int], dtype: Any = None, requires_grad: bool = False
    ) -> Tensor:
        """Standard normal samples from the global generator (see `manual_seed`)."""
        values = rng.standard_normal(_shape_arg(shape))
        return cls(values, requires_grad=requires_grad, dtype=dtype or get_default_dtype())

    @classmethod
    def rand(
        cls, *shape: int | Sequence[int], dtype: Any = None, requires_grad: bool = False
    ) -> Tensor:
        """Uniform samples in [0, 1) from the global generator (see `manual_seed`)."""
        values = rng.random(_shape_arg(shape))
        return cls(values, requires_grad=requires_grad, dtype=dtype or get_default_dtype())

    @classmethod
    def uniform(
        cls,
        *shape: int | Sequence[int],
        low: float = 0.0,
        high: float = 1.0,
        dtype: Any = None,
        requires_grad: bool = False,
    ) -> Tensor:
        """Uniform samples in [low, high) from the global generator."""
        values = rng.uniform(low, high, _shape_arg(shape))
        return cls(values, requires_grad=requires_grad, dtype=dtype or get_default_dtype())

    @classmethod
    def arange(
        cls, start: Number, end: Number | None = None, step: Number = 1, dtype: Any = None
    ) -> Tensor:
        """Evenly spaced values in [start, end); integers unless a bound is a float."""
        if end is None:
            start, end = 0, start
        b = backend.active
        if dtype is None and any(isinstance(v, float) for v in (start, end, step)):
            dtype = get_default_dtype()
        return cls._wrap(b.xp.arange(start, end, step, dtype=b.dtype(dtype)))


def _factory(cls: Any, kind: str, shape: tuple, dtype: Any, requires_grad: bool) -> Tensor:
    b = backend.active
    data = getattr(b.xp, kind)(_shape_arg(shape), dtype=b.dtype(dtype or get_default_dtype()))
    return cls._wrap(data).requires_grad_(requires_grad)
