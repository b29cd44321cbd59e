"""The playground's links: its own and TensorFlow Playground's, read key by key, so one bad
value costs that key alone (issue 20 item 5)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("starlette", reason="starlette not installed (the playground extra)")

from tinygrad_edu.playground import address, state  # noqa: E402


def test_every_key_of_a_tensorflow_playground_link_is_read():
    """The facts file's typical link and its keys: each maps to this playground's setting
    (noise 0-50 of the radius, uniform -> the same standard deviation, Gaussian, here)."""
    link = (
        "activation=sigmoid&batchSize=7&dataset=spiral&regDataset=reg-plane&learningRate=0.3&"
        "regularization=L2&regularizationRate=0.01&noise=30&networkShape=5,3,2&seed=0.45796&"
        "showTestData=false&discretize=true&percTrainData=70&x=false&y=true&xTimesY=true&"
        "xSquared=true&ySquared=false&cosX=false&sinX=true&cosY=false&sinY=false&"
        "collectStats=false&problem=classification&initZero=false&hideText=false&noise_hide=true"
    )
    settings, refused = address.read(link)
    assert refused == []
    assert settings == {
        "dataset": "spiral", "layers": [5, 3, 2], "act": ["sigmoid"] * 3, "dropout": [0.0] * 3,
        "opt": "sgd", "momentum": 0.0, "lr": 0.3, "batch": 7, "l2": 0.01, "l1": 0.0, "test": 0.3,
        "noise": round(0.3 / 3**0.5, 4), "seed": 45796,
        "features": ["x2", "x1_times_x2", "x1_squared", "sin_x1"],
    }  # fmt: skip
    for name, ours in (("circle", "circles"), ("gauss", "gaussian"), ("xor", "xor")):
        assert address.read(f"dataset={name}&networkShape=")[0]["dataset"] == ours
    assert address.read("activation=linear&networkShape=3")[0]["act"] == ["identity"]
    assert address.read("networkShape=&learningRate=0.1")[0]["layers"] == []
    assert address.read("regularizationRate=0.5&learningRate=0.1")[0]["l2"] == 0.0  # none


@pytest.mark.parametrize(
    ("link", "key", "fragment"),
    [
        ("dataset=xorr", "dataset", "did you mean 'xor'?"),
        ("networkShape=4,100", "networkShape", "hidden layer 2 has 100 units; give 1 to 64"),
        ("networkShape=1,1,1,1,1,1,1", "networkShape", "at most 6 hidden layers"),
        ("learningRate=1e9", "learningRate", "give 0.00001 to 10"),
        ("noise=80", "noise", "noise is 0 to 50"),
        ("percTrainData=5", "percTrainData", "10 to 90"),
        ("activation=relux", "activation", "did you mean 'relu'?"),
        ("regularization=L3", "regularization", "expected one of L1, L2, none, found 'L3'"),
        ("problem=regression&regDataset=reg-gaus", "regDataset", "did you mean 'reg-gauss'?"),
        ("initZero=true", "initZero", "units that start equal get equal gradients"),
        ("x=maybe", "x", "expected true or false"),
    ],
)
def test_one_bad_key_of_a_tensorflow_link_keeps_the_rest(link, key, fragment):
    good = "activation=relu&batchSize=12&dataset=xor&learningRate=0.01&networkShape=3,3"
    pairs = dict(pair.split("=") for pair in good.split("&")) | dict(
        pair.split("=") for pair in link.split("&")
    )
    settings, refused = address.read("&".join(f"{k}={v}" for k, v in pairs.items()))
    assert [r["key"] for r in refused] == [key] and fragment in refused[0]["text"]
    settings = state.complete(settings)
    kept = {k: settings[k] for k in ("batch", "dataset", "lr", "layers", "act")}
    expected = {"batch": 12, "dataset": "xor", "lr": 0.01, "layers": [3, 3], "act": ["relu"] * 2}
    defaults = {"dataset": {"dataset": "circles"}, "learningRate": {"lr": 0.03}}
    defaults["regDataset"] = {"dataset": "reg-plane"}  # problem=regression's own default set
    defaults |= {"networkShape": {"layers": [4, 2]}, "activation": {"act": ["tanh"] * 2}}
    assert kept == expected | defaults.get(key, {})  # the refused key alone has its default


def test_a_tensorflow_regression_link_opens_its_2d_set_with_its_1200_points():
    for name in ("reg-plane", "reg-gauss"):
        link = f"problem=regression&regDataset={name}&dataset=xor&noise=10&networkShape=3"
        settings, refused = address.read(link)
        assert refused == [] and settings["dataset"] == name and settings["n"] == 1200
        spec = state.validate(settings)
        assert spec.data.source == name and spec.data.n_samples == 1200 and spec.loss.name == "mse"
        last = spec.model.layer_list()[-1]  # one linear output, as TF's regression
        assert (last.type, last.options.out_features) == ("linear", 1)
    settings, _ = address.read("problem=regression&networkShape=3")  # its default set
    assert settings["dataset"] == "reg-plane"
    settings, _ = address.read("problem=classification&regDataset=reg-gauss&dataset=xor")
    assert settings["dataset"] == "xor" and "n" not in settings  # its 500 points: ours too


def test_a_tensorflow_link_with_l1_opens_with_it_and_trains_it():
    settings, refused = address.read("regularization=L1&regularizationRate=0.003&networkShape=3")
    assert refused == [] and (settings["l1"], settings["l2"]) == (0.003, 0.0)
    spec = state.validate(settings)
    assert spec.train.l1 == 0.003 and spec.optimizer.weight_decay == 0.0
    assert state.spec_to_settings(spec)[0]["l1"] == 0.003  # and back, for cli.py playground
    settings, _ = address.read("regularization=L2&regularizationRate=0.01&networkShape=3")
    assert (settings["l1"], settings["l2"]) == (0.0, 0.01)
    assert "l1" not in state.settings_to_spec({})["train"]  # no L1: the spec says nothing


OWN_KEYS = {
    "dataset": "function:abs", "n": "300", "noise": "0.1", "test": "0.3", "seed": "7",
    "layers": "5,3", "act": "relu,gelu", "dropout": "0,0.1", "opt": "sgd", "lr": "0.1",
    "momentum": "0.5", "batch": "16", "l2": "0.001", "features": "x2,sin_x1",
}  # fmt: skip
BAD_VALUES = st.one_of(st.sampled_from(["xorr", "-1", "1e9", "", "fast", "70", "3,x"]), st.text())


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(OWN_KEYS)), BAD_VALUES)
def test_one_bad_value_of_our_own_link_costs_that_key_alone(key, bad):
    """A link of every key with one value replaced: the others are all kept; the replaced
    key is kept only if its value validates, and otherwise named with its reason."""
    good, _ = address.read("&".join(f"{k}={v}" for k, v in OWN_KEYS.items()))
    link = "&".join(f"{k}={quote(bad, safe=',') if k == key else v}" for k, v in OWN_KEYS.items())
    settings, refused = address.read(link)
    assert [r["key"] for r in refused] in ([], [key])
    if refused:
        assert refused[0]["text"].startswith(f"{key}=")
    dependent = {"layers": ("act", "dropout"), "dataset": ("features",)}.get(key, ())
    for other, value in good.items():
        if other != key and other not in dependent:
            assert settings[other] == value, other
    state.check({**state.DEFAULTS, **settings})  # what opens is valid
