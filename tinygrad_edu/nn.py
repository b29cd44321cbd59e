"""Layers and containers with PyTorch's names: `Module`, `Linear`, `Sequential`, `MLP`, ...

A `Module` finds its parameters and submodules in its own attributes: every attribute
that is a `Parameter` is a parameter, every attribute that is a `Module` is a child.
Python dicts keep insertion order, so ``named_parameters()`` lists them in the order the
constructor assigned them, as PyTorch does, without any registration code.

The layers hold no gradient code of their own: each forward calls an op of
`tinygrad_edu.functional` or `Tensor`, whose local derivative is written once, beside its
forward (elementwise ops: a row of `tinygrad_edu.ops`).

Calls go through `Module.__call__`, which is also the one hook point: `trace_calls`
installs a function that wraps every module call (the model summary uses it to record
each layer's output shape during a real forward pass).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import numpy as np

from . import backend, functional, rng
from . import nn_utils as utils  # nn.utils.clip_grad_norm_, clip_grad_value_
from .errors import UserError
from .tensor import ShapeError, Tensor, get_default_dtype


class Parameter(Tensor):
    """A tensor that a `Module` owns and an optimizer updates (``torch.nn.Parameter``).

    Marking parameters by type (not by ``requires_grad``) keeps a frozen parameter
    (``requires_grad_(False)``) a parameter: it is still saved, loaded and counted, as
    non-trainable. Wrapping a Tensor shares its array, as in PyTorch.
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


# --- the call hook ------------------------------------------------------------------------

Tracer = Callable[["Module", Callable[[], Any]], Any]
_tracer: Tracer | None = None


@contextmanager
def trace_calls(tracer: Tracer) -> Iterator[None]:
    """Route every ``module(...)`` call in the block through ``tracer(module, run)``.

    ``run()`` performs the module's forward and returns its output; the tracer must
    return that output. ``run`` is a `functools.partial`, so ``run.args`` are the call's
    positional inputs (the summary's "Input Shape"). Calls nest, so a tracer sees a
    container before its children.
    """
    global _tracer
    previous, _tracer = _tracer, tracer
    try:
        yield
    finally:
        _tracer = previous


# --- Module -------------------------------------------------------------------------------


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(..., strict=False)`` skipped."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class StateDictError(UserError, RuntimeError):
    """A state dict does not fit the model (missing or extra keys, other shapes)."""


class Module:
    """Base class of layers and models: subclasses set attributes and define ``forward``."""

    training: bool = True  # a class default, so subclasses need not call super().__init__()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _tracer is not None:
            return _tracer(self, functools.partial(self.forward, *args, **kwargs))
        return self.forward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    # --- structure ----------------------------------------------------------------------
    def _own_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """The parameters held directly by this module (not by its children)."""
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield name, value

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Keep a tensor that is state but not a parameter (BatchNorm's running statistics):
        saved in ``state_dict`` (unless ``persistent=False``), converted by ``to``, never
        updated by an optimizer. Assigning ``self.<name> = t`` later keeps it a buffer."""
        if isinstance(tensor, Parameter):
            raise TypeError(f"buffer {name!r} is a Parameter; assign it as an attribute instead")
        if tensor is not None and not isinstance(tensor, Tensor):
            found = type(tensor).__name__
            raise TypeError(f"buffer {name!r} must be a Tensor or None, got {found}")
        self.__dict__.setdefault("_buffer_names", {})[name] = persistent
        setattr(self, name, tensor)

    def _own_buffers(self, persistent_only: bool = False) -> Iterator[tuple[str, Tensor]]:
        """The buffers held directly by this module, in registration order."""
        for name, persistent in vars(self).get("_buffer_names", {}).items():
            value = getattr(self, name, None)
            if isinstance(value, Tensor) and (persistent or not persistent_only):
                yield name, value

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """All buffers with dotted names ('1.running_mean'), each once."""
        seen: set[int] = set()
        for path, module in self.named_modules(prefix):
            for name, buffer in module._own_buffers():
                if id(buffer) not in seen:
                    seen.add(id(buffer))
                    yield (f"{path}.{name}" if path else name), buffer

    def buffers(self) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers():
            yield buffer

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct submodules with their attribute names, in assignment order."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and all below it, depth first, each once, with dotted names."""
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            below = [
                (f"{name}.{key}" if name else key, child) for key, child in module.named_children()
            ]
            stack.extend(reversed(below))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """All parameters with dotted names ('1.weight', 'layers.0.bias'), each once."""
        seen: set[int] = set()
        for prefix, module in self.named_modules():
            for name, param in module._own_parameters():
                if id(param) not in seen:
                    seen.add(id(param))
                    yield (f"{prefix}.{name}" if prefix else name), param

    def parameters(self) -> Iterator[Parameter]:
        for _, param in self.named_parameters():
            yield param

    def num_parameters(self, trainable_only: bool = False) -> int:
        """The number of scalar parameters (each shared parameter counted once)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    # --- modes and gradients -------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (Dropout active) on this module and all below it."""
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Set evaluation mode (Dropout off), as before validation or inference."""
        return self.train(False)

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn(module)`` on every submodule, children before parents, then on this
        one (as PyTorch, e.g. to re-initialise weights); returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze every parameter; frozen ones stay parameters."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient: ``.grad`` becomes None (PyTorch's default),
        or zeros with ``set_to_none=False``."""
        for param in self.parameters():
            utils.clear_grad(param, set_to_none)

    def to(self, dtype: Any) -> Module:
        """Convert every parameter and floating-point buffer to `dtype` in place ("float32"
        or "float64"); integer buffers (``num_batches_tracked``) stay integer, as PyTorch."""
        b = backend.active
        target = b.dtype(dtype)
        for param in self.parameters():
            param.data = b.xp.astype(param.data, target)
            param._grad = None
        for buffer in self.buffers():
            if b.xp.isdtype(buffer.dtype, "real floating"):
                buffer.data = b.xp.astype(buffer.data, target)
        return self

    # --- saving and loading ----------------------------------------------------------------
    def _named_state(self) -> dict[str, Tensor]:
        """Parameters and persistent buffers, module by module, as PyTorch orders them."""
        state: dict[str, Tensor] = {}
        seen: set[int] = set()
        for prefix, module in self.named_modules():
            own = [*module._own_parameters(), *module._own_buffers(persistent_only=True)]
            for name, tensor in own:
                if id(tensor) not in seen:
                    seen.add(id(tensor))
                    state[f"{prefix}.{name}" if prefix else name] = tensor
        return state

    def state_dict(self) -> dict[str, np.ndarray]:
        """Name -> a NumPy copy of each parameter and persistent buffer (safe to save or
        modify): ``'1.weight'``, ``'1.running_mean'``, ``'1.num_batches_tracked'``."""
        return {name: tensor.numpy().copy() for name, tensor in self._named_state().items()}

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy arrays into the parameters, converted to each parameter's dtype.

        Shapes must match exactly. With ``strict`` (the default) missing and unexpected
        keys are errors too; all problems are reported together, each naming its key.
        """
        own = self._named_state()
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        problems = []
        for key, param in own.items():
            if key in state_dict:
                found = tuple(np.shape(state_dict[key]))
                if found != param.shape:
                    problems.append(
                        f"size mismatch for {key}: the model expects shape {param.shape}, "
                        f"the state dict has {found}"
                    )
        if strict:
            if missing:
                problems.append(f"missing key(s): {', '.join(missing)}")
            if unexpected:
                problems.append(f"unexpected key(s): {', '.join(unexpected)}")
        if problems:
            raise StateDictError(
                f"cannot load the state dict into {type(self).__name__}: " + "; ".join(problems)
            )
        b = backend.active
        for key, param in own.items():
            if key in state_dict:
                # a copy: in-place optimizer steps must not write into the caller's arrays
                values = np.array(
                    state_dict[key], dtype=backend._dtype_name(param.dtype), copy=True
                )
                param.data = b.asarray(values)
        return IncompatibleKeys(missing, unexpected)

    # --- printing ------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The constructor arguments shown inside the parentheses of the repr."""
        return ""

    def __repr__(self) -> str:
        """The module tree, character for character as PyTorch prints it."""
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({name}): {_indent(repr(module), 2)}" for name, module in self.named_children()
        ]
        return _render(type(self).__name__, extra_lines, child_lines)


def _indent(text: str, spaces: int) -> str:
    """Indent every line but the first (PyTorch's ``_addindent``)."""
    lines = text.split("\n")
    return "\n".join(lines[:1] + [" " * spaces + line for line in lines[1:]])


def _render(name: str, extra_lines: list[str], child_lines: list[str]) -> str:
    lines = extra_lines + child_lines
    if not lines:
        return f"{name}()"
    if len(extra_lines) == 1 and not child_lines:
        return f"{name}({extra_lines[0]})"
    return f"{name}(\n  " + "\n  ".join(lines) + "\n)"


# --- layers -------------------------------------------------------------------------------


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
        weight = rng.generator.uniform(-bound, bound, (out_features, in_features))
        self.weight = Parameter(weight, dtype=dtype)
        self.bias = (
            Parameter(rng.generator.uniform(-bound, bound, (out_features,)), dtype=dtype)
            if bias
            else None
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
        table = rng.generator.standard_normal((num_embeddings, embedding_dim))
        if padding_idx is not None:
            table[padding_idx] = 0.0
        self.weight = Parameter(table, dtype=dtype or get_default_dtype())

    def forward(self, x: Tensor) -> Tensor:
        # d out/d weight: each row's gradient summed into the row it was read from
        return functional.embedding(x, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        extra = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{extra}"


# --- losses ---------------------------------------------------------------------------------


class _Loss(Module):
    """A loss as a module: ``criterion(input, target)`` calls its functional form."""

    def __init__(self, reduction: str = "mean"):
        self.reduction = reduction


class _WeightedLoss(_Loss):
    """A loss with per-class (or per-element) weights, kept as the buffer ``weight``."""

    def __init__(self, weight: Tensor | Any | None = None, reduction: str = "mean"):
        super().__init__(reduction)
        if weight is not None and not isinstance(weight, Tensor):
            weight = Tensor(weight)
        self.register_buffer("weight", weight)


class CrossEntropyLoss(_WeightedLoss):
    """``functional.cross_entropy`` as a module, with PyTorch's arguments."""

    def __init__(
        self,
        weight: Tensor | Any | None = None,
        *,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor | Any) -> Tensor:
        return functional.cross_entropy(
            input,
            target,
            self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(_WeightedLoss):
    """``functional.nll_loss`` as a module: takes log-probabilities."""

    def __init__(
        self,
        weight: Tensor | Any | None = None,
        *,
        ignore_index: int = -100,
        reduction: str = "mean",
    ):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor | Any) -> Tensor:
        return functional.nll_loss(
            input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction
        )


class MSELoss(_Loss):
    """``functional.mse_loss`` as a module."""

    def __init__(self, *, reduction: str = "mean"):
        super().__init__(reduction)

    def forward(self, input: Tensor, target: Tensor | Any) -> Tensor:
        return functional.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """``functional.l1_loss`` as a module."""

    def __init__(self, *, reduction: str = "mean"):
        super().__init__(reduction)

    def forward(self, input: Tensor, target: Tensor | Any) -> Tensor:
        return functional.l1_loss(input, target, self.reduction)


class HuberLoss(_Loss):
    """``functional.huber_loss`` as a module."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor | Any) -> Tensor:
        return functional.huber_loss(input, target, self.reduction, self.delta)


class BCELoss(_WeightedLoss):
    """``functional.binary_cross_entropy`` as a module: takes probabilities."""

    def __init__(self, weight: Tensor | Any | None = None, *, reduction: str = "mean"):
        super().__init__(weight, reduction)

    def forward(self, input: Tensor, target: Tensor | Any) -> Tensor:
        return functional.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """``functional.binary_cross_entropy_with_logits`` as a module, with ``pos_weight``."""

    def __init__(
        self,
        weight: Tensor | Any | None = None,
        *,
        reduction: str = "mean",
        pos_weight: Tensor | Any | None = None,
    ):
        super().__init__(weight, reduction)
        if pos_weight is not None and not isinstance(pos_weight, Tensor):
            pos_weight = Tensor(pos_weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor | Any) -> Tensor:
        return functional.binary_cross_entropy_with_logits(
            input, target, self.weight, self.reduction, self.pos_weight
        )


# --- containers ---------------------------------------------------------------------------


class Sequential(Module):
    """Modules applied one after another; children are named '0', '1', ...

    A dict argument gives the children its keys as names (PyTorch's OrderedDict form).
    """

    def __init__(self, *modules: Module | dict[str, Module]):
        if len(modules) == 1 and isinstance(modules[0], dict):
            named = list(modules[0].items())
        else:
            named = [(str(i), m) for i, m in enumerate(modules)]
        for name, module in named:
            if not isinstance(module, Module):
                raise TypeError(
                    f"Sequential: item {name} is a {type(module).__name__}, not a Module"
                )
            setattr(self, name, module)

    def forward(self, x: Any) -> Any:
        for module in self.children():
            x = module(x)
        return x

    def append(self, module: Module) -> Sequential:
        setattr(self, str(len(self)), module)
        return self

    def __getitem__(self, index: int | slice) -> Any:
        named = list(self.named_children())
        if isinstance(index, slice):
            return Sequential(dict(named[index]))
        return named[index][1]

    def __len__(self) -> int:
        return sum(1 for _ in self.named_children())

    def __iter__(self) -> Iterator[Module]:
        return self.children()


class ModuleList(Module):
    """A list of modules whose parameters the parent sees; the caller decides the order."""

    def __init__(self, modules: Iterable[Module] = ()):
        for module in modules:
            self.append(module)

    def append(self, module: Module) -> ModuleList:
        setattr(self, str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for module in modules:
            self.append(module)
        return self

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self.children())
        if isinstance(index, slice):
            return ModuleList(items[index])
        return items[index]

    def __len__(self) -> int:
        return sum(1 for _ in self.named_children())

    def __iter__(self) -> Iterator[Module]:
        return self.children()

    def __repr__(self) -> str:
        """PyTorch's form: runs of identical modules print once, as '(0-2): 3 x Linear(...)'."""
        blocks: list[list[Any]] = []  # [first index, last index, repr]
        for i, module in enumerate(self):
            text = repr(module)
            if blocks and blocks[-1][2] == text:
                blocks[-1][1] = i
            else:
                blocks.append([i, i, text])
        lines = [
            _indent(f"({a}): {text}" if a == b else f"({a}-{b}): {b - a + 1} x {text}", 2)
            for a, b, text in blocks
        ]
        return _render(type(self).__name__, [], lines)


# --- the lecture's MLP --------------------------------------------------------------------

ACTIVATIONS: dict[str, type[Module]] = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "tanh": Tanh,
    "sigmoid": Sigmoid,
    "gelu": GELU,
    "identity": Identity,
    "none": Identity,
}


def get_activation(name: str | None) -> Module:
    """A new activation module by name ('relu', 'tanh', ...; None or 'none': Identity)."""
    key = "none" if name is None else name.lower()
    if key not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[key]()


class MLP(Sequential):
    """Flatten, then each hidden Linear layer followed by the activation, then the output Linear.

    A `Sequential`, so the layers are children '0', '1', ... and the repr and summary show
    the flat list the lecture shows: ``MLP(784, [128], 10)`` is Flatten, Linear(784, 128),
    ReLU, Linear(128, 10), with 784*128 + 128 + 128*10 + 10 = 101,770 parameters.
    """

    def __init__(
        self,
        input_size: int,
        hidden_layer_sizes: Iterable[int],
        num_outputs: int,
        activation: str | None = "relu",
        dtype: Any = None,
    ):
        layers: list[Module] = [Flatten()]
        width = input_size
        for hidden in hidden_layer_sizes:
            layers += [Linear(width, hidden, dtype=dtype), get_activation(activation)]
            width = hidden
        layers.append(Linear(width, num_outputs, dtype=dtype))
        super().__init__(*layers)
