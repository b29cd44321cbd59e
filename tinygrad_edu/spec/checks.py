"""The checks `validate` runs beyond the schema, so that a spec it accepts trains.

The schema checks a spec on its own. What it cannot see is the data (a csv ``target``
column out of range, a model with 3 outputs on a table of 2 classes, samples of another
shape than ``model.input``, generated points that overflow float32) and the machine (a
model larger than its memory). The data is loaded as training loads it (once its size
is known to fit), except full MNIST, which may need a download: only its files' presence
is checked.
`problems` finds those with the very functions `train` uses (the data loader, the loss's
`Objective.check`, `limits.memory_problem`), so validate and train agree by construction,
and returns all of them at once, each with the spec key it is about. What only the
training code knows (``init.from``'s weights, what ``train.engine: value`` can train) is
checked there: ``validate`` passes those checks in (`loader.check_spec_file`'s
``more_checks``), so that spec, a row below training, never imports it.
"""

from __future__ import annotations

from typing import Union

from ..data import load_dataset
from ..data.mnist import missing_files
from ..errors import UserError
from ..objectives import Objective, loss_options, task_of
from . import limits
from .schema import Spec

Loc = tuple[Union[str, int], ...]

# Sources validate does not load: full MNIST is 70,000 images and may need a download.
NOT_LOADED = ("mnist",)


def problems(spec: Spec) -> list[tuple[Loc, str]]:
    """(spec key, message) of every reason `train` would refuse `spec` before its first step."""
    found: list[tuple[Loc, str]] = []
    memory = limits.memory_problem(spec)
    if memory is not None:
        found.append(memory)
    if spec.data.source not in NOT_LOADED and memory is None:
        found += _data_problems(spec)
    if spec.data.source == "mnist":
        try:
            missing_files(spec.data.path, spec.data.download, spec.data.url)
        except UserError as error:
            found.append((("data", "path" if spec.data.path else "source"), str(error)))
    return found


def _data_problems(spec: Spec) -> list[tuple[Loc, str]]:
    """The data loaded as training loads it, then checked against the model and loss."""

    name, options = loss_options(spec.loss)
    config = spec.data.model_dump(exclude_none=True)
    try:
        dataset = load_dataset(config, seed=spec.seed, task=task_of(name))
    except UserError as error:
        key = "target" if "data.target" in str(error) else "path" if "path" in config else ""
        return [(("data", key) if key else ("data",), str(error))]
    found: list[tuple[Loc, str]] = []
    expected = tuple(spec.model.input)
    if tuple(dataset.input_shape) != expected:
        found.append(
            (
                ("model", "input"),
                f"the data has samples of shape {list(dataset.input_shape)}, so model.input "
                f"must be {list(dataset.input_shape)}; found {list(expected)}",
            )
        )
        return found
    shape = spec.model.output_shape
    outputs = shape[-1] if len(shape) == 1 else 1
    try:
        Objective(name, outputs, options).check(dataset.num_classes)
    except UserError as error:
        last: Loc = (
            ("model", "mlp", "outputs")
            if spec.model.mlp is not None
            else ("model", "layers", len(spec.model.layer_list()) - 1)
        )
        found.append((last, str(error)))
    return found
