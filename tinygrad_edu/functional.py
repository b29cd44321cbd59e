"""Functional forms of activations and losses, as ``torch.nn.functional``.

The losses are fused: each computes its value and its gradient in one op, with the
numerically stable formula (log-sum-exp shifted by the maximum), instead of chaining
``exp``, ``sum`` and ``log``. That keeps them finite for logits of magnitude 1e4 and
makes a training step cheaper.
"""

from __future__ import annotations

from typing import Any

from . import backend, rng
from .tensor import ShapeError, Tensor, _as_tensor, _data, _result
from .tensor import _dim as tensor_dim


def relu(x: Tensor) -> Tensor:
    return x.relu()


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return x.leaky_relu(negative_slope)


def gelu(x: Tensor) -> Tensor:
    """GELU with the tanh approximation (PyTorch's ``approximate="tanh"``)."""
    return x.gelu()


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
    data = flat @ wd.T  # .T: the array API's transpose of a 2-D array (a view)
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
            # dL/dx = G W, dL/dW = G^T x, dL/db = sum of G over the batch
            if x.requires_grad:
                gx = g2 @ wd
                x._accumulate(gx if xd.ndim == 2 else xp.reshape(gx, xd.shape))
            if weight.requires_grad:
                weight._accumulate(g2.T @ flat)
            if bias is not None and bias.requires_grad:
                bias._accumulate(xp.sum(g2, axis=0))

        out._backward = _backward
    return out


def _log_softmax_data(x: Any, axis: int) -> Any:
    """log softmax(x) = x - max - log(sum(exp(x - max))): no overflow for large |x|."""
    xp = backend.active.xp
    shifted = x - xp.max(x, axis=axis, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


def log_softmax(x: Tensor, axis: int = -1, *, dim: int | None = None) -> Tensor:
    xp = backend.active.xp
    axis = tensor_dim(axis if dim is None else dim, x.ndim)  # dim= as PyTorch, checked
    out_data = _log_softmax_data(x.data, axis)
    # d log_softmax/dx: g - softmax(x) * sum(g)
    return x._unary(
        "log_softmax",
        out_data,
        lambda g: g - xp.exp(out_data) * xp.sum(g, axis=axis, keepdims=True),
    )


def softmax(x: Tensor, axis: int = -1, *, dim: int | None = None) -> Tensor:
    xp = backend.active.xp
    axis = tensor_dim(axis if dim is None else dim, x.ndim)  # dim= as PyTorch, checked
    s = xp.exp(_log_softmax_data(x.data, axis))
    # d softmax/dx: s * (g - sum(g * s))
    return x._unary("softmax", s, lambda g: s * (g - xp.sum(g * s, axis=axis, keepdims=True)))


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def cross_entropy(
    logits: Tensor, targets: Tensor | Any, label_smoothing: float = 0.0, reduction: str = "mean"
) -> Tensor:
    """Softmax cross-entropy of (N, C) logits against integer class indices (N,).

    With ``label_smoothing`` s the target distribution is (1 - s) one-hot + s / C, as in
    PyTorch. Fused: the gradient is (softmax(logits) - target distribution) / N.
    """
    xp = backend.active.xp
    labels = _data(targets)
    if not hasattr(labels, "dtype"):
        labels = backend.active.asarray(labels)
    if logits.ndim != 2 or labels.ndim != 1 or labels.shape[0] != logits.shape[0]:
        raise ShapeError(
            f"cross_entropy: logits must be (N, C) and targets (N,), got logits "
            f"{logits.shape} and targets {tuple(labels.shape)}"
        )
    if not xp.isdtype(labels.dtype, "integral"):
        raise TypeError(
            f"cross_entropy: targets must be integer class indices, got dtype "
            f"{backend._dtype_name(labels.dtype)}"
        )
    n, classes = logits.shape
    hit = labels[:, None] == xp.arange(classes)[None, :]
    # each label in [0, C) hits exactly one class: one count checks them all (one device
    # sync on a GPU, not two as min and max would)
    if int(xp.count_nonzero(hit)) != n:
        raise ValueError(
            f"cross_entropy: class indices must lie in [0, {classes - 1}] for {classes} "
            f"logits per sample, got values from {int(xp.min(labels))} to "
            f"{int(xp.max(labels))}"
        )
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
    scale = {"mean": 1.0 / max(n, 1), "sum": 1.0, "none": None}
    if reduction not in scale:
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    logp = _log_softmax_data(logits.data, 1)
    target_dist = xp.astype(hit, logp.dtype)
    if label_smoothing:
        target_dist = target_dist * (1.0 - label_smoothing) + label_smoothing / classes
    if reduction == "none":
        data = -xp.sum(target_dist * logp, axis=1)
    else:  # one sum over all elements: cheaper than per-sample sums and their sum
        data = xp.sum(target_dist * logp) * -scale[reduction]
    out = _result(data, (logits,), "cross_entropy")
    if out._prev:

        def _backward():
            # d CE/d logits = (softmax(logits) - target distribution) * dL/d(loss_i)
            g = out._grad
            g = g[:, None] if reduction == "none" else g * scale[reduction]
            grad = xp.exp(logp)  # a fresh array: update it in place
            grad -= target_dist
            grad *= g
            logits._accumulate(grad)

        out._backward = _backward
    return out


def mse_loss(input: Tensor, target: Tensor | Any, reduction: str = "mean") -> Tensor:
    """Mean squared error, (input - target)^2 averaged (or summed)."""
    target = _as_tensor(target)
    if input.shape != target.shape:
        raise ShapeError(
            f"mse_loss: input {input.shape} and target {target.shape} must have the same shape"
        )
    diff = input - target
    return _reduce(diff * diff, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor, target: Tensor | Any, reduction: str = "mean"
) -> Tensor:
    """BCE of sigmoid(input) against target in [0, 1], computed stably from the logits.

    loss = max(x, 0) - x y + log(1 + exp(-|x|)); differentiable in both arguments.
    """
    xp = backend.active.xp
    target = _as_tensor(target)
    if input.shape != target.shape:
        raise ShapeError(
            f"binary_cross_entropy_with_logits: input {input.shape} and target "
            f"{target.shape} must have the same shape"
        )
    x, y = input.data, target.data
    data = xp.maximum(x, 0.0) - x * y + xp.log1p(xp.exp(-xp.abs(x)))
    out = _result(data, (input, target), "bce_with_logits")
    if out._prev:
        e = xp.exp(-xp.abs(x))
        sig = xp.where(x >= 0, 1 / (1 + e), e / (1 + e))

        def _backward():
            g = out._grad
            # dL/dx = sigmoid(x) - y, dL/dy = -x
            if input.requires_grad:
                input._accumulate(g * (sig - y))
            if target.requires_grad:
                target._accumulate(-g * x)

        out._backward = _backward
    return _reduce(out, reduction)


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


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) (training only)."""
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")
    if not training or p == 0.0:
        return x
    keep = rng.generator.random(x.shape) >= p
    mask = backend.active.asarray(keep.astype("float64") / (1.0 - p), dtype=x.dtype)
    return x * Tensor._wrap(mask)
