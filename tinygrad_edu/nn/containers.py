"""Containers (`Sequential`, `ModuleList`) and the lecture's `MLP`, a `Sequential` of
`Linear` layers and activations."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from .layers import GELU, Flatten, Identity, LeakyReLU, Linear, ReLU, Sigmoid, Tanh
from .module import Module, _indent, _render


class Sequential(Module):
    """Modules applied one after another; children are named '0', '1', ...

    A dict argument gives the children its keys as names (PyTorch's OrderedDict form).
    """

    def __init__(self, *modules: Module | dict[str, Module]):
        if len(modules) == 1 and isinstance(modules[0], dict):
            named = list(modules[0].items())
        else:
            named = [(str(i), m) for i, m in enumerate(modules)]
        for name, module in named:
            if not isinstance(module, Module):
                raise TypeError(
                    f"Sequential: item {name} is a {type(module).__name__}, not a Module"
                )
            setattr(self, name, module)

    def forward(self, x: Any) -> Any:
        for module in self.children():
            x = module(x)
        return x

    def append(self, module: Module) -> Sequential:
        setattr(self, str(len(self)), module)
        return self

    def __getitem__(self, index: int | slice) -> Any:
        named = list(self.named_children())
        if isinstance(index, slice):
            return Sequential(dict(named[index]))
        return named[index][1]

    def __len__(self) -> int:
        return sum(1 for _ in self.named_children())

    def __iter__(self) -> Iterator[Module]:
        return self.children()


class ModuleList(Module):
    """A list of modules whose parameters the parent sees; the caller decides the order."""

    def __init__(self, modules: Iterable[Module] = ()):
        for module in modules:
            self.append(module)

    def append(self, module: Module) -> ModuleList:
        setattr(self, str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for module in modules:
            self.append(module)
        return self

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self.children())
        if isinstance(index, slice):
            return ModuleList(items[index])
        return items[index]

    def __len__(self) -> int:
        return sum(1 for _ in self.named_children())

    def __iter__(self) -> Iterator[Module]:
        return self.children()

    def __repr__(self) -> str:
        """PyTorch's form: runs of identical modules print once, as '(0-2): 3 x Linear(...)'."""
        blocks: list[list[Any]] = []  # [first index, last index, repr]
        for i, module in enumerate(self):
            text = repr(module)
            if blocks and blocks[-1][2] == text:
                blocks[-1][1] = i
            else:
                blocks.append([i, i, text])
        lines = [
            _indent(f"({a}): {text}" if a == b else f"({a}-{b}): {b - a + 1} x {text}", 2)
            for a, b, text in blocks
        ]
        return _render(type(self).__name__, [], lines)


# --- the lecture's MLP --------------------------------------------------------------------

ACTIVATIONS: dict[str, type[Module]] = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "tanh": Tanh,
    "sigmoid": Sigmoid,
    "gelu": GELU,
    "identity": Identity,
    "none": Identity,
}


def get_activation(name: str | None) -> Module:
    """A new activation module by name ('relu', 'tanh', ...; None or 'none': Identity)."""
    key = "none" if name is None else name.lower()
    if key not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[key]()


class MLP(Sequential):
    """Flatten, then each hidden Linear layer followed by the activation, then the output Linear.

    A `Sequential`, so the layers are children '0', '1', ... and the repr and summary show
    the flat list the lecture shows: ``MLP(784, [128], 10)`` is Flatten, Linear(784, 128),
    ReLU, Linear(128, 10), with 784*128 + 128 + 128*10 + 10 = 101,770 parameters.
    """

    def __init__(
        self,
        input_size: int,
        hidden_layer_sizes: Iterable[int],
        num_outputs: int,
        activation: str | None = "relu",
        dtype: Any = None,
    ):
        layers: list[Module] = [Flatten()]
        width = input_size
        for hidden in hidden_layer_sizes:
            layers += [Linear(width, hidden, dtype=dtype), get_activation(activation)]
            width = hidden
        layers.append(Linear(width, num_outputs, dtype=dtype))
        super().__init__(*layers)
