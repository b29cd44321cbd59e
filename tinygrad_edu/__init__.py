"""tinygrad_edu: a small, readable reverse-mode autograd framework.

``import tinygrad_edu`` loads the engine only: the modules of `ENGINE`, in the order they
depend on each other (each imports only modules before it): `errors`, `extras` (the
one-line install hints), `autograd` (the graph walk both engines share), `graph_text` (a
graph as DOT text or one line per node, rendered by Graphviz's ``dot``: a `Value` draws
itself in Jupyter), `backend` (NumPy, CuPy or array_api_strict), `recording` (the active
recorder of `tg.compile`, which the engine consults at declared hook points instead of being
patched), `rng`, `dtypes`, `dims`,
`ops` (each op once: forward, derivative, formula, tie rule), `value` (scalars), the
`tensor_*` modules (the classes `Tensor` is made of), `_tensor` (arrays), `functional`
(activations and losses), `gradcheck`. `tg.summary` comes with them, and brings `nn` (see
there why). The other tools above the engine load on first use (PEP 562 `__getattr__`
below): `optim`, `tg.compile` (`jit`), `tg.save` and `tg.load`, the drawings, and `tg.runs`
with the spec language, data and training.
"""

import sys as _sys

# ``python -m tinygrad_edu COMMAND`` imports this package (NumPy, the engine) before its
# __main__ could handle a Ctrl-C, and runpy sets sys.argv[0] to "-m" meanwhile: hold the
# signal until the engine has loaded and answer it then (exit 130, one line), as
# tinygrad_edu_entry does for ``python cli.py`` and the tinygrad-edu script.
_held_ctrl_c: list[int] | None = None
if _sys.argv[:1] == ["-m"]:
    import signal as _signal

    _held_ctrl_c = []
    _previous_handler = _signal.signal(
        _signal.SIGINT, lambda number, frame: _held_ctrl_c.append(number)
    )

from . import functional
from ._tensor import (
    ShapeError,
    Tensor,
    arange,
    cat,
    concatenate,
    full,
    get_default_dtype,
    matmul,
    ones,
    ones_like,
    rand,
    randn,
    set_default_dtype,
    stack,
    tensor,
    where,
    zeros,
    zeros_like,
)
from .autograd import inference_mode, is_grad_enabled, no_grad
from .backend import get_backend, set_backend

# PyTorch's names at the package level too (tg.float32, tg.zeros, ...); `tg.tensor` is the
# function, as torch.tensor (its module is `_tensor`, as PyTorch renamed torch/tensor.py)
from .dtypes import bool, float32, float64, int32, int64  # noqa: A004
from .gradcheck import GradcheckError, gradcheck
from .rng import manual_seed

# Loaded now although it is a tool over the engine (it brings `nn`): the module is named like
# the function, and a lazy `tg.summary` would turn into the module as soon as any caller
# imported tinygrad_edu.summary (the import system sets the package attribute).
from .summary import summary
from .value import Value

ENGINE = (
    "errors", "extras", "autograd", "graph_text", "backend", "recording", "rng", "dtypes",
    "dims", "ops", "value",
    "tensor_base", "tensor_conversions", "tensor_compare", "tensor_indexing", "tensor_inplace",
    "tensor_reductions", "tensor_shape", "tensor_factories", "_tensor", "functional", "gradcheck",
)  # fmt: skip
"""The engine's modules in dependency order (tests/test_package.py checks it)."""

from ._version import __version__ as __version__  # the one version string

__all__ = [
    "GradcheckError",
    "ShapeError",
    "Tensor",
    "Value",
    "cat",
    "compile",
    "concatenate",
    "draw",
    "draw_dot",
    "functional",
    "get_backend",
    "get_default_dtype",
    "gradcheck",
    "manual_seed",
    "matmul",
    "nn",
    "no_grad",
    "is_grad_enabled",
    "optim",
    "set_backend",
    "set_default_dtype",
    "stack",
    "summary",
    "to_dot",
]

__all__ += [  # PyTorch's package-level names: torch.tensor, torch.zeros, torch.float32, ...
    "arange",
    "bool",
    "float32",
    "float64",
    "full",
    "inference_mode",
    "int32",
    "int64",
    "load",
    "ones",
    "ones_like",
    "rand",
    "randn",
    "save",
    "tensor",
    "where",
    "zeros",
    "zeros_like",
]


_LAZY = {
    "nn": ("nn", None),
    "optim": ("optim", None),
    "compile": ("jit", "compile"),  # tg.compile, as torch.compile
    "save": ("io.serialization", "save"),
    "load": ("io.serialization", "load"),
    "draw": ("viz.draw", "draw"),
    "draw_dot": ("viz.graphviz", "draw_dot"),  # the engine's graph_text.to_dot, micrograd's name
    "to_dot": ("viz.graphviz", "to_dot"),
    "runs": ("runs", None),  # load_model, load_weights, ...
    "exercises": ("exercises", None),  # tg.exercises.check("value-tanh", workspace)
}
"""Package names above the engine: (module, attribute; None for the module itself)."""


def __getattr__(name: str) -> object:
    """Load a name of `_LAZY` on first use (PEP 562), so that ``import tinygrad_edu`` costs
    the engine only; later uses find it in the package's namespace."""
    if name not in _LAZY:
        raise AttributeError(f"module 'tinygrad_edu' has no attribute {name!r}")
    import importlib

    module_name, attribute = _LAZY[name]
    module = importlib.import_module(f".{module_name}", __name__)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if _held_ctrl_c is not None:
    _signal.signal(_signal.SIGINT, _previous_handler)
    if _held_ctrl_c:
        print("interrupted", file=_sys.stderr)
        raise SystemExit(130)
