"""A model with everything needed to use it elsewhere: its spec, weights, input
normalization and class names, gathered once for every export format.

A `Bundle` comes from a finished run folder (trained weights) or from a spec (the
weights the seed gives, plus ``init.from`` if the spec names one). Its `metadata` is the
string map that travels inside ``.safetensors`` and ``.onnx`` files (`runs.exported`), so
a file alone is enough to predict.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from .. import backend
from ..errors import UserError
from ..extras import install_hint
from ..io.npz import keys_under
from ..runs.exported import file_metadata
from ..runs.finished import load_run
from ..runs.init_from import load_initial_weights
from ..spec import Spec, build_model, load_spec
from ..training.layout import MODEL
from ..training.loop import prepare

# .safetensors files are read and written by `safetensors_format`: only ONNX needs a library
EXPORT_HINT = f"export --format onnx needs onnx: {install_hint('export')}"


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
        """The string map stored in exported files (`runs.exported.file_metadata`)."""
        return file_metadata(self.spec, self.normalization, self.class_names)


def from_run(run_dir: str | Path, with_data: bool = False) -> Bundle:
    """The trained model of a run folder, from its ``model.npz``; `with_data` also rebuilds
    the run's data (same seed, same split), which only the torch format needs."""
    spec, flat = load_run(run_dir)
    if "norm/shift" not in flat:
        raise UserError(f"{run_dir} has no finished model ({MODEL}); let the training finish")
    dataset = prepare(spec).dataset if with_data else None
    backend.set_backend(spec.backend)
    model = build_model(spec)
    model.load_state_dict(keys_under(flat, "model"))
    model.eval()
    return Bundle(spec, model, keys_under(flat, "norm"), flat.get("meta/class_names"), dataset)


def from_spec(spec: Any) -> Bundle:
    """A spec's model before training: the weights its seed gives (or its ``init.from``)."""
    setup = prepare(spec)
    load_initial_weights(setup.model, spec)
    setup.model.eval()
    ds = setup.dataset
    return Bundle(spec, setup.model, ds.normalization, ds.class_names, ds)


def load_bundle(source: Any, with_data: bool = False) -> Bundle:
    """A `Bundle` from a run folder, a spec file or a validated `Spec` (a spec's always has
    its data: the normalization comes from it)."""
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
