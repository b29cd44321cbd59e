"""Safe files: atomic writes, and `.npz` checkpoints that load without pickle.

Everything the trainer writes goes through `atomic_write`: the bytes go to a temporary
file in the same folder, are flushed to disk, and only then replace the target with
``os.replace`` (atomic on POSIX and Windows). A crash or a kill at any moment leaves
either the old file or the new one, never a torn one.

A checkpoint is one flat ``.npz``: names with ``/`` separating the parts (``model/0.weight``,
``optim/step``, ``meta/epoch``) and plain arrays as values. Python objects that are not
arrays (the random generator's state) are stored as JSON text in a 0-d string array, so
`load_npz` can use ``allow_pickle=False``.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..errors import UserError


@contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file next to `path`; on success move it over `path` atomically."""
    target = Path(path)
    handle = tempfile.NamedTemporaryFile(
        mode=mode, dir=target.parent, prefix=f".{target.name}.", suffix=".tmp", delete=False
    )
    try:
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, 0o666 & ~_umask())  # temp files are 0600; give the usual mode
        os.replace(handle.name, target)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    with atomic_write(path, "w") as handle:
        handle.write(text)


def save_npz(path: str | os.PathLike, arrays: Mapping[str, Any]) -> None:
    """Write a flat mapping of name -> array (or JSON-able object) as an .npz, atomically."""
    packed = {name: _pack(value) for name, value in arrays.items()}
    with atomic_write(path) as handle:
        np.savez(handle, **packed)


def load_npz(path: str | os.PathLike) -> dict[str, Any]:
    """Read an .npz written by `save_npz` (no pickle), unpacking JSON entries."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: _unpack(data[name]) for name in data.files}
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except (OSError, ValueError) as error:
        raise UserError(f"{path}: not a readable .npz checkpoint ({error})") from None


_JSON_PREFIX = "json:"


def _pack(value: Any) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (dict, list, str)) or value is None:
        return np.array(_JSON_PREFIX + json.dumps(value))
    return np.asarray(value)


def _unpack(array: np.ndarray) -> Any:
    if array.dtype.kind == "U" and array.ndim == 0 and str(array).startswith(_JSON_PREFIX):
        return json.loads(str(array)[len(_JSON_PREFIX) :])
    if array.ndim == 0:
        return array.item()
    return array


def flatten(prefix: str, state: Mapping[str, Any]) -> dict[str, Any]:
    """``{"a": 1}`` under prefix ``p`` -> ``{"p/a": 1}``."""
    return {f"{prefix}/{name}": value for name, value in state.items()}


def unflatten(prefix: str, flat: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of `flat` under ``prefix/``, with the prefix removed."""
    start = prefix + "/"
    return {name[len(start) :]: v for name, v in flat.items() if name.startswith(start)}
