"""The hidden layers of a network, and what they compute on a batch of inputs.

Diagnostics count dead ReLU units from these (`diagnostics`), and the pictures of the
network draw them (`viz.network`, `viz.plots`): computed here once, in the layer that
owns the model and the data, drawn above.

Every spec builds an `nn.Sequential`: a hidden layer is a `Linear` with the modules after
it up to the next `Linear` (its activation, dropout, ...); the last `Linear` is the output
layer, not a hidden one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor
from ..autograd import no_grad
from ..nn import Linear, Sequential


def hidden_layers(model: Any) -> list[tuple[str, list[Any]]]:
    """The hidden layers of a Sequential model, each as (its name, the modules that make it).

    A hidden layer is a `Linear` with the modules after it up to the next `Linear` (its
    activation, dropout, ...); the last `Linear` is the output layer, not a hidden one.
    """
    if not isinstance(model, Sequential):
        return []
    groups: list[tuple[str, list[Any]]] = []
    for name, module in model.named_children():
        if isinstance(module, Linear):
            groups.append((name, [module]))
        elif groups:
            groups[-1][1].append(module)
    return groups[:-1]


def hidden_activations(model: Any, X: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Each hidden layer's outputs for the normalized inputs `X`: (name, (n, units))."""
    ends = {id(modules[-1]): name for name, modules in hidden_layers(model)}
    out = []
    with no_grad():
        h = Tensor(X)
        for _, module in model.named_children() if ends else ():
            h = module(h)
            if id(module) in ends:
                out.append((ends[id(module)], h.numpy().reshape(len(X), -1)))
    return out


def dead_units(activations: np.ndarray) -> np.ndarray:
    """Which units are zero on every sample (a dead ReLU), as a boolean per unit."""
    return np.all(activations == 0, axis=0)
