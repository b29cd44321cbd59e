"""Weights as ``.safetensors``: PyTorch's key names and shapes, plus string metadata.

Our `nn.Sequential` names parameters exactly as PyTorch's does (``1.weight`` of shape
(out, in), ``1.bias``), so the file loads into the same ``torch.nn.Sequential`` with
``load_state_dict(safetensors.torch.load_file(path), strict=True)``, and a PyTorch state
dict saved with ``safetensors.torch.save_file`` loads here. safetensors stores raw
arrays and a JSON header, never pickled code, so loading a file cannot run anything.

The format itself (header, checks, bytes) is `safetensors_format`; here are the files of
a model: written atomically, read with every key and shape checked against the model
before its tensors are read. The metadata an exported file carries (the spec, the input
normalization, the class names) is `runs.exported`'s.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserError
from .atomic import atomic_write
from .reading import check_fits, open_regular
from .safetensors_format import encode, read_header, read_tensors

PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".pkl", ".ckpt")


def save_safetensors(
    model: Any, path: str | Path, metadata: Mapping[str, Any] | None = None
) -> Path:
    """Write the model's parameters (state-dict names and shapes) to `path`, atomically,
    the same bytes for the same weights and metadata.

    `metadata` values that are not strings are stored as JSON text (safetensors keeps
    only a string-to-string map).
    """
    text = {k: v if isinstance(v, str) else json.dumps(v) for k, v in (metadata or {}).items()}
    data = encode(model.state_dict(), text)
    path = Path(path)
    with atomic_write(path) as handle:
        handle.write(data)
    return path


def read_safetensors(
    path: str | Path, expected: Mapping[str, tuple[int, ...]] | None = None
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """(arrays by name, string metadata) of a ``.safetensors`` file; never unpickles.

    The header is checked first: against the file, and against `expected` (names to
    shapes) when given, before any tensor is read; then the tensors must fit in memory.
    """
    path = Path(path)
    check_weights_file(path)
    try:
        entries, metadata = read_header(path)
        if expected is not None:
            check_state(expected, {name: entry.shape for name, entry in entries.items()}, path)
        check_fits(path, sum(entry.nbytes for entry in entries.values()), "its tensors")
        return read_tensors(path, entries), metadata
    except OSError as error:
        raise UserError(f"{path}: cannot read it ({error.strerror or error})") from None


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
    fix = "give the .safetensors file of the weights"
    open_regular(path, None, "weights file", fix, f"weights file not found: {path}").close()


def parameter_shapes(model: Any) -> dict[str, tuple[int, ...]]:
    return {name: tuple(param.shape) for name, param in model.named_parameters()}


def check_state(
    expected: Mapping[str, tuple[int, ...]],
    found: Mapping[str, tuple[int, ...]],
    path: str | Path,
) -> None:
    """Every name and shape of the file (`found`) must be the model's (`expected`); names
    the first mismatch."""
    for name, shape in expected.items():
        if name not in found:
            raise UserError(
                f"{path}: the model has '{name}' of shape {shape}, but the file has no such "
                f"key (it has: {', '.join(found) or 'none'}); was it saved from the same "
                "network (the same layers, as an nn.Sequential)?"
            )
        if tuple(found[name]) != shape:
            raise UserError(
                f"{path}: '{name}' has shape {tuple(found[name])} in the file, but the model "
                f"expects {shape}; the file was saved from a different network"
            )
    for name in found:
        if name not in expected:
            raise UserError(
                f"{path}: the file has '{name}' of shape {tuple(found[name])}, which "
                f"the model does not have (it has: {', '.join(expected)})"
            )


def load_safetensors(model: Any, path: str | Path) -> dict[str, str]:
    """Load a ``.safetensors`` file's weights into `model` after checking every key and
    shape from the header; returns the file's metadata."""
    arrays, metadata = read_safetensors(path, parameter_shapes(model))
    model.load_state_dict(arrays)
    return metadata
