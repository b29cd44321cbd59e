"""The page's settings and the spec they stand for, in both directions.

The page holds a flat dictionary of settings (the same keys as its address after ``#``, so
a link reproduces a run); `settings_to_spec` turns it into an ordinary spec dictionary and
`validate` checks it with the spec schema, so a bad value gets exactly the message
``python cli.py validate`` gives. `spec_to_settings` goes the other way, for
``python cli.py playground SPEC``. Nothing here names a file: the page only sends values.
"""

from __future__ import annotations

import copy
import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..data.files import load_csv
from ..data.synthetic import FUNCTION_ALIASES, FUNCTIONS
from ..errors import UserError
from ..features import DEFAULT as DEFAULT_FEATURES
from ..objectives import loss_options
from ..spec import Spec, spec_to_dict, validate_spec
from ..spec.loader import SpecError, _unknown
from .schema import ACTIVATIONS, MAX_SAMPLES, check_settings

PLANE_SOURCES = ("circles", "xor", "gaussian", "spiral", "moons")
REGRESSION_PLANES = ("reg-plane", "reg-gauss")  # TensorFlow Playground's regression sets
FUNCTION_SOURCES = tuple(f"function:{name}" for name in FUNCTIONS)
DATASETS = PLANE_SOURCES + REGRESSION_PLANES + FUNCTION_SOURCES
REGRESSION_POINTS = 1200  # TensorFlow Playground's number of points for regression
SPEC_FILE = "playground"  # how messages name the page's spec (validate names the file)

# TensorFlow Playground's defaults: circles, two hidden tanh layers of 4 and 2 units,
# learning rate 0.03, batch 10, half the points for training; adam here converges fast.
DEFAULTS: dict[str, Any] = {
    "dataset": "circles",
    "features": list(DEFAULT_FEATURES),  # input features of the plane's points (x1, x2 on)
    "n": 500,
    "noise": 0.05,
    "test": 0.5,
    "seed": 0,
    "layers": [4, 2],
    "act": ["tanh", "tanh"],
    "dropout": [0.0, 0.0],
    "opt": "adam",
    "lr": 0.03,
    "momentum": 0.9,
    "batch": 10,
    "l2": 0.0,
    "l1": 0.0,  # TensorFlow Playground's L1 (train.l1): weights only
    "points": None,  # the page's own points (clicked in): [[x1, x2, label], ...] or [[x, y], ...]
}
POINTS_FILE = "playground.csv"  # the points as the csv source reads them, beside the spec

# which control shows the message of a spec path (the page's data-testid)
CONTROLS = {
    "optimizer.lr": "learning-rate",
    "optimizer.momentum": "momentum",
    "optimizer.weight_decay": "l2",
    "train.l1": "l1",
    "optimizer.name": "optimizer",
    "train.batch_size": "batch-size",
    "data.noise": "noise",
    "data.test_fraction": "test-ratio",
    "data.n_samples": "samples",
    "data.source": "dataset",
    "data.function": "dataset",
    "seed": "seed",
}


def complete(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings with every missing key taken from `DEFAULTS` (lists sized to the layers)."""
    full = copy.deepcopy(DEFAULTS)
    full.update({k: v for k, v in settings.items() if k in DEFAULTS})
    depth = len(full["layers"]) if isinstance(full["layers"], list) else 0
    for key, fill in (("act", "tanh"), ("dropout", 0.0)):
        values = full[key] if isinstance(full[key], list) else []
        full[key] = (list(values) + [fill] * depth)[:depth]
    return full


def settings_to_spec(settings: dict[str, Any], epochs: int = 1) -> dict[str, Any]:
    """The spec dictionary of the page's settings (not yet validated)."""
    s = complete(settings)
    unknown = sorted(set(settings) - set(DEFAULTS))
    if unknown:
        raise UserError(f"unknown playground setting(s) {unknown}; known: {sorted(DEFAULTS)}")
    check_settings(s)
    dataset = str(s["dataset"])
    if dataset not in DATASETS:
        raise UserError(_unknown("data set", dataset, list(DATASETS)))
    regression, curve = is_regression(s), is_curve(s)
    data: dict[str, Any] = {"source": "function" if curve else dataset}
    if curve:
        data["function"] = dataset.split(":", 1)[1]
    data.update({"n_samples": s["n"], "noise": s["noise"], "test_fraction": s["test"]})
    if s["points"] is not None:  # the page's own points: a CSV file, read by the csv source
        _check_points(s["points"], regression, curve)
        data = {"source": "csv", "path": POINTS_FILE, "target": -1, "header": True}
        data.update({"normalize": "none", "test_fraction": s["test"]})
    layers: list[Any] = []
    if not curve and s["features"] != list(DEFAULT_FEATURES):
        layers.append({"features": _feature_names(s["features"])})  # x1, x2 alone: no layer
    for units, activation, p in zip(s["layers"], s["act"], s["dropout"]):
        layers += [{"linear": units}, activation]
        if p:
            layers.append({"dropout": p})
    layers.append({"linear": 1 if regression else 2})  # regression: a linear output, as TF's
    optimizer: dict[str, Any] = {"name": s["opt"], "lr": s["lr"], "weight_decay": s["l2"]}
    if s["opt"] == "sgd":
        optimizer["momentum"] = s["momentum"]
    train: dict[str, Any] = {"epochs": epochs, "batch_size": s["batch"]}
    if s["l1"]:
        train["l1"] = s["l1"]
    return {
        "name": "playground",
        "seed": s["seed"],
        "model": {"input": [1 if curve else 2], "layers": layers},
        "data": data,
        "loss": "mse" if regression else "cross_entropy",
        "optimizer": optimizer,
        "train": train,
    }


def _feature_names(names: Any) -> list[Any]:
    """The toggled features as the layer's list; the spec checks each name (did you mean)."""
    if not isinstance(names, list):
        raise UserError(
            f"model.layers[0].features: expected a list of feature names, found {names!r}"
        )
    return list(names)


def _check_points(points: Any, regression: bool, curve: bool) -> None:
    width, what = (3, "[x1, x2, label] with label 0 or 1")
    if regression:
        width, what = (2, "[x, y]") if curve else (3, "[x1, x2, target]")
    if not isinstance(points, list) or not 2 <= len(points) <= MAX_SAMPLES:
        raise UserError(f"data.points: expected 2 to {MAX_SAMPLES} points, each {what}")
    for index, point in enumerate(points):
        ok = isinstance(point, list) and len(point) == width
        ok = ok and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            for v in point
        )
        if ok and not regression:
            ok = point[2] in (0, 1)
        if not ok:
            raise UserError(f"data.points[{index}]: expected {what}, found {point!r}")


def points_csv(points: list[list[float]], settings: dict[str, Any]) -> str:
    """The points as a CSV table with a header; floats written exactly (repr)."""
    regression, curve = is_regression(settings), is_curve(settings)
    lines = ["x,y" if curve else "x1,x2,target" if regression else "x1,x2,label"]
    for point in points:
        cells = [repr(float(v)) for v in point]
        if not regression:
            cells[2] = str(int(point[2]))
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def is_regression(settings: dict[str, Any]) -> bool:
    return is_curve(settings) or settings["dataset"] in REGRESSION_PLANES


def is_curve(settings: dict[str, Any]) -> bool:
    """A 1-D function set: one input, the fit drawn as a curve."""
    return str(settings["dataset"]).startswith("function:")


def validate(settings: dict[str, Any], epochs: int = 1, base_dir: Any = None) -> Spec:
    """The validated spec of the settings; a `SpecError` names the same problems as validate.

    With the page's own points, ``base_dir`` is the folder holding `POINTS_FILE`.
    """
    return validate_spec(settings_to_spec(settings, epochs), file=SPEC_FILE, base_dir=base_dir)


IMAGE_SETTINGS = ("opt", "lr")  # what the images view lets the page change of its spec


def images_spec(spec: Spec, settings: dict[str, Any]) -> Spec:
    """The spec of the images view with the page's optimizer and learning rate, checked by
    the same limits as the plane's controls (the rest of the spec is trained as it is)."""
    unknown = sorted(set(settings) - {"spec", *IMAGE_SETTINGS})
    if unknown:
        raise UserError(
            f"the images view changes only {', '.join(IMAGE_SETTINGS)}; found {unknown}"
        )
    data = spec_to_dict(spec)
    opt, lr = settings.get("opt", spec.optimizer.name), settings.get("lr", spec.optimizer.lr)
    if opt not in ("sgd", "adam"):
        raise UserError(_unknown("optimizer", opt, ["adam", "sgd"], found=True))
    check_settings({**complete({}), "lr": lr})
    if opt != data["optimizer"]["name"]:  # another optimizer: its own defaults
        data["optimizer"] = {"name": opt, "lr": lr}
    data["optimizer"]["lr"] = lr
    return validate_spec(data, file=SPEC_FILE)


def check(settings: dict[str, Any]) -> None:
    """Raise the `UserError` these settings would get when a session opens, without
    building it (the page's own points are checked for shape, not written)."""
    settings_to_spec(settings)
    validate({**settings, "points": None})


def problems_for_page(error: UserError) -> list[dict[str, str]]:
    """Each problem as the page shows it: the text and the control it belongs to."""
    if isinstance(error, SpecError):
        return [
            {"text": str(p), "path": p.path, "control": _control(p.path)} for p in error.problems
        ]
    text = str(error)
    path = text.split(":", 1)[0] if text.startswith(PATHS) else ""
    return [{"text": text, "path": path, "control": _control(path)}]


PATHS = ("model.", "data.", "optimizer.", "train.", "seed:")


def _control(path: str) -> str:
    if path.startswith("model.layers[0].features"):
        return "features"
    if path.startswith("model.layers"):
        return "network"
    return CONTROLS.get(path, "")


def spec_yaml(data: dict[str, Any], note: str) -> str:
    """A spec dictionary as a YAML file that ``python cli.py validate`` accepts, with a
    comment on top; the caller validated it already."""
    header = "".join(f"# {line}\n" for line in note.splitlines())
    return header + yaml.safe_dump(data, sort_keys=False, default_flow_style=None)


def spec_to_settings(spec: Spec) -> tuple[dict[str, Any], list[str]]:
    """The page's settings for a spec file, and notes on what the page leaves out.

    Only what the page can show is accepted: a 2-D teaching set or a 1-D function, an
    optional ``features`` layer first (the input-feature toggles), hidden Linear layers
    each followed by one activation (and optionally dropout), a last Linear,
    sgd or adam. Anything else is a `UserError` that says what the page cannot show.
    """
    data = spec.data
    if data.source in PLANE_SOURCES + REGRESSION_PLANES:
        dataset = data.source
    elif data.source == "function":
        dataset = f"function:{_function_name(data.function)}"
    else:
        raise UserError(
            f"the playground shows 2-D teaching sets and 1-D functions; this spec's data "
            f"source is '{data.source}'; train it with: python cli.py train {spec.file}"
        )
    features, layers, acts, dropout = _hidden_layers(spec)
    loss = loss_options(spec.loss)[0]
    if loss not in ("cross_entropy", "mse"):
        raise UserError(f"the playground trains with cross_entropy or mse; this spec uses '{loss}'")
    opt = spec.optimizer
    if opt.name not in ("sgd", "adam"):
        raise UserError(f"the playground offers sgd and adam; this spec uses '{opt.name}'")
    settings = {
        "dataset": dataset,
        "features": features,
        "n": data.n_samples,
        "noise": data.noise,
        "test": data.test_fraction,
        "seed": spec.seed,
        "layers": layers,
        "act": acts,
        "dropout": dropout,
        "opt": opt.name,
        "lr": opt.lr,
        "momentum": getattr(opt, "momentum", DEFAULTS["momentum"]),
        "batch": spec.train.batch_size,
        "l2": opt.weight_decay,
        "l1": spec.train.l1,
    }
    notes = []
    if spec.scheduler is not None:
        notes.append(f"the page has no learning-rate schedule: '{spec.scheduler.name}' left out")
    return settings, notes


def _function_name(name: str) -> str:

    return FUNCTION_ALIASES.get(name, name)


def _hidden_layers(spec: Spec) -> tuple[list[str], list[int], list[str], list[float]]:
    """(input features, hidden widths, activations, dropout rates) of the spec's layers."""
    entries = [(layer.type, layer.options) for layer in spec.model.layer_list()]
    features, index = list(DEFAULT_FEATURES), 0
    if entries and entries[0][0] == "features":
        features, index = list(entries[0][1].names), 1
    layers: list[int] = []
    acts: list[str] = []
    dropout: list[float] = []
    while index < len(entries) - 1:
        kind, options = entries[index]
        follower = entries[index + 1][0]
        if kind != "linear" or follower not in ACTIVATIONS:
            raise UserError(
                "the playground draws hidden layers as linear + one activation (+ dropout); "
                f"this spec has '{kind}' followed by '{follower}' at model.layers[{index}]"
            )
        layers.append(options.out_features)
        acts.append(follower)
        index += 2
        if index < len(entries) and entries[index][0] == "dropout":
            dropout.append(entries[index][1].p)
            index += 1
        else:
            dropout.append(0.0)
    if index != len(entries) - 1 or entries[-1][0] != "linear":
        raise UserError("the playground needs a last linear layer (the output) in model.layers")
    return features, layers, acts, dropout


MAX_UPLOAD = 60_000  # characters of an uploaded CSV (the page's messages stay under 64 KB)


def points_from_csv(text: str, name: str, settings: dict[str, Any]) -> list[list[float]]:
    """The points of an uploaded CSV: two features and a label or a target, or one feature
    and a target.

    The text is read by the csv source's own reader (`data.files.load_csv`, target: the last
    column), so a bad cell gets the same message as in a spec; the file is a private
    temporary one, gone when this returns, and messages name the upload by its name only.
    """

    if not isinstance(text, str) or len(text) > MAX_UPLOAD:
        raise UserError(f"upload: at most {MAX_UPLOAD:,} characters of CSV text")
    shown = "".join(c for c in str(name) if c.isalnum() or c in "._-")[-64:] or "upload.csv"
    with tempfile.TemporaryDirectory(prefix="tinygrad-edu-upload-") as folder:
        path = Path(folder) / shown
        path.write_text(text, encoding="utf-8")
        try:
            examples = load_csv(path, target=-1, header="auto", delimiter=",")
        except UserError as error:
            raise UserError(str(error).replace(str(path), shown)) from None
    X, y = examples.X, examples.y
    regression, curve = is_regression(settings), is_curve(settings)
    features = 1 if curve else 2
    if X.shape[1] != features:
        kind = "one feature and a target" if curve else "two features and a label"
        kind = "two features and a target" if regression and not curve else kind
        raise UserError(
            f"{shown}: this data set needs {kind} per row (the target last), found "
            f"{X.shape[1] + 1} columns"
        )
    if regression:
        if y.dtype.kind in "US":
            raise UserError(f"{shown}: the targets must be numbers for regression")
        return [[*map(float, x), float(t)] for x, t in zip(X, y)]
    values, labels = np.unique(y, return_inverse=True)
    if len(values) != 2:
        raise UserError(f"{shown}: the label column must hold two classes, found {len(values)}")
    if y.dtype.kind not in "US" and set(values.tolist()) == {0.0, 1.0}:
        labels = y.astype(np.int64)  # 0/1 stay what they are
    return [[float(a), float(b), int(c)] for (a, b), c in zip(X, labels)]
