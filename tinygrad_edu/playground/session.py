"""One page's training session: the spec's model trained by the project's own `Trainer`.

The session builds its run with `training.loop.prepare` from the spec the page's settings
stand for, and runs `Trainer.fit` in a background thread with ``run_dir=None`` (nothing on
disk). The trainer calls `Session._between_steps` after every update; that is where the
thread pauses, takes single steps, stops, and hands a frame to the page when the page has
asked for one. Frames are made only at the page's pace (it acknowledges each), so a slow
page gets fewer frames and training never waits for it: frames are dropped, never steps.

The engine keeps a few things global (the random generator, the default dtype, the
backend); `ENGINE` makes one session at a time use them, and each session brings its own
generator, so two tabs training at once give the same results as each alone.
"""

from __future__ import annotations

import json
import math
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import backend, rng
from .._tensor import set_default_dtype
from ..errors import UserError
from ..spec import spec_to_dict
from ..summary import summary
from ..training.loop import Trainer, TrainingDiverged, prepare
from . import frames, probe, schema, state

ENGINE = threading.Lock()
_engine_owner: list[Session | None] = [None]
FOREVER = 10**9  # epochs: the page trains until it is paused or reset
SET_LR = "a learning rate of {lr:g} in the page's learning-rate box"  # not the CLI's --lr


class _Stopped(Exception):
    """Raised inside the trainer's step hook to end the training thread."""


class Session:
    """The settings, the built run, and the thread that trains it; see the module docstring.

    ``send`` receives each message for the page as JSON text; it is called from the
    training thread and must be thread-safe.
    """

    def __init__(
        self, settings: dict[str, Any] | None, send: Callable[[str], None], spec: Any = None
    ):
        self.points = None  # the page's own points: the CSV text the spec's csv source reads
        if spec is not None:  # a spec the plane cannot show (MNIST): trained as it is
            self.settings = {"spec": spec.name, "opt": spec.optimizer.name, "lr": spec.optimizer.lr}
            self.spec = spec
            self._build(send)
            return
        self.settings = state.complete(settings or {})
        if self.settings["points"] is None:
            self.spec = state.validate(self.settings)  # SpecError/UserError: the page shows it
            self._build(send)
            return
        state.settings_to_spec(self.settings)  # check the points before writing them
        self.points = state.points_csv(self.settings["points"], self.settings)
        # the csv source reads a file: a private folder that lives only while it loads
        with tempfile.TemporaryDirectory(prefix="tinygrad-edu-playground-") as folder:
            (Path(folder) / state.POINTS_FILE).write_text(self.points, encoding="utf-8")
            self.spec = state.validate(self.settings, base_dir=folder)
            self._build(send)

    def _build(self, send: Callable[[str], None]) -> None:
        self.send = send
        with ENGINE:
            self.setup = prepare(self.spec)
            self.generator = rng.generator
            _engine_owner[0] = self
            self.summary = summary(
                self.setup.model, input_size=(1, *self.spec.model.input), verbose=0
            )
            self.view = (
                frames.ImageView(self.spec, self.setup)
                if "spec" in self.settings
                else frames.View(self.spec, self.setup, self.settings["dataset"])
            )
        self.setup.epochs = FOREVER
        self.trainer = Trainer(self.setup, None, on_step=self._between_steps, set_lr=SET_LR)
        self.error: str | None = None
        self.finished = False
        self.detached_since: float | None = None
        self._cond = threading.Condition()
        self._playing = False
        self._steps = 0
        self._stop = False
        self._ready = False  # the page has taken the last frame and wants the next
        self._dirty = True  # the model changed since the last frame
        self._speed = 0.0  # steps per second; 0 = as fast as possible
        self._next_step_at = 0.0
        self._holding = False  # this session's thread holds ENGINE
        self._last_frame_at = 0.0
        self._first_loss: float | None = None  # the training loss of the first frame
        self._probed = False  # the divergence message was sent with a frame
        self._measured: tuple[list[str], float | None] | None = None  # what the probe saw
        self._thread = threading.Thread(target=self._run, daemon=True, name="playground")
        self._thread.start()

    # --- what the page asks ----------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """The message that opens a session on the page: settings, data, network, summary."""
        return {
            "type": "session",
            "settings": self.settings,
            "steps_per_epoch": self.trainer.steps_per_epoch,
            "loss": self.setup.objective.loss,
            "total_params": self.summary.total_params,
            "explain": self.summary.explain(),
            "warnings": list(self.summary.warnings),
            "limits": schema.for_page(),  # the controls' ranges: the server's own checks
            **self.view.static(),
        }

    def control(self, action: str, value: Any = None) -> None:
        """play, pause, step, ready (the page took a frame) or speed (steps/s, 0 = max)."""
        with self._cond:
            if action == "play":
                self._playing = True
            elif action == "pause":
                self._playing = False
                self._dirty = True  # send the state it paused at
            elif action == "step":
                self._playing = False
                self._steps += 1
            elif action == "ready":
                self._ready = True
            elif action == "speed":
                self._speed = _speed(value)
            else:
                raise UserError(f"unknown action {action!r}")
            self._cond.notify_all()

    def spec_text(self) -> tuple[str, int]:
        """The YAML spec of this run so far, and its number of whole epochs (the page's own
        points, if any, go beside it as `state.POINTS_FILE`: see `points`)."""
        p, per_epoch = self.trainer.progress, self.trainer.steps_per_epoch
        whole, rest = divmod(p.global_step, per_epoch)  # the pause after an epoch's last step
        epochs = max(1, whole)  # comes before the trainer books the epoch: count the steps
        if "spec" in self.settings:
            data = spec_to_dict(self.spec)
            data["train"]["epochs"] = epochs
        else:
            data = state.settings_to_spec(self.settings, epochs=epochs)
        state.validate_spec(data, file=state.SPEC_FILE)
        note = (
            f"Made by the tinygrad_edu playground after {p.global_step} steps "
            f"({whole} epochs of {per_epoch} steps + {rest} steps).\n"
            f"python cli.py train on this file runs {epochs} whole epochs "
            f"({epochs * per_epoch} steps) and ends with the weights the page showed "
            f"at step {epochs * per_epoch}."
        )
        return state.spec_yaml(data, note), epochs

    def stop(self) -> None:
        """End the training thread (it finishes its current step first)."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        with ENGINE:  # let go of this session's model and data
            if _engine_owner[0] is self:
                _engine_owner[0] = None

    # --- the training thread ---------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._between_steps()
            self.trainer.fit()
        except _Stopped:
            pass
        except TrainingDiverged as error:  # the loss became NaN: why, and a rate that trains
            self.error = str(error)
            what = "the loss stopped being a number (NaN or infinite)"
            self._send({"type": "stopped", "error": self.error, "divergence": self._probe(what)})
        except UserError as error:
            self.error = str(error)
            self._send({"type": "stopped", "error": self.error})
        except Exception as error:  # a bug: the page says so instead of freezing
            self.error = f"training stopped: {type(error).__name__}: {error}"
            self._send({"type": "stopped", "error": self.error})
            raise
        finally:
            self.finished = True
            self._give_engine()

    def _between_steps(self, global_step: int | None = None) -> None:
        """Called by the trainer after each update (and once before the first)."""
        if global_step is not None:
            self._dirty = True
        self._give_engine()
        with self._cond:
            while True:
                if self._stop:
                    raise _Stopped
                if self._ready and self._dirty and self._frame_due():
                    self._ready = self._dirty = False
                    self._last_frame_at = time.perf_counter()
                    self._send_frame()
                    continue
                if self._steps:
                    self._steps -= 1
                    break
                if self._playing:
                    wait = self._next_step_at - time.perf_counter()
                    if wait <= 0:
                        self._next_step_at = time.perf_counter() + (
                            1.0 / self._speed if self._speed else 0.0
                        )
                        break
                    self._cond.wait(wait)
                    continue
                self._cond.wait()
        self._take_engine()

    def _frame_due(self) -> bool:
        """While playing, at most the view's max_fps frames a second: more is only paid for."""
        fps = self.view.max_fps
        return not self._playing or time.perf_counter() - self._last_frame_at >= 1 / fps

    def _give_engine(self) -> None:
        if self._holding:
            self._holding = False
            ENGINE.release()

    def _take_engine(self) -> None:
        ENGINE.acquire()
        self._holding = True
        if _engine_owner[0] is not self:  # another session ran: bring back our globals
            rng.generator = self.generator
            backend.set_backend(self.spec.backend)
            set_default_dtype(self.spec.dtype)
            _engine_owner[0] = self

    def _send_frame(self) -> None:
        self._take_engine()
        try:
            frame = self.view.frame(self.trainer.progress, self.trainer.steps_per_epoch)
        finally:
            self._give_engine()
        loss = frame["train"]["loss"]
        if self._first_loss is None:
            self._first_loss = loss
        elif not self._probed and probe.runs_away(self._first_loss, loss):
            self._probed = True  # once a session: a reset or new settings start a new one
            self._playing = False  # paused, so the message is read before more steps
            what = f"the training loss grew from {self._first_loss:.3g} to {loss:.3g}"
            frame["divergence"] = self._probe(what)
        frame["paused"] = not self._playing and not self._steps  # no step until the next action
        self._send(frame)

    def _probe(self, what: str) -> dict[str, Any]:
        """`probe.probe` on fresh copies of this run, with the engine held."""
        lr = float(self.spec.optimizer.lr)
        if self._measured is None:  # once: the NaN after a runaway loss reuses it
            held = self._holding
            if not held:
                self._take_engine()
            try:
                self._measured = probe.measure(self._copy_at, lr)
            finally:
                rng.generator = self.generator  # the copies seeded their own
                if not held:
                    self._give_engine()
        return probe.message(what, lr, *self._measured)

    def _copy_at(self, lr: float) -> Any:
        """This run from its start, at another learning rate."""
        if "spec" in self.settings:
            data = spec_to_dict(self.spec)
            data["optimizer"]["lr"] = lr
            return prepare(state.validate_spec(data, file=state.SPEC_FILE))
        settings = {**self.settings, "lr": lr}
        if self.points is None:
            return prepare(state.validate(settings))
        with tempfile.TemporaryDirectory(prefix="tinygrad-edu-playground-") as folder:
            (Path(folder) / state.POINTS_FILE).write_text(self.points, encoding="utf-8")
            return prepare(state.validate(settings, base_dir=folder))

    def _send(self, message: dict[str, Any]) -> None:
        self.send(json.dumps(message, allow_nan=False, default=_json_default))


def _speed(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise UserError(f"speed: expected steps per second >= 0 (0: fastest), found {value!r}")
    return float(value) if math.isfinite(value) else 0.0


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot send {type(value).__name__} to the page")
