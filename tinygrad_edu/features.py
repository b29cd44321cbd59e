"""Input features of a 2-D point, as TensorFlow Playground offers them: x1, x2, x1², x2²,
x1·x2, sin(x1), sin(x2).

A linear model cannot separate the inner circle of ``circles`` from the ring around it
in (x1, x2); given x1² and x2² it can, since the circle is x1² + x2² = r². The
`InputFeatures` layer (``- features: [x1_squared, x2_squared]`` in a spec) computes the
chosen columns inside the model, so a spec that uses them is still a plain spec: the
features are differentiable Tensor operations, exported to ONNX and PyTorch like any
layer, and the data stay the 2-D points.
"""

from __future__ import annotations

from collections.abc import Callable

from ._tensor import Tensor, concatenate
from .nn import Module

# each feature of a point (x1, x2), computed from its two columns (each of shape (N, 1))
FEATURES: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1_squared": lambda x1, x2: x1 * x1,  # d/dx1 x1^2 = 2 x1 (Tensor.__mul__)
    "x2_squared": lambda x1, x2: x2 * x2,
    "x1_times_x2": lambda x1, x2: x1 * x2,  # d/dx1 = x2, d/dx2 = x1
    "sin_x1": lambda x1, x2: x1.sin(),  # d/dx1 sin(x1) = cos(x1) (Tensor.sin)
    "sin_x2": lambda x1, x2: x2.sin(),
}

LABELS = {
    "x1": "x1",
    "x2": "x2",
    "x1_squared": "x1²",
    "x2_squared": "x2²",
    "x1_times_x2": "x1·x2",
    "sin_x1": "sin(x1)",
    "sin_x2": "sin(x2)",
}
"""How the page and the network drawing write each feature."""

DEFAULT = ("x1", "x2")  # TensorFlow Playground's default: the point itself


class InputFeatures(Module):
    """Map a batch of 2-D points (N, 2) to the chosen feature columns (N, len(names)).

    Parameter-free; the columns come in the order of `names`. Gradients flow back to the
    points through the Tensor operations of each feature (slicing, product, sine,
    concatenation), so the layer may sit anywhere a (N, 2) tensor does.
    """

    def __init__(self, names: list[str] | tuple[str, ...] = DEFAULT):
        unknown = [name for name in names if name not in FEATURES]
        if unknown or not names:
            what = f"unknown input feature(s) {unknown}" if unknown else "no input feature named"
            raise ValueError(f"{what}; choose from {', '.join(FEATURES)}")
        self.names = list(names)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 2 or x.shape[1] != 2:
            raise ValueError(
                f"features takes a batch of 2-D points, shape (N, 2); got {tuple(x.shape)}"
            )
        x1, x2 = x[:, 0:1], x[:, 1:2]
        # d concatenate/d part: each part gets its own columns of the gradient
        return concatenate([FEATURES[name](x1, x2) for name in self.names], axis=1)

    def extra_repr(self) -> str:
        return f"names={self.names!r}"
