"""Gradient clipping, as ``torch.nn.utils`` (reachable as ``tinygrad_edu.nn.utils``).

Both functions act on the gradients already in ``.grad`` (after ``backward()``, before
``optimizer.step()``) and skip parameters without one. The clipped gradient is a new
array: a gradient array may be shared by two leaves, so it is never written in place.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from .. import autograd, backend
from .._tensor import Tensor


def clear_grad(param: Tensor, set_to_none: bool = True) -> None:
    """``zero_grad`` of one parameter: None, or a fresh zero array (never written in place,
    since a gradient array may be shared)."""
    if set_to_none or param._grad is None:
        param._grad = None
    else:
        param._grad = backend.active.xp.zeros_like(param.data)


def _with_grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p for p in params if p._grad is not None]


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale all gradients together so that their joint norm is at most `max_norm`.

    The norm is that of all gradients concatenated into one vector (``norm_type`` p, or
    ``inf`` for the largest magnitude); each gradient is multiplied by
    min(1, max_norm / (norm + 1e-6)), as PyTorch. Returns the norm before clipping.
    """
    xp = backend.active.xp
    params = _with_grads(parameters)
    norm_type = float(norm_type)
    if not params:
        return Tensor(0.0)
    with autograd.no_grad():
        if math.isinf(norm_type):
            total = max(float(xp.max(xp.abs(p._grad))) if p.numel() else 0.0 for p in params)
        else:
            powers = sum(float(xp.sum(xp.abs(p._grad) ** norm_type)) for p in params)
            total = powers ** (1.0 / norm_type)
        if error_if_nonfinite and not math.isfinite(total):
            raise RuntimeError(
                f"the total norm of order {norm_type} of the gradients is {total}, so they "
                "cannot be clipped; pass error_if_nonfinite=False to clip anyway"
            )
        coefficient = min(max_norm / (total + 1e-6), 1.0)
        for p in params:
            p._grad = p._grad * coefficient
    return Tensor(total, dtype=params[0].dtype)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element into [-clip_value, clip_value]."""
    xp = backend.active.xp
    clip_value = float(clip_value)
    for p in _with_grads(parameters):
        p._grad = xp.clip(p._grad, -clip_value, clip_value)
