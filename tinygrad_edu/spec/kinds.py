"""The ``loss``, ``optimizer`` and ``scheduler`` sections: kinds chosen by ``name`` (a bare
name is short for ``{name: ...}``), each kind with its own options and defaults (PyTorch's).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, Field, Tag, model_validator

from .fields import Fraction, NonNegativeFloat, PositiveFloat, PositiveInt, Section, spec_check


class Named(Section):
    """A section whose kind is its ``name``; a bare name is short for ``{name: ...}``."""

    @model_validator(mode="before")
    @classmethod
    def _bare_name(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @classmethod
    def kind(cls) -> str:
        """The one value of this class's ``name`` field."""
        return cls.model_fields["name"].annotation.__args__[0]

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict[str, Any]:
        """Allow the bare name in the JSON Schema where no option is required."""
        json_schema = handler.resolve_ref_schema(handler(schema))
        if any(key != "name" for key in json_schema.get("required", [])):
            return json_schema
        return {"anyOf": [{"const": cls.kind(), "type": "string"}, json_schema]}


def _name_of(value: Any) -> str | None:
    """The tag of a named section: the bare name or the value of its ``name`` key."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        name = value.get("name")
        return name if isinstance(name, str) else None
    return getattr(value, "name", None)


def _by_name(*kinds: type[Named]) -> Any:
    """The union of `kinds`, told apart by name."""
    return Annotated[
        Union[tuple(Annotated[kind, Tag(kind.kind())] for kind in kinds)],
        Discriminator(_name_of),
    ]


class CrossEntropy(Named):
    """Softmax cross-entropy of C logits against class indices (C >= 2 outputs)."""

    name: Literal["cross_entropy"]
    label_smoothing: float = Field(0.0, ge=0.0, le=1.0)


class MSE(Named):
    """Mean squared error, for regression."""

    name: Literal["mse"]


class L1(Named):
    """Mean absolute error, for regression (``l1_loss``)."""

    name: Literal["l1"]


class Huber(Named):
    """Huber loss, for regression: squared below ``delta``, linear above (``huber_loss``)."""

    name: Literal["huber"]
    delta: PositiveFloat = 1.0


class BCEWithLogits(Named):
    """Binary cross-entropy of one logit per sample against 0/1 targets (1 output)."""

    name: Literal["binary_cross_entropy_with_logits"]


class Hinge(Named):
    """Max-margin loss: one score with +-1 targets, or C scores with class indices."""

    name: Literal["hinge"]
    margin: PositiveFloat = 1.0


LossSpec = _by_name(CrossEntropy, MSE, L1, Huber, BCEWithLogits, Hinge)
REGRESSION_LOSSES = ("mse", "l1", "huber")


class SGD(Named):
    """PyTorch's SGD: ``lr`` is required; momentum, dampening, nesterov, weight_decay."""

    name: Literal["sgd"]
    lr: PositiveFloat
    momentum: NonNegativeFloat = 0.0
    dampening: NonNegativeFloat = 0.0
    nesterov: bool = False
    weight_decay: NonNegativeFloat = 0.0
    maximize: bool = Field(False, description="ascend the loss instead (negate the gradient)")

    @model_validator(mode="after")
    def _nesterov(self) -> SGD:
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise spec_check(
                [(("nesterov",), "Nesterov momentum needs momentum > 0 and dampening 0")]
            )
        return self


Beta = Annotated[float, Field(ge=0.0, lt=1.0)]


class Adam(Named):
    """PyTorch's Adam (L2 weight decay added to the gradient)."""

    name: Literal["adam"]
    lr: PositiveFloat = 1e-3
    betas: tuple[Beta, Beta] = (0.9, 0.999)
    eps: NonNegativeFloat = 1e-8
    weight_decay: NonNegativeFloat = 0.0
    amsgrad: bool = Field(False, description="use the maximum of the squared-gradient averages")
    maximize: bool = False


class AdamW(Adam):
    """PyTorch's AdamW (decoupled weight decay)."""

    name: Literal["adamw"]  # type: ignore[assignment]
    weight_decay: NonNegativeFloat = 1e-2


class RMSprop(Named):
    """PyTorch's RMSprop: steps divided by a running root mean square of the gradient."""

    name: Literal["rmsprop"]
    lr: PositiveFloat = 1e-2
    alpha: NonNegativeFloat = Field(0.99, description="smoothing of the squared gradients")
    eps: NonNegativeFloat = 1e-8
    weight_decay: NonNegativeFloat = 0.0
    momentum: NonNegativeFloat = 0.0
    centered: bool = Field(False, description="divide by the gradient's estimated variance")
    maximize: bool = False


class Adagrad(Named):
    """PyTorch's Adagrad: steps divided by the root of the summed squared gradients."""

    name: Literal["adagrad"]
    lr: PositiveFloat = 1e-2
    lr_decay: NonNegativeFloat = 0.0
    weight_decay: NonNegativeFloat = 0.0
    initial_accumulator_value: NonNegativeFloat = 0.0
    eps: NonNegativeFloat = 1e-10
    maximize: bool = False


OptimizerSpec = _by_name(SGD, Adam, AdamW, RMSprop, Adagrad)


class StepLR(Named):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs."""

    name: Literal["step"]
    step_size: PositiveInt
    gamma: PositiveFloat = 0.1


class Cosine(Named):
    """Cosine annealing from the initial rate to ``eta_min`` over ``t_max`` epochs."""

    name: Literal["cosine"]
    t_max: PositiveInt | None = Field(
        None, description="epochs of one half cosine; default: train.epochs"
    )
    eta_min: NonNegativeFloat = 0.0


class LinearLR(Named):
    """Scale the rate by a factor going linearly from start_factor to end_factor."""

    name: Literal["linear"]
    start_factor: float = Field(1.0 / 3, gt=0.0, le=1.0)
    end_factor: float = Field(1.0, ge=0.0, le=1.0)
    total_iters: PositiveInt = Field(5, description="epochs until end_factor is reached")


class ExponentialLR(Named):
    """Multiply the learning rate by ``gamma`` every epoch."""

    name: Literal["exponential"]
    gamma: PositiveFloat


class OneCycleLR(Named):
    """The 1cycle policy, stepped once per epoch: up to max_lr, then down (and momentum
    the other way)."""

    name: Literal["one_cycle"]
    max_lr: PositiveFloat
    total_steps: PositiveInt | None = Field(None, description="default: train.epochs")
    pct_start: float = Field(0.3, ge=0.0, le=1.0, description="share of the rising phase")
    anneal_strategy: Literal["cos", "linear"] = "cos"
    cycle_momentum: bool = True
    base_momentum: NonNegativeFloat = 0.85
    max_momentum: NonNegativeFloat = 0.95
    div_factor: PositiveFloat = Field(25.0, description="initial lr = max_lr / div_factor")
    final_div_factor: PositiveFloat = Field(1e4, description="final lr = initial / this")
    three_phase: bool = False


class ReduceLROnPlateau(Named):
    """Multiply the rate by ``factor`` when the held-out loss stops improving."""

    name: Literal["reduce_on_plateau"]
    mode: Literal["min", "max"] = "min"
    factor: Fraction = 0.1
    patience: int = Field(10, ge=0, description="epochs without improvement to wait")
    threshold: NonNegativeFloat = 1e-4
    threshold_mode: Literal["rel", "abs"] = "rel"
    cooldown: int = Field(0, ge=0, description="epochs to wait after a reduction")
    min_lr: NonNegativeFloat = 0.0
    eps: NonNegativeFloat = 1e-8


SchedulerSpec = _by_name(StepLR, Cosine, LinearLR, ExponentialLR, OneCycleLR, ReduceLROnPlateau)
