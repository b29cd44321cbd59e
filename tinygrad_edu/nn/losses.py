"""Losses as modules (PyTorch's `nn.CrossEntropyLoss`, ...): each holds its options and
calls its function in `tinygrad_edu.functional`."""

from __future__ import annotations

from typing import Any

from .. import functional
from .._tensor import Tensor
from .module import Module


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
