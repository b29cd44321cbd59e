"""The input-features layer (``- features: [x1_squared, x2_squared]``): its values and
gradients on every backend, its spec checks, training, summary and export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import ANY, arrays, leaf, with_fixtures

import tinygrad_edu as tg
from tinygrad_edu import Tensor, runs
from tinygrad_edu.features import FEATURES, InputFeatures
from tinygrad_edu.objectives import predict_arrays
from tinygrad_edu.spec import build_model, parse_spec
from tinygrad_edu.spec.loader import SpecError
from tinygrad_edu.summary import summary

# each feature on NumPy columns, written independently of the layer
NUMPY = {
    "x1": lambda a, b: a,
    "x2": lambda a, b: b,
    "x1_squared": lambda a, b: a**2,
    "x2_squared": lambda a, b: b**2,
    "x1_times_x2": lambda a, b: a * b,
    "sin_x1": lambda a, b: np.sin(a),
    "sin_x2": lambda a, b: np.sin(b),
}

CIRCLES = """\
name: circles-features
seed: 0
model:
  input: [2]
  layers:
    - features: [x1_squared, x2_squared]
    - linear: 2
data: {source: circles, n_samples: 300, noise: 0.05}
loss: cross_entropy
optimizer: {name: adam, lr: 0.05}
train: {epochs: 15, batch_size: 10}
"""


def feature_lists() -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(list(FEATURES)), min_size=1, max_size=7, unique=True)


@with_fixtures
@given(data=st.data())
def test_features_match_numpy_and_gradcheck(xp_backend, data):
    names = data.draw(feature_lists(), label="names")
    points = data.draw(arrays(st.tuples(st.integers(1, 4), st.just(2)), ANY), label="points")
    layer = InputFeatures(names)
    out = layer(leaf(points))
    expected = np.concatenate([NUMPY[n](points[:, :1], points[:, 1:]) for n in names], axis=1)
    assert out.shape == (len(points), len(names))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)
    assert tg.gradcheck(layer, [leaf(points)])


def test_every_feature_is_offered_by_the_numpy_reference():
    assert list(NUMPY) == list(FEATURES)  # a new feature needs a reference above


@pytest.mark.parametrize("shape", [(5,), (5, 3), (5, 2, 1)])
def test_the_layer_refuses_inputs_that_are_not_2d_points(shape):
    with pytest.raises(ValueError, match=r"batch of 2-D points, shape \(N, 2\)"):
        InputFeatures(["x1"])(Tensor.zeros(*shape))


def test_the_layer_refuses_unknown_names():
    with pytest.raises(ValueError, match="unknown input feature"):
        InputFeatures(["x3"])


def test_repr_names_the_features():
    assert repr(InputFeatures(["x1", "sin_x2"])) == "InputFeatures(names=['x1', 'sin_x2'])"


# --- the spec ------------------------------------------------------------------------------


def test_a_spec_with_features_infers_the_next_layers_input_size():
    spec = parse_spec(CIRCLES.replace("[x1_squared, x2_squared]", "[x1, x2, x1_times_x2]"))
    model = build_model(spec)
    assert isinstance(model[0], InputFeatures)
    assert model[1].in_features == 3
    assert model(Tensor.zeros(4, 2)).shape == (4, 2)


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        (
            "[x1_sqared]",
            r"c\.yaml:6:17: model\.layers\[0\]\.features\.names: unknown input feature "
            r"'x1_sqared'; did you mean 'x1_squared'\?",
        ),
        ("[x1, x1]", r"c\.yaml:6:17: .*input feature\(s\) x1 named twice"),
        ("[]", r"c\.yaml:6:17: .*expected at least 1 item"),
        ("[cos_x1]", r"unknown input feature 'cos_x1'; .*sin_x1"),
    ],
)
def test_bad_feature_names_are_spec_errors_with_file_and_line(layers, message):
    with pytest.raises(SpecError, match=message):
        parse_spec(CIRCLES.replace("[x1_squared, x2_squared]", layers), file="c.yaml")


def test_features_need_2d_points():
    text = CIRCLES.replace("input: [2]", "input: [3]")
    with pytest.raises(SpecError, match=r"from 2-D points \(samples of shape \[2\]\), got \[3\]"):
        parse_spec(text, file="c.yaml")


def test_summary_shows_the_layer_and_its_output_shape():
    text = summary(build_model(parse_spec(CIRCLES)), input_size=(32, 2), verbose=0)
    line = next(row for row in str(text).splitlines() if "InputFeatures" in row)
    assert "[32, 2]" in line
    assert "Total params: 6" in str(text)  # 2 x 2 weights + 2 biases, the layer has none


def test_schema_lists_the_layer():
    from tinygrad_edu.spec import json_schema

    assert "features" in str(json_schema())


# --- training: the lesson of the toggles ---------------------------------------------------


def _train(tmp_path: Path, text: str, name: str) -> dict:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return runs.train(path, {}, out=tmp_path / name, quiet=True)


def test_a_linear_model_separates_circles_only_with_squared_features(tmp_path):
    squared = _train(tmp_path, CIRCLES, "squared")
    plain = _train(tmp_path, CIRCLES.replace("[x1_squared, x2_squared]", "[x1, x2]"), "plain")
    assert squared["test_accuracy"] >= 0.97
    assert plain["test_accuracy"] <= 0.8  # a line cannot cut a disc out of a ring


def test_same_spec_trains_to_bit_identical_weights(tmp_path):
    _train(tmp_path, CIRCLES, "a")
    _train(tmp_path, CIRCLES, "b")
    first, second = runs.load_model(tmp_path / "a"), runs.load_model(tmp_path / "b")
    for p, q in zip(first.parameters(), second.parameters(), strict=True):
        assert np.array_equal(p.numpy(), q.numpy())


# --- export --------------------------------------------------------------------------------


def test_onnx_export_matches_predict_for_every_feature(tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime not installed (the test extra)")
    pytest.importorskip("onnx", reason="onnx not installed (pip install tinygrad-edu[export])")
    from tinygrad_edu.export import to_onnx

    tg.manual_seed(0)
    model = tg.nn.Sequential(InputFeatures(list(FEATURES)), tg.nn.Linear(7, 3))
    X = np.random.default_rng(0).normal(0, 2, (50, 2)).astype(np.float32)
    to_onnx(model, (2,), tmp_path / "m.onnx")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {"input": X})
    np.testing.assert_allclose(out, predict_arrays(model, X), rtol=1e-5, atol=1e-5)
