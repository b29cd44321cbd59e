"""The array engine: `Tensor`, an n-dimensional array that records how it was computed.

Every op computes its result with the active backend's array namespace (``xp``) and,
when gradients are wanted, attaches a ``_backward`` closure. The elementwise ops are rows
of the op table in `ops` (forward, local derivative, formula and the rule at kinks, each
written once); this module builds the graph around them. Broadcasting is undone in one
place (`_unbroadcast`): a gradient is summed back to the shape of the input it belongs to.

Rules at non-differentiable points (PyTorch's) live with each op: the elementwise ones in
`ops` (each row's ``tie``); ``max``/``min`` reductions (below) split the gradient evenly
between tied elements.

Result dtypes follow PyTorch's promotion (`_result_dtype`), not NumPy's.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from typing import Any, Union

import numpy as np

from . import autograd, backend, dtypes, ops
from .dims import ShapeError, _dim, _kept_shape
from .dtypes import _dtype_str, _floating, _floating_only, _is_float, _not_implemented
from .dtypes import get_default_dtype as get_default_dtype  # also tinygrad_edu.tensor.*
from .dtypes import set_default_dtype as set_default_dtype
from .tensor_base import _data as _data  # also functional's
from .tensor_base import _get_data, _set_data
from .tensor_compare import Comparisons
from .tensor_conversions import Conversions
from .tensor_factories import Factories
from .tensor_indexing import Indexing
from .tensor_inplace import InPlace
from .tensor_reductions import Reductions
from .tensor_shape import ShapeOps, _same

Number = Union[int, float]


class Tensor(Conversions, Comparisons, InPlace, Indexing, Reductions, ShapeOps, Factories):
    """An array of the active backend, with reverse-mode gradients (PyTorch's names).

    ``requires_grad=True`` makes it a leaf whose ``.grad`` is filled by ``backward()``.
    Python lists and scalars of floats get the default dtype (float32); arrays keep
    theirs, and integer data (class labels) stays integer.
    """

    __slots__ = (
        "_array",
        "requires_grad",
        "_grad",
        "_prev",
        "_backward",
        "_op",
        "_hooks",
        "_retained",
        "__weakref__",
    )

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """NumPy arrays and scalars on the left (``np.float64(.1) * t``, ``arr @ t``) give
        Tensors with gradients instead of object arrays of Tensors; with an output array
        (``p.data -= lr * p.grad``) NumPy computes on the values and writes into it."""
        op = _NUMPY_OPERATORS.get(ufunc.__name__)
        if method != "__call__" or op is None:
            return NotImplemented
        if "out" in kwargs:
            plain = [x.numpy() if isinstance(x, Tensor) else x for x in inputs]
            return ufunc(*plain, **kwargs)
        if kwargs:
            return NotImplemented
        operands = [x.item() if isinstance(x, np.generic) else x for x in inputs]
        return op(*[Tensor(x) if isinstance(x, np.ndarray) else x for x in operands])

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None):
        b = backend.active
        if isinstance(data, Tensor):
            data = data.data
        if dtype is not None:
            array = b.asarray(data, dtype=b.dtype(dtype))
        else:
            array = b.asarray(data)
            python_data = isinstance(data, (list, tuple)) or type(data) in (int, float)
            if python_data and _is_float(array):  # NumPy scalars and arrays keep their dtype
                array = b.xp.astype(array, b.dtype(get_default_dtype()), copy=False)
        self._array = array
        self._grad = None
        self._prev: tuple = ()
        self._backward = None
        self._op = ""
        self._hooks: tuple = ()
        self._retained = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_()

    @classmethod
    def _wrap(cls, data: Any) -> Tensor:
        """A tensor around an existing backend array, without conversion or copying; always a
        plain `Tensor` (also when reached through ``self`` of an `nn.Parameter`)."""
        out = Tensor.__new__(Tensor)
        out._array = data
        out.requires_grad = False
        out._grad = None
        out._prev = ()
        out._backward = None
        out._op = ""
        out._hooks = ()
        out._retained = None
        return out

    data = property(_get_data, _set_data, doc="The backend array (see `tensor_base._get_data`).")

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Mark this (leaf) tensor as one whose gradient backward() computes."""
        if requires_grad and not _is_float(self.data):
            raise TypeError(
                f"only floating-point tensors can require gradients, this one is "
                f"{_dtype_str(self.dtype)}; convert it first, e.g. t.to('float32')"
            )
        self.requires_grad = requires_grad
        return self

    # --- properties ---------------------------------------------------------------------
    @property
    def grad(self) -> Tensor | None:
        """d(output)/d(self) after backward(), accumulated over calls; None before.

        Non-leaf tensors keep theirs only after `retain_grad()`, as in PyTorch."""
        kept = self._grad if self._backward is None else self._retained
        return None if kept is None else Tensor._wrap(kept)

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        self._grad = None if value is None else _data(value)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> Any:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        return self._backward is None

    def numel(self) -> int:
        return math.prod(self.data.shape)

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        """The shape, or the length of one dimension (PyTorch's ``size()``/``size(d)``)."""
        return self.shape if dim is None else self.shape[_dim(dim, self.ndim)]

    def dim(self) -> int:
        """The number of dimensions (PyTorch's name for ``ndim``)."""
        return self.ndim

    @property
    def device(self) -> str:
        """Where the values live: "cpu" on NumPy and array_api_strict, "cuda:N" on CuPy."""
        if backend.active.name == "cupy" and hasattr(self.data, "device"):
            return f"cuda:{self.data.device.id}"
        return "cpu"

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    # --- conversion ---------------------------------------------------------------------

    def detach(self) -> Tensor:
        """The same values, cut from the graph (shares memory)."""
        return Tensor._wrap(self.data)

    def clone(self) -> Tensor:
        """A copy that owns its memory; differentiable."""
        # d clone(x)/dx = 1
        return self._unary("clone", backend.active.xp.asarray(self.data, copy=True), _same)

    def to(self, *args: Any, dtype: Any = None, device: str | None = None) -> Tensor:
        """Another dtype ("float32", tg.float64, ...) and/or device ("cpu", "cuda"), as PyTorch.

        Casts between floating dtypes are differentiable; a cast to an integer or bool
        dtype is cut from the graph (its gradient would be zero everywhere).
        """
        for arg in args:
            if isinstance(arg, str) and _is_device_name(arg):
                device = arg
            elif isinstance(arg, Tensor):
                dtype = arg.dtype
            else:
                dtype = arg
        out = self if device is None else self._to_device(device)
        return out if dtype is None else out._cast(dtype)

    def cpu(self) -> Tensor:
        """The values on the host: the tensor itself on NumPy; a host copy on CuPy."""
        return self._to_device("cpu")

    def _to_device(self, device: str) -> Tensor:
        if not _is_device_name(device):
            raise ValueError(f"unknown device {device!r}: use 'cpu' or 'cuda'")
        on_gpu = backend.active.name == "cupy"
        if device.startswith("cuda") and not on_gpu:
            raise RuntimeError(
                f"to({device!r}): tensors live on the active backend ({backend.active.name}); "
                "to compute on a GPU, call tg.set_backend('cupy') before creating them"
            )
        if device == "cpu" and on_gpu:  # a host copy, for inspection: cut from the graph
            return Tensor._wrap(self.numpy())
        return self

    def _cast(self, dtype: Any) -> Tensor:
        target = backend.active.dtype(dtype)
        if target == self.dtype:
            return self
        source = self.dtype
        data = backend.active.xp.astype(self.data, target)
        if not backend.active.xp.isdtype(target, "real floating"):
            return Tensor._wrap(data)
        out = _result(data, (self,), "to")
        if out._prev:

            def _backward():
                # d cast(x)/dx = 1, cast back to the input's dtype
                self._accumulate(backend.active.xp.astype(out._grad, source))

            out._backward = _backward
        return out

    __hash__ = object.__hash__

    # --- backward -----------------------------------------------------------------------
    def backward(self, grad: Tensor | Any = None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``.grad`` of every leaf that requires it.

        Scalars (one element) get the implicit gradient 1; other outputs need ``grad``,
        the gradient of some final scalar with respect to this tensor. The graph is freed
        afterwards unless ``retain_graph=True``.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require gradients: no input of the "
                "computation has requires_grad=True (or it ran under no_grad())"
            )
        xp = backend.active.xp
        if grad is None:
            if self.numel() != 1:
                raise RuntimeError(
                    f"backward() without a gradient works only for scalar (one-element) "
                    f"outputs, this one has shape {self.shape}; reduce it first "
                    "(e.g. loss.mean().backward()) or pass backward(grad=...) of that shape"
                )
            seed = xp.ones(self.data.shape, dtype=self.dtype)
        else:
            seed = _data(grad) if isinstance(grad, Tensor) else backend.active.asarray(grad)
            if tuple(seed.shape) != self.shape:
                raise ShapeError(
                    f"backward(): grad has shape {tuple(seed.shape)} but the output has "
                    f"shape {self.shape}"
                )
        self._accumulate(seed)
        autograd.backpropagate(self, after=_free_node if not retain_graph else _free_grad)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (sets ``.grad`` to None, as PyTorch does)."""
        self._grad = None

    def _accumulate(self, g: Any, fresh: bool = False) -> None:
        """Add an incoming gradient, summed back over broadcast dimensions.

        A leaf's first gradient is a copy unless it was just computed here or the caller
        made it for this tensor alone (``fresh``, e.g. a matmul's result): an op may pass
        the same array to two inputs (``a + b``) or a read-only broadcast view (``sum``),
        and ``a.grad.data *= 0.5`` must change ``a.grad`` only."""
        if g.shape != self.data.shape:
            g, fresh = _unbroadcast(g, self.data.shape), True
        if g.dtype != self.data.dtype:
            g, fresh = backend.active.xp.astype(g, self.data.dtype), True
        if self._grad is not None:
            self._grad = self._grad + g
        elif fresh or self._backward is not None:
            self._grad = g
        else:
            self._grad = backend.active.xp.asarray(g, copy=True)

    def _swap_grad(self, new: Tensor | None) -> Tensor | None:
        """The gradient the hooks see, replaced by `new` (the autograd walk's protocol)."""
        old = None if self._grad is None else Tensor._wrap(self._grad)
        self._grad = None if new is None else _data(new)
        return old

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> Callable[[], None]:
        """Call ``hook(grad)`` each time this tensor's gradient is computed, as PyTorch;
        a hook that returns a tensor replaces the gradient. Returns a function that
        removes the hook (PyTorch's ``handle.remove()`` is ``remove()`` here)."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        # before retain_grad's hook, so .grad shows the gradient the hooks made (PyTorch's order)
        kept = tuple(h for h in self._hooks if getattr(h, "retains", False))
        self._hooks = tuple(h for h in self._hooks if h not in kept)
        autograd.add_hook(self, hook)
        self._hooks += kept

        def remove() -> None:
            self._hooks = tuple(h for h in self._hooks if h is not hook)

        remove.remove = remove  # handle.remove(), as PyTorch's RemovableHandle
        return remove

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` after backward(), as PyTorch."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.is_leaf or any(getattr(h, "retains", False) for h in self._hooks):
            return
        xp = backend.active.xp

        def keep(grad: Tensor) -> None:
            g = xp.asarray(grad.data, copy=True)
            self._retained = g if self._retained is None else self._retained + g

        keep.retains = True
        autograd.add_hook(self, keep)

    # --- elementwise arithmetic ---------------------------------------------------------
    def __add__(self, other: Tensor | Number) -> Tensor:
        return _binary(self, other, ops.ADD)

    def __radd__(self, other: Number) -> Tensor:
        return self + other

    def __sub__(self, other: Tensor | Number) -> Tensor:
        return _binary(self, other, ops.SUB)

    def __rsub__(self, other: Number) -> Tensor:
        return _binary(self, other, ops.RSUB)

    def __mul__(self, other: Tensor | Number) -> Tensor:
        return _binary(self, other, ops.MUL)

    def __rmul__(self, other: Number) -> Tensor:
        return self * other

    def __truediv__(self, other: Tensor | Number) -> Tensor:
        return _binary(self, other, ops.DIV)

    def __rtruediv__(self, other: Number) -> Tensor:
        return _binary(self, other, ops.RDIV)

    def __pow__(self, other: Tensor | Number) -> Tensor:
        if isinstance(other, Tensor):
            _no_bool_power(self, other)
        return _binary(self, other, ops.POW)

    def __rpow__(self, other: Number) -> Tensor:
        _no_bool_power(other, self)
        return _binary(self, other, ops.RPOW)

    def __neg__(self) -> Tensor:
        return self._apply(ops.NEG, self.data)

    def __matmul__(self, other: Tensor) -> Tensor:
        return matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return matmul(_as_tensor(other), self)

    # --- PyTorch's method forms -----------------------------------------------------------
    def add(self, other: Tensor | Number, alpha: Number = 1) -> Tensor:
        """``self + alpha * other``."""
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other: Tensor | Number, alpha: Number = 1) -> Tensor:
        """``self - alpha * other``."""
        return self - (other if alpha == 1 else other * alpha)

    mul = __mul__
    div = __truediv__
    pow = __pow__
    matmul = __matmul__

    # --- unary functions ----------------------------------------------------------------
    def _unary(self, op: str, data: Any, grad_fn: Callable[[Any], Any]) -> Tensor:
        """A one-input op; ``grad_fn(g)`` maps the output gradient to the input's."""
        out = _result(data, (self,), op)
        if out._prev:

            def _backward():
                self._accumulate(grad_fn(out._grad))

            out._backward = _backward
        return out

    def _apply(self, op: ops.Unary, x: Any, *args: Any) -> Tensor:
        """Run a row of the op table (`ops`) on the array `x` (this tensor's values, maybe
        converted); its backward gets ``(g, x, out, *args)``."""
        out = op.forward(x, *args)
        backward = op.backward
        return self._unary(op.name, out, lambda g: backward(g, x, out, *args))

    # integer and bool inputs of these functions become the default float dtype, as PyTorch
    def exp(self) -> Tensor:
        return self._apply(ops.EXP, _floating(self.data))

    def log(self) -> Tensor:
        return self._apply(ops.LOG, _floating(self.data))

    def log1p(self) -> Tensor:
        return self._apply(ops.LOG1P, _floating(self.data))

    def sqrt(self) -> Tensor:
        return self._apply(ops.SQRT, _floating(self.data))

    def sin(self) -> Tensor:
        return self._apply(ops.SIN, _floating(self.data))

    def cos(self) -> Tensor:
        return self._apply(ops.COS, _floating(self.data))

    def tanh(self) -> Tensor:
        return self._apply(ops.TANH, _floating(self.data))

    def sigmoid(self) -> Tensor:
        return self._apply(ops.SIGMOID, _floating(self.data))

    def relu(self) -> Tensor:
        if self.data.dtype == backend.active.xp.bool:
            raise RuntimeError("Boolean inputs not supported for relu")  # PyTorch's words
        return self._apply(ops.RELU, self.data)  # integers stay integer, as PyTorch

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        return self._apply(
            ops.LEAKY_RELU, _floating_only(self.data, "leaky_relu_cpu"), negative_slope
        )

    def gelu(self) -> Tensor:
        """GELU, tanh approximation (PyTorch's ``approximate="tanh"``)."""
        return self._apply(ops.GELU_TANH, _floating_only(self.data, "GeluKernelImpl"))

    def abs(self) -> Tensor:
        if self.data.dtype == backend.active.xp.bool:
            raise NotImplementedError(_not_implemented("abs_cpu", self.data.dtype))
        return self._apply(ops.ABS, self.data)

    def __abs__(self) -> Tensor:
        return self.abs()

    def clip(self, min: Number | None = None, max: Number | None = None) -> Tensor:
        """Limit values to [min, max]; the gradient passes where min <= x <= max."""
        return self._apply(ops.CLIP, self.data, min, max)

    clamp = clip

    def maximum(self, other: Tensor | Number) -> Tensor:
        return _binary(self, other, ops.MAXIMUM)

    def minimum(self, other: Tensor | Number) -> Tensor:
        return _binary(self, other, ops.MINIMUM)

    # --- reductions ---------------------------------------------------------------------
    def _reduce(self, op: str, data: Any, axes: tuple, keepdims: bool, grad_fn: Callable) -> Tensor:
        """A reduction; ``grad_fn(g_kept)`` gets the gradient with reduced axes kept as 1."""
        out = _result(data, (self,), op)
        if out._prev:
            kept_shape = _kept_shape(self.shape, axes)

            def _backward():
                g = out._grad
                if not keepdims:
                    g = backend.active.xp.reshape(g, kept_shape)
                self._accumulate(grad_fn(g))

            out._backward = _backward
        return out

    # --- shape ----------------------------------------------------------------------------

    def masked_fill(self, mask: Tensor | Any, value: Number) -> Tensor:
        """`value` where `mask` is True, the tensor's own values elsewhere."""
        return where(mask, value, self)

    def where(self, condition: Tensor | Any, other: Tensor | Number) -> Tensor:
        """PyTorch's ``x.where(condition, y)``: ``tg.where(condition, x, y)``."""
        return where(condition, self, other)

    # --- factories (PyTorch names) ----------------------------------------------------------

    @staticmethod
    def concatenate(tensors: Sequence[Tensor], axis: int = 0, *, dim: int | None = None) -> Tensor:
        return concatenate(tensors, axis, dim=dim)

    cat = concatenate

    @staticmethod
    def stack(tensors: Sequence[Tensor], axis: int = 0, *, dim: int | None = None) -> Tensor:
        return stack(tensors, axis, dim=dim)


# --- graph building ---------------------------------------------------------------------


def _result(data: Any, parents: tuple, op: str) -> Tensor:
    """Wrap an op's output; record its parents only when one of them needs a gradient."""
    out = Tensor.__new__(Tensor)
    out._array = data
    out._grad = None
    out._backward = None
    out._op = ""
    out.requires_grad = False
    out._prev = ()
    out._hooks = ()
    out._retained = None
    if autograd.is_grad_enabled():
        for p in parents:  # a plain loop: any(generator) costs more for 1-3 parents
            if p.requires_grad:
                out.requires_grad = True
                out._prev = parents
                out._op = op
                break
    return out


def _free_node(node: Tensor) -> None:
    """After its backward: drop parents, closure and gradient of an interior node.

    The closure is replaced by `_graph_freed`, so the node stays a non-leaf and a second
    backward through it fails loudly (as PyTorch) instead of silently adding nothing.
    """
    node._prev = ()
    node._backward = _graph_freed
    node._grad = None


def _graph_freed() -> None:
    raise RuntimeError(
        "backward() through a graph that a previous backward() already freed; to run "
        "backward twice over the same graph, pass retain_graph=True the first time"
    )


def _free_grad(node: Tensor) -> None:
    """After its backward with retain_graph=True: keep the graph, drop the gradient."""
    node._grad = None


def _binary(
    a: Tensor,
    b: Tensor | Number,
    op: ops.Binary,
    forward: Callable[[Any, Any], Any] | None = None,
    backward: tuple[Callable | None, Callable | None] | None = None,
) -> Tensor:
    """A two-input elementwise op (a row of `ops`) with NumPy broadcasting and PyTorch's
    result dtype; `forward` and `backward` replace the row's (`where` binds its condition).

    Each backward ``(g, x, y, out)`` gives the gradient of one input before un-broadcasting;
    ``b`` may be a plain Python or NumPy number (then it gets no gradient).
    """
    name = op.name
    forward = forward or op.forward
    grad_a, grad_b = backward or op.backward
    if isinstance(b, np.generic):
        b = b.item()  # PyTorch treats NumPy scalars as Python numbers
    if isinstance(b, (int, float)):
        y, parents = b, (a,)
    else:
        b = _as_tensor(b)
        y, parents = b.data, (a, b)
    x = a.data
    target = _result_dtype(a, b)
    if name in ("div", "rdiv") and not backend.active.xp.isdtype(target, "real floating"):
        target = backend.active.dtype(get_default_dtype())  # true division of integers
    if x.dtype != target:
        x = backend.active.xp.astype(x, target)
    if len(parents) == 2 and y.dtype != target:
        y = backend.active.xp.astype(y, target)
    elif isinstance(y, bool) and target != backend.active.xp.bool:
        y = int(y)  # the array API mixes Python bools only with bool arrays
    try:
        data = forward(x, y)
    except (ValueError, TypeError) as error:
        other_shape = tuple(y.shape) if hasattr(y, "shape") else "a scalar"
        raise ShapeError(
            f"{name}: shapes {a.shape} and {other_shape} cannot be broadcast together ({error})"
        ) from None
    out = _result(data, parents, name)
    if out._prev:

        def _backward():
            g = out._grad
            if a.requires_grad:
                a._accumulate(grad_a(g, x, y, out.data))
            if len(parents) == 2 and b.requires_grad:
                b._accumulate(grad_b(g, x, y, out.data))

        out._backward = _backward
    return out


_NUMPY_OPERATORS = {
    "add": operator.add,
    "subtract": operator.sub,
    "multiply": operator.mul,
    "divide": operator.truediv,
    "power": operator.pow,
    "matmul": operator.matmul,
    "maximum": lambda a, b: _as_tensor(a).maximum(b),
    "minimum": lambda a, b: _as_tensor(a).minimum(b),
}  # the NumPy ufuncs that reach Tensor.__array_ufunc__ with a Tensor operand


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product with NumPy's rules: 1-D operands are promoted, batches broadcast."""
    a, b = _as_tensor(a), _as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: {a.shape} @ {b.shape}: both operands need at least 1 dimension")
    inner = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if a.shape[-1] != inner:  # checked before 1-D promotion, to name the shapes given
        raise ShapeError(
            f"matmul: {a.shape} @ {b.shape}: inner dimensions {a.shape[-1]} and {inner} differ"
        )
    if a.ndim == 1:  # (k,) @ (..., k, m) -> (..., m); (k,) @ (k,) -> ()
        out_shape = b.shape[:-2] + b.shape[-1:] if b.ndim > 1 else ()
        return matmul(a.reshape(1, -1), b).reshape(out_shape)
    if b.ndim == 1:
        return matmul(a, b.reshape(-1, 1)).reshape(a.shape[:-1])
    x, y = a.data, b.data
    try:
        data = ops.MATMUL.forward(x, y)
    except ValueError:
        raise ShapeError(
            f"matmul: {a.shape} @ {b.shape}: batch dimensions cannot be broadcast"
        ) from None
    out = _result(data, (a, b), "matmul")
    if out._prev:

        def _backward():
            g = out._grad
            grad_a, grad_b = ops.MATMUL.backward  # d(AB)/dA = G B^T, d(AB)/dB = A^T G
            if a.requires_grad:
                a._accumulate(grad_a(g, x, y))
            if b.requires_grad:
                b._accumulate(grad_b(g, x, y))

        out._backward = _backward
    return out


def concatenate(tensors: Sequence[Tensor], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors along an existing axis (``dim=`` as PyTorch)."""
    xp = backend.active.xp
    tensors = tuple(_as_tensor(t) for t in tensors)
    if not tensors:
        raise RuntimeError("cat(): expected a non-empty list of Tensors")
    if tensors[0].ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    axis = _dim(axis if dim is None else dim, tensors[0].ndim)
    try:
        data = xp.concat([t.data for t in tensors], axis=axis)
    except ValueError:
        shapes = ", ".join(str(t.shape) for t in tensors)
        raise ShapeError(f"concatenate: shapes {shapes} differ outside axis {axis}") from None
    out = _result(data, tensors, "concatenate")
    if out._prev:
        dim = axis % data.ndim
        bounds = np.cumsum([0] + [t.shape[dim] for t in tensors]).tolist()

        def _backward():
            # d concat(x_1..x_k)/dx_i: the slice of the gradient where x_i was placed
            g = out._grad
            for t, lo, hi in zip(tensors, bounds, bounds[1:]):
                if t.requires_grad:
                    t._accumulate(g[(slice(None),) * dim + (slice(lo, hi), ...)])

        out._backward = _backward
    return out


cat = concatenate


def stack(tensors: Sequence[Tensor], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join same-shape tensors along a new axis (``dim=`` as PyTorch)."""
    tensors = [_as_tensor(t) for t in tensors]
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ShapeError(f"stack: all tensors need the same shape, got {sorted(shapes)}")
    dim = _dim(axis if dim is None else dim, tensors[0].ndim + 1)
    new_shape = lambda t: t.shape[:dim] + (1,) + t.shape[dim:]  # noqa: E731
    return concatenate([t.reshape(new_shape(t)) for t in tensors], axis=dim)


# --- helpers ------------------------------------------------------------------------------


def _as_tensor(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor(value)


def _unbroadcast(g: Any, shape: tuple) -> Any:
    """Sum a broadcast gradient back down to `shape` (NumPy broadcasting in reverse)."""
    xp = backend.active.xp
    extra = g.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and g.shape[extra + i] != 1
    )
    if axes:
        g = xp.sum(g, axis=axes, keepdims=True)
    return xp.reshape(g, shape)


def where(condition: Tensor | Any, input: Tensor | Number, other: Tensor | Number) -> Tensor:
    """`input` where `condition` is True, else `other` (broadcast together), as torch.where."""
    xp = backend.active.xp
    cond = xp.astype(backend.active.asarray(_data(condition)), xp.bool)
    if not isinstance(input, Tensor):
        if not isinstance(other, Tensor):
            return Tensor(xp.where(cond, input, other))
        # a number first: the same op with the tensor first and the condition flipped
        return _binary(
            other, input, ops.WHERE, lambda x, y: xp.where(cond, y, x), (_grad_where(~cond), None)
        )
    # d where(c, a, b)/da = 1 where c, else 0; d/db = 1 where not c, else 0
    forward = lambda x, y: xp.where(cond, x, y)  # noqa: E731
    return _binary(input, other, ops.WHERE, forward, (_grad_where(cond), _grad_where(~cond)))


def _grad_where(mask: Any) -> Callable:
    return lambda g, x, y, out: backend.active.xp.where(mask, g, 0.0)


def _no_bool_power(base: Any, exponent: Any) -> None:
    """PyTorch has no power of bool by bool tensor (``b ** b``, ``True ** b``); a bool tensor
    to a Python bool is allowed (`ops.POW`)."""
    bools = [isinstance(v, bool) or (isinstance(v, Tensor) and _dtype_str(v.dtype) == "bool")
             for v in (base, exponent)]  # fmt: skip
    if all(bools):
        raise NotImplementedError(_not_implemented("pow", backend.active.xp.bool))


def _is_device_name(name: str) -> bool:
    return name == "cpu" or name == "cuda" or name.startswith("cuda:")


# --- result dtypes: PyTorch's promotion (its rules: `dtypes`) -----------------------------------


def _result_dtype(a: Tensor, b: Tensor | Number) -> Any:
    """The backend dtype PyTorch gives ``a op b``."""
    if isinstance(b, Tensor):
        if b.dtype == a.dtype:  # the common cases first, for speed
            return a.dtype
        ranks = {2: None, 1: None, 0: None}
        for t in (a, b):
            rank = 2 if t.ndim else 1
            ranks[rank] = dtypes.promote_names(ranks[rank], _dtype_str(t.dtype))
    elif type(b) is float and _is_float(a.data):
        return a.dtype
    else:
        ranks = {2 if a.ndim else 1: _dtype_str(a.dtype), 0: dtypes.number_dtype(b)}
    return backend.active.dtype(dtypes.combine_ranks(ranks))


# --- package-level factories and dtype names (PyTorch's torch.tensor, torch.zeros, ...) -------


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor from data (PyTorch's ``torch.tensor``): `Tensor(data, ...)`."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


zeros = Tensor.zeros
ones = Tensor.ones
full = Tensor.full
zeros_like = Tensor.zeros_like
ones_like = Tensor.ones_like
randn = Tensor.randn
rand = Tensor.rand
arange = Tensor.arange
