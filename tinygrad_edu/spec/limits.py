"""How much memory a spec needs, estimated before anything is allocated.

A spec can ask for more than any machine has (``linear: 32000000`` on 784 inputs is a
100 GB weight matrix; ``n_samples: 1e9``; ``--batch-size 100000000``), and NumPy would
then fail with a MemoryError (or the system would start swapping) after minutes of work.
`estimate` adds up, from the spec and the data files' headers alone:

- parameters: every weight, its gradient and the optimizer's state (SGD momentum: one
  more copy; Adam and AdamW: two);
- activations: each layer's output for one batch, with its gradient when training;
- data: the samples as loaded and split (two float64 copies) and normalized (float32):
  20 bytes a number.

It counts only what certainly will be allocated (the layers that own parameters are the
built-in ones; a layer registered from Python counts its output but not its weights), so
it is a lower bound: a spec it refuses cannot run, and a spec it accepts may still be
large. `check_memory` compares it with the machine's available memory (`reading.available_memory`)
and raises a `UserError` with the numbers; `validate`, `train`, `summary` and `graph` all
call it.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from ..data.files import npz_headers
from ..errors import UserError
from ..io import reading
from ..io.reading import format_bytes, open_regular
from .schema import Spec

Loc = tuple[Union[str, int], ...]

# Samples each data source produces, where the spec alone fixes it (others: n_samples).
_FIXED_SAMPLES = {"mnist-5k": 5_000, "mnist": 70_000}
_EVALUATION_BATCH = 1000  # evaluate_arrays and predict_arrays work in batches of this size


@dataclass(frozen=True)
class Estimate:
    """Bytes a spec needs at least, by kind, and where in the spec each comes from."""

    parameters: int  # how many numbers the model learns
    parameter_bytes: int
    activation_bytes: int
    training: bool
    batch_bound: bool  # the training batch (not the evaluation batch) sets the activations
    data_bytes: int
    batch_size: int

    @property
    def total(self) -> int:
        return self.parameter_bytes + self.activation_bytes + self.data_bytes

    def largest(self) -> Loc:
        """The spec key to change first: the biggest of the three parts (activations are
        the batch's fault when the training batch, not the evaluation one, sets their size)."""
        parts = {
            ("model",): self.parameter_bytes,
            ("train", "batch_size"): self.activation_bytes,
            ("data",): self.data_bytes,
        }
        key = max(parts, key=lambda loc: parts[loc])
        return ("model",) if key == ("train", "batch_size") and not self.batch_bound else key

    def describe(self) -> str:
        kept = "with gradients and optimizer state" if self.training else "weights"
        return (
            f"{format_bytes(self.total)}: {_count(self.parameters)} parameters "
            f"({format_bytes(self.parameter_bytes)} {kept}), "
            f"activations of a batch of {_count(self.batch_size)} "
            f"({format_bytes(self.activation_bytes)}), data ({format_bytes(self.data_bytes)})"
        )


def estimate(spec: Spec, batch_size: int | None = None, training: bool = True) -> Estimate:
    """The memory `spec` needs at least: to train it (`training`), or to run the model once
    on a batch of `batch_size` without its data (summary, graph)."""
    itemsize = 8 if spec.dtype == "float64" else 4
    parameters, per_sample = _model_size(spec)
    if not training:
        batch = batch_size or 1
        return Estimate(
            parameters=parameters,
            parameter_bytes=parameters * itemsize,
            activation_bytes=batch * per_sample * itemsize,
            training=False,
            batch_bound=True,
            data_bytes=batch * _input_size(spec) * itemsize,
            batch_size=batch,
        )
    samples = _samples(spec)
    batch = batch_size or spec.train.batch_size
    if samples is not None:  # no batch is larger than the data
        batch = min(batch, samples)
    evaluation = min(_EVALUATION_BATCH, samples or _EVALUATION_BATCH)  # no gradients kept
    return Estimate(
        parameters=parameters,
        parameter_bytes=parameters * itemsize * (2 + _optimizer_slots(spec)),
        activation_bytes=max(2 * batch, evaluation) * per_sample * itemsize,
        training=True,
        batch_bound=2 * batch >= evaluation,
        data_bytes=_data_bytes(spec, samples),
        batch_size=batch,
    )


def memory_problem(
    spec: Spec, batch_size: int | None = None, training: bool = True
) -> tuple[Loc, str] | None:
    """(the spec key to change, the message) when the estimate exceeds available memory."""
    needed = estimate(spec, batch_size, training)
    available = reading.available_memory()
    if needed.total <= available:
        return None
    what = (
        "training this spec"
        if training
        else f"running the model on a batch of {_count(needed.batch_size)}"
    )
    loc = needed.largest() if training or needed.activation_bytes < needed.parameter_bytes else ()
    fix = (
        "make the model smaller (fewer or narrower layers), the data smaller (n_samples) or "
        "the batch smaller (train.batch_size)"
        if training
        else "use a smaller --batch-size or a smaller model"
    )
    message = (
        f"{what} needs at least {needed.describe()}, but this machine has "
        f"{format_bytes(available)} of memory available; {fix}"
    )
    return loc, message


def check_memory(spec: Spec, batch_size: int | None = None, training: bool = True) -> None:
    """A UserError (naming the spec file) when `spec` cannot fit in memory; see `estimate`."""
    problem = memory_problem(spec, batch_size, training)
    if problem is not None:
        where = f"{spec.file}: " if spec.file is not None else ""
        key = ".".join(map(str, problem[0]))
        raise UserError(f"{where}{key + ': ' if key else ''}{problem[1]}")


def _count(number: int) -> str:
    """12,345,678 as such; a number too long to read (from a hostile spec) as 1.2e+100."""
    return f"{number:,}" if number < 10**15 else f"{float(min(number, 10**300)):.3g}"


def _model_size(spec: Spec) -> tuple[int, int]:
    """(parameters of the built-in layers, numbers one sample's activations take)."""
    shape = tuple(spec.model.input)
    parameters, per_sample = 0, math.prod(shape)
    for layer in spec.model.layer_list():
        out = layer.layer_type.output_shape(layer.options, shape) if _has_rule(layer) else shape
        if layer.type == "linear":
            bias = layer.options.out_features if layer.options.bias else 0
            parameters += shape[-1] * layer.options.out_features + bias
        per_sample += math.prod(out)
        shape = out
    return parameters, per_sample


def _has_rule(layer: object) -> bool:
    """Whether the output shape is computed (a layer without a rule would be built to find it,
    and the schema has already done that once)."""
    return layer.layer_type.shape_rule is not None  # type: ignore[attr-defined]


def _optimizer_slots(spec: Spec) -> int:
    name = spec.optimizer.name
    if name in ("adam", "adamw"):
        return 2
    return 1 if getattr(spec.optimizer, "momentum", 0) > 0 else 0


def _input_size(spec: Spec) -> int:
    return math.prod(spec.model.input)


def _samples(spec: Spec) -> int | None:
    """Samples the data source gives, if the spec or the file's header tells."""
    data = spec.data
    if data.source in _FIXED_SAMPLES:
        return _FIXED_SAMPLES[data.source]
    if hasattr(data, "n_samples"):
        return data.n_samples
    if data.source == "npz":
        shapes = _npz_shapes(Path(data.path))
        if shapes and "X" in shapes and shapes["X"]:
            return shapes["X"][0]
    return None


def _data_bytes(spec: Spec, samples: int | None) -> int:
    """The samples loaded and split as float64 and kept normalized as float32."""
    if samples is not None:
        return samples * _input_size(spec) * 20
    if spec.data.source == "csv":  # the text itself, at least, is read into memory
        try:
            return Path(spec.data.path).stat().st_size
        except OSError:
            return 0
    return 0


def _npz_shapes(path: Path) -> dict[str, tuple[int, ...]] | None:
    """The arrays' shapes from an npz file's headers; None if it cannot be read (the
    loader reports why)."""

    try:
        with open_regular(path, None, "data file", "") as handle:
            return {name: shape for name, (shape, _) in npz_headers(path, handle).items()}
    except (UserError, OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None
