"""The tape's instructions: an `Entry` per recorded call, `_Ref` for "the array in slot n".

A tape (`tape.Tape`) numbers every array a step touches, its *slots*; an entry says which
function ran, on which slots (as `_Ref` markers inside its arguments) and constants, and
which slot holds its result. The helpers below walk such arguments: the slots they refer
to, the arrays they stand for now, a comparable form.

The tables say what the recorder knows about array calls: which ones NumPy and CuPy can
replay into an existing buffer (``out=``), which may give a view of their input, and
which give a shape that depends on the values (no fixed buffer can hold those).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

# operators and xp functions whose NumPy/CuPy form writes into ``out=``, bit for bit as the
# call without it: a replay computes them into the buffer the recording produced
_OUT_OPERATORS = {
    operator.add: "add",
    operator.sub: "subtract",
    operator.mul: "multiply",
    operator.truediv: "divide",
    operator.matmul: "matmul",
    operator.neg: "negative",
    operator.pos: "positive",
    operator.abs: "absolute",
    operator.invert: "invert",
    operator.eq: "equal",
    operator.ne: "not_equal",
    operator.lt: "less",
    operator.le: "less_equal",
    operator.gt: "greater",
    operator.ge: "greater_equal",
}
_OUT_FUNCTIONS = set(
    "abs add cos divide equal exp isfinite log log1p matmul max maximum min minimum multiply "
    "negative not_equal sin sqrt square subtract sum tanh".split()
)
_REDUCTIONS = {"sum": "add", "max": "maximum", "min": "minimum"}  # their ufuncs' reduce
_AXIS_ARGS = {"axis", "keepdims"}
_COPIES = {"asarray", "astype"}  # replayed as copyto(out, x): the same cast, into the buffer
_VIEWS = set(
    "T mT getitem reshape broadcast_to expand_dims permute_dims matrix_transpose squeeze".split()
)  # calls whose result may be a view of their first argument
_DATA_DEPENDENT = set(
    "nonzero argwhere flatnonzero extract compress unique_all unique_counts unique_inverse "
    "unique_values".split()
)  # result shapes that depend on the values: no fixed buffer can hold them
_METADATA = {"isdtype", "finfo", "iinfo", "result_type", "can_cast"}


@dataclass(frozen=True)
class _Ref:
    """In an entry's arguments: "the array in slot `slot`"."""

    slot: int


@dataclass
class Entry:
    """One recorded call: ``fn(*args, **kwargs)`` with `_Ref` markers for arrays.

    ``mode``: "into" (replayed with ``out=`` the result's buffer), "call" (called afresh,
    its result stored in the slot), "view" (a view of fixed buffers, made once), "mutate"
    (an in-place update), "read" (a value read into Python: a guard) or "optimizer".
    """

    name: str
    fn: Callable
    args: tuple
    kwargs: dict
    result: int | None
    mode: str
    value: Any = None  # what a "read" saw

    def describe(self) -> str:
        def show(v: Any) -> str:
            if isinstance(v, _Ref):
                return f"%{v.slot}"
            if isinstance(v, (tuple, list)):
                return "(" + ", ".join(show(x) for x in v) + ")"
            return repr(v)

        parts = [show(a) for a in self.args] + [f"{k}={show(v)}" for k, v in self.kwargs.items()]
        out = "" if self.result is None else f"%{self.result} = "
        return f"{self.mode:8} {out}{self.name}({', '.join(parts)})"


def _is_array(value: Any) -> bool:
    """A backend array (NumPy scalars count as constants, not arrays)."""
    return isinstance(value, np.ndarray) or (
        hasattr(value, "__array_namespace__") and not isinstance(value, np.generic)
    )


def _resolve(template: Any, slots: list) -> Any:
    """A recorded argument with each `_Ref` replaced by the slot's current array."""
    kind = type(template)
    if kind is _Ref:
        return slots[template.slot]
    if kind is tuple or kind is list:
        return kind(_resolve(v, slots) for v in template)
    if kind is dict:
        return {k: _resolve(v, slots) for k, v in template.items()}
    return template


def _refs(template: Any) -> list[int]:
    """Every slot a recorded argument refers to."""
    if type(template) is _Ref:
        return [template.slot]
    if isinstance(template, (tuple, list)):
        return [s for v in template for s in _refs(v)]
    if isinstance(template, dict):
        return [s for v in template.values() for s in _refs(v)]
    return []


def _signature(template: Any) -> Any:
    """A comparable form of a recorded argument: slots by number, constants by repr."""
    if type(template) is _Ref:
        return ("%", template.slot)
    if isinstance(template, (tuple, list)):
        return (type(template).__name__, tuple(_signature(v) for v in template))
    if isinstance(template, dict):
        return ("dict", tuple((k, _signature(v)) for k, v in template.items()))
    return (type(template).__name__, repr(template))


def _same_value(a: Any, b: Any) -> bool:
    """Whether two values read into Python are identical (bitwise for arrays, NaN == NaN)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    return type(a) is type(b) and repr(a) == repr(b)


def _out_namespace(name: str) -> Any:
    """The library whose functions take ``out=`` (None: every call is replayed afresh)."""
    if name == "numpy":
        return np
    if name == "cupy":  # untested here: no GPU
        import cupy

        return cupy
    return None


def _entry_signature(e: Entry) -> Any:
    """What must match between two recordings (the optimizer is compared by identity)."""
    return _signature(e.args[1:] if e.mode == "optimizer" else (e.args, e.kwargs))


def _flat(value: Any) -> list:
    if isinstance(value, (tuple, list)):
        return [x for v in value for x in _flat(v)]
    if isinstance(value, dict):
        return [x for v in value.values() for x in _flat(v)]
    return [value]


def _renamed(template: Any, renamed: dict[int, int]) -> Any:
    """A recorded argument with the slots in `renamed` replaced."""
    if type(template) is _Ref:
        return _Ref(renamed.get(template.slot, template.slot))
    if isinstance(template, (tuple, list)):
        return type(template)(_renamed(v, renamed) for v in template)
    if isinstance(template, dict):
        return {k: _renamed(v, renamed) for k, v in template.items()}
    return template


def _mutated_slots(e: Entry) -> list[int]:
    """The slots an in-place entry writes: its ``out=``, else its first argument."""
    if e.mode != "mutate":
        return []
    out = e.kwargs.get("out")
    return _refs(out if out is not None else e.args[:1])


def _direct_reduction(xp: Any, name: Any, args: tuple, kwargs: dict) -> Callable | None:
    """``np.sum(x, axis)`` is ``np.add.reduce(x, axis)`` behind ~1.5 µs of Python: that
    reduce, to call directly (``out=`` optional), or None (not NumPy, other arguments)."""
    if name not in _REDUCTIONS or xp is not np or len(args) != 1 or not set(kwargs) <= _AXIS_ARGS:
        return None
    reduce = getattr(np, _REDUCTIONS[name]).reduce
    axes = {"axis": kwargs.get("axis"), "keepdims": kwargs.get("keepdims", False)}
    return lambda source, *, out=None, **_: reduce(source, out=out, **axes)
