"""When the loss runs away, say why and which learning rate did train: a short probe.

A loss that grows by orders of magnitude (or becomes NaN) is divergence: each step
overshoots the minimum it aims at by more than it gains, so the next gradient is larger
still. The lecture's advice is a smaller learning rate; the page gives one that was
actually seen to work: copies of the run start again from the same weights (the seed's)
at a tenth, a hundredth and a thousandth of the rate, each for `STEPS` updates of the
project's own `Trainer`, and the first whose training loss fell is suggested, with every
rate tried and what its loss did.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..objectives import evaluate_arrays
from ..training.loop import Setup, Trainer
from .schema import RANGES

STEPS = 25  # updates per rate tried: a few batches, well under a second on these nets
FACTORS = (10, 100, 1000)  # the rate divided by each, in turn
GROWTH = 100.0  # a training loss this many times its value at step 0: diverging


class _Done(Exception):
    """Raised from the trainer's step hook after the probe's last step."""


def runs_away(first: float | None, now: float | None) -> bool:
    """Whether a loss has diverged: it is not a number, or it grew `GROWTH`-fold."""
    if now is None or not math.isfinite(now):
        return True
    return first is not None and first > 0 and now > GROWTH * first


def _train_loss(setup: Setup) -> float:
    ds = setup.dataset
    return float(evaluate_arrays(setup.model, setup.objective, ds.X_train, ds.y_train)["loss"])


def _after_steps(setup: Setup, steps: int) -> float:
    def stop(global_step: int) -> None:
        if global_step >= steps:
            raise _Done

    try:
        Trainer(setup, None, on_step=stop).fit()
    except _Done:
        pass
    except Exception:  # the copy diverged too (a NaN stops the trainer): not this rate
        return math.nan
    return _train_loss(setup)


def _shown(value: float) -> str:
    return f"{value:.3g}" if math.isfinite(value) else str(value)


def measure(build: Callable[[float], Setup], lr: float) -> tuple[list[str], float | None]:
    """Each smaller rate tried and what its loss did, and the first that trained (or None);
    `build(rate)` gives a fresh copy of the run (the same start) at another rate."""
    tried: list[str] = []
    for factor in FACTORS:
        rate = float(f"{lr / factor:.3g}")
        if rate < RANGES["lr"][0]:
            break
        setup = build(rate)
        before = _train_loss(setup)
        after = _after_steps(setup, STEPS)
        fell = math.isfinite(after) and after < before
        tried.append(f"{rate:g}: {_shown(before)} to {_shown(after)}, {'fell' if fell else 'rose'}")
        if fell:
            return tried, rate
    return tried, None


def message(what: str, lr: float, tried: list[str], suggested: float | None) -> dict[str, Any]:
    """The page's divergence message: `what` was seen, why, what was tried, what to do."""
    text = (
        f"The training diverged: {what}. With a learning rate of {lr:g} each step overshoots "
        "the minimum it aims at by more than it gains, so the next gradient is larger and the "
        "loss grows without bound. "
        f"Tried from the same start for {STEPS} steps each (training loss): {'; '.join(tried)}."
    )
    if suggested is not None:
        text += f" Try a learning rate of {suggested:g}."
    else:
        text += " No smaller rate trained in that many steps: check the data and the network."
    return {"text": text, "suggested": suggested, "tried": tried}
