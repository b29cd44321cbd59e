"""The engine's declared hook points (`tinygrad_edu.recording`): what a recorder is told.

`tg.compile` records through one "active recorder" that the engine consults, instead of
patching `Tensor`, the backend, `Optimizer.step` or the random generator at run time. These
tests plug in a recorder that only writes down what the engine tells it, so they say what
each hook point promises without going through the JIT.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, backend, nn, optim, recording, rng
from tinygrad_edu import functional as F


class CountingNamespace:
    """Stands in for ``xp``: counts the functions the engine looks up, computes as xp."""

    def __init__(self, xp):
        self.xp = xp
        self.looked_up: list[str] = []

    def __getattr__(self, name):
        self.looked_up.append(name)
        return getattr(self.xp, name)


class Listener:
    """A recorder that records nothing: it writes down each hook's call and lets it run."""

    def __init__(self):
        self.events: list = []
        self.namespace = None

    def start(self, real):
        self.events.append(("start", real.name))
        self.namespace = CountingNamespace(real.xp)
        return self.namespace

    def tensor_data(self, array):
        self.events.append("data")
        return array

    def stored_array(self, value):
        self.events.append("store")
        return value

    def optimizer_step(self, optimizer, update):
        self.events.append(("step", type(optimizer).__name__))
        update()

    def random_numbers(self, source):
        self.events.append(source)


def test_outside_a_recording_no_recorder_is_asked():
    assert recording.active is None
    t = Tensor([1.0, 2.0])
    assert t.data is t._array  # the array itself, no stand-in


def test_every_hook_point_tells_the_active_recorder():
    tg.manual_seed(0)
    layer = nn.Linear(2, 1)
    opt = optim.SGD(layer.parameters(), lr=0.1)
    x = Tensor(np.ones((3, 2), dtype=np.float32))
    real = backend.active
    listener = Listener()
    with recording.recording(listener):
        assert recording.active is listener
        assert backend.active.xp is listener.namespace and backend.active.name == real.name
        loss = F.dropout(layer(x), 0.5).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        layer.weight.data = layer.weight.data * 1.0
        Tensor.randn(2)
        rng.uniform(0.0, 1.0, 2)
    assert listener.events[0] == ("start", real.name)
    assert {"data", "store", ("step", "SGD")} <= set(listener.events)
    drawn = [e for e in listener.events if isinstance(e, str) and e.startswith("rng.")]
    assert drawn == [
        "rng.generator.random",  # dropout's mask
        "rng.generator.standard_normal",  # Tensor.randn
        "rng.generator.uniform",
    ]
    assert "sum" in listener.namespace.looked_up  # the loss computed through it
    assert recording.active is None and backend.active is real  # as before, afterwards


def test_a_recording_patches_nothing_in_the_engine():
    """Regression (issue 22): `tg.compile` used to replace ``Tensor.data``,
    ``backend.active``'s class attributes, ``Optimizer.step`` and ``rng.generator`` while
    it recorded; now the engine's own attributes stay what they are, also mid-recording."""
    tg.manual_seed(0)
    layer = nn.Linear(3, 2)
    opt = optim.Adam(layer.parameters(), lr=0.1)
    engine = (Tensor.__dict__["data"], optim.Optimizer.__dict__["step"], rng.generator)
    seen = []

    def step(x):
        seen.append(
            (
                (Tensor.__dict__["data"], optim.Optimizer.__dict__["step"], rng.generator),
                recording.active,
            )
        )
        loss = layer(x).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    compiled = tg.compile(step)
    for _ in range(4):
        compiled(Tensor(np.ones((4, 3), dtype=np.float32)))
    assert compiled.counts == {"recorded": 2, "replayed": 2, "eager": 0}
    recorded = [(attributes, active) for attributes, active in seen if active is not None]
    assert len(recorded) == 2  # the step ran (in Python) only while it was recorded
    for attributes, _ in recorded:
        assert all(a is b for a, b in zip(attributes, engine))
    assert recording.active is None


def test_paused_computes_for_real_and_resumes_the_recording():
    listener = Listener()
    with recording.recording(listener):
        with recording.paused():
            assert recording.active is None
            t = Tensor([1.0])
            assert t.data is t._array
        assert recording.active is listener
    assert "data" not in listener.events


def test_an_error_in_the_step_leaves_no_recorder_behind():
    real = backend.active
    with pytest.raises(ZeroDivisionError):  # the step's own error, as it raised it
        with recording.recording(Listener()):
            raise ZeroDivisionError
    assert recording.active is None and backend.active is real


def test_a_recording_inside_a_recording_is_refused():
    listener = Listener()
    with recording.recording(listener):
        with pytest.raises(RuntimeError, match="already on"):
            with recording.recording(Listener()):
                pass
        assert recording.active is listener  # the outer one goes on
    assert recording.active is None
