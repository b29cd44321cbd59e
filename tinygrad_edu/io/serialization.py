"""``tg.save(state_dict, path)`` and ``tg.load(path)``: PyTorch's names, safe files.

A state dict (names to tensors, arrays or numbers, as ``model.state_dict()`` gives) is
written as one ``.npz`` (`npz`): atomically (a crash leaves the old
file or the new one) and readable without pickle, so loading a file from elsewhere runs
no code. `load` gives tensors back for arrays, on the active backend.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._tensor import Tensor
from ..errors import UserError
from .npz import load_npz, save_npz


def save(obj: Mapping[str, Any], path: str | os.PathLike) -> None:
    """Write a state dict (str -> Tensor, array, number or JSON-able value) to `path`."""
    if not isinstance(obj, Mapping) or not all(isinstance(k, str) for k in obj):
        raise UserError(
            f"tg.save({type(obj).__name__}, {str(path)!r}): only state dicts (a mapping of "
            "str names to tensors) can be saved, as .npz without pickle; pass "
            "model.state_dict() or a dict of tensors"
        )
    save_npz(path, {k: v.numpy() if isinstance(v, Tensor) else v for k, v in obj.items()})


def load(path: str | os.PathLike) -> dict[str, Any]:
    """Read a file written by `save`: arrays come back as tensors, numbers as numbers."""
    return {
        name: Tensor(value) if isinstance(value, np.ndarray) else value
        for name, value in load_npz(path).items()
    }
