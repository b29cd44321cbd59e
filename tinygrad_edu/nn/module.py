"""`Module` and `Parameter`: how a model finds its parameters and children, its state dict,
and the one call hook (`trace_calls`).

A `Module` finds its parameters and submodules in its own attributes: every attribute
that is a `Parameter` is a parameter, every attribute that is a `Module` is a child.
Python dicts keep insertion order, so ``named_parameters()`` lists them in the order the
constructor assigned them, as PyTorch does, without any registration code.

Calls go through `Module.__call__`, which is also the one hook point: `trace_calls`
installs a function that wraps every module call (the model summary uses it to record
each layer's output shape during a real forward pass).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import numpy as np

from .. import backend
from .._tensor import Tensor
from ..errors import UserError
from .utils import clear_grad


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
            clear_grad(param, set_to_none)

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
