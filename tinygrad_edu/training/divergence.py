"""When the loss becomes NaN or infinite: say why, and find a learning rate that works.

A student who sets ``--lr 1e9`` sees the loss become ``nan`` within a few steps. Telling
them "try a smaller learning rate" sends them on a search (a tenth of 1e9 diverges too);
this module makes that search once, briefly, and reports a rate it has seen work:
`probe_learning_rate` trains a copy of the run's starting weights for a few steps at
each of a few decreasing rates and returns the largest one with which the loss fell. It
needs only a spec, starting weights, data and a loss, so any front end (the CLI, the
playground, a sweep) can use it.

A loss can also blow up and stay finite: Adam moves each weight by about the learning rate
whatever the gradient, so at ``lr: 1e9`` the lecture's net reaches a loss of 1e19 without
ever overflowing, and would end with exit 0. `BlowUpLimit` catches that: a loss above
`BLOWN_UP_RUN` times both the loss the run started from and the loss of predicting zeros
(chance level: ln C for cross-entropy over C classes, ln 2 for a logit, the targets'
mean square for MSE) is a diverged run, with the same message. Neither reference can
make it fire on a healthy run: a run whose loss fell never exceeds its start, one that
overfits has a held-out loss a few times its start at most (overconfident wrong answers
cost tens, not thousands, of times ln C), and chance level keeps a run that starts near
zero (fine-tuning from ``init.from``) from being stopped by a small bump.

`quiet_float_errors` keeps NumPy's overflow warnings out of a diverging run's output:
the training loop detects a non-finite loss itself and says what it means, so the
warnings (with the project's internal file paths) would only bury that message.
"""

from __future__ import annotations

import math
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import rng
from .._tensor import Tensor
from ..autograd import no_grad
from ..objectives import evaluate_arrays
from ..spec import build_model
from .optimizers import make_optimizer
from .regularization import regularized

PROBE_STEPS = 8  # updates per tried rate: enough to see the loss fall, or blow up
PROBE_BUDGET = 64  # updates in all: the probe stays a fraction of a second on the course's nets
PROBE_TRIES = 40  # rates in all: from --lr 1e30 down to 0.01 (a try that blows up costs 1 update)
PROBE_FACTOR = 10.0  # each tried rate is this much smaller than the one before
BLOWN_UP = 10.0  # a step's loss this many times the starting loss ends that rate's try
BLOWN_UP_RUN = 1e3  # an epoch's loss this many times its references stops a run (`BlowUpLimit`)

SET_LR = "--lr {lr:g}"  # how the reader sets a rate: the CLI's flag (the playground: its box)

OVERSHOOT = (
    "the learning rate ({lr:g}) is so large that each step overshoots the minimum and lands where "
    "the gradient is larger still, so the weights grow without bound until the numbers "
    "overflow or the loss is far above where it started"
)


def quiet_float_errors() -> AbstractContextManager:
    """NumPy's floating-point warnings off (overflow, invalid, divide by zero), as a context.

    Array API backends built on NumPy share its error state; CuPy never warns. Non-finite
    results are still produced and detected (the loss check), only the warnings go.
    """
    return np.errstate(over="ignore", invalid="ignore", divide="ignore")


@dataclass(frozen=True)
class BlowUpLimit:
    """The references a finite loss is compared with (see the module docstring)."""

    start: float  # the held-out loss of the weights the run (or this session) started from
    chance: float  # the held-out loss of outputs that are all zero

    @classmethod
    def measure(cls, model: Any, objective: Any, X: np.ndarray, y: np.ndarray) -> BlowUpLimit:
        """Both references on the held-out split, before training; the model's mode stays."""

        was_training = getattr(model, "training", False)
        with quiet_float_errors():
            start = evaluate_arrays(model, objective, X, y)["loss"]
            model.eval()
            with no_grad():
                shape = model(Tensor(X[:1])).shape[1:]
                zeros = Tensor(np.zeros((len(X), *shape), dtype=np.asarray(X).dtype))
                chance = objective(zeros, objective.targets(y)).item()
        model.train(was_training)
        return cls(start, chance)

    def exceeded(self, losses: dict[str, float], epoch: int) -> str | None:
        """What blew up, in words (None if nothing did): the first of `losses` (split name
        -> the epoch's loss) over `BLOWN_UP_RUN` times both references."""
        references = [r for r in (self.start, self.chance) if math.isfinite(r)]
        limit = BLOWN_UP_RUN * max(references, default=math.inf)
        for split, loss in losses.items():
            if loss > limit:  # False for nan: the non-finite checks explain that
                return (
                    f"the {split} loss reached {loss:.3g} at the end of epoch {epoch}, over "
                    f"{BLOWN_UP_RUN:g} times both the loss the run started from "
                    f"({self.start:.3g}) and that of predicting zeros ({self.chance:.3g}): "
                    "still a finite number, but the training has blown up"
                )
        return None


@dataclass(frozen=True)
class Probe:
    """What the probe saw: the rate it suggests (None if none worked) and its evidence."""

    lr: float | None  # the largest tried rate with which the loss fell
    steps: int  # updates made with `lr`
    loss_before: float  # on the probe's samples, before the first update
    loss_after: float  # on the same samples, after `steps` updates
    tried: tuple[float, ...]  # every rate tried, largest first

    def advice(self, set_lr: str = SET_LR) -> str:
        """The suggestion, in one sentence a student can act on; `set_lr` says how to set a
        rate where the student is (`SET_LR`: the CLI's flag)."""
        if self.lr is None:
            return (
                f"A probe of {_rates(self.tried, set_lr)} saw the loss fall with none of them: the "
                "learning rate may be far too large still, or not the cause; try a much "
                "smaller one, and check the data's scale and the loss."
            )
        others = self.tried[:-1]
        failed = f" ({_rates(others, set_lr)} diverged or did not improve)" if others else ""
        return (
            f"Try {set_lr.format(lr=self.lr)}: a probe of {self.steps} steps from the same "
            f"starting weights saw the loss fall from {self.loss_before:.4g} to "
            f"{self.loss_after:.4g} with it{failed}."
        )


def divergence_advice(setup: Any, start: dict[str, Any] | None = None, set_lr: str = SET_LR) -> str:
    """What most likely made the loss non-finite and what to do: the data, the learning
    rate, or the step size in general (checked in that order, so a NaN in the data is never
    blamed on the learning rate). `start` is the weights the run started from (default:
    the model's current ones); the probe trains copies of them."""
    ds, lr = setup.dataset, setup.optimizer.lr
    for split, array in (("features", ds.X_train), ("targets", ds.y_train)):
        array = np.asarray(array)
        if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
            return f"The training {split} hold nan or inf: fix the data (not the learning rate)."
    if not math.isfinite(lr):
        return f"The learning rate is {lr}: give a finite one, e.g. {set_lr.format(lr=0.01)}."
    start = setup.model.state_dict() if start is None else start
    probe = probe_learning_rate(setup.spec, start, setup.objective, ds.X_train, ds.y_train, lr)
    if probe.lr is None:
        return probe.advice(set_lr)
    return f"Most likely {OVERSHOOT.format(lr=lr)}. {probe.advice(set_lr)}"


def probe_learning_rate(
    spec: Any,
    start: dict[str, Any],
    objective: Any,
    X: np.ndarray,
    y: np.ndarray,
    lr: float,
    budget: int = PROBE_BUDGET,
) -> Probe:
    """Try ``lr / 10``, ``lr / 100``, ... for `PROBE_STEPS` updates each, on a fresh copy of
    the spec's model loaded with the weights `start`, and return the first (largest) rate
    with which the loss on the probe's samples fell and stayed finite.

    The probe's samples are the first ``PROBE_STEPS * batch_size`` rows of `X`, taken in
    order (no shuffling: two probes of the same run see the same numbers). A rate is
    abandoned at its first loss that is non-finite or blown up, and no more than `budget`
    updates are made in all, so the probe's time is bounded. Each rate starts from the same
    random state (the same dropout masks), and the global generator is restored afterwards:
    the probe changes nothing a run or a later probe would see.
    """

    state = rng.get_state()
    try:
        model = build_model(spec)
        batch = spec.train.batch_size
        X, y = X[: PROBE_STEPS * batch], y[: PROBE_STEPS * batch]
        batches = [(X[i : i + batch], y[i : i + batch]) for i in range(0, len(X), batch)]
        tried: list[float] = []
        with quiet_float_errors():
            model.load_state_dict(start)
            before = _loss(model, objective, X, y)
            while budget > 0 and len(tried) < PROBE_TRIES:
                rate = float(f"{lr / PROBE_FACTOR ** (len(tried) + 1):.3g}")  # as --lr prints it
                tried.append(rate)
                model.load_state_dict(start)
                rng.set_state(state)  # every rate sees the same dropout masks
                updates, diverged = _train(model, spec, rate, objective, batches, budget, before)
                budget -= updates
                if not diverged:
                    after = _loss(model, objective, X, y)
                    if math.isfinite(after) and after < before:
                        return Probe(rate, updates, before, after, tuple(tried))
    finally:
        rng.set_state(state)
    return Probe(None, 0, math.nan, math.nan, tuple(tried))


def _train(
    model: Any, spec: Any, lr: float, objective: Any, batches: list, budget: int, before: float
) -> tuple[int, bool]:
    """Up to `PROBE_STEPS` updates (no more than `budget`) at rate `lr`, cycling through
    `batches`: the number made, and whether the rate diverged: a loss that is non-finite or
    over `BLOWN_UP` times `before` (a rate that large rarely comes back down, and stopping
    at once keeps the budget for smaller rates)."""
    optimizer = make_optimizer(spec.optimizer.model_copy(update={"lr": lr}), model.parameters())
    model.train()
    for step in range(min(PROBE_STEPS, budget)):
        xb, yb = batches[step % len(batches)]
        loss = objective(model(Tensor(xb)), objective.targets(yb))
        if not loss.item() <= BLOWN_UP * before:  # also true for nan
            return step, True
        optimizer.zero_grad()
        regularized(loss, model, spec.train.l1).backward()
        optimizer.step()
    return min(PROBE_STEPS, budget), False


def _loss(model: Any, objective: Any, X: np.ndarray, y: np.ndarray) -> float:

    return evaluate_arrays(model, objective, X, y)["loss"]


def _rates(rates: tuple[float, ...], set_lr: str) -> str:
    """'--lr 1e+08' (as `set_lr` says it) or 'the rates 1e+08 to 1e+03'."""
    if len(rates) == 1:
        return set_lr.format(lr=rates[0])
    return f"the rates {rates[0]:g} to {rates[-1]:g}"
