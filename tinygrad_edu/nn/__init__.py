"""Layers and containers with PyTorch's names: `Module`, `Linear`, `Sequential`, `MLP`, ...

Read in this order: `module` (`Module`, `Parameter`, the call hook), `layers`, `losses`
(losses as modules), `containers` (`Sequential`, `ModuleList`, the lecture's `MLP`), and
`utils` (gradient clipping, as ``torch.nn.utils``).
"""

from .. import functional  # nn.functional, as torch.nn.functional
from . import utils
from .containers import ACTIVATIONS, MLP, ModuleList, Sequential, get_activation
from .layers import (
    GELU,
    BatchNorm1d,
    Dropout,
    Embedding,
    Flatten,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from .losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
)
from .module import IncompatibleKeys, Module, Parameter, StateDictError, Tracer, trace_calls

__all__ = [
    "ACTIVATIONS", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "CrossEntropyLoss", "Dropout",
    "Embedding", "Flatten", "GELU", "HuberLoss", "Identity", "IncompatibleKeys", "L1Loss",
    "LayerNorm", "LeakyReLU", "Linear", "MLP", "MSELoss", "Module", "ModuleList", "NLLLoss",
    "Parameter", "ReLU", "Sequential", "Sigmoid", "Softmax", "StateDictError", "Tanh", "Tracer",
    "functional", "get_activation", "trace_calls", "utils",
]  # fmt: skip
