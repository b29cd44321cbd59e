"""Optimizers (`SGD`, `Adam`, `AdamW`, `RMSprop`, `Adagrad`) with PyTorch's update rules.

An optimizer holds ``param_groups``, as PyTorch: a list of dicts, each with its
``params`` and its own hyperparameters (``lr``, ``momentum``, ...), filled from the
optimizer's defaults. Pass a list of parameters (one group) or a list of dicts::

    optim.SGD([{"params": body.parameters()}, {"params": head.parameters(), "lr": 0.01}],
              lr=0.1, momentum=0.9)

Schedules (`lr_scheduler`) change ``group["lr"]``; ``optimizer.lr`` reads the first
group's rate and sets every group's. ``step()`` reads each parameter's gradient array and
updates its values in place, under `no_grad`; parameters without a gradient are skipped.
With ``maximize=True`` the gradient is negated first (gradient ascent). All arithmetic
mixes the parameter's arrays with Python floats, so float32 stays float32.

``state_dict()`` is flat, name -> NumPy array, float, int or bool, so a checkpoint can
store it in an ``.npz`` file without pickling:

- each group's hyperparameters as ``param_groups.<g>.<name>`` (``betas`` an array of two
  floats) and its parameters' positions as ``param_groups.<g>.params``;
- per-parameter state as ``state.<i>.<name>``, with ``i`` the parameter's position over
  all groups: ``state.0.momentum_buffer`` (SGD, RMSprop), ``state.0.step``,
  ``state.0.exp_avg``, ``state.0.exp_avg_sq``, ``state.0.max_exp_avg_sq`` (Adam, AdamW),
  ``state.0.square_avg``, ``state.0.grad_avg`` (RMSprop), ``state.0.sum`` (Adagrad).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from . import autograd, backend
from .errors import UserError
from .nn_utils import clear_grad
from .tensor import Tensor

StateValue = Any  # np.ndarray | float | int | bool
ParamGroup = dict[str, Any]


class OptimizerStateError(UserError, ValueError):
    """A saved optimizer or schedule state does not fit this optimizer or these parameters."""


class Optimizer:
    """Base class: the parameter groups, ``zero_grad``, ``step`` and the state dict.

    Subclasses pass their hyperparameters' defaults to ``__init__``, check a group in
    ``_check_group``, name the state a group's parameters keep in ``_state_names`` and
    implement ``_update(index, param, grad, group)`` for one parameter.
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[ParamGroup], defaults: ParamGroup):
        self.defaults = dict(defaults)
        self.param_groups: list[ParamGroup] = []
        self.state: dict[int, dict[str, Any]] = {}
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: ParamGroup) -> None:
        """Add a group of parameters; options it does not give come from the defaults."""
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError("a parameter group is a dict with a 'params' entry")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        unique: list[Tensor] = []
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizers take Tensors (parameters), got {type(p).__name__}")
            if all(p is not q for q in unique):
                unique.append(p)
        if not unique:
            raise ValueError("optimizer got an empty parameter list")
        if any(p is q for p in unique for q in self.params):
            raise ValueError("some parameters appear in more than one parameter group")
        new: ParamGroup = {"params": unique}
        for name, default in self.defaults.items():
            value = group.get(name, default)
            if isinstance(default, tuple):
                value = tuple(float(v) for v in value)
            elif isinstance(default, (bool, str)):
                value = type(default)(value)
            elif isinstance(default, (int, float)):
                value = float(value)
            new[name] = value
        new.update({k: v for k, v in group.items() if k not in new})
        if new["lr"] < 0:
            raise ValueError(f"invalid learning rate {new['lr']}: it must be >= 0")
        self._check_group(new)
        self.param_groups.append(new)

    @property
    def params(self) -> list[Tensor]:
        """Every parameter, over all groups, in order (a parameter's index in ``state``)."""
        return [p for group in self.param_groups for p in group["params"]]

    @property
    def lr(self) -> float:
        """The first group's learning rate; setting it sets every group's."""
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        for group in self.param_groups:
            group["lr"] = float(value)

    def _check_group(self, group: ParamGroup) -> None:
        """Raise ValueError for invalid hyperparameters of `group`."""

    def _state_names(self, group: ParamGroup) -> tuple[str, ...]:
        """The per-parameter state entries `_update` keeps for parameters of `group`."""
        return ()

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient: ``.grad`` becomes None (PyTorch's default),
        or zeros with ``set_to_none=False``."""
        for p in self.params:
            clear_grad(p, set_to_none)

    def step(self) -> None:
        """Update every parameter that has a gradient, once."""
        with autograd.no_grad():
            index = 0
            for group in self.param_groups:
                for p in group["params"]:
                    if p._grad is not None:
                        grad = -p._grad if group.get("maximize") else p._grad
                        self._update(index, p, grad, group)
                    index += 1

    def _update(self, index: int, param: Tensor, grad: Any, group: ParamGroup) -> None:
        raise NotImplementedError

    # --- saving and loading --------------------------------------------------------------
    def state_dict(self) -> dict[str, StateValue]:
        """Groups' hyperparameters and per-parameter state, flat (see the module doc)."""
        out: dict[str, StateValue] = {}
        start = 0
        for g, group in enumerate(self.param_groups):
            for name in self.defaults:
                value = group[name]
                out[f"param_groups.{g}.{name}"] = (
                    np.array(value, dtype=np.float64) if isinstance(value, tuple) else value
                )
            count = len(group["params"])
            out[f"param_groups.{g}.params"] = np.arange(start, start + count, dtype=np.int64)
            start += count
        for index, state in sorted(self.state.items()):
            for key, value in state.items():
                if isinstance(value, int):
                    out[f"state.{index}.{key}"] = value
                else:
                    out[f"state.{index}.{key}"] = backend.active.to_numpy(value).copy()
        return out

    def load_state_dict(self, state_dict: dict[str, StateValue]) -> None:
        """Restore hyperparameters and state from `state_dict` (for example read from .npz).

        Every group's hyperparameters must be present, the groups must hold as many
        parameters as this optimizer's, and every state entry must belong to a parameter
        of the same shape; the error names the offending key.
        """
        name = type(self).__name__
        expected = {
            f"param_groups.{g}.{key}": (g, key)
            for g in range(len(self.param_groups))
            for key in (*self.defaults, "params")
        }
        missing = [key for key in expected if key not in state_dict]
        if missing:
            raise OptimizerStateError(
                f"cannot load the {name} state: missing key(s) {', '.join(missing)} (was it "
                "saved by another optimizer, or with other parameter groups?)"
            )
        loaded: list[ParamGroup] = []  # the saved hyperparameters, applied only when all fit
        owner: dict[int, ParamGroup] = {}  # parameter index -> its loaded group
        for g, group in enumerate(self.param_groups):
            found = len(np.asarray(state_dict[f"param_groups.{g}.params"]).reshape(-1))
            if found != len(group["params"]):
                raise OptimizerStateError(
                    f"cannot load the {name} state: parameter group {g} held {found} "
                    f"parameters, this one holds {len(group['params'])}"
                )
            values = {}
            for key, default in self.defaults.items():
                value = state_dict[f"param_groups.{g}.{key}"]
                if isinstance(default, tuple):
                    values[key] = tuple(float(v) for v in np.asarray(value))
                else:
                    values[key] = type(default)(value)
            loaded.append(values)
            for _ in range(found):
                owner[len(owner)] = values
        state: dict[int, dict[str, Any]] = {}
        params = self.params
        for key, value in state_dict.items():
            if key in expected:
                continue
            index, entry = self._parse_state_key(key, owner)
            if entry == "step":
                state.setdefault(index, {})[entry] = int(value)
                continue
            param = params[index]
            found = tuple(np.shape(value))
            if found != param.shape:
                raise OptimizerStateError(
                    f"cannot load the {name} state: {key} has shape {found} "
                    f"but parameter {index} has shape {param.shape}"
                )
            array = np.array(value, dtype=backend._dtype_name(param.dtype), copy=True)
            state.setdefault(index, {})[entry] = backend.active.asarray(array)
        for index, entries in state.items():
            absent = [n for n in self._state_names(owner[index]) if n not in entries]
            if absent:
                raise OptimizerStateError(
                    f"cannot load the {name} state: parameter {index} lacks "
                    f"{', '.join(f'state.{index}.{n}' for n in absent)}"
                )
        for group, values in zip(self.param_groups, loaded):
            group.update(values)
        self.state = state

    def _parse_state_key(self, key: str, owner: dict[int, ParamGroup]) -> tuple[int, str]:
        name = type(self).__name__
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "state" and parts[1].isdigit():
            index = int(parts[1])
            if index >= len(owner):
                raise OptimizerStateError(
                    f"cannot load the {name} state: {key} refers to parameter {index}, but "
                    f"this optimizer has {len(owner)} parameters"
                )
            if parts[2] in self._state_names(owner[index]):
                return index, parts[2]
        raise OptimizerStateError(
            f"cannot load the {name} state: unexpected key {key!r} (expected "
            f"param_groups.<g>.<{'|'.join(self.defaults)}|params> or state.<index>.<name>)"
        )

    def __repr__(self) -> str:
        """PyTorch's form: each group's options, sorted by name."""
        lines = [f"{type(self).__name__} ("]
        for g, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {g}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"


def _check_nonnegative(**values: float) -> None:
    bad = [f"{name}={value}" for name, value in values.items() if value < 0]
    if bad:
        raise ValueError(f"{', '.join(bad)}: must be >= 0")


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov and weight decay.

    PyTorch's rule, for gradient g and parameter p:
    g += weight_decay * p; with momentum mu: b = g on the first step, then
    b = mu * b + (1 - dampening) * g, and g = g + mu * b (Nesterov) or g = b;
    finally p -= lr * g.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[ParamGroup],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: ParamGroup) -> None:
        _check_nonnegative(momentum=group["momentum"], weight_decay=group["weight_decay"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum > 0 and zero dampening")

    def _state_names(self, group: ParamGroup) -> tuple[str, ...]:
        return ("momentum_buffer",) if group["momentum"] else ()

    def _update(self, index: int, param: Tensor, grad: Any, group: ParamGroup) -> None:
        momentum = group["momentum"]
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param.data
        if momentum:
            state = self.state.setdefault(index, {})
            buf = state.get("momentum_buffer")
            if buf is None:
                # a copy: the buffer is updated in place and the gradient array may be shared
                buf = state["momentum_buffer"] = backend.active.xp.asarray(grad, copy=True)
            else:
                buf *= momentum
                buf += (1 - group["dampening"]) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        param.data -= group["lr"] * grad


class Adam(Optimizer):
    """Adam: steps scaled by running estimates of the gradient's mean and square.

    PyTorch's rule, with step count t: g += weight_decay * p (L2, coupled);
    m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; with ``amsgrad`` v_max = max(v_max, v)
    takes v's place in the denominator;
    p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
    """

    decoupled_weight_decay = False

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[ParamGroup],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: ParamGroup) -> None:
        betas = group["betas"]
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"betas must be two numbers in [0, 1), got {betas}")
        _check_nonnegative(eps=group["eps"], weight_decay=group["weight_decay"])

    def _state_names(self, group: ParamGroup) -> tuple[str, ...]:
        names = ("step", "exp_avg", "exp_avg_sq")
        return (*names, "max_exp_avg_sq") if group["amsgrad"] else names

    def _update(self, index: int, param: Tensor, grad: Any, group: ParamGroup) -> None:
        xp = backend.active.xp
        state = self.state.get(index)
        if state is None:
            state = self.state[index] = {
                "step": 0,
                "exp_avg": xp.zeros_like(param.data),
                "exp_avg_sq": xp.zeros_like(param.data),
            }
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = xp.zeros_like(param.data)
        lr, weight_decay = group["lr"], group["weight_decay"]
        if weight_decay:
            if self.decoupled_weight_decay:
                param.data *= 1 - lr * weight_decay
            else:
                grad = grad + weight_decay * param.data
        beta1, beta2 = group["betas"]
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * (grad * grad)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = v = xp.maximum(state["max_exp_avg_sq"], v)
        # m / (1 - b1^t) and sqrt(v / (1 - b2^t)): the bias-corrected moment estimates
        denom = xp.sqrt(v) / math.sqrt(1 - beta2**t) + group["eps"]
        param.data -= (lr / (1 - beta1**t)) * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay: p -= lr * weight_decay * p before the Adam step."""

    decoupled_weight_decay = True

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[ParamGroup],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)


class RMSprop(Optimizer):
    """RMSprop: steps divided by a running root mean square of the gradient.

    PyTorch's rule: g += weight_decay * p; s = alpha s + (1 - alpha) g^2; centered:
    a = alpha a + (1 - alpha) g and the denominator d = sqrt(s - a^2) + eps, else
    d = sqrt(s) + eps; with momentum mu: b = mu b + g / d, p -= lr * b; else p -= lr g / d.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[ParamGroup],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: ParamGroup) -> None:
        _check_nonnegative(
            alpha=group["alpha"],
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            momentum=group["momentum"],
        )

    def _state_names(self, group: ParamGroup) -> tuple[str, ...]:
        names = ["step", "square_avg"]
        if group["momentum"] > 0:
            names.append("momentum_buffer")
        if group["centered"]:
            names.append("grad_avg")
        return tuple(names)

    def _update(self, index: int, param: Tensor, grad: Any, group: ParamGroup) -> None:
        xp = backend.active.xp
        state = self.state.get(index)
        if state is None:
            state = self.state[index] = {"step": 0}
            for name in self._state_names(group)[1:]:
                state[name] = xp.zeros_like(param.data)
        state["step"] += 1
        alpha = group["alpha"]
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param.data
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * (grad * grad)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg *= alpha
            grad_avg += (1 - alpha) * grad
            avg = xp.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = xp.sqrt(square_avg)
        avg += group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf *= group["momentum"]
            buf += grad / avg
            param.data -= group["lr"] * buf
        else:
            param.data -= group["lr"] * (grad / avg)


class Adagrad(Optimizer):
    """Adagrad: steps divided by the root of the sum of all squared gradients so far.

    PyTorch's rule, with step count t: g += weight_decay * p; clr = lr / (1 + (t - 1)
    lr_decay); s += g^2 (s starts at initial_accumulator_value); p -= clr g / (sqrt(s) + eps).
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[ParamGroup],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: ParamGroup) -> None:
        _check_nonnegative(
            lr_decay=group["lr_decay"],
            weight_decay=group["weight_decay"],
            initial_accumulator_value=group["initial_accumulator_value"],
            eps=group["eps"],
        )

    def _state_names(self, group: ParamGroup) -> tuple[str, ...]:
        return ("step", "sum")

    def _update(self, index: int, param: Tensor, grad: Any, group: ParamGroup) -> None:
        xp = backend.active.xp
        state = self.state.get(index)
        if state is None:
            initial = group["initial_accumulator_value"]
            state = self.state[index] = {"step": 0, "sum": xp.zeros_like(param.data) + initial}
        state["step"] += 1
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param.data
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += grad * grad
        param.data -= clr * (grad / (xp.sqrt(state["sum"]) + group["eps"]))


# The schedules live in `lr_scheduler` (as ``torch.optim.lr_scheduler``); the old names
# ``optim.StepLR`` and ``optim.CosineAnnealingLR`` stay. Imported last: it uses Optimizer.
from . import lr_scheduler  # noqa: E402
from .lr_scheduler import CosineAnnealingLR, LRScheduler, StepLR  # noqa: E402

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "LRScheduler",
    "Optimizer",
    "OptimizerStateError",
    "RMSprop",
    "StepLR",
    "lr_scheduler",
]
