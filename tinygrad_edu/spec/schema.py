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

The sections live in their own modules, in reading order: `fields` (the number types
and the `Section` base), `model_section`, `data_section`, `kinds` (loss, optimizer,
scheduler); this module holds ``train``, ``sweep``, ``init`` and the whole `Spec` with
its checks across sections. Reading YAML with line numbers is the job of
`yaml_positions`, turning validation errors into messages that of `messages`, and
loading a file that of `loader`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    Field,
    PrivateAttr,
    WithJsonSchema,
    create_model,
    field_validator,
    model_validator,
)

from . import registry
from .data_section import DataSpec, ResolvedPath
from .fields import NonNegativeFloat, PositiveInt, Problems, Section, spec_check
from .kinds import REGRESSION_LOSSES, LossSpec, OneCycleLR, OptimizerSpec, SchedulerSpec
from .model_section import ModelSection
from .sweep_values import check_run_count, expand_values

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
    (`tinygrad_edu.runs.sweep`). ``path`` + ``values`` is a one-field grid."""

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
