"""Weights as ``.safetensors``: PyTorch's key names and shapes, plus string metadata.

Our `nn.Sequential` names parameters exactly as PyTorch's does (``1.weight`` of shape
(out, in), ``1.bias``), so the file loads into the same ``torch.nn.Sequential`` with
``load_state_dict(safetensors.torch.load_file(path), strict=True)``, and a PyTorch state
dict saved with ``safetensors.torch.save_file`` loads here. safetensors stores raw
arrays and a JSON header, never pickled code, so loading a file cannot run anything.

The metadata (see `bundle.Bundle.metadata`) makes a file self-contained: `read_run_file`
rebuilds the spec, normalization and class names from it, for ``predict`` and
``evaluate`` without the run folder.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserError
from .bundle import (
    CLASS_NAMES_KEY,
    SPEC_KEY,
    normalization_from_metadata,
    require,
)

PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".pkl", ".ckpt")


def save_safetensors(
    model: Any, path: str | Path, metadata: Mapping[str, Any] | None = None
) -> Path:
    """Write the model's parameters (state-dict names and shapes) to `path`, atomically.

    `metadata` values that are not strings are stored as JSON text (safetensors keeps
    only a string-to-string map).
    """
    st = require("safetensors.numpy")
    from ..training.checkpoint import atomic_write

    arrays = {name: np.ascontiguousarray(array) for name, array in model.state_dict().items()}
    text = {k: v if isinstance(v, str) else json.dumps(v) for k, v in (metadata or {}).items()}
    data = st.save(arrays, metadata=text or None)
    path = Path(path)
    with atomic_write(path) as handle:
        handle.write(data)
    return path


def read_safetensors(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """(arrays by name, string metadata) of a ``.safetensors`` file; never unpickles."""
    path = Path(path)
    check_weights_file(path)
    require("safetensors.numpy")
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="np") as handle:
            metadata = dict(handle.metadata() or {})
            arrays = {key: handle.get_tensor(key) for key in handle.keys()}
    except (SafetensorError, OSError) as error:
        raise UserError(f"{path}: not a readable .safetensors file ({error})") from None
    return arrays, metadata


def check_weights_file(path: Path) -> None:
    """A missing file, a pickled PyTorch file, or no regular file (a folder, a FIFO,
    /dev/zero: reading it would fail or never end) is a user error with the fix."""
    if path.suffix.lower() in PICKLE_SUFFIXES:
        raise UserError(
            f"{path} is a pickled PyTorch file, and tinygrad_edu never unpickles (loading a "
            'pickle can run any code). Convert it once with PyTorch: python -c "import torch, '
            f"safetensors.torch as st; st.save_file(torch.load('{path}'), "
            f"'{path.with_suffix('.safetensors')}')\" (for a whole saved model, use "
            "torch.load(...).state_dict()), then give the .safetensors file"
        )
    from ..data.reading import open_regular

    fix = "give the .safetensors file of the weights"
    open_regular(path, None, "weights file", fix, f"weights file not found: {path}").close()


def check_state(model: Any, arrays: Mapping[str, np.ndarray], path: str | Path) -> None:
    """Every key and shape of the file must be the model's; names the first mismatch."""
    expected = {name: tuple(param.shape) for name, param in model.named_parameters()}
    for name, shape in expected.items():
        if name not in arrays:
            raise UserError(
                f"{path}: the model has '{name}' of shape {shape}, but the file has no such "
                f"key (it has: {', '.join(arrays) or 'none'}); was it saved from the same "
                "network (the same layers, as an nn.Sequential)?"
            )
        found = tuple(np.shape(arrays[name]))
        if found != shape:
            raise UserError(
                f"{path}: '{name}' has shape {found} in the file, but the model expects "
                f"{shape}; the file was saved from a different network"
            )
    for name in arrays:
        if name not in expected:
            raise UserError(
                f"{path}: the file has '{name}' of shape {tuple(np.shape(arrays[name]))}, which "
                f"the model does not have (it has: {', '.join(expected)})"
            )


def load_safetensors(model: Any, path: str | Path) -> dict[str, str]:
    """Load a ``.safetensors`` file's weights into `model` after checking every key and
    shape; returns the file's metadata."""
    arrays, metadata = read_safetensors(path)
    check_state(model, arrays, path)
    model.load_state_dict(arrays)
    return metadata


def read_run_file(path: str | Path) -> tuple[Any, dict[str, Any]]:
    """(spec, flat contents) of an exported ``.safetensors`` file, in the form of a run
    folder's ``model.npz`` (``model/...``, ``norm/...``, ``meta/class_names``), so that
    predict and evaluate run from the file alone."""
    from ..spec import parse_spec
    from ..training.checkpoint import flatten

    arrays, metadata = read_safetensors(path)
    if SPEC_KEY not in metadata:
        raise UserError(
            f"{path} holds weights but no tinygrad_edu metadata (no spec), so it cannot be "
            "used alone; export a run with python cli.py export RUN_DIR --format safetensors, "
            "or load these weights into a spec with init: {from: ...} or --init-from"
        )
    spec = parse_spec(metadata[SPEC_KEY], file=str(path))
    flat: dict[str, Any] = flatten("model", arrays)
    flat.update(flatten("norm", normalization_from_metadata(metadata)))
    flat["meta/class_names"] = json.loads(metadata.get(CLASS_NAMES_KEY, "null"))
    return spec, flat
