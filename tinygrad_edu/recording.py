"""The engine's one hook for `tg.compile`: the active recorder.

`tg.compile` (the `jit` package) records a training step by running it once with a
recorder switched on, then replays the recording. Rather than patching the engine while
it records, the engine asks this module, at four declared places, whether a recorder is
on; each place is marked "tg.compile records here":

- ``Tensor.data`` (`tensor_base`): the recorder hands out a stand-in for the array, so
  that array operators on it (``x @ w.T``) reach the recording too;
- the backend (`backend.computing_through`): its ``xp`` is the recorder's namespace,
  which computes as ``xp`` does and records each call;
- ``Optimizer.step``: the recorder records the update, or marks "run this optimizer";
- the random numbers of `rng` (``rng.random`` and its siblings): a step that draws them
  cannot be replayed (a replay would reuse one dropout mask), and the recorder says so.

Outside a recording `active` is None, and each check costs one attribute read. There is
one recorder at a time, for the whole process: it is also told the calls of other threads
(a model trained beside the recorded one), and lets them compute without recording them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from . import backend


class Recorder(Protocol):
    """What the engine asks of the active recorder (`jit.tape.Tape` is the one there is)."""

    def start(self, real: backend.Backend) -> Any:
        """Begin recording on `real`; returns the namespace that stands in for its ``xp``."""

    def tensor_data(self, array: Any) -> Any:
        """What ``t.data`` returns for the array `array` of a tensor."""

    def stored_array(self, value: Any) -> Any:
        """What ``t.data = value`` stores: a real array, never a stand-in."""

    def optimizer_step(self, optimizer: Any, update: Callable[[], None]) -> None:
        """``optimizer.step()``: record ``update()`` (the update itself), or run it."""

    def random_numbers(self, source: str) -> None:
        """The step draws random numbers from `source` (e.g. ``rng.generator.random``)."""


active: Recorder | None = None
"""The recorder that is on (set only by `recording` and `paused`), or None."""

_one_at_a_time = threading.RLock()
"""Held while a step is recorded: `active` is one slot, so two threads must not record at
once (the second waits for the first)."""


@contextmanager
def recording(recorder: Recorder) -> Iterator[None]:
    """Switch `recorder` on for the ``with`` block: the engine's hooks consult it, and the
    backend computes through its namespace. Everything is as before afterwards.

    Not inside another recording of the same thread (a compiled step called by a recorded
    one runs eagerly instead, and the outer tape records its calls)."""
    global active
    with _one_at_a_time:
        if active is not None:  # only this thread can hold the lock: a nested recording
            raise RuntimeError("a recording is already on in this thread; record one at a time")
        namespace = recorder.start(backend.get_backend())
        with backend.computing_through(namespace):
            active = recorder
            try:
                yield
            finally:
                active = None


@contextmanager
def paused() -> Iterator[None]:
    """Inside a recording, compute for real and unrecorded (an optimizer whose update runs
    anew at every replay). The recorder's namespace calls ``xp`` directly meanwhile, since
    it is not `active`."""
    global active
    recorder, active = active, None
    try:
        yield
    finally:
        active = recorder
