"""What a spec file may say: the pydantic models of every section, and its JSON Schema.

A spec is one YAML mapping (see ``specs/mlp.yaml``)::

    name, seed, backend, dtype, model {input, layers | mlp}, data {source, ...},
    loss, optimizer, scheduler (optional), train {epochs, batch_size}

Every section is a model with typed fields that forbids unknown keys. The sections that
come in kinds are discriminated unions: ``data`` on ``source``, ``loss``, ``optimizer``
and ``scheduler`` on ``name`` (a bare name is short for ``{name: ...}``), and each entry of
``model.layers`` on its one key, a layer type of the `registry` (so a layer registered
from Python is valid in YAML at once). Checks that span fields come last: the shapes
through the layers, the data's sample shape against ``model.input``, and the number of
outputs against the loss and the data's classes.

Reading YAML with line numbers and turning validation errors into messages is the job
of `loader`; building the model from a spec that of the package `spec` (`__init__`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    WrapValidator,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError, core_schema

from .. import nn
from ..data.mnist import DEFAULT_SHA256, DEFAULT_URL
from ..data.synthetic import FUNCTION_ALIASES, FUNCTIONS
from . import registry
from .sweep_values import check_run_count, expand_values

# Integer bounds are written as ints and float bounds as floats: the error formatter
# reads the bound's type to say "a positive integer" or "a number > 0".
PositiveInt = Annotated[int, Field(gt=0)]
PositiveFloat = Annotated[float, Field(gt=0.0)]
NonNegativeFloat = Annotated[float, Field(ge=0.0)]
Fraction = Annotated[float, Field(gt=0.0, lt=1.0)]
Normalize = Literal["none", "scale", "standardize"]


class Section(BaseModel):
    """Base of every part of a spec: unknown keys are errors, not silently ignored, and
    every float must be finite: inf and nan (.inf, .nan) mean no learning rate, noise or
    interval, so they are refused here rather than turning the loss into NaN later."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


def spec_check(problems: list[tuple[tuple[Union[str, int], ...], str]]) -> PydanticCustomError:
    """One validation error carrying several (path, message) problems of a cross-field check.

    The path is relative to the model whose validator raises it; `loader` expands
    the problems so that each is reported at its own key.
    """
    return PydanticCustomError(
        "spec_check",
        "{summary}",
        {"summary": "; ".join(m for _, m in problems), "problems": problems},
    )


# --- the model section ------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerSpec:
    """One entry of ``model.layers``: a registered layer type and its validated options.

    In YAML a layer is a bare name (``relu``), a name with its first option (``linear:
    128``), or a name with a mapping of options (``linear: {out_features: 128}``).
    """

    type: str
    options: BaseModel

    @property
    def layer_type(self) -> registry.LayerType:
        return registry.get_layer(self.type)

    def to_yaml(self) -> str | dict[str, Any]:
        """The long form with every option written out; just the name if it has none."""
        options = self.options.model_dump(mode="json")
        return {self.type: options} if options else self.type

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        """A union tagged by the layer's name over the registry as it is now (rebuilt on change)."""
        choices: dict[Any, core_schema.CoreSchema] = {}
        for layer_type in registry.layer_types():
            options = core_schema.no_info_after_validator_function(
                partial(LayerSpec, layer_type.name), handler.generate_schema(layer_type.options)
            )
            choices[layer_type.name] = core_schema.no_info_before_validator_function(
                partial(_layer_options, layer_type), options
            )
        return core_schema.tagged_union_schema(
            choices,
            discriminator=_layer_name,
            serialization=core_schema.plain_serializer_function_ser_schema(LayerSpec.to_yaml),
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict[str, Any]:
        """The YAML forms: a bare name, or a one-key mapping to the first option or all of them."""
        bare = [t.name for t in registry.layer_types() if not t.required_options]
        alternatives: list[dict[str, Any]] = [
            {"enum": bare, "description": "a layer without options (or with default options)"}
        ]
        for layer_type in registry.layer_types():
            ref = handler(layer_type.options.__pydantic_core_schema__)
            forms = [ref]
            short = layer_type.short_option
            if short is not None:
                properties = handler.resolve_ref_schema(ref).get("properties", {})
                forms.insert(0, properties.get(short, {}))
            if not layer_type.required_options:
                forms.append({"type": "null"})
            alternatives.append(
                {
                    "type": "object",
                    "properties": {layer_type.name: {"anyOf": forms}},
                    "required": [layer_type.name],
                    "additionalProperties": False,
                }
            )
        return {"anyOf": alternatives}


def _layer_name(value: Any) -> str | None:
    """The tag of a layer entry: the bare name or the mapping's one key."""
    if isinstance(value, LayerSpec):
        return value.type
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        key = next(iter(value))
        return key if isinstance(key, str) else None
    return None


def _layer_options(layer_type: registry.LayerType, value: Any) -> Any:
    """The options mapping of a layer entry in any of its three forms."""
    if isinstance(value, LayerSpec):
        return value.options
    if isinstance(value, str):
        return {}
    options = value[layer_type.name]
    if options is None or isinstance(options, dict):
        return options or {}
    if layer_type.short_option is None:
        raise PydanticCustomError(
            "layer_without_options",
            "layer '{layer}' takes no options, found {found}; write just '- {layer}'",
            {"layer": layer_type.name, "found": options},
        )
    return {layer_type.short_option: options}


class MLPShorthand(Section):
    """The lecture's ``MLP(input, hidden, outputs)``: flatten, then Linear + activation per
    hidden size, then the output Linear."""

    hidden: list[PositiveInt] = Field(description="sizes of the hidden layers, e.g. [128]")
    outputs: PositiveInt = Field(description="size of the output layer")
    activation: Literal[tuple(nn.ACTIVATIONS)] = Field(  # type: ignore[valid-type]
        "relu", description="activation after each hidden layer"
    )

    def layers(self) -> list[LayerSpec]:
        """The explicit layer list this shorthand stands for."""
        activation = "identity" if self.activation == "none" else self.activation
        act = registry.get_layer(activation).options()
        linear = registry.LinearOptions
        layers = [LayerSpec("flatten", registry.NoOptions())]
        for width in self.hidden:
            layers += [LayerSpec("linear", linear(out_features=width)), LayerSpec(activation, act)]
        return layers + [LayerSpec("linear", linear(out_features=self.outputs))]


class ModelSection(Section):
    """The network: the shape of one sample and either a list of layers or the mlp shorthand."""

    input: list[PositiveInt] = Field(
        min_length=1,
        max_length=32,  # arrays have at most 64 dimensions (NumPy), batch and layers add some
        description="shape of one sample, without the batch dimension: [784]",
    )
    layers: Annotated[list[LayerSpec], Field(min_length=1)] | None = Field(
        None, description="the layers in order: [flatten, {linear: 128}, relu, {linear: 10}]"
    )
    mlp: MLPShorthand | None = None
    _output_shape: tuple[int, ...] = PrivateAttr(())

    @property
    def output_shape(self) -> tuple[int, ...]:
        """The shape of one output sample, found by following the input through the layers."""
        return self._output_shape

    def layer_list(self) -> list[LayerSpec]:
        """The layers, with the mlp shorthand written out."""
        return self.mlp.layers() if self.mlp is not None else list(self.layers or [])

    @model_validator(mode="after")
    def _check_layers(self) -> ModelSection:
        if self.layers is not None and self.mlp is not None:
            raise spec_check([(("mlp",), "give either 'layers' or 'mlp', not both")])
        if self.layers is None and self.mlp is None:
            raise spec_check(
                [((), "missing the network: add 'layers' (a list) or 'mlp' (the shorthand)")]
            )
        shape = tuple(self.input)
        for index, layer in enumerate(self.layer_list()):
            try:
                shape = layer.layer_type.output_shape(layer.options, shape)
            except ValueError as error:
                where = ("mlp",) if self.mlp is not None else ("layers", index, layer.type)
                raise spec_check([(where, f"layer '{layer.type}': {error}")]) from None
        self._output_shape = shape
        return self


# --- data sources -----------------------------------------------------------------------------


def _resolve_path(value: str | None, info: ValidationInfo) -> str | None:
    """Make a relative path relative to the spec file's folder (``context["base_dir"]``)."""
    if value is None:
        return value
    if "\0" in value:
        raise ValueError("the path holds a NUL character (\\0); remove it")
    try:
        absolute = Path(value).expanduser().is_absolute()
    except RuntimeError:  # ~name of a user who does not exist
        raise ValueError(
            f"cannot expand {value.split('/')[0]!r}: there is no such user; write the path out"
        ) from None
    base_dir = (info.context or {}).get("base_dir")
    if base_dir is None or absolute:
        return value
    return str((Path(base_dir) / value).resolve())


ResolvedPath = Annotated[str, AfterValidator(_resolve_path)]


def _one_error(expected: str) -> Callable[[Any, Any], Any]:
    """Replace the errors of each member of a union by one error, "expected ..."."""

    def validate(value: Any, handler: Any) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise PydanticCustomError(
                "expected", "expected {expected}", {"expected": expected}
            ) from None

    return validate


class DataSource(Section):
    """Options every source has. ``sample_shape`` and ``num_classes`` are what the source
    is known to produce (None: it depends on the file), for the cross-field checks."""

    sample_shape: ClassVar[tuple[int, ...] | None] = None
    num_classes: ClassVar[int | None] = None  # None: depends on the file, 0: regression

    source: str = Field(description="where the samples come from")

    validation_fraction: float = Field(
        0.0, ge=0.0, lt=1.0, description="share of the training part held out for validation"
    )
    shuffle: bool = Field(True, description="shuffle the training set every epoch")


class SplitSource(DataSource):
    test_fraction: Fraction = Field(0.2, description="share of the samples held out for testing")


class Mnist5k(SplitSource):
    """The 5,000-image MNIST subset shipped with the package."""

    sample_shape = (784,)
    num_classes = 10
    source: Literal["mnist-5k"]
    normalize: Normalize = "scale"


class Mnist(DataSource):
    """Full MNIST (60,000 + 10,000 official test images) from a folder or a download."""

    sample_shape = (784,)
    num_classes = 10
    source: Literal["mnist"]
    path: Annotated[ResolvedPath | None, Field(description="folder with the four IDX files")] = None
    download: bool = Field(False, description="download the files if they are missing")
    url: str = Field(DEFAULT_URL, description="where to download from")
    sha256: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_SHA256), description="file name -> SHA-256"
    )
    normalize: Normalize = "scale"


class PlaneSource(SplitSource):
    """A 2-D two-class teaching set, generated from the seed."""

    sample_shape = (2,)
    num_classes = 2
    n_samples: int = Field(500, ge=2, description="number of points")
    noise: NonNegativeFloat = Field(0.1, description="standard deviation of the jitter")
    normalize: Normalize = "none"


class Moons(PlaneSource):
    source: Literal["moons"]


class Circles(PlaneSource):
    source: Literal["circles"]
    noise: NonNegativeFloat = 0.05
    factor: Fraction = Field(0.5, description="radius of the inner circle")


class Xor(PlaneSource):
    source: Literal["xor"]
    noise: NonNegativeFloat = 0.05


class Spiral(PlaneSource):
    source: Literal["spiral"]
    noise: NonNegativeFloat = 0.05


class Gaussian(PlaneSource):
    source: Literal["gaussian"]


class PlaneRegression(SplitSource):
    """TensorFlow Playground's 2-D regression sets: targets in [-1, 1] over [-1, 1]^2."""

    sample_shape = (2,)
    num_classes = 0
    n_samples: int = Field(1200, ge=2, description="number of points")
    noise: NonNegativeFloat = Field(0.0, description="jitter of where a target is read")
    normalize: Normalize = "none"


class RegPlane(PlaneRegression):
    source: Literal["reg-plane"]


class RegGauss(PlaneRegression):
    source: Literal["reg-gauss"]


class Function(SplitSource):
    """Regression of y = f(x) + noise on x drawn uniformly from the interval."""

    sample_shape = (1,)
    num_classes = 0
    source: Literal["function"]
    function: Literal[(*FUNCTIONS, *FUNCTION_ALIASES)] = "sin"  # type: ignore[valid-type]
    interval: tuple[float, float] = Field((-3.0, 3.0), description="[low, high]")
    n_samples: int = Field(200, ge=2)
    noise: NonNegativeFloat = 0.0
    normalize: Normalize = "none"

    @field_validator("interval")
    @classmethod
    def _ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not (math.isfinite(value[0]) and math.isfinite(value[1]) and value[0] < value[1]):
            raise ValueError(f"expected [low, high] with low < high, found {list(value)}")
        return value


class Csv(SplitSource):
    """A table: numeric feature columns and one target column."""

    source: Literal["csv"]
    path: ResolvedPath = Field(description="the CSV file")
    target: Annotated[
        Union[int, str], WrapValidator(_one_error("a column name or a 0-based column index"))
    ] = Field(description="the target column: its name or 0-based index (-1: the last)")
    header: Annotated[
        Union[Literal["auto"], bool], WrapValidator(_one_error("auto, true or false"))
    ] = Field("auto", description="whether the first row names the columns")
    delimiter: str = Field(",", min_length=1, max_length=1)
    normalize: Normalize = "standardize"


class Npz(SplitSource):
    """A NumPy ``.npz`` file with arrays X (samples) and y (targets)."""

    source: Literal["npz"]
    path: ResolvedPath = Field(description="the .npz file")
    normalize: Normalize = "standardize"


_PLANES = Union[Moons, Circles, Xor, Spiral, Gaussian, RegPlane, RegGauss]
DataSpec = Annotated[
    Union[Mnist5k, Mnist, _PLANES, Function, Csv, Npz],
    Field(discriminator="source"),
]


# --- loss, optimizer, scheduler: kinds chosen by name -----------------------------------------


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


_FOLDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


def _folder_name(value: str) -> str:
    if not _FOLDER_NAME.fullmatch(value):
        raise ValueError(
            f"expected a name of 1 to 200 letters, digits, '.', '_' and '-' (it names the run "
            f"folder), found {value[:40]!r}{f'... ({len(value)} characters)' * (len(value) > 40)}"
        )
    return value


class Train(Section):
    epochs: PositiveInt
    batch_size: PositiveInt
    tensorboard: bool = Field(
        default=False,
        description="write TensorBoard event files into the run folder's tensorboard/ folder",
    )
    engine: Literal["tensor", "value"] = Field(
        default="tensor",
        description="value: train on the scalar Value engine, one graph per sample (small "
        "specs, dtype float64; see tinygrad_edu.training.scalar)",
    )
    diagnostics: bool = Field(
        default=False,
        description="write diagnostics.csv each epoch: dead ReLU units, gradient and weight "
        "norm per layer",
    )
    snapshots: bool = Field(
        default=False,
        description="save the weights after every epoch in snapshots/epoch_NNN.npz "
        "(for plot --animate)",
    )
    compile: bool = Field(
        default=True,
        description="record the train step and replay it (tinygrad_edu.compile): the same "
        "weights bit for bit, less Python per step; false runs every step eagerly",
    )
    l1: NonNegativeFloat = Field(
        default=0.0,
        description="L1 regularization rate: each weight's gradient gains l1 * sign(w) (not "
        "biases; TensorFlow Playground's L1); L2 is optimizer.weight_decay",
    )


SweepValues = Annotated[
    Any,
    AfterValidator(expand_values),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "array", "minItems": 1},
                {"type": "string", "pattern": r"^\s*(range|logspace)\s*\(.*\)\s*$"},
            ],
            "description": "a list, 'range(start, stop, step)' or 'logspace(start, stop, num)'",
        }
    ),
]
"""A swept field's values: a list, or 'range(start, stop, step)' / 'logspace(start, stop, num)'."""


SweepSeeds = Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1)]


class Sweep(Section):
    """Train the spec once per point of a grid of fields, each point with one or more seeds
    (`tinygrad_edu.training.sweep`). ``path`` + ``values`` is a one-field grid."""

    path: Union[str, None] = Field(
        None,
        min_length=1,
        description="dotted key path of one field, e.g. model.layers[0].linear.out_features",
    )
    values: Union[SweepValues, None] = Field(None, description="its values, one point each")
    grid: Union[dict[str, SweepValues], None] = Field(
        None, description="field path -> values: every combination (the cartesian product)"
    )
    zip: Union[dict[str, SweepValues], None] = Field(
        None, description="field path -> values, lists of one length taken element-wise"
    )
    seeds: Union[SweepSeeds, None] = Field(None, description="run every point once per seed")
    repeats: Union[PositiveInt, None] = Field(
        None, description="run every point with seeds seed, seed + 1, ..., seed + repeats - 1"
    )

    @model_validator(mode="after")
    def _check_sweep(self) -> Sweep:
        problems: Problems = []
        if (self.path is None) != (self.values is None):
            missing = "values" if self.values is None else "path"
            problems.append(((missing,), f"{missing} is needed with {_other(missing)}"))
        if self.seeds is not None and self.repeats is not None:
            problems.append((("repeats",), "give seeds or repeats, not both"))
        if self.seeds is not None and len(set(self.seeds)) != len(self.seeds):
            problems.append((("seeds",), f"the seeds repeat: {self.seeds}"))
        if self.zip is not None and len({len(v) for v in self.zip.values()}) > 1:
            lengths = ", ".join(f"{path}: {len(v)}" for path, v in self.zip.items())
            problems.append((("zip",), f"the lists of zip must have one length, found {lengths}"))
        paths = [*([self.path] if self.path else []), *(self.grid or {}), *(self.zip or {})]
        repeated = sorted({p for p in paths if paths.count(p) > 1})
        if repeated:
            problems.append(((), f"{', '.join(repeated)} swept twice (path, grid, zip)"))
        if not paths and self.seeds is None and self.repeats is None:
            problems.append(((), "nothing to sweep: give path + values, grid, zip or seeds"))
        if not problems:
            try:
                check_run_count(self.axis_lengths(), len(self.seeds or []) or self.repeats or 1)
            except ValueError as error:
                problems.append(((), str(error)))
        if problems:
            raise spec_check(problems)
        return self

    def axis_lengths(self) -> list[int]:
        """The number of values of each axis: path, each grid field, zip (one axis)."""
        lengths = [len(self.values)] if self.values is not None else []
        lengths += [len(v) for v in (self.grid or {}).values()]
        return lengths + [len(next(iter(self.zip.values())))] if self.zip else lengths


def _other(key: str) -> str:
    return {"path": "values", "values": "path"}[key]


# ``from`` is a Python keyword, so this one-field section is made by create_model.
Init = create_model(
    "Init",
    __base__=Section,
    __doc__="Start from saved weights instead of the seed's random ones.",
    **{
        "from": (
            ResolvedPath,
            Field(
                description="a .safetensors state dict of this network (PyTorch's names: "
                "1.weight, 1.bias, ...), e.g. safetensors.torch.save_file(model.state_dict(), "
                "path); relative to the spec's folder"
            ),
        )
    },
)


# --- the whole spec ---------------------------------------------------------------------------


class Spec(Section):
    """A validated spec. `tinygrad_edu.spec.load_spec` makes one from a file, with line numbers
    in its errors; ``file`` is the file it came from (None for one built in Python)."""

    name: Annotated[str, AfterValidator(_folder_name)] = Field(
        description="names the run folder: 1 to 200 letters, digits, '.', '_' and '-'",
        json_schema_extra={"pattern": _FOLDER_NAME.pattern},
    )
    seed: int = Field(0, ge=0)
    backend: Literal["numpy", "cupy"] = "numpy"
    dtype: Literal["float32", "float64"] = "float32"
    model: ModelSection
    data: DataSpec
    loss: LossSpec
    optimizer: OptimizerSpec
    scheduler: SchedulerSpec | None = None
    train: Train
    sweep: Sweep | None = None
    init: Union[Init, None] = None  # typing.Union: the loader's key suggestions unwrap it
    extends: Union[str, list[str], None] = Field(
        None,
        description="base spec file(s) this one is merged over (paths relative to this "
        "file's folder); merged when the file is read, so a loaded spec never holds it",
    )
    _file: Path | None = PrivateAttr(None)
    _references: tuple[Any, ...] = PrivateAttr(())  # compose.Reference: kept through --set

    @property
    def file(self) -> Path | None:
        return self._file

    @field_validator("extends")
    @classmethod
    def _extends_only_in_files(cls, value: Any) -> None:
        if value is not None:
            raise ValueError(
                "extends is read only from a spec file (load_spec, the CLI), which merges its "
                "bases; for a spec given as data, merge the bases into it first"
            )
        return None

    @model_validator(mode="after")
    def _check_across_sections(self) -> Spec:
        problems = _input_problems(self) + _output_problems(self) + _schedule_problems(self)
        if problems:
            raise spec_check(problems)
        return self


Problems = list[tuple[tuple[Union[str, int], ...], str]]


def _input_problems(spec: Spec) -> Problems:
    """The data's sample shape, where the source fixes it, must be model.input."""
    expected = type(spec.data).sample_shape
    if expected is None or tuple(spec.model.input) == expected:
        return []
    message = (
        f"data source '{spec.data.source}' gives samples of shape {list(expected)}, so "
        f"model.input must be {list(expected)}; found {spec.model.input}"
    )
    return [(("model", "input"), message)]


def _output_problems(spec: Spec) -> Problems:
    """The number of outputs must fit the loss and the data's classes."""
    loss, shape, source = spec.loss.name, spec.model.output_shape, spec.data.source
    classes = type(spec.data).num_classes
    if classes == 0 and loss not in REGRESSION_LOSSES:
        return [
            (("loss",), f"data source '{source}' is a regression task; use loss mse, l1 or huber")
        ]
    if spec.model.mlp is not None:
        where: tuple[Union[str, int], ...] = ("model", "mlp", "outputs")
    else:
        where = ("model", "layers", len(spec.model.layer_list()) - 1)
    outputs = shape[0] if len(shape) == 1 else None
    bce = "binary_cross_entropy_with_logits"
    if outputs is None:
        message = f"{loss} needs one flat vector per sample (add a flatten layer)"
    elif loss == "cross_entropy" and outputs < 2:
        message = (
            "cross_entropy needs one output per class (at least 2); for two classes use "
            f"2 outputs, or {bce} with 1"
        )
    elif loss == "cross_entropy" and classes and outputs != classes:
        message = f"'{source}' has {classes} classes, so cross_entropy needs {classes} outputs"
    elif loss == bce and outputs != 1:
        message = f"{bce} needs 1 output per sample (the logit of class 1)"
    elif loss == bce and classes and classes != 2:
        message = f"{bce} needs two classes; data source '{source}' has {classes}"
    elif loss == "hinge" and outputs == 1 and classes and classes != 2:
        message = f"hinge with 1 output separates two classes; '{source}' has {classes}"
    elif loss == "hinge" and outputs > 1 and classes and outputs != classes:
        message = f"'{source}' has {classes} classes, so multi-class hinge needs {classes} outputs"
    elif loss in REGRESSION_LOSSES and classes is not None and outputs != 1:
        message = f"data source '{source}' has one target per sample, so {loss} needs 1 output"
    else:
        return []
    found = "a shape of " + str(list(shape)) if outputs is None else f"{outputs}"
    return [(where, f"{message}; the model gives {found}")]


def _schedule_problems(spec: Spec) -> Problems:
    """A one-cycle schedule must last the epochs and find a momentum to cycle."""
    schedule = spec.scheduler
    if not isinstance(schedule, OneCycleLR):
        return []
    problems: Problems = []
    steps = schedule.total_steps
    if steps is not None and steps < spec.train.epochs:
        problems.append(
            (
                ("scheduler", "total_steps"),
                f"one_cycle is stepped once per epoch, so total_steps must be at least "
                f"train.epochs ({spec.train.epochs}); found {steps}",
            )
        )
    if schedule.cycle_momentum and spec.optimizer.name == "adagrad":
        problems.append(
            (
                ("scheduler", "cycle_momentum"),
                "adagrad has no momentum to cycle; set cycle_momentum: false",
            )
        )
    return problems


def _rebuild() -> None:
    """Recompile the models that contain layers, after a layer type was (un)registered."""
    ModelSection.model_rebuild(force=True)
    Spec.model_rebuild(force=True)


registry.on_change(_rebuild)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a spec file, for editors (yaml-language-server) and other tools."""
    schema = Spec.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "tinygrad_edu spec"
    return schema
