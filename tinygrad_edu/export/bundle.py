"""A model with everything needed to use it elsewhere: its spec, weights, input
normalization and class names, gathered once for every export format.

A `Bundle` comes from a finished run folder (trained weights) or from a spec (the
weights the seed gives, plus ``init.from`` if the spec names one). Its `metadata` is the
string map that travels inside ``.safetensors`` and ``.onnx`` files, so a file alone is
enough to predict: the resolved spec says how to rebuild the network, the normalization
how to prepare raw inputs, the class names how to label the outputs.
"""

from __future__ import annotations

import importlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from ..errors import UserError
from ..extras import install_hint

# .safetensors files are read and written by `safetensors_format`: only ONNX needs a library
EXPORT_HINT = f"export --format onnx needs onnx: {install_hint('export')}"

# the keys of the string metadata in exported files
SPEC_KEY = "tinygrad_edu.spec"
NORMALIZATION_KEY = "tinygrad_edu.normalization"
CLASS_NAMES_KEY = "tinygrad_edu.class_names"
VERSION_KEY = "tinygrad_edu.version"


def require(module: str) -> ModuleType:
    """Import an optional library of the ``export`` extra (onnx), or fail with the install
    hint."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise UserError(EXPORT_HINT) from None


@dataclass
class Bundle:
    """A model in evaluation mode and what using it needs; ``dataset`` is the run's data
    (its exact split), or None for a bundle read back from a file."""

    spec: Any
    model: Any
    normalization: dict[str, Any]
    class_names: list[Any] | None
    dataset: Any = None

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.spec.model.input)

    def metadata(self) -> dict[str, str]:
        """The string map stored in exported files (see the module docstring)."""
        from .. import __version__

        return {
            SPEC_KEY: spec_yaml(self.spec),
            NORMALIZATION_KEY: json.dumps(
                {
                    "method": self.normalization["method"],
                    "shift": np.asarray(self.normalization["shift"]).tolist(),
                    "scale": np.asarray(self.normalization["scale"]).tolist(),
                }
            ),
            CLASS_NAMES_KEY: json.dumps(self.class_names),
            VERSION_KEY: __version__,
        }


def spec_yaml(spec: Any) -> str:
    """The resolved spec as YAML: every default written out, data paths absolute."""
    import yaml

    from ..spec import spec_to_dict

    return yaml.safe_dump(spec_to_dict(spec), sort_keys=False)


def normalization_from_metadata(metadata: dict[str, str], spec: Any, path: Path) -> dict[str, Any]:
    """The normalization a file's metadata holds, checked: a method, and a shift and a
    scale of finite numbers, one per input feature (or one for all)."""
    features = math.prod(spec.model.input)
    stats = _metadata_json(metadata, NORMALIZATION_KEY, path)
    arrays = {}
    for key in ("shift", "scale"):
        values = stats.get(key) if isinstance(stats, dict) else None
        try:
            array = np.asarray(values, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            array = np.zeros(0)
        if values is None or len(array) not in (1, features) or not np.all(np.isfinite(array)):
            raise _bad_metadata(
                path,
                NORMALIZATION_KEY,
                f"its {key} must be a list of 1 or {features} finite numbers (one per input "
                f"feature), found {str(values)[:80]}",
            )
        arrays[key] = array
    if not isinstance(stats.get("method"), str):
        raise _bad_metadata(path, NORMALIZATION_KEY, "it has no method (a name, e.g. standard)")
    return {"method": stats["method"], **arrays}


def class_names_from_metadata(metadata: dict[str, str], spec: Any, path: Path) -> list | None:
    """The class names a file's metadata holds, checked: null, or one name (text or a
    number) per class of the network's output."""
    from ..training.objectives import loss_options, task_of

    if CLASS_NAMES_KEY not in metadata:
        return None
    names = _metadata_json(metadata, CLASS_NAMES_KEY, path)
    if names is None or task_of(loss_options(spec.loss)[0]) != "classification":
        return names
    outputs = spec.model.output_shape[-1]
    classes = outputs if outputs > 1 else 2  # one logit: two classes
    scalars = isinstance(names, list) and all(
        isinstance(name, (str, int, float)) and not isinstance(name, bool) for name in names
    )
    if not scalars or len(names) != classes:
        raise _bad_metadata(
            path,
            CLASS_NAMES_KEY,
            f"it must list {classes} class names (text or numbers), one per class of the "
            f"network, found {str(names)[:80]}",
        )
    return names


def _metadata_json(metadata: dict[str, str], key: str, path: Path) -> Any:
    if key not in metadata:
        raise _bad_metadata(path, key, "it is missing")
    try:
        return json.loads(metadata[key])
    except ValueError as error:
        raise _bad_metadata(path, key, f"it is not JSON ({error})") from None


def _bad_metadata(path: Path, key: str, problem: str) -> UserError:
    return UserError(
        f"{path}: the metadata {key} is malformed: {problem}. The file was changed after "
        "it was exported: export the run again (python cli.py export RUN_DIR --format "
        "safetensors)"
    )


def from_run(run_dir: str | Path, with_data: bool = False) -> Bundle:
    """The trained model of a run folder, from its ``model.npz``; `with_data` also rebuilds
    the run's data (same seed, same split), which only the torch format needs."""
    from .. import backend
    from ..spec import build_model
    from ..training.checkpoint import unflatten
    from ..training.loop import MODEL, prepare
    from ..training.runs import load_run

    spec, flat = load_run(run_dir)
    if "norm/shift" not in flat:
        raise UserError(f"{run_dir} has no finished model ({MODEL}); let the training finish")
    dataset = prepare(spec).dataset if with_data else None
    backend.set_backend(spec.backend)
    model = build_model(spec)
    model.load_state_dict(unflatten("model", flat))
    model.eval()
    return Bundle(spec, model, unflatten("norm", flat), flat.get("meta/class_names"), dataset)


def from_spec(spec: Any) -> Bundle:
    """A spec's model before training: the weights its seed gives (or its ``init.from``)."""
    from ..training.loop import prepare
    from ..training.runs import load_initial_weights

    setup = prepare(spec)
    load_initial_weights(setup.model, spec)
    setup.model.eval()
    ds = setup.dataset
    return Bundle(spec, setup.model, ds.normalization, ds.class_names, ds)


def load_bundle(source: Any, with_data: bool = False) -> Bundle:
    """A `Bundle` from a run folder, a spec file or a validated `Spec` (a spec's always has
    its data: the normalization comes from it)."""
    from ..spec import Spec, load_spec

    if isinstance(source, Spec):
        return from_spec(source)
    path = Path(source)
    if path.is_dir():
        return from_run(path, with_data)
    if path.suffix in (".yaml", ".yml"):
        return from_spec(load_spec(path))
    raise UserError(
        f"{path}: give a run folder (runs/<name>/<timestamp>) or a spec file (.yaml) to export"
    )
