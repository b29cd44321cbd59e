"""`TensorBase`: what every `Tensor` is, so that the classes `Tensor` is made of (the
tensor_*.py modules) recognise a tensor operand without importing _tensor.py, which
imports them; and the two ways they read an operand that may be a tensor or a number."""

from __future__ import annotations

from typing import Any, Union

Number = Union[int, float]
"""A plain operand: Python's int or float (bool is an int)."""


class TensorBase:
    """The base of `Tensor` and of the classes it is made of; it holds nothing."""

    __slots__ = ()


def _data(value: Any) -> Any:
    return value.data if isinstance(value, TensorBase) else value


def _plain(value: Any) -> Any:
    """A Tensor's values cut from the graph; numbers unchanged (for in-place updates)."""
    return value.detach() if isinstance(value, TensorBase) else value
