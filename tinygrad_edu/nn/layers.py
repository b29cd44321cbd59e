"""The layers, with PyTorch's names: `Linear`, activations, `Dropout`, norms, `Embedding`.

They hold no gradient code of their own: each forward calls an op of
`tinygrad_edu.functional` or `Tensor`, whose local derivative is written once, beside its
forward (elementwise ops: a row of `tinygrad_edu.ops`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import functional, rng
from .._tensor import ShapeError, Tensor, get_default_dtype
from .module import Module, Parameter


class Linear(Module):
    """y = x W^T + b, with W of shape (out_features, in_features), as ``torch.nn.Linear``.

    Initialised as PyTorch does (Kaiming-uniform with a = sqrt(5)): W and b uniform in
    (-1/sqrt(in_features), 1/sqrt(in_features)), which keeps the output's scale close to
    the input's. Drawn on the host from the global generator, so `manual_seed` gives the
    same weights on every backend.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype: Any = None):
        self.in_features = in_features
        self.out_features = out_features
        dtype = dtype or get_default_dtype()
        bound = 1.0 / math.sqrt(in_features) if in_features > 0 else 0.0
        weight = rng.uniform(-bound, bound, (out_features, in_features))
        self.weight = Parameter(weight, dtype=dtype)
        self.bias = (
            Parameter(rng.uniform(-bound, bound, (out_features,)), dtype=dtype) if bias else None
        )

    def forward(self, x: Tensor) -> Tensor:
        # one fused op: dL/dx = G W, dL/dW = G^T x, dL/db = sum of G over the batch
        return functional.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Flatten(Module):
    """Merge dimensions start_dim..end_dim (by default all but the batch dimension)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x: Tensor) -> Tensor:
        # d flatten(x)/dx: the gradient reshaped back (Tensor.reshape)
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class ReLU(Module):
    def forward(self, x: Tensor) -> Tensor:
        return x.relu()  # its derivative and tie rule: ops.RELU


class LeakyReLU(Module):
    def __init__(self, negative_slope: float = 0.01):
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        # d leaky_relu(x)/dx = 1 if x > 0 else negative_slope
        return x.leaky_relu(self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Tanh(Module):
    def forward(self, x: Tensor) -> Tensor:
        # d tanh(x)/dx = 1 - tanh(x)^2
        return x.tanh()


class Sigmoid(Module):
    def forward(self, x: Tensor) -> Tensor:
        # d sigma(x)/dx = sigma(x) (1 - sigma(x))
        return x.sigmoid()


class GELU(Module):
    """GELU, x * Phi(x): the exact erf form by default, as PyTorch, or ``"tanh"``."""

    def __init__(self, approximate: str = "none"):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        # d gelu/dx = Phi(x) + x phi(x) (see functional.gelu)
        return functional.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Identity(Module):
    def forward(self, x: Tensor) -> Tensor:
        return x


class Softmax(Module):
    def __init__(self, dim: int = -1):
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        # d softmax/dx: s * (g - sum(g * s)), see functional.softmax
        return functional.softmax(x, axis=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Dropout(Module):
    """Zero each element with probability p while training, scaling the rest by 1/(1-p).

    In evaluation mode (``model.eval()``) it passes its input through unchanged.
    """

    def __init__(self, p: float = 0.5):
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        # d dropout(x)/dx = mask / (1 - p), the same mask as the forward
        return functional.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace=False"  # PyTorch's repr; in-place is not offered


class LayerNorm(Module):
    """Normalize over the last dimensions (``normalized_shape``), then scale and shift:
    ``torch.nn.LayerNorm``, with weight 1 and bias 0 at initialisation."""

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype: Any = None,
    ):
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
        self.normalized_shape = tuple(int(n) for n in shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        dtype = dtype or get_default_dtype()
        affine = elementwise_affine
        self.weight = Parameter(np.ones(self.normalized_shape), dtype=dtype) if affine else None
        has_bias = affine and bias
        self.bias = Parameter(np.zeros(self.normalized_shape), dtype=dtype) if has_bias else None

    def forward(self, x: Tensor) -> Tensor:
        # gradient through the Tensor ops of functional.layer_norm
        return functional.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )


class BatchNorm1d(Module):
    """Normalize each feature of (N, C) or (N, C, L) input by batch statistics while
    training and by running statistics in evaluation mode: ``torch.nn.BatchNorm1d``.

    Buffers, under PyTorch's names: ``running_mean`` (0), ``running_var`` (1), each moved
    by ``momentum`` per training batch (the variance's unbiased estimate; ``momentum=None``
    takes the plain average of all batches), and ``num_batches_tracked``.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: Any = None,
        *,
        bias: bool = True,
    ):
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        dtype = dtype or get_default_dtype()
        self.weight = Parameter(np.ones(num_features), dtype=dtype) if affine else None
        has_bias = affine and bias
        self.bias = Parameter(np.zeros(num_features), dtype=dtype) if has_bias else None
        tracked = track_running_stats
        self.register_buffer(
            "running_mean", Tensor(np.zeros(num_features), dtype=dtype) if tracked else None
        )
        self.register_buffer(
            "running_var", Tensor(np.ones(num_features), dtype=dtype) if tracked else None
        )
        self.register_buffer(
            "num_batches_tracked", Tensor(np.array(0, dtype=np.int64)) if tracked else None
        )

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ShapeError(
                f"BatchNorm1d({self.num_features}) takes (N, {self.num_features}) or "
                f"(N, {self.num_features}, L) input, got {x.shape}"
            )
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data = self.num_batches_tracked.data + 1
            if self.momentum is None:  # the cumulative average of all batches so far
                factor = 1.0 / int(self.num_batches_tracked.item())
        return functional.batch_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``, indexed by
    integer tensors: ``torch.nn.Embedding``, initialised from N(0, 1); the
    ``padding_idx`` row starts at 0 and gets no gradient."""

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        dtype: Any = None,
    ):
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"padding_idx must be within [{-num_embeddings}, {num_embeddings - 1}], "
                    f"got {padding_idx}"
                )
            padding_idx %= num_embeddings
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        table = rng.standard_normal((num_embeddings, embedding_dim))
        if padding_idx is not None:
            table[padding_idx] = 0.0
        self.weight = Parameter(table, dtype=dtype or get_default_dtype())

    def forward(self, x: Tensor) -> Tensor:
        # d out/d weight: each row's gradient summed into the row it was read from
        return functional.embedding(x, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        extra = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{extra}"
