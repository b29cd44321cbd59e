"""tinygrad_edu: a small, readable reverse-mode autograd framework.

Reading order: `autograd` (the graph walk shared by both engines), `value` (scalars),
`backend` (NumPy or CuPy), `tensor` (arrays), `functional` (activations and losses),
`gradcheck`, then `nn`, `optim`, `summary`, and the layers above the engine: `spec`,
`data` and `training`.
"""

from . import functional, nn, optim
from .autograd import no_grad
from .backend import get_backend, set_backend
from .gradcheck import GradcheckError, gradcheck
from .rng import manual_seed
from .summary import summary
from .tensor import (
    ShapeError,
    Tensor,
    cat,
    concatenate,
    get_default_dtype,
    matmul,
    set_default_dtype,
    stack,
)
from .value import Value
from .viz.graphviz import draw_dot, to_dot

__version__ = "0.1.0"

__all__ = [
    "GradcheckError",
    "ShapeError",
    "Tensor",
    "Value",
    "cat",
    "concatenate",
    "draw_dot",
    "functional",
    "get_backend",
    "get_default_dtype",
    "gradcheck",
    "manual_seed",
    "matmul",
    "nn",
    "no_grad",
    "optim",
    "set_backend",
    "set_default_dtype",
    "stack",
    "summary",
    "to_dot",
]


def __getattr__(name: str) -> object:
    """``tg.runs`` (`training.runs`: ``load_model``, ``load_weights``, ...) is imported on
    first use, so ``import tinygrad_edu`` does not load the training stack."""
    if name == "runs":
        from .training import runs

        return runs
    raise AttributeError(f"module 'tinygrad_edu' has no attribute {name!r}")
