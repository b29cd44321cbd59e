"""Replaying a trusted tape: a list of small callables over fixed buffers.

`prepare` turns the entries that survive the passes (`passes.optimized`) into the
*program*: one callable per entry, with the fixed buffers bound in advance. A result
with an ``out=`` form is computed into the buffer the recording produced, so a replay
allocates almost nothing; views of fixed buffers were made once, in the recording. An
optimizer whose update is not recorded (`Optimizer.recordable_step`) is one callable that
hands it the tape's gradients and runs it for real.

`replay` checks first that nothing the tape relies on has changed since the recording
(`_StaleTape`: a parameter's array replaced, an optimizer's ``lr`` or buffers), rebinds the
inputs and runs the program. A guard (a value read into Python) that reads differently
raises `_GuardFailed` before any state outside the tape has changed; the compiled step then
runs that call eagerly.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .calls import Entry, _direct_reduction, _is_array, _Ref, _refs, _resolve, _same_value
from .passes import optimized
from .tape import _hyperparameters

if TYPE_CHECKING:
    from .tape import Tape


class _GuardFailed(Exception):
    """A value read into Python during the recording came out differently on replay."""


class _StaleTape(Exception):
    """A parameter's array was replaced (``p.data = ...``): the tape writes to the old one."""


def prepare(tape: Tape) -> None:
    """Fill ``tape.program`` (and ``tape.replayed``, the entries it runs, in its order)."""
    compiled = [(e, run) for e in optimized(tape) if (run := _runner(tape, e)) is not None]
    tape.replayed = [e for e, _ in compiled]
    tape.program = [run for _, run in compiled]


def _runner(tape: Tape, e: Entry) -> Callable[[], Any] | None:
    """What a replay calls for `e` (None: nothing, a view made once)."""
    slots, fixed = tape.slots, tape.fixed
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
    if e.mode == "call" and (reduce := _direct_reduction(tape.out_xp, e.name, args, kwargs)):
        fn, kwargs = reduce, {}  # a whole-array sum: a NumPy scalar, no buffer to fill
    if e.mode == "view":
        return None
    if e.mode == "optimizer":
        opt, sources = e.args
        params = opt.params

        def run_optimizer():  # `fn`: the optimizer's own update (`Optimizer._step`)
            for p, source in zip(params, sources):
                p._grad = _resolve(source, slots)
            fn()

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


def replay(tape: Tape, arrays: list) -> Any:
    """One step: rebind the inputs, run the program, copy out the results."""
    _check_unchanged(tape)
    slots = tape.slots
    for slot, array in zip(tape.inputs, arrays):
        slots[slot] = array
    for run in tape.program:
        run()
    for p, grad in tape.grads:  # as after an eager step: .grad holds this step's gradient
        p._grad = _resolve(grad, slots)
    return tape.make_outputs()


def _check_unchanged(tape: Tape) -> None:
    """Raise `_StaleTape` unless the parameters, the recorded optimizers' numbers and
    their buffers are those of the recording."""
    for p, array in tape.params:
        if p._array is not array:
            raise _StaleTape
    for opt, hyperparameters, count, buffers in tape.optimizers:
        if len(opt.state) != count or hyperparameters != _hyperparameters(opt):
            raise _StaleTape
        for state, key, value in buffers:
            if state.get(key) is not value and (_is_array(value) or state.get(key) != value):
                raise _StaleTape
