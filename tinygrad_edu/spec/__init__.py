"""Specs: YAML files that declare a network and its training, and what they build.

This module is the one to import: `load_spec` reads and validates a file (errors with
``file:line:column``, see `loader`), `build_model` turns the spec's ``model`` section
into an `nn.Module`, `apply_overrides` changes a spec by dotted paths, and
`gradient_check` verifies a spec's model's gradients against finite differences (both
in `build`). The format itself is defined in `schema`; the layer types a spec may name
in `registry`, and those from outside the package (``--import``, installed packages) in
`plugins`: every function here that reads a spec loads the installed packages' layer
types first. The example specs shipped with the package are found by name
(`load_spec("mlp")`) in `shipped`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from . import loader
from .build import build_model, example_batch, gradient_check
from .build import default_dtype as default_dtype  # viz.graphs builds in float64 with it
from .loader import Problem, SpecError, spec_to_dict
from .model_section import LayerSpec
from .plugins import ENTRY_POINT_GROUP, import_modules, load_entry_points
from .registry import LayerOptions, register_layer
from .schema import Spec, json_schema
from .shipped import copy_spec, find_spec, spec_names

__all__ = [
    "ENTRY_POINT_GROUP",
    "LayerOptions",
    "LayerSpec",
    "Problem",
    "Spec",
    "SpecError",
    "apply_overrides",
    "check_spec_file",
    "build_model",
    "copy_spec",
    "example_batch",
    "find_spec",
    "gradient_check",
    "import_modules",
    "json_schema",
    "load_spec",
    "parse_spec",
    "register_layer",
    "spec_names",
    "spec_to_dict",
    "validate_spec",
]


# --- reading specs: the layer types of installed packages are registered first -------------

F = TypeVar("F", bound=Callable[..., Any])


def _with_installed_layers(read: F) -> F:
    """`read` (a loader function), after the layer types of installed packages are loaded."""

    @functools.wraps(read)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        load_entry_points()
        return read(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@_with_installed_layers
def load_spec(path: str | os.PathLike[str]) -> Spec:
    """Read and validate a spec file, or a shipped example by name (``"mlp"``, see
    `shipped.find_spec`); relative paths in the spec are relative to its folder."""
    return loader.load_spec(find_spec(path))


@_with_installed_layers
def check_spec_file(path: str | os.PathLike[str], more_checks: Sequence[Any] = ()) -> Spec:
    """What ``validate`` runs: `load_spec` plus every check that needs the data files and
    the machine's memory (`loader.check_spec_file`, with `more_checks`), for a file or a
    shipped example."""
    return loader.check_spec_file(find_spec(path), more_checks)


parse_spec = _with_installed_layers(loader.parse_spec)
validate_spec = _with_installed_layers(loader.validate_spec)
apply_overrides = _with_installed_layers(loader.apply_overrides)
