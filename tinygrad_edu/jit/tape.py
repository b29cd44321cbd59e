"""The tape: one step's array calls for one input signature, recorded as it runs.

`Tape` is the recorder the engine consults (`tinygrad_edu.recording`): `record` runs the
step once with it switched on, eagerly and correctly, and the hooks hand it every array
call (through the stand-ins of `tracing`), every read of a tensor's array and every
``optimizer.step()``. Each call becomes an `Entry` over numbered slots (`calls`).

Afterwards the tape knows whether it may be trusted: `invalid` says why not (a random
draw, an array method it does not know), `difference` compares it with the next
recording of the same step (same calls, constants and outside arrays), and guards (values
read into Python) must come before the step changes parameters. `passes` and `replay`
take a trusted tape from there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import backend, recording
from .._tensor import Tensor
from ..optim import Optimizer
from .calls import (
    _COPIES,
    _DATA_DEPENDENT,
    _OUT_FUNCTIONS,
    _OUT_OPERATORS,
    _VIEWS,
    Entry,
    _direct_reduction,
    _entry_signature,
    _flat,
    _is_array,
    _mutated_slots,
    _out_namespace,
    _Ref,
    _refs,
    _resolve,
    _same_value,
)
from .tracing import Traced, _plain, _RecordingNamespace


class Tape:
    """The array calls of one step for one input signature: recorded once, then replayed.

    ``slots`` holds every array the step touched: its inputs (rebound each call), outside
    arrays (parameters, read and written in place), and the buffers the recording
    produced, which replays overwrite. ``entries`` is the program; ``describe()`` prints it.
    ``program`` and ``replayed`` are filled by `replay.prepare` once the tape is trusted.
    """

    def __init__(self) -> None:
        self.backend: backend.Backend | None = None  # the real one, set by `start`
        self.out_xp: Any = None  # the library whose functions take out= (None: none)
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

    # --- what the engine's hooks ask (`tinygrad_edu.recording.Recorder`; and, further
    # down with the rest of the optimizers' recording, `optimizer_step`) -------------------
    def start(self, real: backend.Backend) -> _RecordingNamespace:
        """Record in this thread, on `real`: the namespace the backend computes through."""
        self.backend = real
        self.out_xp = _out_namespace(real.name)
        self.thread = threading.get_ident()
        self._dtypes = tuple(
            getattr(real.xp, n) for n in ("bool", "int32", "int64", "float32", "float64")
        )
        return _RecordingNamespace(real.xp, self)

    def _records_here(self) -> bool:
        """Whether a hook's call belongs to the recording: this thread's, and not paused
        (another thread's computation goes on untouched, and so does an optimizer's update
        that runs for real)."""
        return recording.active is self and threading.get_ident() == self.thread

    def tensor_data(self, array: Any) -> Any:
        """``Tensor.data``: arrays from outside the step (parameters, inputs) come as
        stand-ins, so that operators on them (``x @ w.T``) reach the tape too."""
        if type(array) is Traced or not _is_array(array) or not self._records_here():
            return array
        return Traced(self, self._outside(array))

    def stored_array(self, value: Any) -> Any:
        """``p.data = v`` (and ``p.data -= g``): the real array, never a stand-in."""
        return value.array if type(value) is Traced else value

    def random_numbers(self, source: str) -> None:
        """A replay would reuse this draw (dropout masks must be new every step)."""
        if self._records_here():
            self.fail(f"the step draws random numbers ({source})")

    # --- recording ---------------------------------------------------------------------
    def fail(self, reason: str) -> None:
        """Mark the tape unusable (the step itself goes on, eagerly and correctly)."""
        if self.invalid is None:
            self.invalid = reason

    def record(self, step_fn: Callable, args: tuple, kwargs: dict, arrays: list) -> Any:
        """Run ``step_fn`` eagerly with this tape as the engine's active recorder; returns
        its (copied) result."""
        with recording.recording(self):
            for array in arrays:
                self.inputs.append(self._outside(array, fixed=False, track=False))
            result = step_fn(*args, **kwargs)
        for p, _ in self.grads:  # no stand-ins left in the parameters' gradients
            p._grad = _plain(p._grad)
        self.outputs = self._output_template(result)
        if self.invalid is None:
            self._check_guards()
        return self.make_outputs()

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
        computation while this tape records, or while it is paused: called, not recorded)."""
        if not self._records_here():
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

    def optimizer_step(self, opt: Optimizer, update: Callable[[], None]) -> None:
        """``opt.step()`` inside the recorded step.

        An optimizer class that declares ``recordable_step = True`` (`optim.SGD`) is
        recorded like the rest of the step: its update depends on Python
        numbers only through its hyperparameters, which each replay checks (a changed
        ``lr`` records anew), and on its momentum buffers, checked by identity. Other
        optimizers (Adam's bias correction uses a step count that changes every step) run
        for real on every replay, with the gradients of the tape.
        """
        if not self._records_here():
            update()
            return
        self.params += [(p, p._array) for p in opt.params]
        self.grads += [(p, self._template(p._grad)) for p in opt.params]
        if vars(type(opt)).get("recordable_step", False):  # declared by the class itself
            self._record_optimizer(opt, update)
            return
        sources = []
        for p in opt.params:
            sources.append(self._template(p._grad))
            p._grad = _plain(p._grad)
        self.outside.append(opt)
        self.entries.append(
            Entry("optimizer.step", update, (opt, tuple(sources)), {}, None, "optimizer")
        )
        with recording.paused():
            update()

    def _record_optimizer(self, opt: Optimizer, update: Callable[[], None]) -> None:
        # its buffers as stand-ins while it runs, so that ``buf *= momentum`` is recorded
        for state in opt.state.values():
            for key, value in state.items():
                if _is_array(value):
                    state[key] = Traced(self, self._outside(value))
        try:
            update()
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

    def make_outputs(self, template: Any = None) -> Any:
        """The step's result from the slots, with arrays copied (buffers are reused)."""
        kind, payload = self.outputs if template is None else template
        if kind in ("tensor", "array"):
            array = _resolve(payload, self.slots)
            if _is_array(array):
                array = self.backend.xp.asarray(array, copy=True)
            return Tensor._wrap(array) if kind == "tensor" else array
        if kind in ("tuple", "list"):
            items = [self.make_outputs(t) for t in payload]
            return tuple(items) if kind == "tuple" else items
        if kind == "dict":
            return {k: self.make_outputs(t) for k, t in payload.items()}
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
    def describe(self, replayed: bool = False) -> str:
        """The tape as text, one entry a line (for teaching and debugging); with
        ``replayed``, what a replay runs: no views or constants (made once), no skipped
        copies."""
        entries = self.replayed if replayed else self.entries
        return "\n".join(f"{i:3} {e.describe()}" for i, e in enumerate(entries))


def _hyperparameters(opt: Optimizer) -> tuple:
    """Every number of every parameter group (``lr``, ``momentum``, ...): what a replay of
    the optimizer's recorded update must find unchanged."""
    return tuple(
        tuple((k, v) for k, v in group.items() if k != "params") for group in opt.param_groups
    )
