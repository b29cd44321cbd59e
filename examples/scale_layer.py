"""A layer type of your own (the README's example): python cli.py train examples/scale.yaml
--import examples.scale_layer imports this module before the spec is read."""

from tinygrad_edu import nn
from tinygrad_edu.spec import register_layer


@register_layer("scale")  # options come from the typed signature
class Scale(nn.Module):
    def __init__(self, factor: float = 2.0):
        self.factor = factor

    def forward(self, x):
        return x * self.factor


# in YAML:  - scale: 3.0     or     - scale: {factor: 3.0}
