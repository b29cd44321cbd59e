"""micrograd's ``nn.py`` on our scalar `Value`: Module, Neuron, Layer and MLP.

The classes, their arguments and their behaviour are micrograd's, so its demo runs
unchanged after ``from tinygrad_edu.value_nn import MLP``. One difference: the weights
are drawn from `tinygrad_edu.rng` (``uniform(-1, 1)``, as micrograd does with Python's
``random``), so ``tg.manual_seed(s)`` makes a network reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import rng
from .value import Value


class Module:
    """Something with parameters (Values) whose gradients can be reset."""

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0

    def parameters(self) -> list[Value]:
        return []


class Neuron(Module):
    """relu(w . x + b), or w . x + b when ``nonlin=False``."""

    def __init__(self, nin: int, nonlin: bool = True):
        # rng.generator is looked up on each call: manual_seed replaces it
        self.w = [Value(w) for w in rng.generator.uniform(-1.0, 1.0, nin).tolist()]
        self.b = Value(0.0)
        self.nonlin = nonlin

    def __call__(self, x: Sequence[Value | float]) -> Value:
        # micrograd builds sum((wi * xi for ...), self.b): 2n nodes with the same value
        # and gradients as this one fused node
        act = Value.dot(self.w, x, self.b)
        return act.relu() if self.nonlin else act

    def parameters(self) -> list[Value]:
        return self.w + [self.b]

    def __repr__(self) -> str:
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):
    """`nout` neurons reading the same `nin` inputs; ``kwargs`` go to each Neuron."""

    def __init__(self, nin: int, nout: int, **kwargs: Any):
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """Layers of sizes ``[nin] + nouts``, ReLU on all but the last (as micrograd)."""

    def __init__(self, nin: int, nouts: Sequence[int]):
        sizes = [nin] + list(nouts)
        self.layers = [
            Layer(sizes[i], sizes[i + 1], nonlin=i != len(nouts) - 1) for i in range(len(nouts))
        ]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"
