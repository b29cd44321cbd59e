"""Run folders: start, resume, evaluate and predict, as the CLI's train/evaluate/predict.

A run folder holds everything needed to continue or use a run without the original spec
file: ``spec.yaml`` (the resolved spec, every default written out), ``metrics.csv``,
``checkpoint.npz`` (latest state, for ``--resume``) and, once finished, ``model.npz``
(weights, the input normalization and class names, for ``evaluate`` and ``predict``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from ..errors import UserError
from .checkpoint import load_npz, unflatten, write_text_atomic
from .loop import CHECKPOINT, MODEL, SPEC, Setup, Trainer, make_run_dir, new_run_dir, prepare

if TYPE_CHECKING:
    from ..spec import Spec


def _load(spec_path: str | Path | Spec, overrides: Mapping[str, Any]) -> Any:
    from ..spec import Spec, apply_overrides, load_spec

    spec = spec_path if isinstance(spec_path, Spec) else load_spec(spec_path)
    return apply_overrides(spec, overrides) if overrides else spec


def _spec_yaml(spec: Any) -> str:
    """The resolved spec as YAML, with data paths made absolute so the run folder works
    from anywhere."""
    import yaml

    from ..spec import spec_to_dict

    data = spec_to_dict(spec)
    if "path" in data.get("data", {}):
        data["data"]["path"] = str(Path(data["data"]["path"]).resolve())
    header = "# The resolved spec of this run: every default written out.\n"
    return header + yaml.safe_dump(data, sort_keys=False)


def train(
    spec_path: str | Path | Spec | None,
    overrides: Mapping[str, Any],
    out: str | Path | None = None,
    resume: str | Path | None = None,
    quiet: bool = False,
    as_json: bool = False,
    stream: IO[str] | None = None,
    on_step: Any = None,
) -> dict[str, Any]:
    """Train a spec in a new run folder, or continue the run in `resume`.

    `spec_path` is a spec file or an already validated `Spec` (a sweep's variants).

    Returns the final metrics (last epoch's row plus the test split's metrics).
    """
    from .progress import choose_reporter

    stream = stream or (sys.stderr if as_json else sys.stdout)
    if resume is not None:
        run_dir = Path(resume)
        if not (run_dir / CHECKPOINT).is_file():
            raise UserError(
                f"cannot resume {run_dir}: it holds no {CHECKPOINT}; give the folder of a run "
                "that was started with 'train' (runs/<name>/<timestamp>)"
            )
        spec = _load(run_dir / SPEC, overrides)
    else:
        if spec_path is None:
            raise UserError("train needs a spec file, e.g. python cli.py train specs/mlp.yaml")
        spec = _load(spec_path, overrides)
        run_dir = make_run_dir(Path(out) if out else new_run_dir(spec.name))
    setup = prepare(spec)
    if resume is None:
        load_initial_weights(setup.model, spec)
    write_text_atomic(run_dir / SPEC, _spec_yaml(spec))
    trainer = Trainer(setup, run_dir, choose_reporter(quiet, stream), on_step=on_step)
    if resume is not None:
        trainer.load_checkpoint(run_dir / CHECKPOINT)
    history = trainer.fit()
    from .objectives import evaluate_arrays

    ds = setup.dataset
    final: dict[str, Any] = dict(history[-1]) if history else {}
    if len(ds.X_test):
        test = evaluate_arrays(setup.model, setup.objective, ds.X_test, ds.y_test)
        final.update({f"test_{k}": v for k, v in test.items()})
    final["run_dir"] = str(run_dir)
    if not quiet and not as_json:
        print(_final_line(final), file=stream)
    return final


def load_initial_weights(model: Any, spec: Any) -> None:
    """Replace the seed's initial weights by those of the spec's ``init.from`` (a
    safetensors state dict, PyTorch's or ours), when it names one; every key and shape
    is checked."""
    if getattr(spec, "init", None) is not None:
        from ..export.safetensors import load_safetensors

        load_safetensors(model, getattr(spec.init, "from"))


def _final_line(final: Mapping[str, Any]) -> str:
    if "test_accuracy" in final:
        result = f"test accuracy {final['test_accuracy']:.4f} (loss {final['test_loss']:.4f})"
    elif "test_loss" in final:
        result = (
            f"test loss {final['test_loss']:.4f}, MAE {final['test_mae']:.4f}, "
            f"R^2 {final['test_r2']:.4f}"
        )
    else:
        result = "done"
    return f"{result}; run folder: {final['run_dir']}"


def print_json(data: Mapping[str, Any]) -> None:
    print(json.dumps(data, indent=2, default=float))


# --- using a finished run -----------------------------------------------------------------


def load_run(run_dir: str | Path) -> tuple[Any, dict[str, Any]]:
    """(spec, contents of model.npz, or of checkpoint.npz for an unfinished run); an
    exported ``.safetensors`` file gives the same from its metadata."""
    from ..spec import load_spec

    run_dir = Path(run_dir)
    if run_dir.suffix == ".safetensors":
        from ..export.safetensors import read_run_file

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
    return load_spec(run_dir / SPEC), load_npz(weights)


def load_initialized_spec(path: Path) -> tuple[Any, dict[str, Any]]:
    """(spec, model.npz-like contents) of a spec whose ``init.from`` names trained weights
    (a PyTorch run's, say), so evaluate and predict need no run folder."""
    from ..spec import load_spec
    from .checkpoint import flatten

    spec = load_spec(path)
    if getattr(spec, "init", None) is None:
        raise UserError(
            f"{path} is a spec without init.from, so it has no trained weights; give a run "
            "folder, an exported .safetensors file, or a spec with init: {from: FILE.safetensors}"
        )
    setup = prepare(spec)
    load_initial_weights(setup.model, spec)
    flat = flatten("model", setup.model.state_dict())
    flat.update(flatten("norm", setup.dataset.normalization))
    flat["meta/class_names"] = setup.dataset.class_names
    return spec, flat


def restore(run_dir: str | Path) -> Setup:
    """A finished (or interrupted) run rebuilt: its spec's data, with the same seed and
    split, and its model with the saved weights, in evaluation mode."""
    spec, flat = load_run(run_dir)
    setup = prepare(spec)
    setup.model.load_state_dict(unflatten("model", flat))
    setup.model.eval()
    return setup


def evaluate(run_dir: str | Path) -> dict[str, Any]:
    """Metrics of a run's model on its test split."""
    from .objectives import evaluate_arrays

    setup = restore(run_dir)
    ds = setup.dataset
    if not len(ds.X_test):
        raise UserError(f"the run's data has no test split (data.test_fraction is 0): {run_dir}")
    metrics = evaluate_arrays(setup.model, setup.objective, ds.X_test, ds.y_test)
    return {"run_dir": str(run_dir), "test_samples": len(ds.X_test), **metrics}


def predict(run_dir: str | Path, input_path: str | Path, output_path: str | Path) -> int:
    """Write predictions for the rows of a CSV or the array X of an .npz; returns the count."""
    from .. import backend
    from ..data import apply_normalization
    from ..data.files import load_features
    from ..spec import build_model
    from .objectives import Objective, loss_options, predict_arrays

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
    X = apply_normalization(unflatten("norm", flat), X)
    backend.set_backend(spec.backend)
    model = build_model(spec)
    model.load_state_dict(unflatten("model", flat))
    outputs = predict_arrays(model, X)
    name, options = loss_options(spec.loss)
    objective = Objective(name, outputs.shape[-1] if outputs.ndim > 1 else 1, options)
    lines = _prediction_rows(objective, outputs, flat.get("meta/class_names"))
    write_text_atomic(output_path, "\n".join(lines) + "\n")
    return len(X)


def _prediction_rows(objective: Any, outputs: np.ndarray, class_names: list | None) -> list[str]:
    if objective.task == "regression":
        return ["prediction"] + [repr(float(v)) for v in outputs.reshape(len(outputs), -1)[:, 0]]
    probs = objective.probabilities(outputs)
    names = class_names or [str(c) for c in range(probs.shape[1])]
    rows = [",".join(["prediction"] + [f"p_{n}" for n in names])]
    for cls, p in zip(objective.predict(outputs), probs):
        rows.append(",".join([str(names[int(cls)])] + [f"{v:.6f}" for v in p]))
    return rows
