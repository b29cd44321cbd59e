"""The ``model`` section: the shape of one sample and the layers (``layers:``, each a
layer type of the `registry`) or the lecture's ``mlp:`` shorthand; validating it follows
the sample's shape through the layers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, PrivateAttr, model_validator
from pydantic_core import PydanticCustomError, core_schema

from .. import nn
from . import registry
from .fields import PositiveInt, Section, spec_check


@dataclass(frozen=True)
class LayerSpec:
    """One entry of ``model.layers``: a registered layer type and its validated options.

    In YAML a layer is a bare name (``relu``), a name with its first option (``linear:
    128``), or a name with a mapping of options (``linear: {out_features: 128}``).
    """

    type: str
    options: BaseModel

    @property
    def layer_type(self) -> registry.LayerType:
        return registry.get_layer(self.type)

    def to_yaml(self) -> str | dict[str, Any]:
        """The long form with every option written out; just the name if it has none."""
        options = self.options.model_dump(mode="json")
        return {self.type: options} if options else self.type

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        """A union tagged by the layer's name over the registry as it is now (rebuilt on change)."""
        choices: dict[Any, core_schema.CoreSchema] = {}
        for layer_type in registry.layer_types():
            options = core_schema.no_info_after_validator_function(
                partial(LayerSpec, layer_type.name), handler.generate_schema(layer_type.options)
            )
            choices[layer_type.name] = core_schema.no_info_before_validator_function(
                partial(_layer_options, layer_type), options
            )
        return core_schema.tagged_union_schema(
            choices,
            discriminator=_layer_name,
            serialization=core_schema.plain_serializer_function_ser_schema(LayerSpec.to_yaml),
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict[str, Any]:
        """The YAML forms: a bare name, or a one-key mapping to the first option or all of them."""
        bare = [t.name for t in registry.layer_types() if not t.required_options]
        alternatives: list[dict[str, Any]] = [
            {"enum": bare, "description": "a layer without options (or with default options)"}
        ]
        for layer_type in registry.layer_types():
            ref = handler(layer_type.options.__pydantic_core_schema__)
            forms = [ref]
            short = layer_type.short_option
            if short is not None:
                properties = handler.resolve_ref_schema(ref).get("properties", {})
                forms.insert(0, properties.get(short, {}))
            if not layer_type.required_options:
                forms.append({"type": "null"})
            alternatives.append(
                {
                    "type": "object",
                    "properties": {layer_type.name: {"anyOf": forms}},
                    "required": [layer_type.name],
                    "additionalProperties": False,
                }
            )
        return {"anyOf": alternatives}


def _layer_name(value: Any) -> str | None:
    """The tag of a layer entry: the bare name or the mapping's one key."""
    if isinstance(value, LayerSpec):
        return value.type
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        key = next(iter(value))
        return key if isinstance(key, str) else None
    return None


def _layer_options(layer_type: registry.LayerType, value: Any) -> Any:
    """The options mapping of a layer entry in any of its three forms."""
    if isinstance(value, LayerSpec):
        return value.options
    if isinstance(value, str):
        return {}
    options = value[layer_type.name]
    if options is None or isinstance(options, dict):
        return options or {}
    if layer_type.short_option is None:
        raise PydanticCustomError(
            "layer_without_options",
            "layer '{layer}' takes no options, found {found}; write just '- {layer}'",
            {"layer": layer_type.name, "found": options},
        )
    return {layer_type.short_option: options}


class MLPShorthand(Section):
    """The lecture's ``MLP(input, hidden, outputs)``: flatten, then Linear + activation per
    hidden size, then the output Linear."""

    hidden: list[PositiveInt] = Field(description="sizes of the hidden layers, e.g. [128]")
    outputs: PositiveInt = Field(description="size of the output layer")
    activation: Literal[tuple(nn.ACTIVATIONS)] = Field(  # type: ignore[valid-type]
        "relu", description="activation after each hidden layer"
    )

    def layers(self) -> list[LayerSpec]:
        """The explicit layer list this shorthand stands for."""
        activation = "identity" if self.activation == "none" else self.activation
        act = registry.get_layer(activation).options()
        linear = registry.LinearOptions
        layers = [LayerSpec("flatten", registry.NoOptions())]
        for width in self.hidden:
            layers += [LayerSpec("linear", linear(out_features=width)), LayerSpec(activation, act)]
        return layers + [LayerSpec("linear", linear(out_features=self.outputs))]


class ModelSection(Section):
    """The network: the shape of one sample and either a list of layers or the mlp shorthand."""

    input: list[PositiveInt] = Field(
        min_length=1,
        max_length=32,  # arrays have at most 64 dimensions (NumPy), batch and layers add some
        description="shape of one sample, without the batch dimension: [784]",
    )
    layers: Annotated[list[LayerSpec], Field(min_length=1)] | None = Field(
        None, description="the layers in order: [flatten, {linear: 128}, relu, {linear: 10}]"
    )
    mlp: MLPShorthand | None = None
    _output_shape: tuple[int, ...] = PrivateAttr(())

    @property
    def output_shape(self) -> tuple[int, ...]:
        """The shape of one output sample, found by following the input through the layers."""
        return self._output_shape

    def layer_list(self) -> list[LayerSpec]:
        """The layers, with the mlp shorthand written out."""
        return self.mlp.layers() if self.mlp is not None else list(self.layers or [])

    @model_validator(mode="after")
    def _check_layers(self) -> ModelSection:
        if self.layers is not None and self.mlp is not None:
            raise spec_check([(("mlp",), "give either 'layers' or 'mlp', not both")])
        if self.layers is None and self.mlp is None:
            raise spec_check(
                [((), "missing the network: add 'layers' (a list) or 'mlp' (the shorthand)")]
            )
        shape = tuple(self.input)
        for index, layer in enumerate(self.layer_list()):
            try:
                shape = layer.layer_type.output_shape(layer.options, shape)
            except ValueError as error:
                where = ("mlp",) if self.mlp is not None else ("layers", index, layer.type)
                raise spec_check([(where, f"layer '{layer.type}': {error}")]) from None
        self._output_shape = shape
        return self
