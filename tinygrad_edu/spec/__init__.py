"""Specs: YAML files that declare a network and its training, and what they build.

This module is the one to import: `load_spec` reads and validates a file (errors with
``file:line:column``, see `loader`), `build_model` turns the spec's ``model``
section into an `nn.Module`, `apply_overrides` changes a spec by dotted paths, and
`gradient_check` verifies a spec's model's gradients against finite differences. The
format itself is defined in `schema`; the layer types a spec may name in `registry`, and
those from outside the package (``--import``, installed packages) in `plugins`: every
function here that reads a spec loads the installed packages' layer types first. The
example specs shipped with the package are found by name (`load_spec("mlp")`) in `shipped`.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np

from .. import nn, rng
from .._tensor import Tensor, get_default_dtype, set_default_dtype
from ..gradcheck import ParameterCheck, check_parameters
from . import loader
from .loader import Problem, SpecError, spec_to_dict
from .model_section import LayerSpec
from .plugins import ENTRY_POINT_GROUP, import_modules, load_entry_points
from .registry import LayerOptions, register_layer
from .schema import Spec, json_schema
from .shipped import copy_spec, find_spec, spec_names

__all__ = [
    "ENTRY_POINT_GROUP",
    "LayerOptions",
    "LayerSpec",
    "Problem",
    "Spec",
    "SpecError",
    "apply_overrides",
    "check_spec_file",
    "build_model",
    "copy_spec",
    "example_batch",
    "find_spec",
    "gradient_check",
    "import_modules",
    "json_schema",
    "load_spec",
    "parse_spec",
    "register_layer",
    "spec_names",
    "spec_to_dict",
    "validate_spec",
]


# --- reading specs: the layer types of installed packages are registered first -------------

F = TypeVar("F", bound=Callable[..., Any])


def _with_installed_layers(read: F) -> F:
    """`read` (a loader function), after the layer types of installed packages are loaded."""

    @functools.wraps(read)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        load_entry_points()
        return read(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@_with_installed_layers
def load_spec(path: str | os.PathLike[str]) -> Spec:
    """Read and validate a spec file, or a shipped example by name (``"mlp"``, see
    `shipped.find_spec`); relative paths in the spec are relative to its folder."""
    return loader.load_spec(find_spec(path))


@_with_installed_layers
def check_spec_file(path: str | os.PathLike[str], more_checks: Sequence[Any] = ()) -> Spec:
    """What ``validate`` runs: `load_spec` plus every check that needs the data files and
    the machine's memory (`loader.check_spec_file`, with `more_checks`), for a file or a
    shipped example."""
    return loader.check_spec_file(find_spec(path), more_checks)


parse_spec = _with_installed_layers(loader.parse_spec)
validate_spec = _with_installed_layers(loader.validate_spec)
apply_overrides = _with_installed_layers(loader.apply_overrides)


@contextmanager
def default_dtype(dtype: str) -> Iterator[None]:
    """Create new floating tensors (and so parameters) in `dtype` inside the block."""
    previous = get_default_dtype()
    set_default_dtype(dtype)
    try:
        yield
    finally:
        set_default_dtype(previous)


def build_model(spec: Spec, dtype: str | None = None) -> nn.Module:
    """The spec's network with fresh parameters, in the spec's dtype unless `dtype` is given.

    ``layers:`` gives an `nn.Sequential` of the registered layer types, each built for
    the shape the previous one outputs; ``mlp:`` gives the lecture's `nn.MLP`, the same
    layers under one name. Weights are drawn from `tinygrad_edu.rng` on the active
    backend: call ``manual_seed(spec.seed)`` first for reproducible weights.
    """
    with default_dtype(dtype or spec.dtype):
        mlp = spec.model.mlp
        if mlp is not None:
            return nn.MLP(math.prod(spec.model.input), mlp.hidden, mlp.outputs, mlp.activation)
        shape = tuple(spec.model.input)
        modules = []
        for layer in spec.model.layers or []:
            module, shape = layer.layer_type.build(layer.options, shape)
            modules.append(module)
        return nn.Sequential(*modules)


def example_batch(
    spec: Spec, batch_size: int, generator: np.random.Generator
) -> tuple[Tensor, Tensor, Any]:
    """Random inputs of the spec's sample shape and random valid targets for its loss.

    Returns (inputs, targets, objective), with the targets built by the loss's
    `objectives.Objective` from random labels: class indices for the classification
    losses (as many classes as outputs, two for one output), normal values for mse.
    """
    from ..training.objectives import Objective, loss_options

    name, options = loss_options(spec.loss)
    outputs = spec.model.output_shape[-1]
    objective = Objective(name, outputs, options)
    x = Tensor(generator.standard_normal((batch_size, *spec.model.input)))
    if objective.task == "classification":
        labels = generator.integers(0, max(outputs, 2), size=batch_size)
    else:
        labels = generator.standard_normal((batch_size, *spec.model.output_shape))
    return x, objective.targets(labels), objective


def gradient_check(
    spec: Spec, batch_size: int = 4, max_elements: int | None = None, seed: int = 0
) -> list[ParameterCheck]:
    """Check every parameter's gradient of the spec's loss against central differences.

    The model is built in float64 (seeded with the spec's seed) and run in evaluation
    mode, so dropout cannot make the loss random, on a random batch (`example_batch`).
    ``max_elements`` limits the elements checked per parameter (chosen at random); a
    full check of a large layer costs two forward passes per weight. The global
    random generator and default dtype are restored afterwards.
    """
    state = rng.get_state()
    try:
        with default_dtype("float64"):
            rng.manual_seed(spec.seed)
            model = build_model(spec, dtype="float64").eval()
            generator = np.random.default_rng(seed)
            x, targets, objective = example_batch(spec, batch_size, generator)
            return check_parameters(
                lambda: objective(model(x), targets),
                list(model.named_parameters()),
                max_elements=max_elements,
                seed=seed,
            )
    finally:
        rng.set_state(state)
