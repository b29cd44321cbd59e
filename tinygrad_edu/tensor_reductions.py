"""Reductions of a `Tensor` (sum, mean, max, min, var, std, logsumexp, argmax) and the
softmax family, each with its gradient; ``dim=``/``keepdim=`` or ``axis=``/``keepdims=``.

One of the classes `Tensor` is made of (_tensor.py): each op records itself through the
tensor's `_reduce` or `_unary`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Union

from . import backend, dtypes, ops
from .dims import (
    Axis,
    _axes,
    _dim,
    _reduced_shape,
    _torch_names,
)
from .dtypes import _floating, _is_float

if TYPE_CHECKING:  # annotations only: this module is one of the classes Tensor is made of
    from ._tensor import Tensor

Number = Union[int, float]


class Reductions:
    """`Tensor`'s reductions; ``amax``/``amin`` are ``max``/``min``, as PyTorch's."""

    __slots__ = ()

    def argmax(
        self,
        axis: int | None = None,
        keepdims: bool = False,
        *,
        dim: int | None = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Index of the largest element (along `axis`); an integer tensor, no gradient."""
        return self._arg("argmax", axis, keepdims, dim, keepdim)

    def argmin(
        self,
        axis: int | None = None,
        keepdims: bool = False,
        *,
        dim: int | None = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        return self._arg("argmin", axis, keepdims, dim, keepdim)

    def _arg(self, op: str, axis: Any, keepdims: bool, dim: Any, keepdim: Any) -> Tensor:
        axis, keepdims = _torch_names(axis, keepdims, dim, keepdim)
        if axis is not None:
            axis = _dim(axis, self.ndim) if self.ndim else None
        found = getattr(backend.active.xp, op)(self.data, axis=axis, keepdims=keepdims)
        return self._wrap(found)

    # axis=/keepdims= (NumPy) or dim=/keepdim= (PyTorch); axis=() reduces every dimension,
    # as PyTorch (NumPy would reduce none)
    def sum(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        axis, keepdims = _torch_names(axis, keepdims, dim, keepdim)
        axes = _axes(axis, self.ndim)
        shape = self.data.shape
        data, backward = ops.SUM.forward(self.data, axes, keepdims), ops.SUM.backward[0]
        return self._reduce("sum", data, axes, keepdims, lambda g: backward(g, shape))

    def mean(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        if not _is_float(self.data):
            raise RuntimeError(
                "mean(): could not infer output dtype. Input dtype must be either a floating "
                f"point or complex dtype. Got: {dtypes.torch_type_name(self.dtype)}"
            )
        axis, keepdims = _torch_names(axis, keepdims, dim, keepdim)
        axes = _axes(axis, self.ndim)
        shape = self.data.shape
        count = math.prod(shape[a] for a in axes)
        data, backward = ops.MEAN.forward(self.data, axes, keepdims), ops.MEAN.backward[0]
        return self._reduce("mean", data, axes, keepdims, lambda g: backward(g, shape, count))

    def max(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Largest values along `axis`: values only, as ``torch.amax`` (``torch.max(dim=)``
        also returns the indices; use `argmax` for those)."""
        return self._extreme("max", *_torch_names(axis, keepdims, dim, keepdim))

    def min(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Smallest values along `axis`: values only, as ``torch.amin``."""
        return self._extreme("min", *_torch_names(axis, keepdims, dim, keepdim))

    def _extreme(self, op: str, axis: Axis, keepdims: bool) -> Tensor:
        xp = backend.active.xp
        axes = _axes(axis, self.ndim)
        x, row = self.data, ops.ARRAY[op]  # ops.MAX or ops.MIN
        kept = row.forward(x, axes)
        data = kept if keepdims else xp.reshape(kept, _reduced_shape(self.shape, axes))
        backward = row.backward[0]
        return self._reduce(op, data, axes, keepdims, lambda g: backward(g, x, kept, axes))

    def var(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        correction: int = 1,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Variance along `axis`, divided by n - correction (1 by default, as PyTorch).

        With n - correction <= 0 the divisor is 0, as PyTorch: inf (nan for constant
        values). The gradient then follows PyTorch's two rules: over the whole tensor, inf
        (nan where x equals the mean); along given dims, the formula 2 (x - mean) / (n -
        correction) in IEEE arithmetic (-inf, nan, inf for n = correction; finite for n <
        correction)."""
        xp = backend.active.xp
        centred, n, axes, keepdims, whole = self._centred(axis, keepdims, correction, dim, keepdim)
        dof = max(0, n - correction)
        squares = xp.sum(centred * centred, axis=axes, keepdims=keepdims)
        if dof > 0:
            # d var/dx_i = 2 (x_i - mean) / (n - correction)
            return self._reduce(
                "var", squares / dof, axes, keepdims, lambda g: g * (2.0 / dof) * centred
            )
        data = xp.where(squares == 0, xp.full_like(squares, math.nan), math.inf)
        if whole:  # d var/dx_i with no degrees of freedom: inf, nan where x_i is the mean
            local = xp.where(centred == 0, xp.full_like(centred, math.nan), math.inf)
        else:  # 2 / (n - correction) with 2 / 0 = inf, then times (x_i - mean)
            local = (math.inf if n == correction else 2.0 / (n - correction)) * centred
        return self._reduce("var", data, axes, keepdims, lambda g: g * local)

    def std(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        correction: int = 1,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Standard deviation, sqrt(var); its gradient is 0 where it is 0, as PyTorch."""
        xp = backend.active.xp
        centred, n, axes, keepdims, whole = self._centred(axis, keepdims, correction, dim, keepdim)
        dof = max(0, n - correction)
        squares = xp.sum(centred * centred, axis=axes, keepdims=True)
        if dof <= 0:
            return self.var(None if whole else axes, keepdims, correction).sqrt()
        kept = xp.sqrt(squares / dof)
        data = kept if keepdims else xp.reshape(kept, _reduced_shape(self.shape, axes))
        # d std/dx_i = (x_i - mean) / ((n - correction) std), 0 where std = 0
        safe = xp.where(kept == 0, 1.0, kept)
        local = xp.where(kept == 0, 0.0, centred / (dof * safe))
        return self._reduce("std", data, axes, keepdims, lambda g: g * local)

    def _centred(self, axis, keepdims, correction, dim, keepdim):
        """x - mean(x) over the axes, the number n of values each result reduces, and
        whether the reduction is over the whole tensor (no dim given, or a 0-d tensor),
        where PyTorch's gradient without degrees of freedom differs (see `var`)."""
        xp = backend.active.xp
        if not _is_float(self.data):
            raise RuntimeError("std and var only support floating point and complex dtypes")
        axis, keepdims = _torch_names(axis, keepdims, dim, keepdim)
        axes = _axes(axis, self.ndim)
        x = self.data
        centred = x - xp.mean(x, axis=axes, keepdims=True)
        n = math.prod(self.shape[a] for a in axes)
        return centred, n, axes, keepdims, axis is None or self.ndim == 0

    def logsumexp(self, dim: Axis, keepdim: bool = False) -> Tensor:
        """log(sum(exp(x))) along `dim`, without overflow (the max is taken out first)."""
        xp = backend.active.xp
        x = _floating(self.data)
        axes = _axes(dim, self.ndim)
        peak = xp.max(x, axis=axes, keepdims=True)
        peak = xp.where(xp.isfinite(peak), peak, 0.0)  # all -inf (or an inf): no shift
        kept = peak + xp.log(xp.sum(xp.exp(x - peak), axis=axes, keepdims=True))
        data = kept if keepdim else xp.reshape(kept, _reduced_shape(self.shape, axes))
        # d logsumexp/dx_i = exp(x_i - logsumexp) = softmax(x)_i
        return self._reduce("logsumexp", data, axes, keepdim, lambda g: g * xp.exp(x - kept))

    def softmax(self, dim: int = -1) -> Tensor:
        xp = backend.active.xp
        axis = _dim(dim, self.ndim)
        s = xp.exp(_log_softmax_data(self.data, axis))
        backward = ops.SOFTMAX.backward[0]
        return self._unary("softmax", s, lambda g: backward(g, s, axis))

    def log_softmax(self, dim: int = -1) -> Tensor:
        axis = _dim(dim, self.ndim)
        out = _log_softmax_data(self.data, axis)
        backward = ops.LOG_SOFTMAX.backward[0]
        return self._unary("log_softmax", out, lambda g: backward(g, out, axis))

    amax = max
    amin = min


def _log_softmax_data(x: Any, axis: int) -> Any:
    """log softmax(x) = x - max - log(sum(exp(x - max))): no overflow for large |x|."""
    xp = backend.active.xp
    shifted = x - xp.max(x, axis=axis, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))
