"""Optimizers and learning-rate schedules, as ``torch.optim``: `optimizer` (the base:
parameter groups, state dicts), `optimizers` (`SGD`, `Adam`, `AdamW`, `RMSprop`, `Adagrad`),
`lr_scheduler` (schedules that set each group's ``lr``)."""

from . import lr_scheduler
from .lr_scheduler import CosineAnnealingLR, LRScheduler, StepLR  # the old optim.StepLR, ...
from .optimizer import Optimizer, OptimizerStateError
from .optimizers import SGD, Adagrad, Adam, AdamW, RMSprop

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "LRScheduler",
    "Optimizer",
    "OptimizerStateError",
    "RMSprop",
    "StepLR",
    "lr_scheduler",
]
