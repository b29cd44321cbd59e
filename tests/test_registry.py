"""The layer registry: built-ins, shape inference, and layer types registered from Python
and then named in YAML specs."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

import tinygrad_edu as tg
from tinygrad_edu import nn, rng
from tinygrad_edu.spec import (
    SpecError,
    build_model,
    gradient_check,
    json_schema,
    parse_spec,
    registry,
)
from tinygrad_edu.spec.registry import LayerOptions, register_layer

SPEC = """\
name: custom
model:
  input: [6]
  layers:
    - linear: 5
    - {layer}
    - linear: 3
data: {{source: npz, path: unused.npz}}
loss: cross_entropy
optimizer: {{name: sgd, lr: 0.1}}
train: {{epochs: 1, batch_size: 4}}
"""


@pytest.fixture(autouse=True)
def forget_new_layer_types():
    """Unregister what a test registered, so tests do not leak layer types."""
    before = set(registry.layer_names())
    yield
    for name in set(registry.layer_names()) - before:
        registry.unregister_layer(name)


class Scale(nn.Module):
    """Multiply by a constant factor (no parameters)."""

    def __init__(self, factor: float, shift: float = 0.0):
        self.factor = factor
        self.shift = shift

    def forward(self, x):
        return x * self.factor + self.shift


def test_the_built_in_layer_types():
    assert registry.layer_names() == [
        "linear",
        "flatten",
        "relu",
        "leaky_relu",
        "tanh",
        "sigmoid",
        "gelu",
        "identity",
        "softmax",
        "dropout",
        "layer_norm",
        "batch_norm",
        "features",
    ]


def test_linear_takes_in_features_from_the_running_shape():
    linear = registry.get_layer("linear")
    module, shape = linear.build(linear.options(out_features=128), (784,))
    assert isinstance(module, nn.Linear)
    assert (module.in_features, module.out_features, shape) == (784, 128, (128,))
    flatten = registry.get_layer("flatten")
    assert flatten.output_shape(flatten.options(), (28, 28)) == (784,)


def test_a_module_class_registered_by_its_signature_is_usable_in_yaml():
    register_layer("scale")(Scale)
    options = registry.get_layer("scale").options
    assert options.model_fields["factor"].is_required()
    assert options.model_fields["shift"].default == 0.0
    short = parse_spec(SPEC.format(layer="scale: 2.5"))
    long = parse_spec(SPEC.format(layer="scale: {factor: 2.5, shift: 1}"))
    assert short.model.layers[1].options.factor == 2.5
    assert (long.model.layers[1].options.factor, long.model.layers[1].options.shift) == (2.5, 1.0)
    model = build_model(long)
    assert isinstance(model[1], Scale) and model[1].shift == 1.0
    assert model(tg.Tensor.zeros(2, 6)).shape == (2, 3)


def test_a_factory_with_an_options_model_and_a_shape_rule():
    class RepeatOptions(LayerOptions):
        times: int = Field(gt=0)

    @register_layer("repeat", options=RepeatOptions, output_shape=lambda o, s: (s[0] * o.times,))
    def repeat(times: int, in_features: int) -> nn.Module:
        return nn.Linear(in_features, in_features * times)

    spec = parse_spec(SPEC.format(layer="repeat: 2"))
    assert spec.model.output_shape == (3,)
    assert build_model(spec)[1].out_features == 10
    with pytest.raises(
        SpecError, match=r":6:15: model.layers\[1\].repeat.times: expected a positive"
    ):
        parse_spec(SPEC.format(layer="repeat: 0"))


def test_registered_names_are_suggested_for_misspellings_and_appear_in_the_schema():
    register_layer("scale")(Scale)
    with pytest.raises(SpecError, match="unknown layer 'scael'; did you mean 'scale'"):
        parse_spec(SPEC.format(layer="scael: 2"))
    assert "scale" in str(json_schema())


def test_a_layer_without_a_shape_rule_is_checked_by_a_dry_run():
    class FirstThree(nn.Module):
        def forward(self, x):
            return x[:, :3] * tg.Tensor.ones(3)

    register_layer("first_three")(FirstThree)
    state = rng.get_state()
    assert parse_spec(SPEC.format(layer="first_three")).model.output_shape == (3,)
    assert rng.get_state() == state  # validating draws no random numbers
    text = SPEC.format(layer="first_three").replace("linear: 5", "linear: 2")
    message = r":6:7: model.layers\[1\].first_three: layer 'first_three': cannot take an input"
    with pytest.raises(SpecError, match=message + r" of shape \[2\]"):
        parse_spec(text)


@pytest.mark.parametrize(
    "name, error",
    [("Scale", "lowercase"), ("2x", "lowercase"), ("linear", "already registered")],
)
def test_bad_or_taken_names_are_refused(name, error):
    with pytest.raises(ValueError, match=error):
        register_layer(name)(Scale)


def test_replace_redefines_a_name():
    register_layer("scale")(Scale)
    register_layer("scale", replace=True)(nn.Identity)
    assert registry.get_layer("scale").factory is nn.Identity


def test_a_parameter_without_a_type_hint_is_refused():
    def untyped(factor) -> nn.Module:
        return nn.Identity()

    with pytest.raises(TypeError, match="parameter 'factor' needs a type hint"):
        register_layer("untyped")(untyped)


def test_an_options_model_must_forbid_unknown_keys_and_match_the_factory():
    class Loose(BaseModel):
        factor: float = 1.0

    with pytest.raises(TypeError, match="must forbid unknown keys"):
        register_layer("loose", options=Loose)(Scale)

    class Other(LayerOptions):
        width: int = 1

    with pytest.raises(TypeError, match="width are not parameters of Scale"):
        register_layer("other", options=Other)(Scale)


def test_a_factory_must_return_a_module():
    register_layer("not_a_module")(lambda: "relu")
    with pytest.raises(SpecError, match="returned a str, not an nn.Module"):
        parse_spec(SPEC.format(layer="not_a_module"))


def test_gradient_check_passes_for_a_sound_layer_and_fails_for_a_broken_one():
    assert all(
        c.max_rel_error < 1e-6 for c in gradient_check(parse_spec(SPEC.format(layer="tanh")))
    )

    class DetachedScale(nn.Module):
        """Broken on purpose: its weight is cut from the graph, so its gradient stays 0."""

        def __init__(self, in_features: int):
            self.weight = nn.Parameter(tg.Tensor.ones(in_features) * 2.0)

        def forward(self, x):
            return x * self.weight.detach()

    register_layer("detached_scale")(DetachedScale)
    checks = gradient_check(parse_spec(SPEC.format(layer="detached_scale")))
    by_name = {c.name: c for c in checks}
    assert by_name["1.weight"].max_rel_error == pytest.approx(1.0)
    assert all(c.max_rel_error < 1e-6 for name, c in by_name.items() if name != "1.weight")
