"""The lecture's claims, reproduced by the specs in specs/: each test trains a spec and
checks the outcome the lecture shows, so it fails if the claim stops holding.

- Figure 4: activations make non-linear relationships modelable (activation_*.yaml);
- Figure 6: one wide ReLU layer approximates a function (universal_approximation.yaml);
- Figure 7: a deep network of five hidden layers without biases (deep_mlp.yaml);
- Figure 8: the first layer learns simple, smooth image features (deep_mlp.yaml).

Every training is short (about a second each on one core), and each is shared by the
tests of its figure, so the whole file stays within a CI budget.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn, rng, runs
from tinygrad_edu.io.npz import load_npz
from tinygrad_edu.runs.sweep import run_sweep
from tinygrad_edu.spec import build_model, load_spec, spec_to_dict
from tinygrad_edu.summary import ModelSummary

SPECS = Path(__file__).resolve().parents[1] / "specs"
WIDTH = "model.layers[0].linear.out_features"
WIDTHS = [1, 3, 6, 12, 48]  # Figure 6's hidden widths


def summary_of(spec_file: str) -> ModelSummary:
    spec = load_spec(SPECS / spec_file)
    return tg.summary(build_model(spec), input_size=(32, *spec.model.input))


# --- Figure 4: activation functions ------------------------------------------------------


@pytest.fixture(scope="module")
def moons(tmp_path_factory) -> dict[str, dict[str, Any]]:
    """Final metrics of the ReLU network, the same network without activation, and a
    plain linear classifier (one Linear 2 -> 2) trained on the same data the same way."""
    out = tmp_path_factory.mktemp("activation")
    linear = {"name": "linear-classifier", "model.layers": [{"linear": 2}]}
    return {
        "relu": runs.train(SPECS / "activation_relu.yaml", {}, out=out / "relu", quiet=True),
        "none": runs.train(SPECS / "activation_none.yaml", {}, out=out / "none", quiet=True),
        "linear": runs.train(SPECS / "activation_none.yaml", linear, out=out / "lin", quiet=True),
    }


def test_the_two_networks_differ_only_in_the_activation():
    relu = spec_to_dict(load_spec(SPECS / "activation_relu.yaml"))
    none = spec_to_dict(load_spec(SPECS / "activation_none.yaml"))
    assert relu["model"]["layers"][1] == "relu" and none["model"]["layers"][1] == "identity"
    for spec in (relu, none):
        del spec["name"], spec["model"]["layers"][1]
    assert relu == none


def test_without_an_activation_the_network_is_no_better_than_a_linear_classifier(moons):
    none, linear = moons["none"]["test_accuracy"], moons["linear"]["test_accuracy"]
    assert abs(none - linear) <= 0.03, f"no activation {none:.3f}, linear {linear:.3f}"
    assert none < 0.95  # a straight line cannot follow the moons


def test_with_relu_the_same_network_separates_the_moons(moons):
    assert moons["relu"]["test_accuracy"] >= 0.97
    assert moons["relu"]["test_accuracy"] > moons["none"]["test_accuracy"] + 0.05


def test_the_summary_warns_that_linear_layers_collapse_without_an_activation():
    warnings = summary_of("activation_none.yaml").warnings
    assert len(warnings) == 1
    assert "collapse to a single linear model" in warnings[0]
    assert summary_of("activation_relu.yaml").warnings == []


# --- Figure 6: universal approximation ---------------------------------------------------


@pytest.fixture(scope="module")
def widths(tmp_path_factory) -> list[float]:
    """Test MSE of the sin(x) fit at each hidden width (seed 0 alone, to stay fast; the
    spec's own sweep runs five seeds per width for the README's mean ± std)."""
    out = tmp_path_factory.mktemp("universal") / "sweep"
    result = run_sweep(SPECS / "universal_approximation.yaml", WIDTH, WIDTHS, out=out, seeds=[0])
    assert result.values == WIDTHS
    return result.metric("test_loss")


def spearman(values: list[float]) -> float:
    """Rank correlation of `values` with their position (-1: strictly decreasing)."""
    ranks = np.argsort(np.argsort(values))
    n = len(values)
    return 1 - 6 * float(np.sum((ranks - np.arange(n)) ** 2)) / (n * (n * n - 1))


def test_the_widest_network_fits_far_better_than_the_narrowest(widths):
    assert widths[-1] < widths[0] / 10, dict(zip(WIDTHS, widths))
    assert widths[-1] < 1e-3  # sin(x) has variance ~0.5: this is a close fit


def test_the_error_falls_as_the_hidden_layer_widens(widths):
    for (narrow, a), (wide, b) in zip(zip(WIDTHS, widths), zip(WIDTHS[1:], widths[1:])):
        assert b <= 1.2 * a, f"width {wide}: MSE {b:.3g} > 1.2 x width {narrow}'s {a:.3g}"
    assert spearman(widths) <= -0.9


def test_the_sweep_changes_only_the_hidden_width():
    spec = load_spec(SPECS / "universal_approximation.yaml")
    layers = [layer.type for layer in spec.model.layers]
    assert layers == ["linear", "relu", "linear"]  # one hidden layer of ReLUs
    assert (spec.data.source, spec.data.function, spec.loss.name) == ("function", "sin", "mse")
    assert tuple(spec.data.interval) == (-3.0, 3.0)
    assert (spec.sweep.path, spec.sweep.values) == (WIDTH, WIDTHS)
    assert spec.sweep.seeds == [0, 1, 2, 3, 4]  # Figure 6 is a mean ± std over five seeds


# --- Figures 7 and 8: a deep network on MNIST ------------------------------------------------


@pytest.fixture(scope="module")
def deep(tmp_path_factory) -> tuple[dict[str, Any], dict[str, Any]]:
    """(final metrics, model.npz) of deep_mlp.yaml trained for two epochs."""
    out = tmp_path_factory.mktemp("deep") / "run"
    final = runs.train(SPECS / "deep_mlp.yaml", {"train.epochs": 2}, out=out, quiet=True)
    return final, load_npz(out / "model.npz")


def test_the_deep_network_has_five_hidden_relu_layers_and_only_weights():
    spec = load_spec(SPECS / "deep_mlp.yaml")
    linears = [layer.options for layer in spec.model.layers if layer.type == "linear"]
    assert len(linears) == 6  # W1 ... W6
    assert [layer.type for layer in spec.model.layers].count("relu") == 5
    assert all(not options.bias for options in linears)
    sizes = [784] + [options.out_features for options in linears]
    weights = sum(n_in * n_out for n_in, n_out in zip(sizes, sizes[1:]))
    assert weights == 784 * 128 + 128 * 64 + 64 * 64 + 64 * 32 + 32 * 32 + 32 * 10 == 116_032

    result = summary_of("deep_mlp.yaml")
    assert result.total_params == result.trainable_params == weights
    model = build_model(spec)
    assert [name for name, _ in model.named_parameters()] == [
        f"{i}.weight" for i in (1, 3, 5, 7, 9, 11)
    ]


def test_the_deep_network_learns_mnist(deep):
    final, _ = deep
    assert final["test_accuracy"] > 0.70  # chance is 0.10
    assert final["train_loss"] < math.log(10)  # below the loss of a uniform guess


def neighbour_correlation(weights: np.ndarray) -> float:
    """How alike the weights of neighbouring pixels are, over the centre of the image
    (MNIST's border pixels are always 0, so their weights never change)."""
    images = weights.reshape(len(weights), 28, 28)[:, 4:24, 4:24]
    images = images - images.mean(axis=(1, 2), keepdims=True)
    across = np.corrcoef(images[:, :, :-1].ravel(), images[:, :, 1:].ravel())[0, 1]
    down = np.corrcoef(images[:, :-1, :].ravel(), images[:, 1:, :].ravel())[0, 1]
    return float(across + down) / 2


def test_the_first_layer_learns_smooth_image_features(deep):
    _, trained = deep
    rng.manual_seed(load_spec(SPECS / "deep_mlp.yaml").seed)
    initial = build_model(load_spec(SPECS / "deep_mlp.yaml"))
    first = next(m for m in initial.modules() if isinstance(m, nn.Linear))
    # random initial weights: neighbouring pixels are unrelated
    assert abs(neighbour_correlation(first.weight.numpy())) < 0.05
    # trained: each unit's weights form strokes and blobs, alike over neighbouring pixels
    assert neighbour_correlation(trained["model/1.weight"]) > 0.3
