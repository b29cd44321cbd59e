"""A spec's ``init.from``: trained weights (a safetensors state dict, PyTorch's or ours) as
the model's starting point, instead of the weights its seed gives.

Starting a run (`start`), using a spec as a trained model (`finished`), exporting a spec
(`export.bundle`) and ``validate`` load them the same way, here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import UserError
from ..io.safetensors import load_safetensors
from ..spec import build_model


def load_initial_weights(model: Any, spec: Any) -> None:
    """Replace the seed's initial weights by those of the spec's ``init.from`` (a
    safetensors state dict, PyTorch's or ours), when it names one; every key and shape
    is checked, and every value must be finite (a nan weight would otherwise be blamed
    on the learning rate at the first step)."""
    if getattr(spec, "init", None) is not None:
        path = getattr(spec.init, "from")
        load_safetensors(model, path)
        for name, parameter in model.named_parameters():
            values = np.asarray(parameter.numpy())
            bad = int(np.count_nonzero(~np.isfinite(values)))
            if bad:
                raise UserError(
                    f"{path}: '{name}' holds {bad} of {values.size} values that are not finite "
                    "(nan or inf), and training from them gives a nan loss from the first step; "
                    "use weights saved before their training diverged, or start from the "
                    "seed's weights (drop init.from / --init-from)"
                )


def init_problems(spec: Any) -> list[tuple[tuple[str, ...], str]]:
    """``validate``'s check of ``init.from``: the weights loaded into the spec's model as
    train loads them (the file, its keys and shapes, finite values); (spec key, message)."""
    if getattr(spec, "init", None) is None:
        return []
    try:
        load_initial_weights(build_model(spec), spec)
    except UserError as error:
        return [(("init", "from"), str(error))]
    return []
