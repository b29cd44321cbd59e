"""Optimizers (`SGD`, `Adam`, `AdamW`) and learning-rate schedules, with PyTorch's update rules.

An optimizer holds a list of parameters and one learning rate ``lr`` (a plain attribute a
schedule may change). ``step()`` reads each parameter's gradient array and updates its
values in place, under `no_grad`; parameters without a gradient are skipped. All
arithmetic mixes the parameter's arrays with Python floats, so float32 stays float32.

``state_dict()`` is flat, name -> NumPy array, float or int, so a checkpoint can store
it in an ``.npz`` file without pickling:

- the hyperparameters under their own names: ``lr``, ``momentum``, ``betas`` (an array
  of two floats), ...;
- per-parameter state as ``state.<i>.<name>``, with ``i`` the parameter's position in
  the list given to the optimizer: ``state.0.momentum_buffer`` (SGD), ``state.0.step``,
  ``state.0.exp_avg``, ``state.0.exp_avg_sq`` (Adam, AdamW).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from . import autograd, backend
from .errors import UserError
from .tensor import Tensor

StateValue = Any  # np.ndarray | float | int


class OptimizerStateError(UserError, ValueError):
    """A saved optimizer or schedule state does not fit this optimizer or these parameters."""


class Optimizer:
    """Base class: the parameter list, ``lr``, ``zero_grad``, ``step`` and the state dict.

    Subclasses list their hyperparameter attributes in ``hyperparameters`` and implement
    ``_update(index, param, grad)`` for one parameter.
    """

    hyperparameters: tuple[str, ...] = ("lr",)
    state_names: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Tensor], lr: float):
        self.params: list[Tensor] = []
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizers take Tensors (parameters), got {type(p).__name__}")
            if all(p is not q for q in self.params):
                self.params.append(p)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        if lr < 0:
            raise ValueError(f"invalid learning rate {lr}: it must be >= 0")
        self.lr = float(lr)
        self.state: dict[int, dict[str, Any]] = {}

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (sets ``.grad`` to None, as PyTorch)."""
        for p in self.params:
            p._grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient, once."""
        with autograd.no_grad():
            for index, p in enumerate(self.params):
                if p._grad is not None:
                    self._update(index, p, p._grad)

    def _update(self, index: int, param: Tensor, grad: Any) -> None:
        raise NotImplementedError

    # --- saving and loading --------------------------------------------------------------
    def state_dict(self) -> dict[str, StateValue]:
        """Hyperparameters and per-parameter state as a flat dict (see the module doc)."""
        out: dict[str, StateValue] = {}
        for name in self.hyperparameters:
            value = getattr(self, name)
            out[name] = np.array(value, dtype=np.float64) if isinstance(value, tuple) else value
        for index, state in sorted(self.state.items()):
            for key, value in state.items():
                if isinstance(value, int):
                    out[f"state.{index}.{key}"] = value
                else:
                    out[f"state.{index}.{key}"] = backend.active.to_numpy(value).copy()
        return out

    def load_state_dict(self, state_dict: dict[str, StateValue]) -> None:
        """Restore hyperparameters and state from `state_dict` (for example read from .npz).

        Every hyperparameter must be present, and every state entry must belong to a
        parameter of the same shape; the error names the offending key.
        """
        missing = [name for name in self.hyperparameters if name not in state_dict]
        if missing:
            raise OptimizerStateError(
                f"cannot load the {type(self).__name__} state: missing key(s) "
                f"{', '.join(missing)} (was it saved by another optimizer?)"
            )
        state: dict[int, dict[str, Any]] = {}
        for key, value in state_dict.items():
            if key in self.hyperparameters:
                continue
            index, name = self._parse_state_key(key)
            param = self.params[index]
            if name == "step":
                state.setdefault(index, {})[name] = int(value)
                continue
            found = tuple(np.shape(value))
            if found != param.shape:
                raise OptimizerStateError(
                    f"cannot load the {type(self).__name__} state: {key} has shape {found} "
                    f"but parameter {index} has shape {param.shape}"
                )
            array = np.array(value, dtype=backend._dtype_name(param.dtype), copy=True)
            state.setdefault(index, {})[name] = backend.active.asarray(array)
        for index, entries in state.items():
            absent = [name for name in self.state_names if name not in entries]
            if absent:
                raise OptimizerStateError(
                    f"cannot load the {type(self).__name__} state: parameter {index} lacks "
                    f"{', '.join(f'state.{index}.{name}' for name in absent)}"
                )
        for name in self.hyperparameters:
            current = getattr(self, name)
            value = state_dict[name]
            if isinstance(current, tuple):
                setattr(self, name, tuple(float(v) for v in np.asarray(value)))
            else:
                setattr(self, name, type(current)(value))
        self.state = state

    def _parse_state_key(self, key: str) -> tuple[int, str]:
        parts = key.split(".")
        valid = (
            len(parts) == 3
            and parts[0] == "state"
            and parts[1].isdigit()
            and parts[2] in self.state_names
        )
        if not valid:
            raise OptimizerStateError(
                f"cannot load the {type(self).__name__} state: unexpected key {key!r} "
                f"(expected {', '.join(self.hyperparameters)} or "
                f"state.<index>.<{'|'.join(self.state_names)}>)"
            )
        index = int(parts[1])
        if index >= len(self.params):
            raise OptimizerStateError(
                f"cannot load the {type(self).__name__} state: {key} refers to parameter "
                f"{index}, but this optimizer has {len(self.params)} parameters"
            )
        return index, parts[2]

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.hyperparameters)
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov and weight decay.

    PyTorch's rule, for gradient g and parameter p:
    g += weight_decay * p; with momentum mu: b = g on the first step, then
    b = mu * b + (1 - dampening) * g, and g = g + mu * b (Nesterov) or g = b;
    finally p -= lr * g.
    """

    hyperparameters = ("lr", "momentum", "dampening", "weight_decay", "nesterov")
    state_names = ("momentum_buffer",)

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr)
        if momentum < 0 or weight_decay < 0:
            raise ValueError(
                f"momentum and weight_decay must be >= 0, got {momentum} and {weight_decay}"
            )
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum > 0 and zero dampening")
        self.momentum = float(momentum)
        self.dampening = float(dampening)
        self.nesterov = bool(nesterov)
        self.weight_decay = float(weight_decay)

    def _update(self, index: int, param: Tensor, grad: Any) -> None:
        if self.weight_decay:
            grad = grad + self.weight_decay * param.data
        if self.momentum:
            state = self.state.setdefault(index, {})
            buf = state.get("momentum_buffer")
            if buf is None:
                # a copy: the buffer is updated in place and the gradient array may be shared
                buf = state["momentum_buffer"] = backend.active.xp.asarray(grad, copy=True)
            else:
                buf *= self.momentum
                buf += (1 - self.dampening) * grad
            grad = grad + self.momentum * buf if self.nesterov else buf
        param.data -= self.lr * grad


class Adam(Optimizer):
    """Adam: steps scaled by running estimates of the gradient's mean and square.

    PyTorch's rule, with step count t: g += weight_decay * p (L2, coupled);
    m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
    p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
    """

    hyperparameters = ("lr", "betas", "eps", "weight_decay")
    state_names = ("step", "exp_avg", "exp_avg_sq")
    decoupled_weight_decay = False

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr)
        if not all(0.0 <= b < 1.0 for b in betas) or len(betas) != 2:
            raise ValueError(f"betas must be two numbers in [0, 1), got {betas}")
        if eps < 0 or weight_decay < 0:
            raise ValueError(f"eps and weight_decay must be >= 0, got {eps} and {weight_decay}")
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)

    def _update(self, index: int, param: Tensor, grad: Any) -> None:
        xp = backend.active.xp
        state = self.state.get(index)
        if state is None:
            state = self.state[index] = {
                "step": 0,
                "exp_avg": xp.zeros_like(param.data),
                "exp_avg_sq": xp.zeros_like(param.data),
            }
        if self.weight_decay:
            if self.decoupled_weight_decay:
                param.data *= 1 - self.lr * self.weight_decay
            else:
                grad = grad + self.weight_decay * param.data
        beta1, beta2 = self.betas
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * (grad * grad)
        # m / (1 - b1^t) and sqrt(v / (1 - b2^t)): the bias-corrected moment estimates
        denom = xp.sqrt(v) / math.sqrt(1 - beta2**t) + self.eps
        param.data -= (self.lr / (1 - beta1**t)) * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay: p -= lr * weight_decay * p before the Adam step."""

    decoupled_weight_decay = True

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ):
        super().__init__(params, lr, betas, eps, weight_decay)


# --- learning-rate schedules -----------------------------------------------------------------


class LRScheduler:
    """Base class: sets ``optimizer.lr`` from the epoch count at each ``step()``.

    Each schedule is a closed form of the epoch (PyTorch's ``_get_closed_form_lr``), so
    restoring ``last_epoch`` and ``base_lr`` restores the schedule exactly.
    """

    hyperparameters: tuple[str, ...] = ()

    def __init__(self, optimizer: Optimizer):
        self.optimizer = optimizer
        self.base_lr = float(optimizer.lr)
        self.last_epoch = 0
        self._last_lr = self.lr_at(0)
        optimizer.lr = self._last_lr

    def lr_at(self, epoch: int) -> float:
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and set the optimizer's learning rate for it."""
        self.last_epoch += 1
        self._last_lr = self.lr_at(self.last_epoch)
        self.optimizer.lr = self._last_lr

    def get_last_lr(self) -> list[float]:
        """The learning rate set by the last step, as a list (PyTorch: one per group)."""
        return [self._last_lr]

    def state_dict(self) -> dict[str, float | int]:
        names = ("last_epoch", "base_lr", *self.hyperparameters)
        return {name: getattr(self, name) for name in names}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        names = ("last_epoch", "base_lr", *self.hyperparameters)
        missing = [name for name in names if name not in state_dict]
        unexpected = [key for key in state_dict if key not in names]
        if missing or unexpected:
            raise OptimizerStateError(
                f"cannot load the {type(self).__name__} state: missing key(s) "
                f"{missing or 'none'}, unexpected key(s) {unexpected or 'none'}"
            )
        for name in names:
            setattr(self, name, type(getattr(self, name))(state_dict[name]))
        self._last_lr = self.lr_at(self.last_epoch)

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.hyperparameters)
        return f"{type(self).__name__}({args})"


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (epoch // step_size): decay by gamma every step_size epochs."""

    hyperparameters = ("step_size", "gamma")

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        if step_size < 1:
            raise ValueError(f"step_size must be a positive integer, got {step_size}")
        self.step_size = int(step_size)
        self.gamma = float(gamma)
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


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

    def lr_at(self, epoch: int) -> float:
        cosine = (1 + math.cos(math.pi * epoch / self.T_max)) / 2
        return self.eta_min + (self.base_lr - self.eta_min) * cosine
