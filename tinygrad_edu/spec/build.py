"""What a spec builds: its model (`build_model`, in the spec's dtype), a random batch for its
loss (`example_batch`), and the check of the model's gradients against finite differences
(`gradient_check`, in float64).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from .. import nn, rng
from .._tensor import Tensor, get_default_dtype, set_default_dtype
from ..gradcheck import ParameterCheck, check_parameters
from ..objectives import Objective, loss_options
from .schema import Spec


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
