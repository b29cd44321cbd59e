"""Using a finished run: its model, its weights, its metrics on the test split, predictions.

A run folder (`training.layout`) is used without the original spec file: ``spec.yaml``
rebuilds the network and the data (same seed, same split), ``model.npz`` holds the trained
weights, the input normalization and the class names (``checkpoint.npz`` stands in for an
unfinished run). An exported ``.safetensors`` file (`exported`) or a spec whose
``init.from`` names trained weights (`init_from`) serve as well. Starting a run is `start`.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import Any

import numpy as np

from .. import backend
from ..data import apply_normalization
from ..data.files import load_features
from ..errors import UserError
from ..io.atomic import check_writable_file, write_text_atomic
from ..io.npz import keys_under, load_npz, prefix_keys
from ..objectives import Objective, evaluate_arrays, loss_options, predict_arrays
from ..spec import build_model, load_spec
from ..training.layout import CHECKPOINT, MODEL, SPEC
from ..training.loop import DAMAGED_CHECKPOINT, Setup, prepare
from .exported import read_run_file
from .init_from import load_initial_weights


def load_run(run_dir: str | Path) -> tuple[Any, dict[str, Any]]:
    """(spec, contents of model.npz, or of checkpoint.npz for an unfinished run); an
    exported ``.safetensors`` file gives the same from its metadata."""
    run_dir = Path(run_dir)
    if run_dir.suffix == ".safetensors":
        return read_run_file(run_dir)
    if run_dir.suffix in (".yaml", ".yml"):
        return load_initialized_spec(run_dir)
    if not run_dir.is_dir():
        raise UserError(f"run folder not found: {run_dir}")
    weights = run_dir / MODEL
    if not weights.is_file():
        weights = run_dir / CHECKPOINT
    if not weights.is_file():
        raise UserError(
            f"{run_dir} holds neither {MODEL} nor {CHECKPOINT}: train first "
            "(python cli.py train SPEC), then use its run folder"
        )
    if weights.name == MODEL:
        advice = (
            "evaluate and predict need it. Same spec and seed give bit-identical weights, so "
            f"training again rebuilds it: python cli.py train {run_dir / SPEC} --out NEW_DIR"
        )
    else:
        advice = DAMAGED_CHECKPOINT
    return load_spec(run_dir / SPEC), load_npz(weights, advice=advice)


def load_weights(run_dir: str | Path) -> dict[str, np.ndarray]:
    """The run's model state dict (``'1.weight'``, ...: no ``model/`` prefix), from
    model.npz, or from checkpoint.npz for an unfinished run, so that
    ``nn.MLP(784, [128], 10).load_state_dict(load_weights(run_dir))`` loads it directly."""
    return keys_under(load_run(run_dir)[1], "model")


def load_model(run_dir: str | Path) -> Any:
    """The run's model, built from its ``spec.yaml`` (in the spec's dtype, on the active
    backend) with its trained weights, in evaluation mode. Inputs must be normalized as
    in training (``norm/`` in model.npz; ``predict`` does it for files)."""
    spec, flat = load_run(run_dir)
    model = build_model(spec)
    model.load_state_dict(keys_under(flat, "model"))
    return model.eval()


def load_initialized_spec(path: Path) -> tuple[Any, dict[str, Any]]:
    """(spec, model.npz-like contents) of a spec whose ``init.from`` names trained weights
    (a PyTorch run's, say), so evaluate and predict need no run folder."""
    spec = load_spec(path)
    if getattr(spec, "init", None) is None:
        raise UserError(
            f"{path} is a spec without init.from, so it has no trained weights; give a run "
            "folder, an exported .safetensors file, or a spec with init: {from: FILE.safetensors}"
        )
    setup = prepare(spec)
    load_initial_weights(setup.model, spec)
    flat = prefix_keys(setup.model.state_dict(), "model")
    flat.update(prefix_keys(setup.dataset.normalization, "norm"))
    flat["meta/class_names"] = setup.dataset.class_names
    return spec, flat


def restore(run_dir: str | Path) -> Setup:
    """A finished (or interrupted) run rebuilt: its spec's data, with the same seed and
    split, and its model with the saved weights, in evaluation mode."""
    spec, flat = load_run(run_dir)
    setup = prepare(spec, engine="tensor")
    setup.model.load_state_dict(keys_under(flat, "model"))
    setup.model.eval()
    return setup


def evaluate(run_dir: str | Path) -> dict[str, Any]:
    """Metrics of a run's model on its test split."""
    setup = restore(run_dir)
    ds = setup.dataset
    if not len(ds.X_test):
        raise UserError(
            f"{run_dir}: the run's test split holds no samples, so there is nothing to "
            "evaluate; train with more samples or a larger data.test_fraction"
        )
    metrics = evaluate_arrays(setup.model, setup.objective, ds.X_test, ds.y_test)
    return {"run_dir": str(run_dir), "test_samples": len(ds.X_test), **metrics}


def predict(run_dir: str | Path, input_path: str | Path, output_path: str | Path) -> int:
    """Write predictions for the rows of a CSV or the array X of an .npz; returns the count."""
    check_writable_file(output_path)  # before the work, not after it
    spec, flat = load_run(run_dir)
    if "norm/shift" not in flat:
        raise UserError(f"{run_dir} has no finished model ({MODEL}); let the training finish")
    X = load_features(input_path)
    features = int(np.prod(spec.model.input))
    if X.shape[1] != features:
        raise UserError(
            f"{input_path}: rows have {X.shape[1]} values but the model takes {features} "
            "features per sample; give only the feature columns (no target column)"
        )
    X = apply_normalization(keys_under(flat, "norm"), X)
    backend.set_backend(spec.backend)
    model = build_model(spec)
    model.load_state_dict(keys_under(flat, "model"))
    name, options = loss_options(spec.loss)
    with np.errstate(over="ignore", invalid="ignore"):  # reported once, below, in words
        outputs = predict_arrays(model, X)
        objective = Objective(name, outputs.shape[-1] if outputs.ndim > 1 else 1, options)
        rows = prediction_rows(objective, outputs, flat.get("meta/class_names"))
    write_text_atomic(output_path, csv_text(rows))
    bad = int(np.count_nonzero(~np.all(np.isfinite(outputs.reshape(len(outputs), -1)), axis=1)))
    if bad:
        print(
            f"warning: {bad} of {len(X)} predictions in {output_path} are not finite (nan or "
            "inf): those rows' features are far outside the range of the training data",
            file=sys.stderr,
        )
    return len(X)


def prediction_rows(
    objective: Any, outputs: np.ndarray, class_names: list | None
) -> list[list[str]]:
    """The cells of the predictions CSV: a header, then per sample the prediction (the
    class name, or the regression value in full) and each class's probability."""
    if objective.task == "regression":
        values = outputs.reshape(len(outputs), -1)[:, 0]
        return [["prediction"]] + [[repr(float(v))] for v in values]
    probs = objective.probabilities(outputs)
    names = class_names or [str(c) for c in range(probs.shape[1])]
    rows = [["prediction"] + [f"p_{n}" for n in names]]
    for cls, p in zip(objective.predict(outputs), probs):
        rows.append([str(names[int(cls)])] + [f"{v:.6f}" for v in p])
    return rows


def csv_text(rows: list[list[str]]) -> str:
    """`rows` as CSV, as RFC 4180 says and the csv module writes by default: a class name
    with a comma, a quote or a line break is quoted and stays one cell. Lines end in
    CRLF: with a bare LF as line end the module leaves a lone CR unquoted, and a reader
    then splits the row there."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()
