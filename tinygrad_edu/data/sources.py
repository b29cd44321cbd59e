"""The table of data sources, their options with defaults, and `load_dataset`.

A spec's ``data:`` section is a plain dict such as ``{"source": "moons", "noise": 0.2}``.
`SOURCES` lists, for every source, each option it accepts with its default (`REQUIRED`
where there is none); the spec schema mirrors it. `load_dataset` checks the dict against
that table itself, so the library is safe to call without the schema.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserError
from . import files, mnist, synthetic
from .dataset import NORMALIZE_METHODS, Dataset, Examples, build_dataset


class _Required:
    """Marks an option that has no default and must be given."""

    def __repr__(self) -> str:
        return "REQUIRED"

    def __deepcopy__(self, memo: dict) -> _Required:
        return self  # a marker compared by identity: copies of SOURCES must keep it


REQUIRED: Any = _Required()


def _split(normalize: str, test_fraction: bool = True) -> dict[str, Any]:
    """The options every source shares: how to split, normalize and shuffle."""
    options: dict[str, Any] = {"test_fraction": 0.2} if test_fraction else {}
    options.update(validation_fraction=0.0, normalize=normalize, shuffle=True)
    return options


def _plane(noise: float, **extra: Any) -> dict[str, Any]:
    """Options of a 2-D synthetic set (stored unnormalized: the points are of order 1)."""
    return {"n_samples": 500, "noise": noise, **extra, **_split("none")}


SOURCES: dict[str, dict[str, Any]] = {
    "mnist-5k": _split("scale"),
    "mnist": {
        "path": None,
        "download": False,
        "url": mnist.DEFAULT_URL,
        "sha256": dict(mnist.DEFAULT_SHA256),
        **_split("scale", test_fraction=False),
    },
    "moons": _plane(0.1),
    "circles": _plane(0.05, factor=0.5),
    "xor": _plane(0.05),
    "spiral": _plane(0.05),
    "gaussian": _plane(0.1),
    "reg-plane": {"n_samples": 1200, "noise": 0.0, **_split("none")},  # TF Playground's 1,200
    "reg-gauss": {"n_samples": 1200, "noise": 0.0, **_split("none")},
    "function": {
        "function": "sin",
        "interval": [-3.0, 3.0],
        "n_samples": 200,
        "noise": 0.0,
        **_split("none"),
    },
    "csv": {
        "path": REQUIRED,
        "target": REQUIRED,
        "header": "auto",
        "delimiter": ",",
        **_split("standardize"),
    },
    "npz": {"path": REQUIRED, **_split("standardize")},
}


def load_dataset(config: Mapping[str, Any], seed: int, task: str | None = None) -> Dataset:
    """Load, split and normalize the data a spec's ``data:`` section describes.

    ``seed`` fixes the generated points (synthetic sources) and the split; it draws from
    its own generators, never from ``tinygrad_edu.rng``. ``task`` is "classification" or
    "regression"; None infers it: regression for ``function``, classification for the
    other built-in sources, and for csv/npz classification when every target is text or
    a whole number.
    """
    if not isinstance(config, Mapping):
        raise UserError(f"the data section must be a mapping of options, got {config!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UserError(f"the seed must be a non-negative integer, got {seed!r}")
    options = _options(config)
    source = options.pop("source")
    rng = np.random.default_rng([int(seed), 0])
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported as an error
        examples, name = _LOADERS[source](options, rng)
        return build_dataset(
            examples,
            name=name,
            seed=int(seed),
            task=task,
            test_fraction=options.get("test_fraction", 0.0),
            validation_fraction=options["validation_fraction"],
            normalize=options["normalize"],
            shuffle=options["shuffle"],
        )


def _options(config: Mapping[str, Any]) -> dict[str, Any]:
    """The user's options over the source's defaults, every one checked."""
    source = config.get("source")
    if not isinstance(source, str) or source not in SOURCES:
        what = "data.source is missing" if source is None else f"unknown data.source {source!r}"
        raise UserError(f"{what}; choose one of: {', '.join(SOURCES)}")
    defaults = SOURCES[source]
    unknown = [key for key in config if key != "source" and key not in defaults]
    if unknown:
        raise UserError(
            f"data: unknown option {', '.join(map(repr, unknown))} for source {source!r}; "
            f"its options are: {', '.join(defaults)}"
        )
    options = {**copy.deepcopy(defaults), **config}
    missing = [key for key, value in options.items() if value is REQUIRED]
    if missing:
        raise UserError(f"data: source {source!r} needs {', '.join(missing)}")
    for key, value in options.items():
        if key != "source" and not (value is None and defaults[key] is None):
            check, expected = _CHECKS[key]
            if not check(value):
                raise UserError(f"data.{key} must be {expected}, got {value!r}")
    return options


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_fraction(value: Any) -> bool:
    return _is_number(value) and 0 <= value < 1


def _is_interval(value: Any) -> bool:
    return (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(_is_number(v) and np.isfinite(v) for v in value)
        and value[0] < value[1]
    )


_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "test_fraction": (_is_fraction, "a number from 0 up to (not including) 1"),
    "validation_fraction": (
        _is_fraction,
        "a number from 0 up to (not including) 1, the share of the training part",
    ),
    "normalize": (lambda v: v in NORMALIZE_METHODS, f"one of {', '.join(NORMALIZE_METHODS)}"),
    "shuffle": (lambda v: isinstance(v, bool), "true or false"),
    "n_samples": (
        lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 2,
        "a whole number of at least 2",
    ),
    "noise": (lambda v: _is_number(v) and v >= 0, "a number >= 0 (a standard deviation)"),
    "factor": (lambda v: _is_number(v) and 0 < v < 1, "a number between 0 and 1"),
    "function": (
        lambda v: v in synthetic.FUNCTIONS or v in synthetic.FUNCTION_ALIASES,
        f"one of {', '.join([*synthetic.FUNCTIONS, *synthetic.FUNCTION_ALIASES])}",
    ),
    "interval": (_is_interval, "two numbers [low, high] with low < high, e.g. [-3, 3]"),
    "path": (lambda v: isinstance(v, (str, PathLike)), "a file or folder path"),
    "target": (
        lambda v: isinstance(v, (str, int)) and not isinstance(v, bool),
        "a column name or a 0-based column index (-1 for the last)",
    ),
    "header": (lambda v: v == "auto" or isinstance(v, bool), "auto, true or false"),
    "delimiter": (lambda v: isinstance(v, str) and len(v) == 1, "one character, e.g. ','"),
    "download": (lambda v: isinstance(v, bool), "true or false"),
    "url": (lambda v: isinstance(v, str) and "://" in v, "a URL such as https://host/mnist/"),
    "sha256": (lambda v: isinstance(v, Mapping), "a mapping of file name to SHA-256 sum"),
}


def _mnist(options: dict[str, Any], rng: np.random.Generator) -> tuple[Examples, str]:
    examples = mnist.load_mnist(
        options["path"], options["download"], options["url"], dict(options["sha256"])
    )
    return examples, "mnist"


def _function(options: dict[str, Any], rng: np.random.Generator) -> tuple[Examples, str]:
    examples = synthetic.function(
        options["function"], options["interval"], options["n_samples"], options["noise"], rng
    )
    return examples, f"function {options['function']}"


def _plane_loader(make: Callable[..., Examples]) -> Callable[..., tuple[Examples, str]]:
    """A loader for a 2-D set: its generator, given the set's own options."""
    name = make.__name__

    def load(options: dict[str, Any], rng: np.random.Generator) -> tuple[Examples, str]:
        extra = {"factor": options["factor"]} if "factor" in options else {}
        return make(options["n_samples"], options["noise"], rng=rng, **extra), name

    return load


_LOADERS: dict[str, Callable[[dict[str, Any], np.random.Generator], tuple[Examples, str]]] = {
    "mnist-5k": lambda options, rng: (mnist.load_mnist5k(), "mnist-5k"),
    "mnist": _mnist,
    "moons": _plane_loader(synthetic.moons),
    "circles": _plane_loader(synthetic.circles),
    "xor": _plane_loader(synthetic.xor),
    "spiral": _plane_loader(synthetic.spiral),
    "gaussian": _plane_loader(synthetic.gaussian),
    "reg-plane": _plane_loader(synthetic.reg_plane),
    "reg-gauss": _plane_loader(synthetic.reg_gauss),
    "function": _function,
    "csv": lambda options, rng: (
        files.load_csv(options["path"], options["target"], options["header"], options["delimiter"]),
        Path(options["path"]).name,
    ),
    "npz": lambda options, rng: (files.load_npz(options["path"]), Path(options["path"]).name),
}
