"""A `Tensor` as Python and NumPy values: ``numpy()``, ``item()``, ``tolist()``, ``float(t)``,
truth values, ``t in ...``, the dtype shortcuts (``.float()``, ``.long()``, ...) and the repr.

One of the classes `Tensor` is made of (_tensor.py); nothing here records a graph.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Union

import numpy as np

from . import backend
from .dtypes import _dtype_str, get_default_dtype

if TYPE_CHECKING:  # annotations only: this module is one of the classes Tensor is made of
    from ._tensor import Tensor

Number = Union[int, float]


class Conversions:
    """`Tensor`'s conversions to Python and NumPy values."""

    __slots__ = ()

    def numpy(self) -> np.ndarray:
        """The values as a NumPy array (copied from the GPU when needed)."""
        return backend.active.to_numpy(self.data)

    def item(self) -> Number:
        """The value of a one-element tensor as a Python number."""
        if self.numel() != 1:
            raise ValueError(
                f"item() needs a tensor with one element, this one has shape {self.shape}"
            )
        return self.numpy().item()

    def tolist(self) -> Any:
        return self.numpy().tolist()

    def __float__(self) -> float:
        return float(self._scalar())

    def __int__(self) -> int:
        return int(self._scalar())

    def __bool__(self) -> bool:
        """Truth of a one-element tensor (``if loss < 0.5:``); more elements are ambiguous."""
        if self.numel() != 1:
            amount = "no values" if self.numel() == 0 else "more than one value"
            raise RuntimeError(f"Boolean value of Tensor with {amount} is ambiguous")
        return bool(self.numpy().item())

    def __index__(self) -> int:
        """A one-element integer tensor works as an index or an axis (``x[Tensor(1)]``)."""
        if self.numel() != 1 or not backend.active.xp.isdtype(self.dtype, "integral"):
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.numpy().item())

    def _scalar(self) -> Number:
        if self.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.numpy().item()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """``np.asarray(t)`` gives the values (a host copy on the GPU)."""
        values = self.numpy()
        return values if dtype is None else values.astype(dtype)

    def __contains__(self, element: Any) -> bool:
        """``v in t``: whether some element equals `v`, as PyTorch."""
        return bool(backend.active.xp.any((self == element).data))

    def float(self) -> Tensor:
        return self.to("float32")

    def double(self) -> Tensor:
        return self.to("float64")

    def long(self) -> Tensor:
        return self.to("int64")

    def int(self) -> Tensor:
        return self.to("int32")

    def bool(self) -> Tensor:
        return self.to("bool")

    def __repr__(self) -> str:
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(")
        extras = []
        name = _dtype_str(self.dtype)
        if name not in (get_default_dtype(), "int64", "bool"):
            extras.append(f"dtype={name}")
        if backend.active.name != "numpy":
            extras.append(f"backend={backend.active.name!r}")
        if self._op:
            extras.append(f"grad_fn=<{self._op}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"
