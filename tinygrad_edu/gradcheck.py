"""Check analytic gradients against central finite differences, in float64.

For tensors, a non-scalar output is first reduced to a scalar with fixed random weights
(``sum(out * w)``), so one backward pass checks the whole vector-Jacobian product; every
element of every input is then perturbed by +-eps and the numeric slope compared with
the analytic one: ``|analytic - numeric| <= atol + rtol * |numeric|``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import autograd, backend
from ._tensor import Tensor
from .value import Value


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with its finite-difference estimate."""


def gradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Tensor | Value],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Return True if ``fn``'s gradients match central differences; raise otherwise.

    ``inputs`` are Tensors (converted to float64 leaves; pass ``requires_grad=False`` ones
    to hold them fixed) or Values. The error names the input, the worst element's index,
    and the analytic and numeric values there.
    """
    if all(isinstance(v, Value) for v in inputs):
        return _check_values(fn, list(inputs), eps, atol, rtol)
    return _check_tensors(fn, list(inputs), eps, atol, rtol)


def _compare(
    name: str, analytic: np.ndarray, numeric: np.ndarray, atol: float, rtol: float
) -> None:
    excess = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    # not `max(excess) > 0`: a nan (in either gradient) must fail, not compare False
    if excess.size and not np.all(excess <= 0):
        worst = np.unravel_index(
            int(np.nanargmax(np.where(np.isfinite(excess), excess, np.inf))), excess.shape
        )
        raise GradcheckError(
            f"gradcheck failed for {name} at index {tuple(int(i) for i in worst)}: "
            f"analytic {float(analytic[worst])!r}, numeric {float(numeric[worst])!r} "
            f"(allowed difference {atol + rtol * abs(numeric[worst]):.3g})"
        )


def _check_tensors(fn, inputs, eps, atol, rtol) -> bool:
    b = backend.active
    leaves = [Tensor(t.numpy().astype(np.float64), requires_grad=t.requires_grad) for t in inputs]
    out = fn(*leaves)
    weights = np.random.default_rng(1234).uniform(0.5, 1.5, out.shape)
    weight_t = Tensor(weights, dtype="float64")
    (out * weight_t).sum().backward()

    def scalar(values: list[np.ndarray]) -> float:
        with autograd.no_grad():
            result = fn(*[Tensor(v, dtype="float64") for v in values])
            return float(b.to_numpy((result * weight_t).sum().data))

    base = [t.numpy().copy() for t in leaves]
    for k, leaf in enumerate(leaves):
        if not leaf.requires_grad:
            continue
        numeric = np.zeros_like(base[k])
        for idx in np.ndindex(base[k].shape):
            original = base[k][idx]
            base[k][idx] = original + eps
            plus = scalar(base)
            base[k][idx] = original - eps
            minus = scalar(base)
            base[k][idx] = original
            numeric[idx] = (plus - minus) / (2 * eps)
        analytic = np.zeros_like(numeric) if leaf.grad is None else leaf.grad.numpy()
        _compare(f"input {k} (shape {leaf.shape})", analytic, numeric, atol, rtol)
    return True


def _check_values(fn, inputs, eps, atol, rtol) -> bool:
    leaves = [Value(v.data) for v in inputs]
    fn(*leaves).backward()
    for k, leaf in enumerate(leaves):
        original = leaf.data
        plus = fn(
            *[Value(original + eps) if i == k else Value(v.data) for i, v in enumerate(leaves)]
        )
        minus = fn(
            *[Value(original - eps) if i == k else Value(v.data) for i, v in enumerate(leaves)]
        )
        numeric = (plus.data - minus.data) / (2 * eps)
        _compare(f"input {k}", np.array([leaf.grad]), np.array([numeric]), atol, rtol)
    return True


@dataclass(frozen=True)
class ParameterCheck:
    """How far one parameter's analytic gradient lies from its central-difference estimate."""

    name: str
    shape: tuple[int, ...]
    checked: int  # elements compared (all, or a random sample of them)
    max_abs_error: float
    max_rel_error: float  # |analytic - numeric| / max(|analytic|, |numeric|, REL_FLOOR)
    worst_index: tuple[int, ...]


REL_FLOOR = 1e-3
"""Gradients smaller than this are compared absolutely: the numeric estimate of a zero
gradient is rounding noise (~1e-10), and noise divided by noise is no relative error."""


def check_parameters(
    loss_fn: Callable[[], Tensor],
    parameters: Sequence[tuple[str, Tensor]],
    eps: float = 1e-6,
    max_elements: int | None = None,
    seed: int = 0,
) -> list[ParameterCheck]:
    """Compare d loss/d p with central differences for each named float64 parameter p.

    Where `gradcheck` differentiates a function of its inputs, this perturbs a model's
    parameters in place: ``loss_fn()`` recomputes the scalar loss from their current
    values (a closure over a model and a fixed batch) and must be deterministic. With
    `max_elements`, that many elements per parameter, chosen with `seed`, are checked.
    """
    b = backend.active
    for _, param in parameters:
        if backend._dtype_name(param.dtype) != "float64":
            raise TypeError(
                f"check_parameters needs float64 parameters for exact differences; "
                f"{param.shape} is {backend._dtype_name(param.dtype)}"
            )
        param.grad = None
    loss_fn().backward()
    choose = np.random.default_rng(seed)
    results = []
    for name, param in parameters:
        analytic = np.zeros(param.shape) if param.grad is None else param.grad.numpy()
        indices = list(np.ndindex(param.shape))
        if max_elements is not None and len(indices) > max_elements:
            picked = choose.choice(len(indices), size=max_elements, replace=False)
            indices = [indices[i] for i in sorted(picked)]
        numeric = np.empty(len(indices))
        for k, idx in enumerate(indices):
            original = param.data[idx]
            with autograd.no_grad():
                param.data[idx] = original + eps
                plus = float(b.to_numpy(loss_fn().data))
                param.data[idx] = original - eps
                minus = float(b.to_numpy(loss_fn().data))
            param.data[idx] = original
            numeric[k] = (plus - minus) / (2 * eps)
        exact = np.array([analytic[idx] for idx in indices], dtype=float)
        scale = np.maximum(np.maximum(np.abs(exact), np.abs(numeric)), REL_FLOOR)
        # a nan (gradient or loss) counts as infinitely wrong, never as passing
        abs_error = np.nan_to_num(np.abs(exact - numeric), nan=np.inf)
        rel_error = np.nan_to_num(abs_error / scale, nan=np.inf)
        worst = int(np.argmax(rel_error)) if indices else 0
        results.append(
            ParameterCheck(
                name,
                tuple(param.shape),
                len(indices),
                float(abs_error.max(initial=0.0)),
                float(rel_error.max(initial=0.0)),
                tuple(int(i) for i in indices[worst]) if indices else (),
            )
        )
    return results
