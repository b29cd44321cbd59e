"""The compiled step: which tape serves a call, when to record, when to run eagerly.

`CompiledStep` (what `tg.compile` returns) keys each call by its input signature (shapes,
dtypes, Python values of the arguments, the backend, grad mode, default dtype and the
user's ``guard``). The first two calls with a signature are recorded (`tape.Tape`); when
both recordings are the same program the tape is trusted (`replay.prepare`) and replayed
from the third call on. Otherwise the next call is recorded and compared with the one
before (SGD's momentum buffers appear at the first step), and a step whose recordings keep
differing, or that the recorder cannot replay, runs eagerly for that signature, with its
reason logged once.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from .. import autograd, backend
from .._tensor import Tensor, get_default_dtype
from .calls import _is_array
from .replay import _GuardFailed, _StaleTape, prepare, replay
from .tape import Tape
from .tracing import Traced, _active_tape

log = logging.getLogger("tinygrad_edu.compile")  # the name users filter on, as before the move


class CompiledStep:
    """``step_fn`` with record-and-replay; see the module docstring and the package's.

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
                result = replay(tape, arrays)
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
        tape = Tape()  # records one thread at a time: a second one waits for the first
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
            prepare(tape)
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
