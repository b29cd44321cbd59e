"""Learning-rate schedules, as ``torch.optim.lr_scheduler`` (also ``optim.lr_scheduler``).

A schedule sets ``group["lr"]`` of every parameter group of its optimizer at each
``step()``; create it after the optimizer and call ``step()`` once per epoch (or per batch
for `OneCycleLR`, whose ``total_steps`` counts the steps you take), after
``optimizer.step()``.

Every schedule but `ReduceLROnPlateau` is a closed form of the step count and the
group's initial rate (PyTorch's ``_get_closed_form_lr``), so restoring ``last_epoch`` and
``base_lrs`` restores the schedule exactly. The numbers agree with PyTorch's recursive
forms to rounding. `ReduceLROnPlateau` instead watches a metric: ``step(val_loss)``.

``state_dict()`` is flat (numbers, strings and lists of floats), so a checkpoint stores it
without pickling.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .optimizer import Optimizer, OptimizerStateError


class LRScheduler:
    """Base class: sets each group's ``lr`` from the step count at each ``step()``.

    Subclasses list their options in ``hyperparameters`` and implement
    ``lr_at(epoch, base_lr)``. The first group's ``initial_lr`` (its rate when the first
    schedule was attached) is the base of the closed form, as in PyTorch.
    """

    hyperparameters: tuple[str, ...] = ()

    def __init__(self, optimizer: Optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [float(group["initial_lr"]) for group in optimizer.param_groups]
        self.last_epoch = 0
        self._apply()

    @property
    def base_lr(self) -> float:
        """The first group's initial learning rate."""
        return self.base_lrs[0]

    def lr_at(self, epoch: int, base_lr: float) -> float:
        raise NotImplementedError

    def get_lr(self) -> list[float]:
        """The learning rate of each group at the current step."""
        return [self.lr_at(self.last_epoch, base) for base in self.base_lrs]

    def _apply(self) -> None:
        self._last_lr = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr

    def step(self) -> None:
        """Advance one step (epoch) and set each group's learning rate for it."""
        self.last_epoch += 1
        self._apply()

    def get_last_lr(self) -> list[float]:
        """The learning rates set by the last step, one per parameter group."""
        return list(self._last_lr)

    def _state_fields(self) -> tuple[str, ...]:
        return ("last_epoch", "base_lrs", *self.hyperparameters)

    def state_dict(self) -> dict[str, Any]:
        return {name: _copy(getattr(self, name)) for name in self._state_fields()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        names = self._state_fields()
        missing = [name for name in names if name not in state_dict]
        unexpected = [key for key in state_dict if key not in names]
        if missing or unexpected:
            raise OptimizerStateError(
                f"cannot load the {type(self).__name__} state: missing key(s) "
                f"{missing or 'none'}, unexpected key(s) {unexpected or 'none'}"
            )
        for name in names:
            setattr(self, name, _restore(getattr(self, name), state_dict[name]))
        self._last_lr = self._restored_last_lr()

    def _restored_last_lr(self) -> list[float]:
        return self.get_lr()

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.hyperparameters)
        return f"{type(self).__name__}({args})"


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


def _restore(current: Any, value: Any) -> Any:
    """A saved value (perhaps read back from .npz as an array) in the type of `current`."""
    if isinstance(current, list):
        return [float(v) for v in np.asarray(value, dtype=np.float64).reshape(-1)]
    if isinstance(current, str):
        return str(value)
    return type(current)(value)


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (epoch // step_size): decay by gamma every step_size epochs."""

    hyperparameters = ("step_size", "gamma")

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        if step_size < 1:
            raise ValueError(f"step_size must be a positive integer, got {step_size}")
        self.step_size = int(step_size)
        self.gamma = float(gamma)
        super().__init__(optimizer)

    def lr_at(self, epoch: int, base_lr: float) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRScheduler):
    """lr = base_lr * gamma ** epoch: decay by gamma every epoch."""

    hyperparameters = ("gamma",)

    def __init__(self, optimizer: Optimizer, gamma: float):
        self.gamma = float(gamma)
        super().__init__(optimizer)

    def lr_at(self, epoch: int, base_lr: float) -> float:
        return base_lr * self.gamma**epoch


class LinearLR(LRScheduler):
    """lr = base_lr * factor, the factor going linearly from start_factor to end_factor
    over total_iters epochs and staying at end_factor after (a warm-up by default)."""

    hyperparameters = ("start_factor", "end_factor", "total_iters")

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
    ):
        if not 0 < start_factor <= 1 or not 0 <= end_factor <= 1:
            raise ValueError(
                f"start_factor must be in (0, 1] and end_factor in [0, 1], got {start_factor} "
                f"and {end_factor}"
            )
        if total_iters < 1:
            raise ValueError(f"total_iters must be a positive integer, got {total_iters}")
        self.start_factor = float(start_factor)
        self.end_factor = float(end_factor)
        self.total_iters = int(total_iters)
        super().__init__(optimizer)

    def lr_at(self, epoch: int, base_lr: float) -> float:
        progress = min(self.total_iters, epoch) / self.total_iters
        return base_lr * (self.start_factor + (self.end_factor - self.start_factor) * progress)


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2.

    Half a cosine from base_lr down to eta_min over T_max epochs (SGDR without restarts).
    """

    hyperparameters = ("T_max", "eta_min")

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0):
        if T_max < 1:
            raise ValueError(f"T_max must be a positive integer, got {T_max}")
        self.T_max = int(T_max)
        self.eta_min = float(eta_min)
        super().__init__(optimizer)

    def lr_at(self, epoch: int, base_lr: float) -> float:
        cosine = (1 + math.cos(math.pi * epoch / self.T_max)) / 2
        return self.eta_min + (base_lr - self.eta_min) * cosine


class OneCycleLR(LRScheduler):
    """The 1cycle policy: lr rises from max_lr / div_factor to max_lr over the first
    pct_start of total_steps, then falls to max_lr / (div_factor * final_div_factor).

    With ``cycle_momentum`` the momentum (SGD, RMSprop) or beta1 (Adam) moves the other
    way, between max_momentum and base_momentum. ``three_phase`` mirrors the rise before
    the final fall. PyTorch's phases and formulas; stepping past total_steps is an error.
    """

    hyperparameters = (
        "max_lrs",
        "total_steps",
        "pct_start",
        "anneal_strategy",
        "cycle_momentum",
        "base_momentum",
        "max_momentum",
        "div_factor",
        "final_div_factor",
        "three_phase",
    )

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | list[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float = 0.85,
        max_momentum: float = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
    ):
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("give total_steps, or epochs and steps_per_epoch")
            total_steps = epochs * steps_per_epoch
        if total_steps < 1:
            raise ValueError(f"total_steps must be a positive integer, got {total_steps}")
        if not 0 <= pct_start <= 1:
            raise ValueError(f"pct_start must be in [0, 1], got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        groups = optimizer.param_groups
        max_lrs = list(max_lr) if isinstance(max_lr, (list, tuple)) else [max_lr] * len(groups)
        if len(max_lrs) != len(groups):
            raise ValueError(f"max_lr has {len(max_lrs)} values for {len(groups)} groups")
        if cycle_momentum and not {"momentum", "betas"} & set(optimizer.defaults):
            raise ValueError(
                f"{type(optimizer).__name__} has no momentum or beta1 to cycle; pass "
                "cycle_momentum=False"
            )
        self.max_lrs = [float(v) for v in max_lrs]
        self.total_steps = int(total_steps)
        self.pct_start = float(pct_start)
        self.anneal_strategy = anneal_strategy
        self.cycle_momentum = bool(cycle_momentum)
        self.base_momentum = float(base_momentum)
        self.max_momentum = float(max_momentum)
        self.div_factor = float(div_factor)
        self.final_div_factor = float(final_div_factor)
        self.three_phase = bool(three_phase)
        for group, top in zip(groups, self.max_lrs):
            group["initial_lr"] = top / self.div_factor
        super().__init__(optimizer)

    def _phases(self) -> list[tuple[float, str, str]]:
        """(end step, start point, end point) of each phase; points name lr/momentum ends."""
        rise = float(self.pct_start * self.total_steps) - 1
        if self.three_phase:
            return [
                (rise, "low", "high"),
                (float(2 * self.pct_start * self.total_steps) - 2, "high", "low"),
                (self.total_steps - 1, "low", "min"),
            ]
        return [(rise, "low", "high"), (self.total_steps - 1, "high", "min")]

    def _position(self) -> tuple[str, str, float]:
        """The phase's start and end points and the fraction of it done at this step."""
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(
                f"OneCycleLR stepped {step} times, but total_steps is {self.total_steps}"
            )
        start_step = 0.0
        phases = self._phases()
        for i, (end_step, start, end) in enumerate(phases):
            if step <= end_step or i == len(phases) - 1:
                return start, end, (step - start_step) / (end_step - start_step)
            start_step = end_step
        raise AssertionError("unreachable: the last phase always matches")

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "linear":
            return (end - start) * pct + start
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)

    def get_lr(self) -> list[float]:
        start, end, pct = self._position()
        lrs = []
        for top in self.max_lrs:
            low = top / self.div_factor
            points = {"low": low, "high": top, "min": low / self.final_div_factor}
            lrs.append(self._anneal(points[start], points[end], pct))
        return lrs

    def _apply(self) -> None:
        super()._apply()
        if not self.cycle_momentum:
            return
        start, end, pct = self._position()
        # momentum moves against the rate: high rate, low momentum
        points = {"low": self.max_momentum, "high": self.base_momentum, "min": self.max_momentum}
        momentum = self._anneal(points[start], points[end], pct)
        for group in self.optimizer.param_groups:
            if "betas" in group:
                group["betas"] = (momentum, *group["betas"][1:])
            else:
                group["momentum"] = momentum


class ReduceLROnPlateau(LRScheduler):
    """Multiply the learning rate by ``factor`` when a metric stopped improving.

    ``step(metric)`` once per epoch (a spec's training passes the held-out loss). After
    more than ``patience`` epochs without an improvement by ``threshold`` (relative or
    absolute), every group's rate is multiplied by ``factor`` (never below ``min_lr``,
    and not at all if the change would be smaller than ``eps``), then ``cooldown`` epochs
    pass before counting again. PyTorch's rules.
    """

    hyperparameters = (
        "mode",
        "factor",
        "patience",
        "threshold",
        "threshold_mode",
        "cooldown",
        "min_lrs",
        "eps",
    )

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0.0,
        eps: float = 1e-8,
    ):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        if factor >= 1.0:
            raise ValueError(f"factor must be < 1.0, got {factor}")
        if mode not in ("min", "max") or threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"mode must be 'min' or 'max' and threshold_mode 'rel' or 'abs', got "
                f"{mode!r} and {threshold_mode!r}"
            )
        groups = optimizer.param_groups
        min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * len(groups)
        if len(min_lrs) != len(groups):
            raise ValueError(f"min_lr has {len(min_lrs)} values for {len(groups)} groups")
        self.optimizer = optimizer
        self.mode, self.threshold_mode = mode, threshold_mode
        self.factor, self.threshold, self.eps = float(factor), float(threshold), float(eps)
        self.patience, self.cooldown = int(patience), int(cooldown)
        self.min_lrs = [float(v) for v in min_lrs]
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in groups]

    def _state_fields(self) -> tuple[str, ...]:
        return ("last_epoch", "best", "num_bad_epochs", "cooldown_counter", *self.hyperparameters)

    def _restored_last_lr(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def is_better(self, value: float, best: float) -> bool:
        if self.mode == "min":
            bound = (
                best * (1 - self.threshold)
                if self.threshold_mode == "rel"
                else best - self.threshold
            )
            return value < bound
        bound = (
            best * (1 + self.threshold) if self.threshold_mode == "rel" else best + self.threshold
        )
        return value > bound

    def step(self, metrics: float) -> None:  # type: ignore[override]
        """Count this epoch's metric (a loss for mode 'min'); reduce the rate on a plateau."""
        current = float(metrics)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, floor in zip(self.optimizer.param_groups, self.min_lrs):
                old = float(group["lr"])
                new = max(old * self.factor, floor)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]


__all__ = [
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "LinearLR",
    "OneCycleLR",
    "ReduceLROnPlateau",
    "StepLR",
]
