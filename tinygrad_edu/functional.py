"""Functional forms of activations and losses, as ``torch.nn.functional``.

The losses are fused: each computes its value and its gradient in one op, with the
numerically stable formula (log-sum-exp shifted by the maximum), instead of chaining
``exp``, ``sum`` and ``log``. That keeps them finite for logits of magnitude 1e4 and
makes a training step cheaper. Their arguments, reductions and edge cases are PyTorch's:
``reduction="mean"`` with class weights is the weighted mean, ignored targets count
neither in the sum nor in the mean, an empty batch's mean is nan.
"""

from __future__ import annotations

import math
from typing import Any

from . import backend, ops, rng
from ._tensor import ShapeError, Tensor, _as_tensor, _data, _result
from .dtypes import _floating_only
from .errors import UserError
from .tensor_reductions import _log_softmax_data


def relu(x: Tensor) -> Tensor:
    return x.relu()


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return x.leaky_relu(negative_slope)


def _erf_data(x: Any) -> Any:
    """erf of an array through the backend namespace (the array API has no erf).

    |x| <= 2.5: the series erf(x) = 2/sqrt(pi) exp(-x^2) sum_n 2^n x^(2n+1) / (2n+1)!!,
    whose terms are all positive (no cancellation); beyond: erf = 1 - erfc with the
    continued fraction erfc(a) = exp(-a^2)/sqrt(pi) / (a + (1/2)/(a + 1/(a + (3/2)/(a + ...)))).
    Within 2e-15 relative of math.erf in float64; each branch sees only safe inputs.
    """
    xp = backend.active.xp
    ax = xp.abs(x)
    near = ax <= _ERF_SPLIT
    s = xp.where(near, x, 0.0)
    s2 = s * s
    term = total = s
    for n in range(_ERF_SERIES_TERMS):
        term = term * (2.0 / (2 * n + 3)) * s2
        total = total + term
    series = total * xp.exp(-s2) * (2.0 / math.sqrt(math.pi))
    a = xp.minimum(xp.maximum(ax, _ERF_SPLIT), 30.0)  # erfc(30) underflows to 0 anyway
    fraction = a
    for k in range(_ERF_FRACTION_TERMS, 0, -1):
        fraction = a + (k / 2) / fraction
    erfc = xp.exp(-a * a) / (fraction * math.sqrt(math.pi))
    tail = xp.where(x < 0, erfc - 1.0, 1.0 - erfc)
    return xp.where(xp.isnan(x), x, xp.where(near, series, tail))


_ERF_SPLIT = 2.5
_ERF_SERIES_TERMS = 40
_ERF_FRACTION_TERMS = 40


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """GELU, x * Phi(x) with the normal CDF Phi (PyTorch's default, exact erf form), or
    with ``approximate="tanh"`` the tanh approximation (`Tensor.gelu`)."""
    if approximate == "tanh":
        return x.gelu()
    if approximate != "none":
        raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")
    xp = backend.active.xp
    xd = _floating_only(x.data, "GeluKernelImpl")
    cdf = 0.5 * (1.0 + _erf_data(xd * (1.0 / math.sqrt(2.0))))  # as PyTorch computes it
    # d gelu/dx = Phi(x) + x phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
    local = cdf + xd * xp.exp(-0.5 * xd * xd) * (1.0 / math.sqrt(2.0 * math.pi))
    return x._unary("gelu", xd * cdf, lambda g: g * local)


def tanh(x: Tensor) -> Tensor:
    return x.tanh()


def sigmoid(x: Tensor) -> Tensor:
    return x.sigmoid()


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias`` as one op with one backward (weight is (out, in))."""
    if x.shape[-1:] != weight.shape[1:]:
        raise ShapeError(
            f"linear: input of shape {x.shape} has {x.shape[-1] if x.ndim else 0} features "
            f"but the weight of shape {weight.shape} expects {weight.shape[1]}"
        )
    xp = backend.active.xp
    xd, wd = x.data, weight.data
    flat = xd if xd.ndim == 2 else xp.reshape(xd, (-1, xd.shape[-1]))
    data = ops.LINEAR.forward(flat, wd)
    if bias is not None:
        if bias.dtype == data.dtype:
            data += bias.data  # in place: data is the fresh matmul result
        else:
            data = data + bias.data
    if xd.ndim != 2:
        data = xp.reshape(data, tuple(xd.shape[:-1]) + (wd.shape[0],))
    parents = (x, weight) if bias is None else (x, weight, bias)
    out = _result(data, parents, "linear")
    if out._prev:

        def _backward():
            g = out._grad
            g2 = g if g.ndim == 2 else xp.reshape(g, (-1, g.shape[-1]))
            grad_x, grad_w, grad_b = ops.LINEAR.backward  # G W, G^T x, G summed over the batch
            if x.requires_grad:
                gx = grad_x(g2, flat, wd)
                x._accumulate(gx if xd.ndim == 2 else xp.reshape(gx, xd.shape))
            if weight.requires_grad:  # fresh arrays: the leaves keep them without a copy
                weight._accumulate(grad_w(g2, flat, wd), fresh=True)
            if bias is not None and bias.requires_grad:
                bias._accumulate(grad_b(g2, flat, wd), fresh=True)

        out._backward = _backward
    return out


def log_softmax(x: Tensor, axis: int = -1, *, dim: int | None = None) -> Tensor:
    return x.log_softmax(axis if dim is None else dim)  # dim= as PyTorch


def softmax(x: Tensor, axis: int = -1, *, dim: int | None = None) -> Tensor:
    return x.softmax(axis if dim is None else dim)


_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    _check_reduction(reduction)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _labels(targets: Tensor | Any) -> Any:
    labels = _data(targets)
    return labels if hasattr(labels, "dtype") else backend.active.asarray(labels)


def _classes_last(data: Any, name: str) -> tuple[Any, tuple[int, ...]]:
    """(M, C) rows of class scores from (C,), (N, C) or (N, C, d1, ...), and the shape of
    the per-element loss: (), (N,) or (N, d1, ...)."""
    xp = backend.active.xp
    if data.ndim == 1:
        return xp.reshape(data, (1, data.shape[0])), ()
    if data.ndim < 1:
        raise ShapeError(f"{name}: input must be (C,), (N, C) or (N, C, d1, ...), got ()")
    shape = tuple(data.shape)
    if data.ndim == 2:
        return data, shape[:1]
    order = (0, *range(2, data.ndim), 1)  # the class dimension last
    rows = xp.reshape(xp.permute_dims(data, order), (-1, shape[1]))
    return rows, (shape[0], *shape[2:])


def _classes_back(rows: Any, shape: tuple[int, ...]) -> Any:
    """The inverse of `_classes_last`: (M, C) rows back to the input's layout."""
    xp = backend.active.xp
    if len(shape) <= 2:
        return xp.reshape(rows, shape)
    moved = (shape[0], *shape[2:], shape[1])
    order = (0, len(shape) - 1, *range(1, len(shape) - 1))
    return xp.permute_dims(xp.reshape(rows, moved), order)


def _class_loss(
    name: str,
    input: Tensor,
    target: Tensor | Any,
    weight: Tensor | Any | None,
    ignore_index: int,
    reduction: str,
    label_smoothing: float,
    from_logits: bool,
) -> Tensor:
    """Cross-entropy (from logits) and NLL (from log-probabilities), fused, as PyTorch.

    Per element, with class weights w (1 without ``weight``) and target class y:
    loss = -(1 - s) w_y logp_y - (s / C) sum_c w_c logp_c (label smoothing s); ignored
    targets give 0. Probability targets t: loss = -sum_c w_c t'_c logp_c with
    t' = (1 - s) t + s / C. ``mean`` divides by the summed w_y of the counted targets
    (for probabilities: by the number of elements). The gradient with respect to logp
    is G = d loss / d logp; from logits it goes through log-softmax: G - softmax * sum(G).
    """
    xp = backend.active.xp
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
    rows, loss_shape = _classes_last(input.data, name)
    count, classes = rows.shape
    logp = _log_softmax_data(rows, 1) if from_logits else rows
    w = None
    if weight is not None:
        w = _constant(weight, logp.dtype)
        if tuple(w.shape) != (classes,):
            raise ShapeError(
                f"{name}: weight must have one entry per class, shape ({classes},), got "
                f"{tuple(w.shape)}"
            )
        w = xp.astype(w, logp.dtype)
    labels = _labels(target)
    probabilities = (
        from_logits
        and tuple(labels.shape) == input.shape
        and xp.isdtype(labels.dtype, "real floating")
    )
    dense = None  # target distribution rows, when the gradient is (softmax - them) * scale
    if probabilities:
        t = _classes_last(labels, name)[0]
        if label_smoothing:
            t = t * (1.0 - label_smoothing) + label_smoothing / classes
        wt = t if w is None else t * w
        terms, dlogp = wt * logp, -wt
        denominator = None  # the mean is over elements
    else:
        _check_index_targets(name, input.shape, labels, loss_shape)
        labels = xp.reshape(labels, (count,))
        hit = _plain_onehot(labels, classes, ignore_index) if w is None else None
        if hit is not None:  # the common case, kept cheap: every target a class, no weights
            dense = xp.astype(hit, logp.dtype)
            if label_smoothing:
                dense = dense * (1.0 - label_smoothing) + label_smoothing / classes
                terms = dense * logp
            else:  # where, not a product: a masked -inf logit must not give 0 * -inf
                terms = xp.where(hit, logp, 0.0)
            denominator = None
        else:
            dlogp, terms, denominator = _index_terms(
                name, logp, labels, w, ignore_index, label_smoothing
            )
    if reduction == "none":
        data = xp.reshape(-xp.sum(terms, axis=1) if terms.ndim == 2 else -terms, loss_shape)
    elif reduction == "sum":
        data = -xp.sum(terms)  # one sum over all elements: cheaper than per-row sums
    elif count == 0:
        data = xp.asarray(math.nan, dtype=logp.dtype)  # the mean of nothing, as PyTorch
    else:
        data = -xp.sum(terms) / (count if denominator is None else denominator)
    parents = (input, target) if isinstance(target, Tensor) and probabilities else (input,)
    out = _result(data, parents, name)
    if out._prev:

        def _backward():
            g = out._grad
            if reduction == "none":
                scale = xp.reshape(g, (-1, 1))
            elif reduction == "mean" and count:
                scale = g / (count if denominator is None else denominator)
            else:
                scale = g
            if input.requires_grad:
                if dense is not None and from_logits:
                    # rows summing to 1: (softmax - target) * scale, in place on a fresh array
                    grad_in = xp.exp(logp)
                    grad_in -= dense
                    grad_in *= scale
                elif dense is not None:
                    grad_in = -dense * scale
                elif from_logits:  # through log-softmax: G - softmax * sum(G)
                    grad = dlogp * scale
                    grad_in = grad - xp.exp(logp) * xp.sum(grad, axis=1, keepdims=True)
                else:
                    grad_in = dlogp * scale
                input._accumulate(_classes_back(grad_in, input.shape))
            if len(parents) == 2 and target.requires_grad:
                # d loss/d t_c = -(1 - s) w_c logp_c
                gt = -(1.0 - label_smoothing) * logp * scale
                gt = gt if w is None else gt * w
                target._accumulate(_classes_back(gt, target.shape))

        out._backward = _backward
    return out


def _check_index_targets(
    name: str, input_shape: tuple[int, ...], labels: Any, loss_shape: tuple[int, ...]
) -> None:
    xp = backend.active.xp
    if not xp.isdtype(labels.dtype, "integral"):
        raise TypeError(
            f"{name}: targets must be integer class indices (or, for cross_entropy, class "
            f"probabilities of the input's shape {input_shape}), got dtype "
            f"{backend._dtype_name(labels.dtype)} and shape {tuple(labels.shape)}"
        )
    if tuple(labels.shape) != loss_shape:
        raise ShapeError(
            f"{name}: for input of shape {input_shape} ((C,), (N, C) or (N, C, d1, ...)) "
            f"the targets must have shape {loss_shape}, got {tuple(labels.shape)}"
        )


def _plain_onehot(labels: Any, classes: int, ignore_index: int) -> Any:
    """The (M, C) one-hot rows of `labels` if every label is a class and none can be
    ignored, else None. One count checks them all (one device sync on a GPU)."""
    xp = backend.active.xp
    hit = labels[:, None] == xp.arange(classes)[None, :]
    if 0 <= ignore_index < classes or int(xp.count_nonzero(hit)) != labels.shape[0]:
        return None
    return hit


def _index_terms(
    name: str, logp: Any, labels: Any, w: Any, ignore_index: int, smoothing: float
) -> tuple[Any, Any, Any]:
    """(d loss/d logp, -loss per row, the mean's denominator) for class indices with
    weights or ignored targets."""
    xp = backend.active.xp
    count, classes = logp.shape
    ignored = labels == ignore_index
    valid = (labels >= 0) & (labels < classes)
    if int(xp.count_nonzero(valid | ignored)) != count:  # one device sync
        raise ValueError(
            f"{name}: class indices must lie in [0, {classes - 1}] for {classes} classes "
            f"(or equal ignore_index={ignore_index}), got values from {int(xp.min(labels))} "
            f"to {int(xp.max(labels))}"
        )
    safe = xp.where(ignored, xp.zeros_like(labels), labels)
    hit = safe[:, None] == xp.arange(classes)[None, :]
    kept = xp.astype(~ignored, logp.dtype)
    w_row = kept if w is None else xp.take(w, safe) * kept
    # where, not a 0/1 product: a masked -inf logit of another class must not give 0 * -inf
    picked = xp.sum(xp.where(hit, logp, 0.0), axis=1)
    terms = xp.where(ignored, 0.0, w_row * picked)
    dlogp = xp.where(hit, -w_row[:, None], 0.0)
    if smoothing:
        w_all = xp.ones((classes,), dtype=logp.dtype) if w is None else w
        smooth = xp.where(ignored, 0.0, xp.sum(logp * w_all, axis=1))
        terms = (1.0 - smoothing) * terms + (smoothing / classes) * smooth
        dlogp = (1.0 - smoothing) * dlogp - (smoothing / classes) * (w_all * kept[:, None])
    return dlogp, terms, xp.sum(w_row)


def cross_entropy(
    input: Tensor,
    target: Tensor | Any,
    weight: Tensor | Any | None = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy of logits against class indices or class probabilities.

    Shapes as PyTorch: logits (N, C) with targets (N,), unbatched (C,) with a 0-d
    target, or (N, C, d1, ...) with targets (N, d1, ...); a floating target of the
    logits' shape holds probabilities. ``weight`` (C,) weights the classes,
    ``ignore_index`` marks targets that count nowhere, ``label_smoothing`` s mixes the
    target with the uniform distribution, (1 - s) target + s / C. Fused: the gradient is
    (softmax(logits) - target distribution) scaled by the weights and the reduction.
    """
    return _class_loss(
        "cross_entropy", input, target, weight, ignore_index, reduction, label_smoothing, True
    )


def nll_loss(
    input: Tensor,
    target: Tensor | Any,
    weight: Tensor | Any | None = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of log-probabilities (e.g. `log_softmax` output): -w_y logp_y.

    Shapes, ``weight``, ``ignore_index`` and the weighted mean as `cross_entropy`;
    ``nll_loss(log_softmax(z, 1), y)`` equals ``cross_entropy(z, y)``.
    """
    return _class_loss("nll_loss", input, target, weight, ignore_index, reduction, 0.0, False)


def mse_loss(input: Tensor, target: Tensor | Any, reduction: str = "mean") -> Tensor:
    """Mean squared error, (input - target)^2 averaged (or summed)."""
    target = _as_tensor(target)
    if input.shape != target.shape:
        raise ShapeError(
            f"mse_loss: input {input.shape} and target {target.shape} must have the same shape"
        )
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input: Tensor, target: Tensor | Any, reduction: str = "mean") -> Tensor:
    """Mean absolute error, |input - target| averaged (or summed); gradient 0 at a tie."""
    target = _as_tensor(target)
    if input.shape != target.shape:
        raise ShapeError(
            f"l1_loss: input {input.shape} and target {target.shape} must have the same shape"
        )
    return _reduce((input - target).abs(), reduction)


def huber_loss(
    input: Tensor, target: Tensor | Any, reduction: str = "mean", delta: float = 1.0
) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - delta / 2), for d = input - target."""
    xp = backend.active.xp
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    target = _as_tensor(target)
    if input.shape != target.shape:
        raise ShapeError(
            f"huber_loss: input {input.shape} and target {target.shape} must have the same shape"
        )
    d = input.data - target.data
    ad = xp.abs(d)
    data = xp.where(ad < delta, 0.5 * d * d, delta * (ad - 0.5 * delta))
    out = _result(data, (input, target), "huber_loss")
    if out._prev:

        def _backward():
            # d huber/d input = clip(d, -delta, delta) = -d huber/d target
            local = out._grad * xp.clip(d, -delta, delta)
            if input.requires_grad:
                input._accumulate(local)
            if target.requires_grad:
                target._accumulate(-local)

        out._backward = _backward
    return _reduce(out, reduction)


def _constant(value: Tensor | Any, dtype: Any) -> Any:
    """The array of a weight: a Tensor's own, or a list or array read in `dtype` (so a
    Python list of weights is not rounded to the default float32 first)."""
    if isinstance(value, Tensor):
        return value.data
    return backend.active.asarray(value, dtype=dtype)


def _weighted(out: Tensor, weight: Tensor | Any | None) -> Tensor:
    if weight is None:
        return out
    return out * (
        weight if isinstance(weight, Tensor) else Tensor._wrap(_constant(weight, out.dtype))
    )


_BCE_EPSILON = 9.999999960041972e-13  # PyTorch's clamp, 1e-12 rounded to float32


def _log_clamped(log: Any, x: Any, finite: Any) -> Any:
    """log(x) clamped at -100 as PyTorch, without evaluating the log where it is -inf."""
    xp = backend.active.xp
    safe = xp.where(finite, x, xp.ones_like(x) if log is xp.log else xp.zeros_like(x))
    return xp.where(finite, xp.maximum(log(safe), -100.0), -100.0)


def binary_cross_entropy(
    input: Tensor,
    target: Tensor | Any,
    weight: Tensor | Any | None = None,
    reduction: str = "mean",
) -> Tensor:
    """BCE of probabilities in [0, 1]: -(y log p + (1 - y) log(1 - p)), each log clamped
    at -100 as PyTorch (so p = 0 or 1 gives a finite loss); ``weight`` scales elements."""
    xp = backend.active.xp
    target = _as_tensor(target)
    if input.shape != target.shape:
        raise ShapeError(
            f"binary_cross_entropy: input {input.shape} and target {target.shape} must have "
            "the same shape"
        )
    p, y = input.data, target.data
    if int(xp.count_nonzero((p >= 0) & (p <= 1))) != input.numel():
        raise ValueError(
            "binary_cross_entropy: every input must be a probability in [0, 1]; for logits "
            "use binary_cross_entropy_with_logits"
        )
    log_p = _log_clamped(xp.log, p, p > 0)
    log_q = _log_clamped(xp.log1p, -p, p < 1)
    data = -(y * log_p + (1 - y) * log_q)
    out = _result(data, (input, target), "binary_cross_entropy")
    if out._prev:

        def _backward():
            g = out._grad
            # dL/dp = (p - y) / max(p (1 - p), eps), dL/dy = log(1 - p) - log p
            if input.requires_grad:
                input._accumulate(g * (p - y) / xp.maximum(p * (1 - p), _BCE_EPSILON))
            if target.requires_grad:
                target._accumulate(g * (log_q - log_p))

        out._backward = _backward
    return _reduce(_weighted(out, weight), reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor | Any,
    weight: Tensor | Any | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | Any | None = None,
) -> Tensor:
    """BCE of sigmoid(input) against target in [0, 1], computed stably from the logits.

    loss = (1 - y) x + c softplus(-x), c = 1 + (pos_weight - 1) y, with softplus(-x) =
    log(1 + exp(-|x|)) + max(-x, 0); ``pos_weight`` (broadcast over the last dimension)
    weighs the positive term, ``weight`` each element. Differentiable in both arguments.
    """
    xp = backend.active.xp
    target = _as_tensor(target)
    if input.shape != target.shape:
        raise ShapeError(
            f"binary_cross_entropy_with_logits: input {input.shape} and target "
            f"{target.shape} must have the same shape"
        )
    x, y = input.data, target.data
    e = xp.exp(-xp.abs(x))
    softplus_neg = xp.log1p(e) + xp.maximum(-x, 0.0)  # -log sigmoid(x)
    if pos_weight is None:
        data = (1 - y) * x + softplus_neg
    else:
        pw = xp.astype(_constant(pos_weight, x.dtype), x.dtype)
        c = 1 + (pw - 1) * y
        data = (1 - y) * x + c * softplus_neg
    out = _result(data, (input, target), "bce_with_logits")
    if out._prev:
        sig = xp.where(x >= 0, 1 / (1 + e), e / (1 + e))

        def _backward():
            g = out._grad
            # dL/dx = (1 - y) + c (sigmoid(x) - 1), dL/dy = -x + (pos_weight - 1) softplus(-x)
            if input.requires_grad:
                local = sig - y if pos_weight is None else (1 - y) + c * (sig - 1)
                input._accumulate(g * local)
            if target.requires_grad:
                local = -x if pos_weight is None else -x + (pw - 1) * softplus_neg
                target._accumulate(g * local)

        out._backward = _backward
    return _reduce(_weighted(out, weight), reduction)


def hinge_loss(scores: Tensor, targets: Tensor | Any, margin: float = 1.0) -> Tensor:
    """The max-margin loss of micrograd's demo, and its multi-class form.

    - scores (N,) or (N, 1), targets in {-1, +1}: mean of relu(margin - y * s), as in
      micrograd's ``(1 + -yi * scorei).relu()``;
    - scores (N, C), integer class targets: PyTorch's ``multi_margin_loss``, the mean over
      samples of sum over wrong classes c of relu(margin - s_y + s_c) / C.
    """
    xp = backend.active.xp
    labels = _data(targets)
    if not hasattr(labels, "dtype"):
        labels = backend.active.asarray(labels)
    if scores.ndim == 2 and scores.shape[1] > 1:
        n, classes = scores.shape
        if labels.shape != (n,) or not xp.isdtype(labels.dtype, "integral"):
            raise ShapeError(
                f"hinge_loss: (N, C) scores need integer targets of shape (N,), got scores "
                f"{scores.shape} and targets {tuple(labels.shape)}"
            )
        onehot = labels[:, None] == xp.arange(classes)[None, :]
        true_score = (scores * Tensor._wrap(xp.astype(onehot, scores.dtype))).sum(
            axis=1, keepdims=True
        )
        wrong = Tensor._wrap(xp.astype(~onehot, scores.dtype))
        return ((margin - true_score + scores).relu() * wrong).sum(axis=1).mean() / classes
    flat = scores.reshape(-1)
    signs = Tensor._wrap(xp.astype(xp.reshape(labels, (-1,)), scores.dtype))
    if signs.shape != flat.shape:
        raise ShapeError(
            f"hinge_loss: scores {scores.shape} and targets {tuple(labels.shape)} differ in size"
        )
    return (margin - signs * flat).relu().mean()


# --- normalization and embedding ---------------------------------------------------------------


def layer_norm(
    input: Tensor,
    normalized_shape: int | tuple[int, ...],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """(x - mean) / sqrt(var + eps) over the last dimensions (``normalized_shape``), then
    ``* weight + bias``; var is the biased variance, as PyTorch. Built from Tensor ops, so
    each step's gradient is its own op's."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not shape or input.shape[input.ndim - len(shape) :] != shape or len(shape) > input.ndim:
        raise ShapeError(
            f"layer_norm: normalized_shape {list(shape)} must be the last dimensions of the "
            f"input, whose shape is {input.shape}"
        )
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    centered = input - input.mean(axis=axes, keepdims=True)
    variance = (centered * centered).mean(axis=axes, keepdims=True)
    out = centered / (variance + eps).sqrt()
    if weight is not None:
        out = out * weight
    return out if bias is None else out + bias


class BatchNormError(UserError, ValueError):
    """Batch statistics of a single value per channel (PyTorch refuses them too)."""


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each channel (dimension 1) of (N, C) or (N, C, L) input, as PyTorch.

    Training (or without running statistics): the batch's mean and biased variance over
    every dimension but the channel; the running statistics, when given, move by
    ``momentum`` towards the batch mean and the *unbiased* batch variance (in place, no
    gradient). Evaluation: the running statistics. Then ``* weight + bias`` per channel.
    """
    if input.ndim < 2:
        raise ShapeError(f"batch_norm: input must be (N, C) or (N, C, L), got {input.shape}")
    channels = input.shape[1]
    axes = (0, *range(2, input.ndim))
    stats_shape = (1, channels) + (1,) * (input.ndim - 2)
    use_batch = training or running_mean is None or running_var is None
    if use_batch:
        count = input.numel() // max(channels, 1)
        if count <= 1:
            raise BatchNormError(
                f"batch_norm: expected more than 1 value per channel when training, got an "
                f"input of shape {list(input.shape)}; use batches of at least 2 samples (a "
                "batch size that leaves no last batch of 1) or call model.eval()"
            )
        mean = input.mean(axis=axes, keepdims=True)
        centered = input - mean
        variance = (centered * centered).mean(axis=axes, keepdims=True)
        if training and running_mean is not None and running_var is not None:
            xp = backend.active.xp
            flat_mean = xp.reshape(mean.data, (channels,))
            unbiased = xp.reshape(variance.data, (channels,)) * (count / (count - 1))
            for stat, batch in ((running_mean, flat_mean), (running_var, unbiased)):
                moved = (1 - momentum) * stat.data + momentum * batch
                stat.data = xp.astype(moved, stat.dtype)  # the buffer keeps its dtype
    else:
        centered = input - running_mean.reshape(stats_shape)
        variance = running_var.reshape(stats_shape)
    out = centered / (variance + eps).sqrt()
    if weight is not None:
        out = out * weight.reshape(stats_shape)
    return out if bias is None else out + bias.reshape(stats_shape)


def embedding(input: Tensor | Any, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of `weight` (num_embeddings, dim) picked by the integer indices `input`:
    output shape (*input.shape, dim). The gradient adds each output row's gradient into
    the row it came from (a one-hot matrix product, which the array API can express);
    the ``padding_idx`` row gets none."""
    xp = backend.active.xp
    indices = _labels(input)
    if not xp.isdtype(indices.dtype, "integral"):
        raise TypeError(
            f"embedding: indices must be integers, got dtype {backend._dtype_name(indices.dtype)}"
        )
    rows = weight.shape[0]
    flat = xp.reshape(indices, (-1,))
    if int(xp.count_nonzero((flat >= 0) & (flat < rows))) != flat.shape[0]:
        raise ValueError(
            f"embedding: indices must lie in [0, {rows - 1}] for {rows} embeddings, got "
            f"values from {int(xp.min(flat))} to {int(xp.max(flat))}"
        )
    data = xp.reshape(xp.take(weight.data, flat, axis=0), (*indices.shape, weight.shape[1]))
    out = _result(data, (weight,), "embedding")
    if out._prev:

        def _backward():
            # dL/dW[r] = sum of the output gradients of the positions that picked row r
            onehot = flat[:, None] == xp.arange(rows)[None, :]
            if padding_idx is not None:
                onehot = onehot & (flat[:, None] != padding_idx)
            g = xp.reshape(out._grad, (-1, weight.shape[1]))
            weight._accumulate(xp.astype(onehot, g.dtype).T @ g)

        out._backward = _backward
    return out


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) (training only)."""
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")
    if not training or p == 0.0:
        return x
    keep = rng.random(x.shape) >= p
    mask = backend.active.asarray(keep.astype("float64") / (1.0 - p), dtype=x.dtype)
    return x * Tensor._wrap(mask)
