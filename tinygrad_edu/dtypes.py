"""Dtypes: PyTorch's names, the default float dtype, and PyTorch's promotion rules.

The names at the package level (``tg.float32``, ``tg.int64``, ``tg.bool``, ...) are NumPy
dtypes, which every part of the engine accepts wherever a dtype goes
(``Tensor(data, dtype=tg.float64)``, ``t.to(tg.int64)``), and on NumPy they compare equal
to a tensor's ``.dtype`` (``t.dtype == tg.float32``).
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from . import backend

float32 = np.dtype("float32")
float64 = np.dtype("float64")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
bool = np.dtype("bool")  # noqa: A001 (tg.bool, as torch.bool)

__all__ = ["bool", "float32", "float64", "int32", "int64"]

_default = "float32"


def set_default_dtype(dtype: Any) -> None:
    """Set the dtype of new floating tensors ("float32", the default, or "float64")."""
    global _default
    name = backend._dtype_name(dtype)
    if name not in ("float32", "float64"):
        raise TypeError(f"default dtype must be float32 or float64, got {dtype!r}")
    _default = name


def get_default_dtype() -> str:
    """The dtype name of new floating tensors."""
    return _default


_TORCH_TYPE_NAMES = {
    "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
    "bool": "Bool",
}  # fmt: skip


def torch_type_name(dtype: Any) -> str:
    """PyTorch's name of a dtype in its messages ("Long" for int64, "Bool", ...)."""
    name = backend._dtype_name(dtype)
    return _TORCH_TYPE_NAMES.get(name, name)


# --- PyTorch's promotion -------------------------------------------------------------------------
# Operands are ranked: tensors with dimensions (2), then 0-d tensors (1), then Python/NumPy
# numbers (0). The result has the highest kind (bool < integer < float) among all operands, but a
# lower-ranked operand changes the dtype only when it brings a higher kind: float32 * 0-d float64
# stays float32, int tensor * 2.5 is the default float dtype, bool tensor + 1 is int64.


def _kind(name: str) -> int:
    return 0 if name == "bool" else 2 if name.startswith("float") else 1


def promote_names(first: str | None, second: str | None) -> str | None:
    """Two operands of the same rank: the higher kind wins, else NumPy's promotion."""
    if first is None or second is None:
        return first or second
    if _kind(first) != _kind(second):
        return first if _kind(first) > _kind(second) else second
    return np.promote_types(first, second).name


def _combine(higher: str | None, lower: str | None) -> str | None:
    """PyTorch's combine_categories: a lower rank matters only through a higher kind."""
    if higher is None or lower is None:
        return higher or lower
    if _kind(higher) == 2:
        return higher
    if _kind(higher) == 0 or _kind(lower) == 2:
        return promote_names(higher, lower)
    return higher


def combine_ranks(ranks: dict[int, str | None]) -> str:
    """The result dtype's name from each rank's promoted dtype name (absent: no operand)."""
    name = _combine(ranks.get(2), _combine(ranks.get(1), ranks.get(0)))
    assert name is not None, "an op has at least one operand"
    return name


def number_dtype(value: Any) -> str:
    """The dtype a Python number brings: bool, int64, or the default float dtype."""
    if isinstance(value, builtins.bool):
        return "bool"
    return "int64" if isinstance(value, int) else _default


# --- the engine's dtype checks -------------------------------------------------------------------


def _is_float(array: Any) -> bool:
    return backend.active.xp.isdtype(array.dtype, "real floating")


def _dtype_str(dtype: Any) -> str:
    return backend._dtype_name(dtype)


def _floating_only(x: Any, kernel: str) -> Any:
    """`x` if floating; PyTorch's error for ops it defines on floats only (leaky_relu and
    gelu of integer or bool tensors)."""
    if not _is_float(x):
        raise NotImplementedError(_not_implemented(kernel, x.dtype))
    return x


def _not_implemented(kernel: str, dtype: Any) -> str:
    """PyTorch's message for an op that has no kernel for a dtype, word for word."""
    return f"\"{kernel}\" not implemented for '{torch_type_name(dtype)}'"


def _floating(x: Any) -> Any:
    """`x` itself if floating, else converted to the default float dtype (as PyTorch's
    exp, log, sqrt, tanh, sigmoid, ... of integer or bool tensors)."""
    if _is_float(x):
        return x
    return backend.active.xp.astype(x, backend.active.dtype(get_default_dtype()))
