"""The page's address after ``#``: this playground's own links and TensorFlow Playground's.

A link is read key by key, and each key is kept only if the settings still validate with
it, so one typo (``dataset=xorr``) or one value over a cap costs that key alone: the page
opens with every other setting of the link and names the refused key and why.

A teacher's TensorFlow Playground link (it has keys only that playground writes, such as
``networkShape`` or ``learningRate``) opens the same data set, input features, network,
activation, learning rate, batch size, regularization, noise, train share and seed, with
that playground's plain SGD. Its noise (0-50, uniform jitter in percent of the set's
radius) becomes the Gaussian jitter of the same standard deviation here (ours is in
units of the radius): ``theirs / 100 / sqrt(3)``.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qsl

from ..errors import UserError
from ..spec.loader import _unknown
from . import state

OWN_LISTS = ("layers", "act", "dropout", "features")
PAGE_ONLY = ("speed", "showTestData", "discretize", "collectStats", "hideText")  # the page's
TF_ONLY = (
    "activation", "batchSize", "learningRate", "networkShape", "percTrainData", "problem",
    "regDataset", "regularization", "regularizationRate", "initZero",
    "x", "y", "xTimesY", "xSquared", "ySquared", "sinX", "sinY", "cosX", "cosY",
)  # fmt: skip
TF_DATASETS = {"circle": "circles", "xor": "xor", "gauss": "gaussian", "spiral": "spiral"}
TF_REGRESSION = ("reg-plane", "reg-gauss")  # the same names here
TF_ACTIVATIONS = {"relu": "relu", "tanh": "tanh", "sigmoid": "sigmoid", "linear": "identity"}
TF_FEATURES = {
    "x": "x1", "y": "x2", "xTimesY": "x1_times_x2", "xSquared": "x1_squared",
    "ySquared": "x2_squared", "sinX": "sin_x1", "sinY": "sin_x2",
}  # fmt: skip
# TensorFlow Playground's own defaults, where its link leaves a key out
TF_BASE: dict[str, Any] = {
    "opt": "sgd", "momentum": 0.0, "noise": 0.0, "l2": 0.0, "l1": 0.0, "test": 0.5,
}  # fmt: skip
# the order keys are tried in: what later keys depend on first
ORDER = ("problem", "dataset", "regDataset", "networkShape", "layers", "activation", "act")


def read(text: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The settings a link stands for (missing keys: defaults) and each refused key with
    its reason, as ``{"key": ..., "text": ...}``."""
    pairs = [
        (key, value)
        for key, value in parse_qsl(text.lstrip("#"), keep_blank_values=True)
        if key not in PAGE_ONLY and not key.endswith("_hide")
    ]
    tf = any(key in TF_ONLY for key, _ in pairs)
    values = dict(pairs)
    pairs = sorted(values.items(), key=lambda kv: ORDER.index(kv[0]) if kv[0] in ORDER else 99)
    accepted: dict[str, Any] = dict(TF_BASE) if tf else {}
    refused: list[dict[str, str]] = []
    for key, value in pairs:
        try:
            change = (_tf_change if tf else _own_change)(key, value, values, accepted)
            if change:
                trial = {**accepted, **change}
                state.check(trial)
                accepted = trial
        except UserError as error:
            texts = [p["text"] for p in state.problems_for_page(error)]
            refused.append({"key": key, "text": f"{key}={value}: {'; '.join(texts)}"})
    return accepted, refused


def images(text: str, name: str) -> dict[str, Any]:
    """The images view's settings in a link: its spec's name, optimizer and learning rate
    (the server checks them when it opens the session)."""
    values = dict(parse_qsl(text.lstrip("#"), keep_blank_values=True))
    settings: dict[str, Any] = {"spec": name}
    settings.update({k: _number(values[k]) for k in state.IMAGE_SETTINGS if k in values})
    return settings


def _number(text: str) -> Any:
    """A number where the text is one, else the text (the schema names what it expects)."""
    try:
        number = float(text)
    except ValueError:
        return text
    if not math.isfinite(number) or not any(c.isdigit() for c in text):
        return text
    return int(number) if number == int(number) and "." not in text and "e" not in text else number


def _own_change(key: str, value: str, values: dict[str, str], accepted: dict) -> dict:
    if key == "points":
        rows = [row.split(",") for row in value.split(";")] if value else []
        return {"points": [[_number(cell) for cell in row] for row in rows]}
    if key in OWN_LISTS:
        items = value.split(",") if value else []
        return {key: items if key in ("act", "features") else [_number(v) for v in items]}
    if key not in state.DEFAULTS:
        raise UserError(_unknown("address key", key, sorted(state.DEFAULTS)))
    return {key: value if key in ("dataset", "opt") else _number(value)}


def _tf_change(key: str, value: str, values: dict[str, str], accepted: dict) -> dict:
    """One key of a TensorFlow Playground link as this playground's settings."""
    regression = values.get("problem") == "regression"
    if key == "problem":
        if value not in ("classification", "regression"):
            raise UserError(_unknown("problem", value, ["classification", "regression"], True))
        if value == "classification":
            return {}
        # its default regression set (regDataset, read next, may name the other) and its
        # 1,200 points
        return {"dataset": TF_REGRESSION[0], "n": state.REGRESSION_POINTS}
    if key == "dataset":
        if regression:
            return {}
        if value not in TF_DATASETS:
            raise UserError(_unknown("data set", value, list(TF_DATASETS), True))
        return {"dataset": TF_DATASETS[value]}
    if key == "regDataset":
        if not regression:
            return {}
        if value not in TF_REGRESSION:
            raise UserError(_unknown("regression data set", value, list(TF_REGRESSION), True))
        return {"dataset": value}
    if key == "networkShape":
        widths = [_number(v) for v in value.split(",")] if value else []
        activation = accepted.get("act", ["tanh"])[:1] or ["tanh"]
        return {"layers": widths, "act": activation * len(widths), "dropout": [0.0] * len(widths)}
    if key == "activation":
        if value not in TF_ACTIVATIONS:
            raise UserError(_unknown("activation", value, list(TF_ACTIVATIONS), True))
        depth = len(accepted.get("layers", state.DEFAULTS["layers"]))
        return {"act": [TF_ACTIVATIONS[value]] * depth}
    if key in ("learningRate", "batchSize"):
        return {"lr" if key == "learningRate" else "batch": _number(value)}
    if key == "noise":
        theirs = _number(value)
        if not isinstance(theirs, (int, float)) or not 0 <= theirs <= 50:
            raise UserError(f"noise: TensorFlow Playground's noise is 0 to 50, found {value!r}")
        return {"noise": round(theirs / 100 / math.sqrt(3), 4)}
    if key == "percTrainData":
        share = _number(value)
        if not isinstance(share, (int, float)) or not 10 <= share <= 90:
            raise UserError(
                f"percTrainData: the training share is 10 to 90 percent, found {value!r}"
            )
        return {"test": round(1 - share / 100, 4)}
    if key == "regularization":
        if value in ("L2", "L1"):  # one of the two, at its rate
            rate = _number(values.get("regularizationRate", "0"))
            return {"l1": rate, "l2": 0.0} if value == "L1" else {"l2": rate, "l1": 0.0}
        if value not in ("", "none"):
            raise UserError(_unknown("regularization", value, ["L1", "L2", "none"], True))
        return {"l2": 0.0, "l1": 0.0}
    if key == "regularizationRate":
        return {}  # read with `regularization`, which it belongs to
    if key == "seed":
        number = _number(value)
        if not isinstance(number, (int, float)) or number < 0:
            raise UserError(f"seed: expected a decimal number such as 0.45796, found {value!r}")
        return {"seed": int(round(number * 10**5)) % 2**31 if number < 1 else int(number)}
    if key in TF_FEATURES or key in ("cosX", "cosY"):
        return _feature(key, value, accepted)
    if key == "initZero":
        if value == "true":
            raise UserError(
                "initZero: every weight starting at 0 is not offered here: units that start "
                "equal get equal gradients and stay equal, so the seed's random start is kept"
            )
        return {}
    return _own_change(key, value, values, accepted)


def _feature(key: str, value: str, accepted: dict) -> dict:
    if value not in ("true", "false"):
        raise UserError(f"{key}: expected true or false, found {value!r}")
    if key in ("cosX", "cosY"):
        if value == "true":
            raise UserError(f"{key}: cos features are not offered (nor by its own page)")
        return {}
    name = TF_FEATURES[key]
    features = list(accepted.get("features", state.DEFAULTS["features"]))
    if value == "true" and name not in features:
        features.append(name)
    if value == "false" and name in features:
        features.remove(name)
    return {"features": features}
