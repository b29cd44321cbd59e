"""The optimizers, each a subclass of `Optimizer` with PyTorch's update rule in ``step``:
`SGD`, `Adam`, `AdamW`, `RMSprop`, `Adagrad` (the state they keep: see `optimizer`)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from .. import backend
from .._tensor import Tensor
from .optimizer import Optimizer, ParamGroup


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

    recordable_step = True  # see Optimizer.recordable_step

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
