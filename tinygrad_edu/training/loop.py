"""Training from a spec: the mini-batch loop, its run folder, checkpoints and resume.

`prepare(spec)` builds everything a run needs from a validated spec (backend, seed, data,
model, loss, optimizer, schedule); `Trainer.fit()` runs the epochs. Every epoch ends with
metrics on the train split (running sums over the epoch's batches) and on the held-out
split (validation if the spec asks for one, else test), a row in ``metrics.csv`` and a
checkpoint, each written atomically. Nothing already written is lost:

- a NaN or infinite loss stops the run before the bad step's update; a checkpoint is only
  written when every parameter and the held-out loss are finite, so the last checkpoint
  stays a good one;
- Ctrl-C (SIGINT) or SIGTERM (``kill``, schedulers, Docker) finishes the current step,
  saves a checkpoint of exactly that point (including the position inside the epoch) and
  stops with exit code 130 or 143 (128 + the signal's number);
- a kill at any moment leaves the previous checkpoint loadable (atomic replace).

Resuming restores parameters, optimizer and schedule state, the random generator and the
partial sums of the interrupted epoch, so the finished run is bit-identical to one that
was never interrupted.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import backend, rng
from .._tensor import Tensor, set_default_dtype
from ..autograd import no_grad
from ..data import iterate_batches, load_dataset
from ..errors import UserError
from ..io.atomic import write_text_atomic
from ..io.npz import keys_under, load_npz, prefix_keys, save_npz
from ..jit import compile as compile_step
from ..objectives import MetricAccumulator, Objective, evaluate_arrays, loss_options, task_of
from ..optim.lr_scheduler import ReduceLROnPlateau
from ..spec import build_model
from ..spec.limits import check_memory
from .diagnostics import record_epoch
from .divergence import SET_LR, BlowUpLimit, divergence_advice, quiet_float_errors
from .layout import CHECKPOINT, METRICS, MODEL
from .optimizers import make_optimizer, make_scheduler
from .regularization import regularized
from .scalar import USE_TENSOR, check_spec, value_model


class TrainingDiverged(UserError):
    """The loss became NaN or infinite."""


class TrainingInterrupted(Exception):
    """Ctrl-C or SIGTERM: a checkpoint was saved; the run can be resumed."""

    def __init__(self, run_dir: Path, epoch: int, step: int, signum: int = signal.SIGINT):
        super().__init__(f"interrupted at epoch {epoch}, step {step}")
        self.run_dir, self.epoch, self.step = run_dir, epoch, step
        self.signal_name = signal.Signals(signum).name
        self.exit_code = 128 + int(signum)  # what a shell reports for a process the signal ended


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


# --- building a run from a spec -----------------------------------------------------------


@dataclass
class Setup:
    """Everything `Trainer` needs, built from one spec."""

    spec: Any
    model: Any
    objective: Objective
    optimizer: Any
    scheduler: Any
    dataset: Any
    epochs: int
    batch_size: int


def prepare(spec: Any, engine: str | None = None) -> Setup:
    """Select backend and dtype, seed, load the data and build model, loss and optimizer.

    The order is fixed (seed, then model initialisation, then data), so the same spec and
    seed give the same initial weights and the same data on the same machine. `engine`
    (default: the spec's ``train.engine``) ``"value"`` wraps the model for the scalar engine
    (`scalar`); a finished run is always restored on the tensor engine.
    """
    check_memory(spec)  # before anything is allocated
    backend.set_backend(spec.backend)
    set_default_dtype(spec.dtype)
    rng.manual_seed(spec.seed)
    model = build_model(spec)
    loss_name, options = loss_options(spec.loss)
    scalar_engine = (engine or getattr(spec.train, "engine", "tensor")) == "value"
    if scalar_engine:  # before the data is loaded: refusals come first
        if spec.train.l1:
            raise UserError(f"the value engine has no L1 regularization (train.l1); {USE_TENSOR}")
        check_spec(spec, model, loss_name, options)
    data_config = spec.data.model_dump(exclude_none=True)
    dataset = load_dataset(data_config, seed=spec.seed, task=task_of(loss_name))
    expected = tuple(spec.model.input)
    if tuple(dataset.input_shape) != expected:
        raise UserError(
            f"the data has samples of shape {tuple(dataset.input_shape)} but model.input is "
            f"{list(expected)}; set model.input to {list(dataset.input_shape)} in the spec"
        )
    num_outputs = _num_outputs(model, expected)
    objective = Objective(loss_name, num_outputs, options)
    objective.check(dataset.num_classes)
    _check_held_out(spec, dataset)
    if scalar_engine:
        model = value_model(spec, model, objective, dataset)
    optimizer = make_optimizer(spec.optimizer, model.parameters())
    scheduler = make_scheduler(getattr(spec, "scheduler", None), optimizer, spec.train.epochs)
    return Setup(
        spec,
        model,
        objective,
        optimizer,
        scheduler,
        dataset,
        spec.train.epochs,
        spec.train.batch_size,
    )


def _check_held_out(spec: Any, dataset: Any) -> None:
    """Refuse a split whose held-out part is empty: every epoch's held-out metrics would be
    0.0000 of nothing (a tiny data set whose fraction rounds to no sample)."""
    validating = getattr(spec.data, "validation_fraction", 0) or 0
    held, name = (dataset.X_val, "validation") if validating else (dataset.X_test, "test")
    if held is not None and len(held) == 0:
        field = "validation_fraction" if validating else "test_fraction"
        fraction = getattr(spec.data, field, None)
        share = f" ({field} {fraction} of the data rounds to no sample)" if fraction else ""
        raise UserError(
            f"data '{dataset.name}': the {name} split is empty{share}, so the run could not "
            f"report held-out metrics; use more samples or a larger data.{field}"
        )


def _num_outputs(model: Any, input_shape: tuple) -> int:
    with no_grad():  # in eval mode: a one-sample batch must not move BatchNorm's statistics
        out = model.eval()(Tensor.zeros((1, *input_shape)))
    model.train()
    return int(out.shape[-1]) if out.ndim > 1 else 1


# --- the loop -----------------------------------------------------------------------------


@dataclass
class Progress:
    """Where the run stands: finished epochs, steps into the current epoch, history."""

    epoch: int = 0
    step: int = 0
    global_step: int = 0
    history: list[dict] = field(default_factory=list)
    partial: dict | None = None
    epoch_rng: dict | None = None


class Reporter:
    """What the user sees; the silent base class (``--quiet``). See `progress`."""

    def start(self, trainer: Trainer) -> None: ...

    def step(self, loss: float, samples: int) -> None: ...

    def epoch_end(self, row: dict) -> None: ...

    def finish(self, history: list[dict]) -> None: ...

    def close(self) -> None:
        """Release the display (live bars) when the run stops early."""


class Trainer:
    """Runs the epochs of a `Setup` in a run folder, with checkpoints and resume.

    ``run_dir=None`` keeps nothing on disk (the playground trains in memory, in a thread,
    pausing in ``on_step``); Ctrl-C is only caught when `fit` runs in the main thread.
    """

    def __init__(
        self,
        setup: Setup,
        run_dir: Path | None,
        reporter: Reporter | None = None,
        on_step: Callable[[int], None] | None = None,
        set_lr: str = SET_LR,
    ):
        self.setup = setup
        self.run_dir = None if run_dir is None else Path(run_dir)
        self.reporter = reporter or Reporter()
        self.on_step = on_step  # test hook: called with the global step after each update
        self.set_lr = set_lr  # how a divergence message says to set a rate (the CLI's flag)
        self.progress = Progress()
        self._interrupted: int | None = None  # the stop signal received, if any
        self._saved: tuple[int, int] | None = None  # (epoch, step) of the checkpoint on disk
        self._previous_handlers: dict[int, Any] = {}
        self._step: Callable | None = None  # _update, or its compiled form (train.compile)
        self._start: dict[str, Any] | None = None  # the weights `fit` began with (the probe's)
        self._limit: BlowUpLimit | None = None  # what a finite loss must stay under (`fit`'s)
        ds = setup.dataset
        self.held_out_name = "val" if ds.X_val is not None else "test"
        self.X_held, self.y_held = (
            (ds.X_val, ds.y_val) if ds.X_val is not None else (ds.X_test, ds.y_test)
        )
        self.steps_per_epoch = max(1, math.ceil(len(ds.X_train) / setup.batch_size))

    # --- state ---------------------------------------------------------------------------
    def checkpoint_arrays(self) -> dict[str, Any]:
        s, p = self.setup, self.progress
        arrays = prefix_keys(s.model.state_dict(), "model")
        arrays.update(prefix_keys(s.optimizer.state_dict(), "optim"))
        if s.scheduler is not None:
            arrays.update(prefix_keys(s.scheduler.state_dict(), "sched"))
        arrays.update(
            {
                "meta/epoch": p.epoch,
                "meta/step": p.step,
                "meta/global_step": p.global_step,
                "meta/rng": rng.get_state(),
                "meta/epoch_rng": p.epoch_rng,
                "meta/partial": p.partial,
                "meta/history": p.history,
            }
        )
        return arrays

    def save_checkpoint(self) -> None:
        """Write the checkpoint, only if every parameter is finite: a checkpoint must
        always be one worth resuming from."""
        p = self.progress
        self._check_parameters(p.epoch + 1 if p.step else p.epoch, p.step or self.steps_per_epoch)
        if self.run_dir is None:  # a session without a run folder (the playground)
            return
        save_npz(self.run_dir / CHECKPOINT, self.checkpoint_arrays())
        self._saved = (p.epoch, p.step)

    def _check_parameters(self, epoch: int, step: int) -> None:
        """Stop if the last update (of `epoch`, `step`) made a parameter NaN or infinite."""
        for name, param in self.setup.model.named_parameters():
            if not np.all(np.isfinite(param.numpy())):
                raise self._diverged(
                    f"parameter {name} became NaN or infinite after the update of epoch "
                    f"{epoch}, step {step}"
                )

    def load_checkpoint(self, path: Path) -> None:
        """Restore a run from its checkpoint (see `checkpoint_arrays`)."""
        flat = load_npz(path, advice=DAMAGED_CHECKPOINT)
        if "meta/epoch" not in flat:
            raise UserError(f"{path}: not a tinygrad_edu training checkpoint (no meta/epoch)")
        s = self.setup
        try:
            s.model.load_state_dict(keys_under(flat, "model"))
            s.optimizer.load_state_dict(keys_under(flat, "optim"))
            if s.scheduler is not None:
                s.scheduler.load_state_dict(keys_under(flat, "sched"))
            self.progress = Progress(
                epoch=int(flat["meta/epoch"]),
                step=int(flat["meta/step"]),
                global_step=int(flat["meta/global_step"]),
                history=list(flat["meta/history"]),
                partial=flat["meta/partial"],
                epoch_rng=flat["meta/epoch_rng"],
            )
            rng.set_state(flat["meta/rng"])
        except (UserError, KeyError, TypeError, ValueError) as error:
            detail = str(error) if isinstance(error, UserError) else f"{error!r} is missing or bad"
            raise UserError(
                f"cannot resume from {path}: it does not fit the run's spec ({detail}); the "
                "model, optimizer and schedule must stay as they were when the run started"
            ) from None
        self._saved = (self.progress.epoch, self.progress.step)

    # --- running -------------------------------------------------------------------------
    def fit(self) -> list[dict]:
        """Train the remaining epochs; returns the metrics history (one row per epoch)."""
        s, p = self.setup, self.progress
        ds = s.dataset
        # signal handlers can only be set from the main thread (the playground trains in others)
        in_main_thread = threading.current_thread() is threading.main_thread()
        signals = STOP_SIGNALS if in_main_thread else ()
        previous = {signum: signal.signal(signum, self._on_stop_signal) for signum in signals}
        self._previous_handlers = previous
        self._start = s.model.state_dict()  # a copy: where a divergence probe starts from
        self._limit = BlowUpLimit.measure(s.model, s.objective, self.X_held, self.y_held)
        try:
            self.reporter.start(self)
            while p.epoch < s.epochs:
                s.model.train()
                resuming = p.step > 0
                if resuming:  # replay the epoch's shuffle, then continue where it stopped
                    current = rng.get_state()
                    rng.set_state(p.epoch_rng)
                else:
                    p.epoch_rng = rng.get_state()
                batches = iterate_batches(
                    ds.X_train, ds.y_train, s.batch_size, ds.shuffle, rng.generator
                )
                if resuming:
                    rng.set_state(current)
                metrics = MetricAccumulator(s.objective, p.partial if resuming else None)
                started = time.perf_counter()
                for index, (xb, yb) in enumerate(batches):
                    if index < p.step:
                        continue
                    self._train_step(xb, yb, metrics)
                    p.step = index + 1
                    p.global_step += 1
                    p.partial = metrics.sums
                    if self.on_step is not None:
                        self.on_step(p.global_step)
                    if self._interrupted:
                        self.save_checkpoint()
                        raise TrainingInterrupted(
                            self.run_dir, p.epoch + 1, p.step, self._interrupted
                        )
                self._end_epoch(metrics, time.perf_counter() - started)
            self.save_model()
            self.reporter.finish(p.history)
            return p.history
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            self.reporter.close()

    def _train_step(self, xb: np.ndarray, yb: np.ndarray, metrics: MetricAccumulator) -> None:
        s = self.setup
        if getattr(s.model, "engine", "tensor") == "value":
            return self._value_step(xb, yb, metrics)
        if self._step is None:  # train.compile: record the step once, replay it (tg.compile)
            model = s.model
            self._step = self._update
            if s.spec.train.compile:
                self._step = compile_step(
                    self._update, guard=lambda: model.training, name="train.compile"
                )
        with quiet_float_errors():  # a non-finite loss is caught and explained (_bad_loss)
            loss, outputs = self._step(Tensor(xb), s.objective.targets(yb))
        value = loss.item()
        metrics.update(value, outputs.numpy(), yb)
        self.reporter.step(value, len(yb))

    def _update(self, x: Tensor, targets: Tensor) -> tuple[Tensor, Tensor]:
        """Forward, loss, backward and optimizer step on one batch; stops on a bad loss."""
        s = self.setup
        outputs = s.model(x)
        loss = s.objective(outputs, targets)
        # a bool, not the loss itself: under tg.compile a guard that holds while it is finite
        if not bool(backend.active.xp.isfinite(loss.data)):
            raise self._bad_loss(loss.item())
        s.optimizer.zero_grad()
        regularized(loss, s.model, s.spec.train.l1).backward()  # the loss reported: data only
        s.optimizer.step()
        return loss, outputs

    def _value_step(self, xb: np.ndarray, yb: np.ndarray, metrics: MetricAccumulator) -> None:
        """The scalar engine's step (`scalar`): a `Value` graph per sample gives the
        gradients, then the same optimizer updates the same arrays."""
        s = self.setup
        with quiet_float_errors():
            outputs, value = s.model.loss_and_gradients(xb, s.objective.targets(yb).numpy())
        if not math.isfinite(value):
            raise self._bad_loss(value)
        s.optimizer.step()
        metrics.update(value, outputs, yb)
        self.reporter.step(value, len(yb))

    def _end_epoch(self, metrics: MetricAccumulator, seconds: float) -> None:
        s, p = self.setup, self.progress
        self._check_parameters(p.epoch + 1, p.step)
        row: dict[str, Any] = {"epoch": p.epoch + 1}
        row.update({f"train_{k}": v for k, v in metrics.result().items()})
        with quiet_float_errors():
            held = evaluate_arrays(s.model, s.objective, self.X_held, self.y_held)
        if not math.isfinite(held["loss"]):
            raise self._diverged(
                f"the {self.held_out_name} loss became {held['loss']} at the end of epoch "
                f"{p.epoch + 1}"
            )
        losses = {"training": row["train_loss"], self.held_out_name: held["loss"]}
        if blown_up := self._limit.exceeded(losses, p.epoch + 1):
            raise self._diverged(blown_up)
        row.update({f"{self.held_out_name}_{k}": v for k, v in held.items()})
        row["lr"] = s.optimizer.lr
        row["seconds"] = round(seconds, 3)
        if s.scheduler is not None:
            if isinstance(s.scheduler, ReduceLROnPlateau):  # it watches the held-out loss
                s.scheduler.step(held["loss"])
            else:
                s.scheduler.step()
        p.history.append(row)
        p.epoch += 1
        p.step = 0
        p.partial = None
        p.epoch_rng = None
        self._record_epoch()
        self.save_checkpoint()  # first: metrics.csv never lists an epoch without its checkpoint
        if self.run_dir is not None:
            write_metrics_csv(self.run_dir / METRICS, p.history)
        self.reporter.epoch_end(row)

    def _record_epoch(self) -> None:
        """diagnostics.csv and the epoch's weight snapshot, when the spec asks (`diagnostics`)."""
        train = self.setup.spec.train
        if getattr(train, "diagnostics", False) or getattr(train, "snapshots", False):
            record_epoch(self.setup, self.run_dir, self.progress.epoch)

    def _bad_loss(self, value: float) -> TrainingDiverged:
        """The stop for a non-finite loss, raised before that step's update."""
        p = self.progress
        return self._diverged(
            f"the loss became {value} at epoch {p.epoch + 1}, step {p.step + 1}; training "
            "stopped before that update"
        )

    def _diverged(self, what: str) -> TrainingDiverged:
        """The divergence message, true about what is on disk."""
        if self.run_dir is None:
            kept = "Nothing was saved (this session has no run folder)."
        elif self._saved is None:
            kept = (
                "No checkpoint was written (this happened in the first epoch, before its "
                "checkpoint)."
            )
        else:
            epoch, step = self._saved
            at = f"epoch {epoch}" if step == 0 else f"epoch {epoch + 1}, step {step}"
            kept = f"The checkpoint of {at} is kept in {self.run_dir / CHECKPOINT}."
        advice = divergence_advice(self.setup, self._start, self.set_lr)
        return TrainingDiverged(f"{what}. {kept} {advice}")

    def _on_stop_signal(self, signum: int, frame: Any) -> None:
        if self._interrupted:  # a second signal acts at once, as it would without us
            signal.signal(signum, self._previous_handlers[signum])
            signal.raise_signal(signum)
        self._interrupted = signum

    def save_model(self) -> None:
        """The final weights with what predict needs (normalization, classes)."""
        if self.run_dir is None:
            return
        s = self.setup
        arrays = prefix_keys(s.model.state_dict(), "model")
        arrays.update(prefix_keys(s.dataset.normalization, "norm"))
        arrays["meta/class_names"] = s.dataset.class_names
        arrays["meta/input_shape"] = list(s.dataset.input_shape)
        save_npz(self.run_dir / MODEL, arrays)


DAMAGED_CHECKPOINT = (
    "The run cannot be resumed from it; its model.npz (the final weights, once the run "
    "finished), metrics.csv and spec.yaml are separate files and may still be intact: "
    "evaluate and predict use model.npz."
)


def write_metrics_csv(path: Path, history: list[dict]) -> None:
    """All rows so far, rewritten atomically (a torn file is never left behind)."""
    if not history:
        return
    columns = list(history[0])
    lines = [",".join(columns)]
    for row in history:
        lines.append(",".join(_format_cell(row.get(c)) for c in columns))
    write_text_atomic(path, "\n".join(lines) + "\n")


def _format_cell(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    return "" if value is None else str(value)
