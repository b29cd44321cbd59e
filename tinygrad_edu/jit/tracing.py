"""The recording stand-ins: `Traced` for arrays, a recording namespace for ``xp``.

While `tg.compile` records a step, the engine computes with the backend's ``xp`` and with
array operators. The recorder (`tape.Tape`) replaces the first by `_RecordingNamespace`
(through the hook in `backend`), and hands out a `Traced` for every array: those the step
makes, and those it reads from tensors (through the hook in ``Tensor.data``). Both compute
exactly what the real arrays would, and append each call to the tape that is recording.

A value read back into Python (``float(loss)``, ``bool(ok)``) is recorded too, as a
*guard* that a replay checks; what the recorder cannot replay (an array method it does not
know, iterating over an array) marks the tape unusable, and the step runs eagerly.
Outside a recording, and in other threads, the stand-ins just forward to their arrays.
"""

from __future__ import annotations

import functools
import operator
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import backend, recording
from .._tensor import Tensor
from .calls import _METADATA, _OUT_OPERATORS

if TYPE_CHECKING:
    from .tape import Tape


def _active_tape() -> Tape | None:
    """The tape that this thread records, if any: while one thread records, the others
    (models trained in other threads) compute through the stand-ins untouched."""
    tape: Any = recording.active  # jit's recorder is the `Tape`: none other is switched on
    return tape if tape is not None and tape.thread == threading.get_ident() else None


def _operate(name: str, fn: Callable, args: tuple, kwargs: dict | None = None, into=None) -> Any:
    """``fn(*args)``, recorded when a recording is on."""
    kwargs = kwargs or {}
    tape = _active_tape()
    if tape is None:
        return fn(*_plain(args), **_plain(kwargs))
    return tape.call(name, fn, args, kwargs, into)


def _mutate(name: str, fn: Callable, args: tuple, kwargs: dict | None = None) -> None:
    kwargs = kwargs or {}
    tape = _active_tape()
    if tape is None:
        fn(*_plain(args), **_plain(kwargs))
    else:
        tape.mutate(name, fn, args, kwargs)


def _read(name: str, fn: Callable, traced: Traced) -> Any:
    tape = _active_tape()
    if tape is None:
        return fn(traced.array)
    return tape.read(name, fn, traced)


def _binary(op: Callable, name: str) -> tuple[Callable, Callable, Callable]:
    """``a op b``, ``b op a`` and ``a op= b`` for Traced (Tensors handle their own)."""
    into = op if op in _OUT_OPERATORS else None

    def forward(self, other):
        if isinstance(other, Tensor):
            return NotImplemented
        return _operate(name, op, (self, other), into=into)

    def reflected(self, other):
        if isinstance(other, Tensor):
            return NotImplemented
        return _operate(name, op, (other, self), into=into)

    inplace_op = getattr(operator, "i" + op.__name__.strip("_"), None)  # None for comparisons

    def inplace(self, other):
        tape = _active_tape()
        if tape is None:
            result = inplace_op(self.array, _plain(other))
            return self if result is self.array else result
        return tape.inplace(name, inplace_op, self, other)

    return forward, reflected, inplace


def _unary(op: Callable, name: str) -> Callable:
    """``op a`` (``-a``, ``abs(a)``) for Traced."""

    def method(self):
        return _operate(name, op, (self,), into=op)

    return method


class Traced:
    """Stands in for an array the recorded step created: computes as the array would, and
    appends each operation to its tape. Outside a recording it simply forwards (a stand-in
    kept in Python state, e.g. a tensor's ``.grad``, shows the latest replay's values)."""

    __slots__ = ("tape", "slot")
    __array_priority__ = 1000.0  # NumPy defers ``ndarray - traced`` to __array_ufunc__
    __hash__ = None  # type: ignore[assignment]  # as arrays: == is elementwise

    def __init__(self, tape: Tape, slot: int):
        self.tape = tape
        self.slot = slot

    @property
    def array(self) -> Any:
        return self.tape.slots[self.slot]

    # metadata is fixed for given input shapes: no recording needed
    shape = property(lambda self: self.array.shape)
    dtype = property(lambda self: self.array.dtype)
    ndim = property(lambda self: self.array.ndim)
    size = property(lambda self: self.array.size)
    device = property(lambda self: self.array.device)
    T = property(lambda self: _operate("T", operator.attrgetter("T"), (self,)))
    mT = property(lambda self: _operate("mT", operator.attrgetter("mT"), (self,)))

    def __len__(self) -> int:
        return len(self.array)

    def __repr__(self) -> str:
        return f"Traced(%{self.slot}, {self.array!r})"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # protocols NumPy probes for (__array_interface__, ...)
            raise AttributeError(name)
        if (tape := _active_tape()) is not None:
            tape.fail(f"the array method .{name} is not recorded")
        return getattr(self.array, name)

    def __iter__(self):
        if (tape := _active_tape()) is not None:
            tape.fail("iterating over an array is not recorded")
        return iter(self.array)

    # values read into Python: guards of the tape
    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        values = _read("asarray", _host, self)
        return values if dtype is None else values.astype(dtype)

    def __float__(self) -> float:
        return _read("float", float, self)

    def __int__(self) -> int:
        return _read("int", int, self)

    def __index__(self) -> int:
        return _read("index", operator.index, self)

    def __bool__(self) -> bool:
        return _read("bool", bool, self)

    def item(self) -> Any:
        return _read("item", _item, self)

    def tolist(self) -> Any:
        return _read("tolist", _tolist, self)

    def __dlpack__(self, **kwargs: Any) -> Any:
        if (tape := _active_tape()) is not None:
            tape.fail("reading an array through DLPack is not recorded")
        return self.array.__dlpack__(**kwargs)

    def __dlpack_device__(self) -> Any:
        return self.array.__dlpack_device__()

    def __getitem__(self, index: Any) -> Any:
        return _operate("getitem", operator.getitem, (self, index))

    def __setitem__(self, index: Any, value: Any) -> None:
        _mutate("setitem", operator.setitem, (self, index, value))

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """A NumPy array on the left (``p.data -= lr * g``): record the ufunc call."""
        fn = ufunc if method == "__call__" else getattr(ufunc, method)
        name = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
        if "out" in kwargs:
            _mutate(name, fn, inputs, kwargs)
            out = kwargs["out"]
            return out[0] if isinstance(out, tuple) and len(out) == 1 else out
        into = fn if method == "__call__" else None
        return _operate(name, fn, inputs, kwargs, into=into)

    # arithmetic and comparisons record themselves (a Tensor operand handles its own)
    __add__, __radd__, __iadd__ = _binary(operator.add, "add")
    __sub__, __rsub__, __isub__ = _binary(operator.sub, "sub")
    __mul__, __rmul__, __imul__ = _binary(operator.mul, "mul")
    __truediv__, __rtruediv__, __itruediv__ = _binary(operator.truediv, "truediv")
    __floordiv__, __rfloordiv__, __ifloordiv__ = _binary(operator.floordiv, "floordiv")
    __mod__, __rmod__, __imod__ = _binary(operator.mod, "mod")
    __pow__, __rpow__, __ipow__ = _binary(operator.pow, "pow")
    __matmul__, __rmatmul__, __imatmul__ = _binary(operator.matmul, "matmul")
    __and__, __rand__, __iand__ = _binary(operator.and_, "and")
    __or__, __ror__, __ior__ = _binary(operator.or_, "or")
    __xor__, __rxor__, __ixor__ = _binary(operator.xor, "xor")
    __eq__ = _binary(operator.eq, "eq")[0]  # type: ignore[assignment]
    __ne__ = _binary(operator.ne, "ne")[0]  # type: ignore[assignment]
    __lt__ = _binary(operator.lt, "lt")[0]
    __le__ = _binary(operator.le, "le")[0]
    __gt__ = _binary(operator.gt, "gt")[0]
    __ge__ = _binary(operator.ge, "ge")[0]
    __neg__ = _unary(operator.neg, "neg")
    __pos__ = _unary(operator.pos, "pos")
    __abs__ = _unary(operator.abs, "abs")
    __invert__ = _unary(operator.invert, "invert")


def _plain(value: Any) -> Any:
    """`value` with every `Traced` replaced by its real array (in tuples, lists, dicts)."""
    kind = type(value)
    if kind is Traced:
        return value.array
    if kind is tuple or kind is list:
        return kind(_plain(v) for v in value)
    if kind is dict:
        return {k: _plain(v) for k, v in value.items()}
    return value


def _host(array: Any) -> np.ndarray:
    """A NumPy copy of a real array (the tape's own backend while recording)."""
    tape = _active_tape()
    return (tape.backend if tape is not None else backend.get_backend()).to_numpy(array)


def _item(array: Any) -> Any:
    return array.item()


def _tolist(array: Any) -> Any:
    return array.tolist()


class _RecordingNamespace:
    """The backend's ``xp``, with every array function recorded on the tape."""

    def __init__(self, xp: Any, tape: Tape):
        self._xp = xp
        self._tape = tape

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._xp, name)
        if not callable(attr) or isinstance(attr, type):
            return attr  # dtypes, constants, submodules
        if name in _METADATA:
            wrapped = functools.partial(_unwrapped, attr)
        else:
            wrapped = functools.partial(self._tape.function, name, attr)
        self.__dict__[name] = wrapped  # found once, then an attribute
        return wrapped


def _unwrapped(fn: Callable, *args: Any, **kwargs: Any) -> Any:
    return fn(*_plain(args), **_plain(kwargs))
