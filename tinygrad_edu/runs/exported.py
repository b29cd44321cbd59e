"""What an exported file carries besides weights, so that the file alone is enough to predict.

The string metadata of ``.safetensors`` and ``.onnx`` exports (`export`) holds the resolved
spec (how to rebuild the network), the input normalization (how to prepare raw inputs) and
the class names (how to label the outputs). It is written by `file_metadata` and read back,
checked, by `read_run_file`, which gives an exported file the form of a run folder's
``model.npz``, so that ``evaluate`` and ``predict`` (`finished`) take either.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from ..errors import UserError
from ..io.npz import prefix_keys
from ..io.safetensors import (
    check_weights_file,
    parameter_dtypes,
    parameter_shapes,
    read_safetensors,
)
from ..io.safetensors_format import read_header
from ..objectives import loss_options, task_of
from ..spec import build_model, parse_spec, spec_to_dict
from ..spec.limits import check_memory

# the keys of the string metadata in exported files
SPEC_KEY = "tinygrad_edu.spec"
NORMALIZATION_KEY = "tinygrad_edu.normalization"
CLASS_NAMES_KEY = "tinygrad_edu.class_names"
VERSION_KEY = "tinygrad_edu.version"


def file_metadata(
    spec: Any, normalization: dict[str, Any], class_names: list | None
) -> dict[str, str]:
    """The string map stored in exported files (see the module docstring)."""

    return {
        SPEC_KEY: spec_yaml(spec),
        NORMALIZATION_KEY: json.dumps(
            {
                "method": normalization["method"],
                "shift": np.asarray(normalization["shift"]).tolist(),
                "scale": np.asarray(normalization["scale"]).tolist(),
            }
        ),
        CLASS_NAMES_KEY: json.dumps(class_names),
        VERSION_KEY: __version__,
    }


def spec_yaml(spec: Any) -> str:
    """The resolved spec as YAML: every default written out, data paths absolute."""
    import yaml

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


def read_run_file(path: str | Path) -> tuple[Any, dict[str, Any]]:
    """(spec, flat contents) of an exported ``.safetensors`` file, in the form of a run
    folder's ``model.npz`` (``model/...``, ``norm/...``, ``meta/class_names``), so that
    predict and evaluate run from the file alone.

    The file's metadata is untrusted input like any spec: the embedded spec is validated
    and its memory estimated, and the normalization and class names are checked against
    its network, before the model is built and the tensors read.
    """
    path = Path(path)
    check_weights_file(path)
    _, metadata = read_header(path)
    if SPEC_KEY not in metadata:
        raise UserError(
            f"{path} holds weights but no tinygrad_edu metadata (no spec), so it cannot be "
            "used alone; export a run with python cli.py export RUN_DIR --format safetensors, "
            "or load these weights into a spec with init: {from: ...} or --init-from"
        )
    spec = parse_spec(metadata[SPEC_KEY], file=f"{path} (its metadata {SPEC_KEY})")
    try:
        check_memory(spec, training=False)
    except UserError as error:
        raise UserError(f"{path}: the network its metadata {SPEC_KEY} describes: {error}") from None
    normalization = normalization_from_metadata(metadata, spec, path)
    class_names = class_names_from_metadata(metadata, spec, path)
    model = build_model(spec)
    arrays, _ = read_safetensors(path, parameter_shapes(model), parameter_dtypes(model))
    flat: dict[str, Any] = prefix_keys(arrays, "model")
    flat.update(prefix_keys(normalization, "norm"))
    flat["meta/class_names"] = class_names
    return spec, flat
