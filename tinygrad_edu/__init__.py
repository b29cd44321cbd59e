"""tinygrad_edu: a small, readable reverse-mode autograd framework.

Reading order: `autograd` (the graph walk shared by both engines), `value` (scalars),
`backend` (NumPy or CuPy), `tensor` (arrays), `functional` (activations and losses),
`gradcheck`, then `nn`, `optim`, `summary`, and the layers above the engine: `spec`,
`data` and `training`.
"""

from . import functional, nn, optim
from .autograd import inference_mode, is_grad_enabled, no_grad
from .backend import get_backend, set_backend
from .compile import compile  # noqa: A004  (tg.compile, as torch.compile)

# PyTorch's names at the package level too (tg.float32, tg.save, tg.zeros, ...); `tg.tensor`
# is the function, as torch.tensor (the module stays importable as tinygrad_edu.tensor)
from .dtypes import bool, float32, float64, int32, int64  # noqa: A004
from .gradcheck import GradcheckError, gradcheck
from .rng import manual_seed
from .serialization import load, save
from .summary import summary
from .tensor import (
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
from .value import Value
from .viz.draw import draw
from .viz.graphviz import draw_dot, to_dot

__version__ = "0.1.0"

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


def __getattr__(name: str) -> object:
    """``tg.runs`` (`training.runs`: ``load_model``, ``load_weights``, ...) is imported on
    first use, so ``import tinygrad_edu`` does not load the training stack."""
    if name == "runs":
        from .training import runs

        return runs
    if name == "exercises":  # tg.exercises.check("value-tanh", workspace): hand-outs, grading
        import importlib  # not `from . import exercises`: that asks this function again

        return importlib.import_module(f"{__name__}.exercises")
    raise AttributeError(f"module 'tinygrad_edu' has no attribute {name!r}")
