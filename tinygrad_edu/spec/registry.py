"""The layer types a spec may name, each registered once with its options and its builder.

A spec lists layers by name (``- relu``, ``- linear: 128``). For every name the registry
holds a `LayerType`: a pydantic model of the layer's options (so a spec is validated and
the JSON schema describes it), the callable that builds the `nn` module, and how the layer
changes the shape of one sample. The running shape is what lets a spec write
``linear: 128`` without ``in_features``: each builder gets the previous layer's output
shape.

Add your own layer type from Python with `register_layer`; a spec can then name it. Specs
only name registered types: they never import or run code.
"""

from __future__ import annotations

import difflib
import inspect
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from .. import autograd, features, nn, rng
from .._tensor import Tensor

Shape = tuple[int, ...]
ShapeRule = Callable[[Any, Shape], Shape]
F = TypeVar("F", bound=Callable[..., Any])

INPUT_ARGUMENTS = ("in_features", "input_shape")
"""Constructor parameters filled from the running shape, never from the spec:
``in_features`` gets the last dimension of the input, ``input_shape`` the whole shape of
one sample (without the batch dimension)."""

_NAME = re.compile(r"[a-z][a-z0-9_]*")


class LayerOptions(BaseModel):
    """Base class of a layer type's options: typed fields, and unknown keys are errors.

    The YAML short form (``linear: 128``) sets the first field, so put the option people
    give most often first.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


@dataclass(frozen=True)
class LayerType:
    """One registered layer type: its name, its options, its factory and its shape rule."""

    name: str
    options: type[BaseModel]
    factory: Callable[..., nn.Module]
    shape_rule: ShapeRule | None = None
    input_arguments: tuple[str, ...] = ()
    onnx: Callable[..., str] | None = None  # ONNX export rule, see tinygrad_edu.export.onnx

    @property
    def short_option(self) -> str | None:
        """The option that the short form ``name: value`` sets (the first one), if any."""
        return next(iter(self.options.model_fields), None)

    @property
    def required_options(self) -> list[str]:
        return [name for name, field in self.options.model_fields.items() if field.is_required()]

    def build(self, options: BaseModel, input_shape: Shape) -> tuple[nn.Module, Shape]:
        """A new module for samples of `input_shape` (parameters of the default dtype), and
        the shape of its output samples."""
        module = self._construct(options, input_shape)
        return module, self.output_shape(options, input_shape, module)

    def output_shape(
        self, options: BaseModel, input_shape: Shape, module: nn.Module | None = None
    ) -> Shape:
        """The shape of one output sample; ValueError if the layer cannot take the input.

        Without a shape rule the layer is built (unless given) and run on one zero
        sample, so a registered layer is checked against the shape it will really get;
        the random generator is restored afterwards, so checking draws no numbers.
        """
        if self.shape_rule is not None:
            return tuple(self.shape_rule(options, tuple(input_shape)))
        state = rng.get_state()
        try:
            if module is None:
                module = self._construct(options, input_shape)
            with autograd.no_grad():
                out = module(Tensor.zeros(1, *input_shape))
        except Exception as error:  # a user's layer may fail in any way: a spec problem
            raise ValueError(
                f"cannot take an input of shape {list(input_shape)}: "
                f"{type(error).__name__}: {error}"
            ) from error
        finally:
            rng.set_state(state)
        if not isinstance(out, Tensor):
            raise ValueError(f"its forward returned a {type(out).__name__}, not a Tensor")
        return tuple(out.shape[1:])

    def _construct(self, options: BaseModel, input_shape: Shape) -> nn.Module:
        kwargs = {name: getattr(options, name) for name in type(options).model_fields}
        if "in_features" in self.input_arguments:
            kwargs["in_features"] = input_shape[-1]
        if "input_shape" in self.input_arguments:
            kwargs["input_shape"] = tuple(input_shape)
        module = self.factory(**kwargs)
        if not isinstance(module, nn.Module):
            raise TypeError(
                f"layer type '{self.name}': its factory returned a {type(module).__name__}, "
                "not an nn.Module"
            )
        return module


_LAYERS: dict[str, LayerType] = {}
_listeners: list[Callable[[], None]] = []


def register_layer(
    name: str,
    *,
    options: type[BaseModel] | None = None,
    output_shape: ShapeRule | None = None,
    replace: bool = False,
    onnx: Callable[..., str] | None = None,
) -> Callable[[F], F]:
    """Let specs name a layer type: decorate an `nn.Module` subclass or a factory of one.

    The callable's keyword parameters become the layer's options: each needs a type hint
    (pydantic checks the spec's values against it), and one without a default is
    required. Parameters named ``in_features`` and ``input_shape`` are filled from the
    previous layer's output (see `INPUT_ARGUMENTS`). Pass ``options``, a `LayerOptions`
    subclass, for constraints a type hint cannot say (``Field(gt=0)``), and
    ``output_shape(options, input_shape)`` to skip the dry run (one forward pass on a zero
    sample) that otherwise finds the output shape::

        @register_layer("scale")
        class Scale(nn.Module):
            def __init__(self, factor: float = 2.0):
                self.factor = factor

            def forward(self, x):
                return x * self.factor

    A spec then writes ``- scale: 3.0`` (the short form sets the first option) or
    ``- scale: {factor: 3.0}``. ``replace=True`` redefines an existing name.
    ``onnx=rule`` lets `tinygrad_edu.export.to_onnx` export the layer: ``rule(module, graph,
    x)`` adds its nodes to the graph and returns the output's name (see `export.onnx`).
    """
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"layer name {name!r} must be lowercase letters, digits and '_', starting "
            "with a letter (it is written in YAML specs)"
        )
    if name in _LAYERS and not replace:
        raise ValueError(
            f"layer type '{name}' is already registered; pass replace=True to redefine it"
        )

    def decorate(factory: F) -> F:
        parameters = _keyword_parameters(factory)
        model = options if options is not None else _options_from_signature(name, factory)
        _check_options(name, model, factory, parameters)
        inputs = tuple(arg for arg in INPUT_ARGUMENTS if arg in parameters)
        _LAYERS[name] = LayerType(name, model, factory, output_shape, inputs, onnx)
        _changed()
        return factory

    return decorate


def unregister_layer(name: str) -> None:
    """Forget a layer type (for a notebook experiment or a test that registered one)."""
    del _LAYERS[name]
    _changed()


def get_layer(name: str) -> LayerType:
    """The registered layer type `name` (KeyError if there is none)."""
    return _LAYERS[name]


def layer_names() -> list[str]:
    """Every registered name, in registration order (built-ins first)."""
    return list(_LAYERS)


def layer_types() -> Iterator[LayerType]:
    """Every registered layer type, in registration order."""
    return iter(list(_LAYERS.values()))


def on_change(listener: Callable[[], None]) -> None:
    """Call `listener()` after every registration, so the spec schema can rebuild itself."""
    _listeners.append(listener)


def _changed() -> None:
    for listener in _listeners:
        listener()


def _keyword_parameters(factory: Callable[..., Any]) -> dict[str, inspect.Parameter]:
    """The parameters a spec could set: those of the constructor (without self) or factory."""
    target = factory.__init__ if isinstance(factory, type) else factory
    if target is object.__init__:
        return {}
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    found = list(inspect.signature(target).parameters.values())
    if isinstance(factory, type):
        found = found[1:]
    return {p.name: p for p in found if p.kind in kinds}


def _options_from_signature(name: str, factory: Callable[..., Any]) -> type[BaseModel]:
    """A `LayerOptions` model with one field per parameter, typed by its hint."""
    target = factory.__init__ if isinstance(factory, type) else factory
    try:
        hints = get_type_hints(target, include_extras=True)
    except NameError as error:
        raise TypeError(f"layer type '{name}': cannot resolve a type hint: {error}") from None
    fields: dict[str, Any] = {}
    for pname, parameter in _keyword_parameters(factory).items():
        if pname in INPUT_ARGUMENTS:
            continue
        if pname not in hints:
            raise TypeError(
                f"layer type '{name}': parameter '{pname}' needs a type hint, so that "
                "specs can be checked against it"
            )
        default = ... if parameter.default is inspect.Parameter.empty else parameter.default
        fields[pname] = (hints[pname], Field(default))
    title = "".join(part.capitalize() for part in name.split("_")) + "Options"
    return create_model(title, __base__=LayerOptions, **fields)


def _check_options(
    name: str, model: Any, factory: Callable[..., Any], parameters: dict[str, inspect.Parameter]
) -> None:
    """Fail at registration, not at the first spec, when options and factory disagree."""
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"layer type '{name}': options must be a pydantic model class")
    if model.model_config.get("extra") != "forbid":
        raise TypeError(
            f"layer type '{name}': the options model must forbid unknown keys, so that "
            "misspelled options are errors; subclass registry.LayerOptions"
        )
    unknown = [field for field in model.model_fields if field not in parameters]
    if unknown and not _takes_any_keyword(factory):
        raise TypeError(
            f"layer type '{name}': option(s) {', '.join(unknown)} are not parameters of "
            f"{getattr(factory, '__name__', factory)}"
        )


def _takes_any_keyword(factory: Callable[..., Any]) -> bool:
    target = factory.__init__ if isinstance(factory, type) else factory
    return any(
        p.kind is inspect.Parameter.VAR_KEYWORD
        for p in inspect.signature(target).parameters.values()
    )


# --- the built-in layer types -----------------------------------------------------------------


class LinearOptions(LayerOptions):
    out_features: int = Field(gt=0, description="size of each output sample")
    bias: bool = Field(True, description="learn an additive bias")


class NoOptions(LayerOptions):
    """For layers without options: write just the name (``- relu``)."""


class LeakyReLUOptions(LayerOptions):
    negative_slope: float = Field(0.01, description="slope for negative inputs")


class SoftmaxOptions(LayerOptions):
    dim: int = Field(-1, description="dimension (of the batched tensor) that sums to 1")


class DropoutOptions(LayerOptions):
    p: float = Field(0.5, ge=0.0, lt=1.0, description="probability of zeroing an element")


class GELUOptions(LayerOptions):
    approximate: Literal["none", "tanh"] = Field(
        "none", description="'none': the exact erf form (PyTorch's default); 'tanh'"
    )


class LayerNormOptions(LayerOptions):
    eps: float = Field(1e-5, gt=0.0, description="added to the variance")
    elementwise_affine: bool = Field(True, description="learn a scale and a shift")
    bias: bool = Field(True, description="learn the shift (with elementwise_affine)")


class BatchNormOptions(LayerOptions):
    momentum: float = Field(0.1, ge=0.0, le=1.0, description="update rate of the running stats")
    eps: float = Field(1e-5, gt=0.0, description="added to the variance")
    affine: bool = Field(True, description="learn a scale and a shift per feature")
    track_running_stats: bool = Field(True, description="keep running statistics for eval")


class FeaturesOptions(LayerOptions):
    names: list[str] = Field(
        min_length=1, description=f"input features of a 2-D point: {', '.join(features.FEATURES)}"
    )

    @field_validator("names")
    @classmethod
    def _known_and_distinct(cls, names: list[str]) -> list[str]:
        for name in names:
            if name not in features.FEATURES:
                choices = list(features.FEATURES)
                close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
                hint = (
                    f"did you mean '{close[0]}'?" if close else f"choose from {', '.join(choices)}"
                )
                raise ValueError(f"unknown input feature '{name}'; {hint}")
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"input feature(s) {', '.join(repeated)} named twice; name each once")
        return names


def layer_norm(in_features: int, eps: float, elementwise_affine: bool, bias: bool) -> nn.LayerNorm:
    """``- layer_norm``: LayerNorm over the last dimension of the running shape."""
    return nn.LayerNorm(in_features, eps, elementwise_affine, bias)


def batch_norm(
    input_shape: Shape, momentum: float, eps: float, affine: bool, track_running_stats: bool
) -> nn.BatchNorm1d:
    """``- batch_norm``: BatchNorm1d over the features of flat samples, or the channels
    (first dimension) of (C, L) samples."""
    return nn.BatchNorm1d(input_shape[0], eps, momentum, affine, track_running_stats)


def _same_shape(options: Any, shape: Shape) -> Shape:
    return shape


def _linear_shape(options: LinearOptions, shape: Shape) -> Shape:
    return (*shape[:-1], options.out_features)


def _flatten_shape(options: Any, shape: Shape) -> Shape:
    return (math.prod(shape),)


def _batch_norm_shape(options: Any, shape: Shape) -> Shape:
    if len(shape) not in (1, 2):
        raise ValueError(
            f"batch_norm (BatchNorm1d) takes samples of shape [C] or [C, L], got "
            f"{list(shape)}; add a flatten layer first"
        )
    return shape


def _features_shape(options: FeaturesOptions, shape: Shape) -> Shape:
    if tuple(shape) != (2,):
        raise ValueError(
            f"features computes x1², sin(x1), ... from 2-D points (samples of shape [2]), got "
            f"{list(shape)}; use it first in a model with input: [2]"
        )
    return (len(options.names),)


def _softmax_shape(options: SoftmaxOptions, shape: Shape) -> Shape:
    ndim = len(shape) + 1  # the batch dimension comes first
    if not -ndim <= options.dim < ndim:
        raise ValueError(
            f"dim {options.dim} is out of range for a batch of shape [N, "
            f"{', '.join(map(str, shape))}]; use a value from {-ndim} to {ndim - 1}"
        )
    return shape


register_layer("linear", options=LinearOptions, output_shape=_linear_shape)(nn.Linear)
register_layer("flatten", options=NoOptions, output_shape=_flatten_shape)(nn.Flatten)
register_layer("relu", options=NoOptions, output_shape=_same_shape)(nn.ReLU)
register_layer("leaky_relu", options=LeakyReLUOptions, output_shape=_same_shape)(nn.LeakyReLU)
register_layer("tanh", options=NoOptions, output_shape=_same_shape)(nn.Tanh)
register_layer("sigmoid", options=NoOptions, output_shape=_same_shape)(nn.Sigmoid)
register_layer("gelu", options=GELUOptions, output_shape=_same_shape)(nn.GELU)
register_layer("identity", options=NoOptions, output_shape=_same_shape)(nn.Identity)
register_layer("softmax", options=SoftmaxOptions, output_shape=_softmax_shape)(nn.Softmax)
register_layer("dropout", options=DropoutOptions, output_shape=_same_shape)(nn.Dropout)
register_layer("layer_norm", options=LayerNormOptions, output_shape=_same_shape)(layer_norm)
register_layer("batch_norm", options=BatchNormOptions, output_shape=_batch_norm_shape)(batch_norm)
register_layer("features", options=FeaturesOptions, output_shape=_features_shape)(
    features.InputFeatures
)
