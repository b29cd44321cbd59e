"""`.npz` files that load without pickle: checkpoints, model files, snapshots, `tg.save`.

A file is one flat ``.npz``: names with ``/`` separating the parts (``model/0.weight``,
``optim/step``, ``meta/epoch``) and plain arrays as values (`prefix_keys` and `keys_under`
build and take apart those names). Python objects that are not arrays (the random
generator's state) are stored as JSON text in a 0-d string array, so `load_npz` can use
``allow_pickle=False``. Writing goes through `atomic.atomic_write`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import UserError
from .atomic import atomic_write


def save_npz(path: str | os.PathLike, arrays: Mapping[str, Any]) -> None:
    """Write a flat mapping of name -> array (or JSON-able object) as an .npz, atomically."""
    packed = {name: _pack(value) for name, value in arrays.items()}
    with atomic_write(path) as handle:
        np.savez(handle, **packed)


def load_npz(path: str | os.PathLike, advice: str = "") -> dict[str, Any]:
    """Read an .npz written by `save_npz` (no pickle), unpacking JSON entries.

    A missing or damaged file (truncated, bit-flipped, empty, not an .npz) is a
    `UserError` naming it; `advice` (what still works without it) ends the message.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: _unpack(data[name]) for name in data.files}
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except Exception as error:  # noqa: BLE001 - the bytes are untrusted: any failure is damage
        reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        raise UserError(
            f"{path} is damaged and cannot be read ({reason}); it was changed or cut short "
            f"after it was written.{' ' + advice if advice else ''}"
        ) from None


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


def prefix_keys(state: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """``{"a": 1}`` with prefix ``p`` -> ``{"p/a": 1}``: one part of a flat file."""
    return {f"{prefix}/{name}": value for name, value in state.items()}


def keys_under(flat: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """The entries of `flat` under ``prefix/``, with the prefix removed (`prefix_keys` undone)."""
    start = prefix + "/"
    return {name[len(start) :]: v for name, v in flat.items() if name.startswith(start)}
