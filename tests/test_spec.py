"""Spec files: the examples in specs/, the mlp shorthand, round trips, overrides, relative
paths, the committed JSON Schema, and the data section mirroring tinygrad_edu.data."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

import tinygrad_edu as tg
from tinygrad_edu import nn, rng
from tinygrad_edu.data import REQUIRED, SOURCES, load_dataset
from tinygrad_edu.errors import UserError
from tinygrad_edu.spec import (
    SpecError,
    apply_overrides,
    build_model,
    json_schema,
    load_spec,
    parse_spec,
    spec_to_dict,
    validate_spec,
)
from tinygrad_edu.spec import schema as spec_schema

ROOT = Path(__file__).resolve().parents[1]
SPECS = sorted((ROOT / "specs").glob("*.yaml"))

MLP_SPEC = """\
name: shorthand
model:
  input: [784]
  mlp: {hidden: [128, 64], outputs: 10, activation: tanh}
data: {source: mnist-5k}
loss: cross_entropy
optimizer: {name: adam}
train: {epochs: 1, batch_size: 32}
"""


def test_there_are_example_specs():
    assert ROOT / "specs" / "mlp.yaml" in SPECS


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_every_example_spec_validates_and_builds(path):
    assert path.read_text().startswith("# yaml-language-server: $schema=./schema.json\n")
    spec = load_spec(path)
    model = build_model(spec)
    with tg.no_grad():
        out = model(tg.Tensor.zeros(2, *spec.model.input))
    assert out.shape == (2, *spec.model.output_shape)


def test_the_lecture_spec():
    spec = load_spec(ROOT / "specs" / "mlp.yaml")
    assert spec.file == ROOT / "specs" / "mlp.yaml"
    assert [layer.type for layer in spec.model.layers] == ["flatten", "linear", "relu", "linear"]
    assert build_model(spec).num_parameters() == 101_770  # MLP(784, [128], 10)
    assert spec.data.source == "mnist-5k" and spec.loss.name == "cross_entropy"
    assert (spec.optimizer.name, spec.optimizer.lr, spec.optimizer.momentum) == ("sgd", 0.1, 0.9)
    assert (spec.train.epochs, spec.train.batch_size) == (10, 32)


def test_the_mlp_shorthand_is_the_explicit_layer_list():
    short = parse_spec(MLP_SPEC)
    explicit = parse_spec(
        MLP_SPEC.replace(
            "mlp: {hidden: [128, 64], outputs: 10, activation: tanh}",
            "layers: [flatten, linear: 128, tanh, linear: 64, tanh, linear: 10]",
        )
    )
    assert short.model.layer_list() == explicit.model.layers
    rng.manual_seed(0)
    a = build_model(short)
    rng.manual_seed(0)
    b = build_model(explicit)
    assert isinstance(a, nn.MLP) and type(b) is nn.Sequential
    assert [(n, p.shape) for n, p in a.named_parameters()] == [
        (n, p.shape) for n, p in b.named_parameters()
    ]
    x = tg.Tensor(np.random.default_rng(1).standard_normal((3, 784)))
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())


def test_build_model_uses_the_spec_dtype_and_restores_the_default():
    spec = parse_spec(MLP_SPEC + "dtype: float64\n")
    assert {p.numpy().dtype.name for p in build_model(spec).parameters()} == {"float64"}
    assert tg.get_default_dtype() == "float32"


def test_spec_to_dict_round_trips_through_yaml():
    spec = load_spec(ROOT / "specs" / "mlp.yaml")
    data = spec_to_dict(spec)
    assert data["model"]["layers"][1] == {"linear": {"out_features": 128, "bias": True}}
    assert data["optimizer"]["weight_decay"] == 0.0  # every default is written out
    again = validate_spec(yaml.safe_load(yaml.safe_dump(data)))
    assert spec_to_dict(again) == data


def test_exponent_numbers_without_a_dot_are_numbers():
    spec = parse_spec(MLP_SPEC.replace("{name: adam}", "{name: adam, lr: 1e-3, eps: 1E-8}"))
    assert (spec.optimizer.lr, spec.optimizer.eps) == (0.001, 1e-8)


def test_overrides_by_dotted_path_are_parsed_as_yaml_and_validated():
    spec = load_spec(ROOT / "specs" / "mlp.yaml")
    changed = apply_overrides(
        spec,
        {
            "train.epochs": "3",
            "optimizer.lr": "1e-2",
            "optimizer.nesterov": "true",
            "model.layers[1].linear.out_features": 64,
            "data.validation_fraction": 0.1,
        },
    )
    assert (changed.train.epochs, changed.optimizer.lr, changed.optimizer.nesterov) == (
        3,
        0.01,
        True,
    )
    assert changed.model.layers[1].options.out_features == 64
    assert changed.data.validation_fraction == 0.1
    assert changed.file == spec.file
    assert spec.train.epochs == 10  # the original is unchanged
    shorthand = apply_overrides(spec_to_dict(parse_spec(MLP_SPEC)), {"model.mlp.hidden": "[64]"})
    assert shorthand.model.mlp.hidden == [64]


@pytest.mark.parametrize(
    "key, value, message",
    [
        (
            "optimizer.momentun",
            "0.5",
            "optimizer.momentun: unknown key 'momentun'; did you mean 'momentum'?",
        ),
        ("trian.epochs", "3", "trian: unknown key 'trian'; did you mean 'train'?"),
        (
            "model.mlp",
            "{hidden: [64], outputs: 10}",
            "model.mlp: give either 'layers' or 'mlp', not both",
        ),
        ("optimizer.lr", "fast", "optimizer.lr: expected a number, found 'fast'"),
        (
            "train.epochs.x",
            "1",
            "train.epochs.x: cannot set it: train.epochs is 10, it has no key 'x'",
        ),
        (
            "model.layers[9]",
            "relu",
            "model.layers[9]: cannot set it: model.layers is a list of 4 items",
        ),
        ("train..epochs", "1", "not a key path"),
    ],
)
def test_bad_overrides_are_reported_with_the_key(key, value, message):
    spec = load_spec(ROOT / "specs" / "mlp.yaml")
    with pytest.raises(SpecError) as caught:
        apply_overrides(spec, {key: value})
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"{spec.file} with overrides: ")


def test_paths_are_relative_to_the_spec_file(tmp_path):
    folder = tmp_path / "specs"
    folder.mkdir()
    text = MLP_SPEC.replace(
        "{source: mnist-5k}", "{source: csv, path: ../data/points.csv, target: -1}"
    )
    (folder / "csv.yaml").write_text(text.replace("[784]", "[3]"))
    spec = load_spec(folder / "csv.yaml")
    assert Path(spec.data.path) == (folder / "../data/points.csv").resolve()
    absolute = text.replace("../data/points.csv", "/srv/points.csv").replace("[784]", "[3]")
    assert parse_spec(absolute, file="x.yaml", base_dir=folder).data.path == "/srv/points.csv"


def test_the_committed_json_schema_is_up_to_date():
    committed = json.loads((ROOT / "specs" / "schema.json").read_text())
    assert committed == json_schema(), "regenerate it: python cli.py schema --out specs/schema.json"


def test_the_json_schema_describes_the_yaml_forms():
    schema = json_schema()
    layer_forms = schema["$defs"]["ModelSection"]["properties"]["layers"]["anyOf"][0]["items"]
    bare = layer_forms["anyOf"][0]["enum"]
    assert "relu" in bare and "linear" not in bare  # linear needs out_features
    linear = next(f for f in layer_forms["anyOf"][1:] if "linear" in f["properties"])
    assert linear["properties"]["linear"]["anyOf"][0]["type"] == "integer"  # linear: 128
    assert {"const": "cross_entropy", "type": "string"} in schema["$defs"]["CrossEntropy"]["anyOf"]


def _source_models() -> dict[str, type]:
    union = spec_schema.Spec.model_fields["data"].annotation
    return {model.model_fields["source"].annotation.__args__[0]: model for model in union.__args__}


def test_the_data_section_mirrors_the_sources_of_tinygrad_edu_data():
    models = _source_models()
    assert set(models) == set(SOURCES)
    for source, options in SOURCES.items():
        fields = models[source].model_fields
        assert set(fields) - {"source"} == set(options), source
        for key, default in options.items():
            if default is not REQUIRED:
                assert fields[key].get_default(call_default_factory=True) == (
                    tuple(default) if isinstance(default, list) else default
                ), (source, key)


@pytest.mark.parametrize(
    "source", ["mnist-5k", "moons", "circles", "xor", "spiral", "gaussian", "function"]
)
def test_known_sample_shapes_and_classes_are_what_the_data_gives(source):
    options = {"source": source} if source == "mnist-5k" else {"source": source, "n_samples": 40}
    dataset = load_dataset(options, seed=0)
    model = _source_models()[source]
    assert dataset.input_shape == model.sample_shape
    assert (dataset.num_classes or 0) == model.num_classes


def test_data_checks_mirror_the_loader():
    for bad in ({"n_samples": 1}, {"noise": -0.1}, {"test_fraction": 1.0}):
        with pytest.raises(UserError):
            load_dataset({"source": "moons", **bad}, seed=0)
        text = MLP_SPEC.replace("{source: mnist-5k}", json.dumps({"source": "moons", **bad}))
        with pytest.raises(SpecError):
            parse_spec(text.replace("[784]", "[2]").replace("outputs: 10", "outputs: 2"))


def test_validation_errors_of_plain_data_name_the_key_path():
    data = spec_to_dict(parse_spec(MLP_SPEC))
    data["train"]["epochs"] = 0
    with pytest.raises(SpecError) as caught:
        validate_spec(data, file="sweep-3")
    assert str(caught.value) == "sweep-3: train.epochs: expected a positive integer, found 0"
    assert math.isclose(parse_spec(MLP_SPEC).optimizer.lr, 1e-3)
