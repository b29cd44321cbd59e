"""`TensorBase`: what every `Tensor` is, so that the classes `Tensor` is made of (the
tensor_*.py modules) recognise a tensor operand without importing _tensor.py, which
imports them; the two ways they read an operand that may be a tensor or a number; and
``Tensor.data``'s getter and setter, one of the hook points of `tinygrad_edu.recording`."""

from __future__ import annotations

from typing import Any, Union

from . import recording

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


def _get_data(tensor: Any) -> Any:
    """``t.data``: the backend array.

    tg.compile records here (see `recording` and the `jit` package): while a step is
    recorded, the recorder hands out a stand-in that computes as the array does and records
    what is computed from it (``x @ w.T`` on arrays, which no ``xp`` function sees)."""
    recorder = recording.active
    return tensor._array if recorder is None else recorder.tensor_data(tensor._array)


def _set_data(tensor: Any, value: Any) -> None:
    """``t.data = value``; a Tensor (PyTorch's ``.data`` is one) gives its array.

    tg.compile records here too: a recorded step's ``p.data -= g`` stores the stand-in of
    the updated array, and the recorder gives back the real array it stands in for."""
    value = value._array if isinstance(value, TensorBase) else value
    recorder = recording.active
    tensor._array = value if recorder is None else recorder.stored_array(value)
