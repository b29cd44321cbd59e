"""Record once, replay every step: a small tracing JIT for whole training steps.

``step = tg.compile(step_fn)`` returns a function that gives the same results as
``step_fn`` (bit for bit on NumPy) but, after two calls, no longer runs its Python code.

How tracing JITs work
---------------------
A training step written with the Tensor engine spends much of its time in Python: each
op builds a `Tensor`, a closure for its gradient, and a fresh output array; backward walks
the graph again. Yet the *array work* of a step is the same every time: the same NumPy
calls, on arrays of the same shapes, wired the same way. Only the values change.
Tracing JITs exploit that:

- tinygrad's ``TinyJit`` runs a function twice eagerly, captures the kernels the second
  run launches, and from then on replays only those kernels on the same buffers;
- a CUDA graph (``torch.cuda.CUDAGraph``, ``cupy.cuda.Graph``) records a stream of GPU
  work once and relaunches it with one call, so the CPU no longer issues each kernel;
- ``torch.compile(mode="reduce-overhead")`` does both: it traces the Python code into a
  graph (with guards that say when the trace is still valid) and replays it as CUDA graphs.

Here the same idea runs on plain array calls. The engine computes only through
``backend.active.xp`` and array operators, so during a recording `compile` swaps in a
*recording namespace* and wraps every array the step creates in a `Traced` stand-in. Both
compute exactly what the real arrays would (``Tensor.data`` hands out stand-ins for
parameters and inputs too), and append each call to a tape: the function,
which buffers it read (by slot number), its constants, and the buffer it produced.

Replay walks that tape. It builds no Tensors, closures or graphs, and writes each result
into the array the recording produced (``out=``, on NumPy and CuPy), so a step allocates
almost nothing. Views (``W.T``) of fixed buffers are made once, and so are arrays made
from constants alone (``arange(C)``, ``1 / n``): loop-invariant code, hoisted. What a
replay still runs in Python is the optimizer's ``step()``: its numbers (``lr`` under a
schedule, Adam's step count) change between steps, so a tape would freeze them (TinyJit
asks you to make them tensors instead); the tape records "call this optimizer" and hands
it the gradients.

When a tape is trusted, and when it falls back
----------------------------------------------
The first call with given input shapes and dtypes is recorded, and so is the second; the
tape is used from the third call on only if both recordings are the same program (the same
calls, constants, and outside arrays, compared by identity); otherwise the third is
recorded and compared with the second (SGD's momentum buffers appear at the first step),
and a step whose recordings keep differing runs eagerly. That comparison catches what a
tracer cannot see:

- Python code whose decisions depend on state (a first step that creates buffers);
- arrays made outside the recorded calls, which differ every step: random numbers drawn
  from `tinygrad_edu.rng` (dropout), NumPy work on the batch before it reaches ``xp``;
- values read back into Python (``loss.item()``, ``float(x)``) that change between steps.

A value that is read into Python and equal in both recordings (the label check in
``cross_entropy``, a ``bool`` of "the loss is finite") becomes a *guard*: the replay reads
it again and, if it differs, stops before changing any state and runs the step eagerly
(which then takes the other branch, e.g. raises its error). Ops the recorder does not know
(array methods such as ``.copy()``, ``xp.nonzero`` whose result shape depends on the data)
make that input signature run eagerly for good, with the reason logged once.
A different shape or dtype (the last, smaller batch of an epoch) is recorded as its own tape.

What a replay does not repeat: Python side effects of the step other than array work and
the optimizer call (appending to a list, counters). Returned tensors are copies, detached
from any graph; arrays that the step stored elsewhere (``p.grad``) are the tape's buffers,
overwritten by the next replay, as the static outputs of a CUDA graph.

Backends: on NumPy replays are tested bit for bit against eager steps; CuPy uses the same
``out=`` calls through ``xp`` but is untested (no GPU here), and this module does not
capture CUDA graphs. Backends without ``out=`` (``array_api_strict``) replay every call
afresh, which is still correct.
"""

from __future__ import annotations

import functools
import logging
import operator
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import autograd, backend, optim, rng
from ._tensor import Tensor, get_default_dtype

log = logging.getLogger("tinygrad_edu.compile")  # the name users filter on, as before the move

_recording: Tape | None = None
"""The tape being recorded (only one at a time; a compiled step inside it runs eagerly)."""
_one_recording_at_a_time = threading.RLock()
"""Held while a step is recorded: a recording patches the engine (``backend.active``,
``Tensor.data``, ``Optimizer.step``), so two threads must not record at once."""


def _active_tape() -> Tape | None:
    """The tape that this thread records, if any.

    The engine's patched pieces ask this, not `_recording`: while one thread records, the
    others (models trained in other threads) compute through them untouched."""
    tape = _recording
    return tape if tape is not None and tape.thread == threading.get_ident() else None


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


class _GuardFailed(Exception):
    """A value read into Python during the recording came out differently on replay."""


class _StaleTape(Exception):
    """A parameter's array was replaced (``p.data = ...``): the tape writes to the old one."""


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


# --- the recording stand-ins -------------------------------------------------------------


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


def _host(array: Any) -> np.ndarray:
    """A NumPy copy of a real array (the tape's own backend while recording)."""
    tape = _active_tape()
    return (tape.backend if tape is not None else backend.get_backend()).to_numpy(array)


def _item(array: Any) -> Any:
    return array.item()


def _tolist(array: Any) -> Any:
    return array.tolist()


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


for _op, _names in {
    operator.add: ("add", "radd", "iadd"),
    operator.sub: ("sub", "rsub", "isub"),
    operator.mul: ("mul", "rmul", "imul"),
    operator.truediv: ("truediv", "rtruediv", "itruediv"),
    operator.floordiv: ("floordiv", "rfloordiv", "ifloordiv"),
    operator.mod: ("mod", "rmod", "imod"),
    operator.pow: ("pow", "rpow", "ipow"),
    operator.matmul: ("matmul", "rmatmul", "imatmul"),
    operator.and_: ("and", "rand", "iand"),
    operator.or_: ("or", "ror", "ior"),
    operator.xor: ("xor", "rxor", "ixor"),
}.items():
    for _method, _name in zip(_binary(_op, _names[0]), _names):
        setattr(Traced, f"__{_name}__", _method)
for _op, _name in {
    operator.eq: "eq",
    operator.ne: "ne",
    operator.lt: "lt",
    operator.le: "le",
    operator.gt: "gt",
    operator.ge: "ge",
}.items():
    setattr(Traced, f"__{_name}__", _binary(_op, _name)[0])
for _op, _name in {
    operator.neg: "neg",
    operator.pos: "pos",
    operator.abs: "abs",
    operator.invert: "invert",
}.items():
    setattr(
        Traced,
        f"__{_name}__",
        functools.partialmethod(
            lambda self, op, name: _operate(name, op, (self,), into=op),
            _op,
            _name,
        ),
    )


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


class _WatchedGenerator:
    """`tinygrad_edu.rng.generator` during a recording: draws as usual, but marks the tape,
    since a replay would reuse one draw (dropout masks must be new every step)."""

    def __init__(self, generator: np.random.Generator, tape: Tape):
        self._generator = generator
        self._tape = tape

    def __getattr__(self, name: str) -> Any:
        if self._tape.thread == threading.get_ident():
            self._tape.fail(f"the step draws random numbers (rng.generator.{name})")
        return getattr(self._generator, name)


# --- the tape ------------------------------------------------------------------------------


class Tape:
    """The array calls of one step for one input signature: recorded once, then replayed.

    ``slots`` holds every array the step touched: its inputs (rebound each call), outside
    arrays (parameters, read and written in place), and the buffers the recording
    produced, which replays overwrite. ``entries`` is the program; ``describe()`` prints it.
    """

    def __init__(self, backend_: backend.Backend):
        self.backend = backend_
        self.out_xp = _out_namespace(backend_.name)
        self.slots: list[Any] = []
        self.fixed: list[bool] = []  # the slot's array is the same object in every replay
        self.views: dict[int, int] = {}  # slot of a view -> slot of its base
        self.owned: list[bool] = []  # the slot is memory this step made (not a view of outside)
        self.known: dict[int, int] = {}  # id(array) -> its slot
        self.outside: list[Any] = []  # outside arrays and optimizers, in order of first use
        self.inputs: list[int] = []
        self.entries: list[Entry] = []
        self.params: list[tuple[Tensor, Any]] = []  # optimizer parameters and their arrays
        self.grads: list[tuple[Tensor, Any]] = []  # optimizer parameters and their gradients
        self.optimizers: list[tuple] = []  # recorded optimizers: numbers and buffers to check
        self.invalid: str | None = None
        self.outputs: Any = None
        self.program: list[Callable[[], Any]] = []
        self.replayed: list[Entry] = []  # the entries that `program` runs, in its order
        self.thread: int | None = None  # the thread that records it
        self._dtypes: tuple = ()

    # --- recording ---------------------------------------------------------------------
    def fail(self, reason: str) -> None:
        """Mark the tape unusable (the step itself goes on, eagerly and correctly)."""
        if self.invalid is None:
            self.invalid = reason

    def record(self, step_fn: Callable, args: tuple, kwargs: dict, arrays: list) -> Any:
        """Run ``step_fn`` eagerly with the recorder on; returns its (copied) result."""
        global _recording
        real = self.backend
        self.thread = threading.get_ident()
        self._dtypes = tuple(
            getattr(real.xp, n) for n in ("bool", "int32", "int64", "float32", "float64")
        )
        for array in arrays:
            self.inputs.append(self._outside(array, fixed=False, track=False))
        step_of_optimizers = optim.Optimizer.step
        generator = rng.generator
        data_property = Tensor.__dict__["data"]
        _recording = self
        Tensor.data = _RECORDING_DATA
        backend.active = backend.Backend(real.name, _RecordingNamespace(real.xp, self))
        optim.Optimizer.step = functools.partialmethod(_recorded_optimizer_step, step_of_optimizers)
        rng.generator = _WatchedGenerator(generator, self)
        try:
            result = step_fn(*args, **kwargs)
        finally:
            _recording = None
            Tensor.data = data_property
            backend.active = real
            optim.Optimizer.step = step_of_optimizers
            if isinstance(rng.generator, _WatchedGenerator):
                rng.generator = generator
        for p, _ in self.grads:  # no stand-ins left in the parameters' gradients
            p._grad = _plain(p._grad)
        self.outputs = self._output_template(result)
        if self.invalid is None:
            self._check_guards()
        return self._make_outputs()

    def _new_slot(self, array: Any, fixed: bool, owned: bool) -> int:
        self.slots.append(array)
        self.fixed.append(fixed)
        self.owned.append(owned)
        # a result that reaches Python state as a plain array (a gradient handed to an
        # optimizer) and is read again in the step still refers to its slot
        self.known.setdefault(id(array), len(self.slots) - 1)
        return len(self.slots) - 1

    def _outside(self, array: Any, fixed: bool = True, track: bool = True) -> int:
        """The slot of an array the step did not create (an input or, e.g., a parameter)."""
        slot = self.known.get(id(array))
        if slot is None:
            slot = self.known[id(array)] = self._new_slot(array, fixed, owned=False)
            if track:
                self.outside.append(array)
        return slot

    def _template(self, value: Any) -> Any:
        """An argument as the tape stores it: arrays as `_Ref`, constants as themselves."""
        kind = type(value)
        if kind is Traced:
            if value.tape is self:
                return _Ref(value.slot)
            value = value.array  # a stand-in of another tape: an outside array
        elif kind is tuple or kind is list:
            return kind(self._template(v) for v in value)
        elif kind is dict:
            return {k: self._template(v) for k, v in value.items()}
        if _is_array(value):
            return _Ref(self._outside(value))
        constant = (type(None), bool, int, float, complex, str, slice, type(Ellipsis), np.generic)
        if isinstance(value, constant) or isinstance(value, (type, np.dtype)):
            return value
        if isinstance(value, tuple(type(d) for d in self._dtypes)):
            return value  # a dtype of a backend whose dtypes are objects (array_api_strict)
        self.fail(f"an argument of type {type(value).__name__} is not recorded")
        return value

    def function(self, name: str, fn: Callable, *args: Any, **kwargs: Any) -> Any:
        """A call ``xp.name(*args, **kwargs)`` of the recorded step (of another thread's
        computation while this tape records: called, not recorded)."""
        if threading.get_ident() != self.thread:
            return fn(*args, **kwargs)
        if name in _DATA_DEPENDENT:
            self.fail(f"xp.{name} gives a result whose shape depends on the values")
        into = name if name in _OUT_FUNCTIONS or name in _COPIES else None
        return self.call(name, fn, args, kwargs, into)

    def call(self, name: str, fn: Callable, args: tuple, kwargs: dict, into: Any) -> Any:
        """Compute ``fn(*args, **kwargs)`` and append it to the tape; wrap the result."""
        targs, tkwargs = self._template(args), self._template(kwargs)
        real_args, real_kwargs = _plain(args), _plain(kwargs)
        if name == "getitem" and any(
            _is_array(a) and a.dtype == self.backend.xp.bool for a in _flat(real_args[1])
        ):
            self.fail("indexing with a boolean mask gives a shape that depends on the values")
        result = fn(*real_args, **real_kwargs)
        if isinstance(result, (bool, int, float, complex)):  # e.g. count_nonzero: a value
            self.entries.append(Entry(name, fn, targs, tkwargs, None, "read", result))
            return result
        if not (_is_array(result) or isinstance(result, np.generic)):
            self.fail(f"{name} returned a {type(result).__name__}, which is not recorded")
            return result
        flat_args = [a for a in _flat((real_args, real_kwargs)) if _is_array(a)]
        alias = any(result is a for a in flat_args)
        refs = _refs((targs, tkwargs))
        mode, fixed, owned = "call", False, not alias and name not in _VIEWS
        view_of = refs[0] if (name in _VIEWS or alias) and refs else None
        if name in _VIEWS or alias:
            bases = [s for s in refs if self.owned[s]]
            owned = bool(bases)
            if refs and all(self.fixed[s] for s in refs) and self._is_view(result, flat_args):
                mode, fixed = "view", True
        elif into is not None and self.out_xp is not None and not isinstance(result, np.generic):
            mode, fixed = "into", True
            into = self._into_function(name, into, real_args, real_kwargs, result)
            if into is None:
                mode, fixed = "call", False
        slot = self._new_slot(result, fixed, owned)
        if view_of is not None:
            self.views[slot] = view_of
        into = into if mode == "into" else None
        self.entries.append(Entry(name, fn, targs, tkwargs, slot, mode, into))
        return Traced(self, slot)

    def _is_view(self, result: Any, bases: list) -> bool:
        shares = getattr(self.out_xp, "may_share_memory", None)
        return shares is not None and any(shares(result, b) for b in bases)

    def _into_function(self, name: str, into: Any, args: tuple, kwargs: dict, result: Any) -> Any:
        """The ``out=`` form of a call, or None when there is none for these arguments."""
        xp = self.out_xp
        if into in _OUT_OPERATORS:
            return getattr(xp, _OUT_OPERATORS[into], None)
        if into in _COPIES:  # asarray(x) / astype(x, dtype): copyto(out, x) casts the same way
            source = args[0] if args else None
            if not _is_array(source) or tuple(source.shape) != tuple(result.shape):
                return None
            return lambda source, *_, out, **__: xp.copyto(out, source, casting="unsafe")
        if (reduce := _direct_reduction(xp, into, args, kwargs)) is not None:
            return reduce
        if into in _OUT_FUNCTIONS:
            return getattr(xp, into, None)
        return into if isinstance(into, np.ufunc) else None  # one NumPy handed __array_ufunc__

    def mutate(self, name: str, fn: Callable, args: tuple, kwargs: dict) -> None:
        """An in-place update (``a[i] = v``, ``np.subtract(p, g, out=p)``)."""
        targs, tkwargs = self._template(args), self._template(kwargs)
        fn(*_plain(args), **_plain(kwargs))
        self.entries.append(Entry(name, fn, targs, tkwargs, None, "mutate"))

    def inplace(self, name: str, op: Callable, traced: Traced, other: Any) -> Any:
        """``a op= b`` on a stand-in: in place for arrays, a new value for NumPy scalars."""
        target = traced.array
        result = op(target, _plain(other))
        targs = self._template((traced, other))
        if result is target:
            self.entries.append(Entry(name + "=", op, targs, {}, None, "mutate"))
            return traced
        slot = self._new_slot(result, fixed=False, owned=True)
        self.entries.append(Entry(name, op, targs, {}, slot, "call"))
        return Traced(self, slot)

    def read(self, name: str, fn: Callable, traced: Traced) -> Any:
        """A value read into Python: recorded as a guard for the replays."""
        value = fn(traced.array)
        targs = self._template((traced,))
        self.entries.append(Entry(name, fn, targs, {}, None, "read", value))
        return value

    def optimizer_step(self, opt: optim.Optimizer, step: Callable) -> None:
        """``opt.step()`` inside the recorded step.

        An optimizer class that declares ``recordable_step = True`` (`optim.SGD`) is
        recorded like the rest of the step: its update depends on Python
        numbers only through its hyperparameters, which each replay checks (a changed
        ``lr`` records anew), and on its momentum buffers, checked by identity. Other
        optimizers (Adam's bias correction uses a step count that changes every step) run
        for real on every replay, with the gradients of the tape.
        """
        self.params += [(p, p._array) for p in opt.params]
        self.grads += [(p, self._template(p._grad)) for p in opt.params]
        if vars(type(opt)).get("recordable_step", False):  # declared by the class itself
            self._record_optimizer(opt, step)
            return
        sources = []
        for p in opt.params:
            sources.append(self._template(p._grad))
            p._grad = _plain(p._grad)
        self.outside.append(opt)
        self.entries.append(
            Entry("optimizer.step", step, (opt, tuple(sources)), {}, None, "optimizer")
        )
        global _recording
        real, _recording = _recording, None
        recording_backend, backend.active = backend.active, self.backend
        try:
            step(opt)
        finally:
            _recording = real
            backend.active = recording_backend

    def _record_optimizer(self, opt: optim.Optimizer, step: Callable) -> None:
        # its buffers as stand-ins while it runs, so that ``buf *= momentum`` is recorded
        for state in opt.state.values():
            for key, value in state.items():
                if _is_array(value):
                    state[key] = Traced(self, self._outside(value))
        try:
            step(opt)
        finally:
            for state in opt.state.values():
                for key, value in state.items():
                    if type(value) is Traced:
                        state[key] = value.array
        hyperparameters = _hyperparameters(opt)
        buffers = [
            (state, key, value) for state in opt.state.values() for key, value in state.items()
        ]
        self.optimizers.append((opt, hyperparameters, len(opt.state), buffers))

    def _check_optimizers(self) -> None:
        """Raise `_StaleTape` unless the parameters, the recorded optimizers' numbers and
        their buffers are those of the recording."""
        for p, array in self.params:
            if p._array is not array:
                raise _StaleTape
        for opt, hyperparameters, count, buffers in self.optimizers:
            if len(opt.state) != count or hyperparameters != _hyperparameters(opt):
                raise _StaleTape
            for state, key, value in buffers:
                if state.get(key) is not value and (_is_array(value) or state.get(key) != value):
                    raise _StaleTape

    def _output_template(self, value: Any) -> Any:
        if isinstance(value, Tensor):
            return ("tensor", self._template(value._array))
        if isinstance(value, (tuple, list)):
            return (type(value).__name__, [self._output_template(v) for v in value])
        if isinstance(value, dict):
            return ("dict", {k: self._output_template(v) for k, v in value.items()})
        if type(value) is Traced or _is_array(value):
            return ("array", self._template(value))
        if value is None or isinstance(value, (bool, int, float, str)):
            return ("value", value)
        self.fail(f"the step returns a {type(value).__name__}")
        return ("value", value)

    def _make_outputs(self, template: Any = None) -> Any:
        """The step's result from the slots, with arrays copied (buffers are reused)."""
        kind, payload = self.outputs if template is None else template
        if kind in ("tensor", "array"):
            array = _resolve(payload, self.slots)
            if _is_array(array):
                array = self.backend.xp.asarray(array, copy=True)
            return Tensor._wrap(array) if kind == "tensor" else array
        if kind in ("tuple", "list"):
            items = [self._make_outputs(t) for t in payload]
            return tuple(items) if kind == "tuple" else items
        if kind == "dict":
            return {k: self._make_outputs(t) for k, t in payload.items()}
        return payload

    def _check_guards(self) -> None:
        """A guard can stop a replay only before it changed anything outside the tape."""
        changed = False
        for entry in self.entries:
            if entry.mode == "optimizer":
                changed = True
            elif entry.mode == "mutate":
                changed = changed or any(not self.owned[s] for s in _mutated_slots(entry))
            elif entry.mode == "read" and changed:
                self.fail(
                    f"the step reads a value into Python ({entry.name}) after it updated "
                    "parameters; read it after the step instead"
                )

    # --- comparing two recordings ------------------------------------------------------
    def difference(self, other: Tape) -> str | None:
        """Why `other` (the next recording) is not the same program; None if it is."""
        if len(self.entries) != len(other.entries):
            return (
                f"the two recorded steps made different numbers of array calls "
                f"({len(self.entries)} and {len(other.entries)}): Python decides differently"
            )
        for a, b in zip(self.entries, other.entries):
            if a.name != b.name or a.mode != b.mode or a.result != b.result:
                return f"the recorded steps differ at {a.name} / {b.name}"
            if _entry_signature(a) != _entry_signature(b):
                return f"the arguments of {a.name} differ between steps (a changing constant?)"
            if a.mode == "read" and not _same_value(a.value, b.value):
                return (
                    f"the step reads a value into Python that changes between steps "
                    f"({a.name}, e.g. loss.item()): return the tensor and read it after the call"
                )
        if len(self.outside) != len(other.outside) or any(
            x is not y for x, y in zip(self.outside, other.outside)
        ):
            return (
                "the step uses arrays made outside the recorded operations that change "
                "between steps (random numbers, NumPy work on the batch, a rebound buffer)"
            )
        return None

    # --- replaying -----------------------------------------------------------------------
    def finish(self) -> None:
        """Turn the entries into a list of small callables over fixed buffers."""
        entries = self._without_products_by_one(self._without_private_copies())
        entries = self._without_constants(entries)
        compiled = [(e, run) for e in entries if (run := self._compile(e)) is not None]
        self.replayed = [e for e, _ in compiled]
        self.program = [run for _, run in compiled]

    def _without_products_by_one(self, entries: list[Entry]) -> list[Entry]:
        """The entries, with ``1.0 * x`` replaced by ``x`` itself.

        SGD computes ``(1 - dampening) * grad`` even without dampening: a full pass over
        every gradient that gives back ``grad`` bit for bit (x * 1 is exact for every value
        arithmetic produces). When neither array is changed in place, later calls read
        ``x`` instead.
        """
        changed, bound = self._changed_and_bound(entries)
        changed |= set(self.views.values())  # a renamed base would leave its views behind
        renamed: dict[int, int] = {}
        kept = []
        for e in entries:
            if renamed:
                e = Entry(
                    e.name,
                    e.fn,
                    _renamed(e.args, renamed),
                    _renamed(e.kwargs, renamed),
                    e.result,
                    e.mode,
                    e.value,
                )
            factor, source = (e.args + (None, None))[:2]
            if type(factor) is _Ref:
                factor, source = source, factor
            if (
                e.name == "mul"
                and e.mode in ("into", "call")
                and len(e.args) == 2
                and type(factor) in (int, float)
                and factor == 1
                and type(source) is _Ref
                and not {source.slot, e.result} & changed
                and e.result not in bound
                and self.slots[source.slot].dtype == self.slots[e.result].dtype
                and self.slots[source.slot].shape == self.slots[e.result].shape
            ):
                renamed[e.result] = source.slot
                continue
            kept.append(e)
        return kept

    def _without_constants(self, entries: list[Entry]) -> list[Entry]:
        """The entries, less the calls that give the same array at every replay.

        A call that reads only constants and arrays made that way (``arange(C)`` for the
        one-hot labels, ``ones(())`` and ``1 / n`` that seed the loss's gradient) runs once,
        in the recording: the array it made there serves every replay, as a compiler hoists
        loop-invariant code out of a loop. Not when the step changes that array in place
        or hands it out.
        """
        changed, bound = self._changed_and_bound(entries)
        kept_as_is = changed | bound
        constant: set[int] = set()
        kept = []
        for e in entries:
            if (
                e.mode == "call"
                and e.result not in kept_as_is
                and all(s in constant for s in _refs((e.args, e.kwargs)))
            ):
                constant.add(e.result)
                self.fixed[e.result] = True  # later calls take the array itself
                continue
            kept.append(e)
        return kept

    def _changed_and_bound(self, entries: list[Entry]) -> tuple[set[int], set[int]]:
        """The slots the step changes in place (directly, or through a view of the same
        memory), and those it hands out: its results and the parameters' gradients."""
        changed = {s for e in entries for s in _mutated_slots(e)}
        while True:
            linked = {s for pair in self.views.items() if set(pair) & changed for s in pair}
            if linked <= changed:
                break
            changed |= linked
        bound = set(_refs(self.outputs)) | {s for _, grad in self.grads for s in _refs(grad)}
        return changed, bound

    def _without_private_copies(self) -> list[Entry]:
        """The entries, less copies of buffers that nothing reads afterwards.

        The engine copies a leaf's first gradient (``asarray(g, copy=True)``) so that no
        two tensors share one array. When ``g`` is a buffer of this tape that nothing else
        uses, the replay writes ``g`` straight into the copy's buffer and skips the copy:
        the same values, one pass over the array fewer (a 400 KB ``dW`` per step on W1).
        """
        last_use: dict[int, float] = {}
        for i, e in enumerate(self.entries):
            for s in _refs((e.args, e.kwargs)):
                last_use[s] = i
        for s in _refs(self.outputs):
            last_use[s] = float("inf")
        made_into = {e.result for e in self.entries if e.mode == "into"}
        viewed = set(self.views.values())
        kept = []
        for i, e in enumerate(self.entries):
            source = e.args[0] if e.args else None
            if (
                e.mode == "into"
                and e.name in _COPIES
                and type(source) is _Ref
                and source.slot in made_into
                and source.slot not in viewed
                and last_use.get(source.slot) == i
                and self.slots[source.slot].dtype == self.slots[e.result].dtype
            ):
                self.slots[source.slot] = self.slots[e.result]  # one buffer for both slots
                continue
            kept.append(e)
        return kept

    def _compile(self, e: Entry) -> Callable[[], Any] | None:
        slots, fixed = self.slots, self.fixed
        dynamic = [s for s in _refs((e.args, e.kwargs)) if not fixed[s]]

        def bound(template: Any) -> Any:  # fixed buffers in place of their refs
            if type(template) is _Ref and fixed[template.slot]:
                return slots[template.slot]
            if isinstance(template, (tuple, list)):
                return type(template)(bound(v) for v in template)
            if isinstance(template, dict):
                return {k: bound(v) for k, v in template.items()}
            return template

        args, kwargs = bound(e.args), bound(e.kwargs)
        fn, result = e.fn, e.result
        if e.mode == "call" and (reduce := _direct_reduction(self.out_xp, e.name, args, kwargs)):
            fn, kwargs = reduce, {}  # a whole-array sum: a NumPy scalar, no buffer to fill
        if e.mode == "view":
            return None
        if e.mode == "optimizer":
            opt, sources = e.args
            params = opt.params

            def run_optimizer():
                for p, source in zip(params, sources):
                    p._grad = _resolve(source, slots)
                fn(opt)

            return run_optimizer
        if e.mode == "read":
            seen = e.value

            def check():
                value = fn(*_resolve(args, slots), **_resolve(kwargs, slots))
                if not _same_value(value, seen):
                    raise _GuardFailed(f"{e.name} read {value!r}, the recording read {seen!r}")

            return check
        if e.mode == "into":
            fn, kwargs = e.value, {**kwargs, "out": slots[result]}
        if not dynamic:
            if e.mode == "call":

                def call_fixed():
                    slots[result] = fn(*args, **kwargs)

                return call_fixed
            return functools.partial(fn, *args, **kwargs)

        places = [(i, a.slot) for i, a in enumerate(args) if type(a) is _Ref]
        if len(places) == len(dynamic):  # every input that changes is a plain argument
            template = list(args)

            def run_with_inputs():
                values = template.copy()
                for i, slot in places:
                    values[i] = slots[slot]
                value = fn(*values, **kwargs)
                if e.mode == "call":
                    slots[result] = value

            return run_with_inputs

        def run():
            value = fn(*_resolve(args, slots), **_resolve(kwargs, slots))
            if e.mode == "call":
                slots[result] = value

        return run

    def replay(self, arrays: list) -> Any:
        """One step: rebind the inputs, run the program, copy out the results."""
        self._check_optimizers()
        slots = self.slots
        for slot, array in zip(self.inputs, arrays):
            slots[slot] = array
        for run in self.program:
            run()
        for p, grad in self.grads:  # as after an eager step: .grad holds this step's gradient
            p._grad = _resolve(grad, slots)
        return self._make_outputs()

    def describe(self, replayed: bool = False) -> str:
        """The tape as text, one entry a line (for teaching and debugging); with
        ``replayed``, what a replay runs: no views or constants (made once), no skipped
        copies."""
        entries = self.replayed if replayed else self.entries
        return "\n".join(f"{i:3} {e.describe()}" for i, e in enumerate(entries))


def _direct_reduction(xp: Any, name: Any, args: tuple, kwargs: dict) -> Callable | None:
    """``np.sum(x, axis)`` is ``np.add.reduce(x, axis)`` behind ~1.5 µs of Python: that
    reduce, to call directly (``out=`` optional), or None (not NumPy, other arguments)."""
    if name not in _REDUCTIONS or xp is not np or len(args) != 1 or not set(kwargs) <= _AXIS_ARGS:
        return None
    reduce = getattr(np, _REDUCTIONS[name]).reduce
    axes = {"axis": kwargs.get("axis"), "keepdims": kwargs.get("keepdims", False)}
    return lambda source, *, out=None, **_: reduce(source, out=out, **axes)


def _mutated_slots(e: Entry) -> list[int]:
    """The slots an in-place entry writes: its ``out=``, else its first argument."""
    if e.mode != "mutate":
        return []
    out = e.kwargs.get("out")
    return _refs(out if out is not None else e.args[:1])


def _renamed(template: Any, renamed: dict[int, int]) -> Any:
    """A recorded argument with the slots in `renamed` replaced."""
    if type(template) is _Ref:
        return _Ref(renamed.get(template.slot, template.slot))
    if isinstance(template, (tuple, list)):
        return type(template)(_renamed(v, renamed) for v in template)
    if isinstance(template, dict):
        return {k: _renamed(v, renamed) for k, v in template.items()}
    return template


def _entry_signature(e: Entry) -> Any:
    """What must match between two recordings (the optimizer is compared by identity)."""
    return _signature(e.args[1:] if e.mode == "optimizer" else (e.args, e.kwargs))


def _flat(value: Any) -> list:
    if isinstance(value, (tuple, list)):
        return [x for v in value for x in _flat(v)]
    if isinstance(value, dict):
        return [x for v in value.values() for x in _flat(v)]
    return [value]


def _recorded_data(tensor: Tensor) -> Any:
    """``Tensor.data`` while recording: arrays from outside the step (parameters, inputs)
    come as stand-ins, so that operators on them (``x @ w.T``) reach the tape too."""
    array = tensor._array
    tape = _active_tape()
    if tape is None or type(array) is Traced or not _is_array(array):
        return array
    return Traced(tape, tape._outside(array))


def _set_recorded_data(tensor: Tensor, value: Any) -> None:
    """``p.data = v`` (and ``p.data -= g``) while recording: store the real array."""
    value = value._array if isinstance(value, Tensor) else value
    tensor._array = value.array if type(value) is Traced else value


_RECORDING_DATA = property(_recorded_data, _set_recorded_data, doc="The backend array.")


def _hyperparameters(opt: optim.Optimizer) -> tuple:
    """Every number of every parameter group (``lr``, ``momentum``, ...): what a replay of
    the optimizer's recorded update must find unchanged."""
    return tuple(
        tuple((k, v) for k, v in group.items() if k != "params") for group in opt.param_groups
    )


def _recorded_optimizer_step(opt: optim.Optimizer, step: Callable) -> None:
    tape = _active_tape()
    if tape is None:
        return step(opt)
    return tape.optimizer_step(opt, step)


# --- the compiled step -----------------------------------------------------------------------


class CompiledStep:
    """``step_fn`` with record-and-replay; see the module docstring.

    ``tapes`` maps each input signature to its trusted tape, ``fallbacks`` to the reason
    it runs eagerly; ``counts`` says how many calls were recorded, replayed and eager.
    """

    def __init__(
        self, step_fn: Callable, guard: Callable[[], Any] | None = None, name: str | None = None
    ):
        self.step_fn = step_fn
        self.guard = guard
        self.name = name or f"tg.compile({getattr(step_fn, '__qualname__', 'step')})"
        self.tapes: dict[Any, Tape] = {}
        self.fallbacks: dict[Any, str] = {}
        self.counts = {"recorded": 0, "replayed": 0, "eager": 0}
        self._candidates: dict[Any, Tape] = {}
        self._misses: dict[Any, int] = {}
        functools.update_wrapper(self, step_fn)

    def reset(self) -> None:
        """Forget every tape (call after changing what the step does, e.g. its model)."""
        self.tapes.clear()
        self.fallbacks.clear()
        self._candidates.clear()
        self._misses.clear()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _active_tape() is not None:  # inside another recording: its tape records this step
            return self._eager(args, kwargs)
        key, arrays = self._key(args, kwargs)
        if key[0] == "unsupported" and key not in self.fallbacks:
            self._fall_back(key, key[1])
        tape = self.tapes.get(key)
        if tape is not None:
            try:
                result = tape.replay(arrays)
                self.counts["replayed"] += 1
                return result
            except _StaleTape:  # parameters were replaced (a loaded checkpoint): record anew
                del self.tapes[key]
            except _GuardFailed as guard:
                result = self._eager(args, kwargs)  # if it raises, its error is the news
                self._log(f"a guard failed ({guard}); this call ran eagerly")
                return result
        if key in self.fallbacks:
            return self._eager(args, kwargs)
        return self._record(key, arrays, args, kwargs)

    def _eager(self, args: tuple, kwargs: dict) -> Any:
        self.counts["eager"] += 1
        return self.step_fn(*args, **kwargs)

    def _record(self, key: Any, arrays: list, args: tuple, kwargs: dict) -> Any:
        with _one_recording_at_a_time:  # get_backend(): the real one, no other recording on
            tape = Tape(backend.get_backend())
            result = tape.record(self.step_fn, args, kwargs, arrays)
        self.counts["recorded"] += 1
        if tape.invalid is not None:
            self._fall_back(key, tape.invalid)
            return result
        previous = self._candidates.pop(key, None)
        if previous is None:
            self._candidates[key] = tape
            return result
        difference = previous.difference(tape)
        if difference is None:
            tape.finish()
            self.tapes[key] = tape
            return result
        self._misses[key] = self._misses.get(key, 0) + 1
        if self._misses[key] >= 2:
            self._fall_back(key, difference)
        else:
            self._candidates[key] = tape
        return result

    def _fall_back(self, key: Any, reason: str) -> None:
        self.fallbacks[key] = reason
        self._log(reason)

    def _log(self, reason: str) -> None:
        """One line per reason and step function, logged once."""
        message = f"{self.name}: running eagerly: {reason}"
        if message not in _logged:
            _logged.add(message)
            log.warning(message)

    def _key(self, args: tuple, kwargs: dict) -> tuple[Any, list]:
        """The input signature (shapes, dtypes, constants, Python state) and the input arrays;
        the key ("unsupported", reason) when an argument cannot be an input of a tape."""
        arrays: list = []
        parts: list = []
        for value in (*args, *kwargs.values()):
            array = value
            if isinstance(value, Tensor):
                if value.requires_grad:  # its .grad: Python state that a replay does not set
                    return ("unsupported", "an input tensor requires grad"), []
                array = value._array
            if type(array) is Traced:
                array = array.array
            if _is_array(array):
                alias = None  # the same array passed twice must stay one slot
                for i, seen in enumerate(arrays):
                    if seen is array:
                        alias = i
                        break
                parts.append((type(value), array.shape, array.dtype, alias))
                arrays.append(array)
            elif value is None or isinstance(value, (bool, int, float, str)):
                parts.append(("value", repr(value)))
            else:
                return ("unsupported", f"an argument of type {type(value).__name__}"), []
        state = (
            backend.get_backend().name,
            autograd.is_grad_enabled(),
            get_default_dtype(),
            self.guard() if self.guard is not None else None,
        )
        return (tuple(parts), tuple(kwargs), state), arrays


_logged: set[str] = set()


def compile(
    step_fn: Callable | None = None,
    *,
    guard: Callable[[], Any] | None = None,
    name: str | None = None,
) -> CompiledStep | Callable[[Callable], CompiledStep]:
    """Record ``step_fn``'s array work once per input signature and replay it afterwards.

    Use it as ``step = tg.compile(step)`` or as a decorator ``@tg.compile``. Inputs are
    the positional and keyword arguments: Tensors (not requiring grad) and arrays, whose
    shapes and dtypes (with the Python values of other arguments) select the tape.
    ``guard`` returns Python state the step's array work depends on (``model.training``):
    a new value records a new tape. ``name`` starts the one line logged when the step
    runs eagerly (default ``tg.compile(<the function's name>)``).
    """
    if step_fn is None:
        return lambda fn: CompiledStep(fn, guard, name)
    return CompiledStep(step_fn, guard, name)
