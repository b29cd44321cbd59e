"""What a sweep trains: its points (one value per swept field), each with its seeds, and
the short folder name of every run.

The axes of a sweep are ``path`` + ``values`` (one field), each field of ``grid``, and
``zip`` (several fields moving together, one axis). The points are every combination of
one entry per axis (the cartesian product), in the order the spec lists them, the last
axis changing fastest; each point runs once per seed (``seeds``, or ``repeats: n`` for the
spec's seed and the n - 1 after it; by default the spec's seed alone). Sweeping the field
``seed`` itself (``path: seed``) is the same as listing the seeds.

A run's folder is named by the last key of each swept path and the seed,
``out_features=12,lr=0.1,seed=3``: short, and safe in a shell and on every file system.
Where two paths end in the same key (two layers' ``out_features``), the keys before it are
added until the names differ (``layers.0.linear.out_features=...``); a list index is never a
name alone (``model.layers[1]`` is ``layers.1``). The full paths are in
sweep.csv's header and in each run's spec.yaml.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from ..errors import UserError
from ..spec.sweep_values import check_run_count
from .lock import NAME_MAX


@dataclass(frozen=True)
class PlannedRun:
    """One training of a sweep: the values of its point, its seed and its folder name."""

    point: dict[str, Any]  # full key path -> value
    seed: int
    name: str


@dataclass(frozen=True)
class Plan:
    """Every run of a sweep, points in order and seeds within each point."""

    paths: list[str]  # the swept fields, full key paths, in the spec's order
    seeds: list[int]
    runs: list[PlannedRun]


def plan_sweep(section: Any, spec_seed: int) -> Plan:
    """The runs of a validated ``sweep:`` section (`tinygrad_edu.spec.schema.Sweep`)."""
    axes: list[list[dict[str, Any]]] = []
    seeds = list(section.seeds) if section.seeds else None
    if section.repeats:
        seeds = [spec_seed + i for i in range(section.repeats)]
    fields = ([(section.path, section.values)] if section.path else []) + list(
        (section.grid or {}).items()
    )
    for path, values in fields:
        if path == "seed":
            if seeds is not None:
                raise UserError(
                    "the sweep gives the seeds twice (the field 'seed' and seeds/repeats): "
                    "keep one of them"
                )
            seeds = list(values)
            continue
        axes.append([{path: value} for value in values])
    if section.zip:
        if "seed" in section.zip:
            raise UserError("zip cannot sweep 'seed': list the seeds in the sweep's 'seeds:'")
        paths, columns = list(section.zip), list(zip(*section.zip.values()))
        axes.append([dict(zip(paths, column)) for column in columns])
    seeds = seeds or [spec_seed]
    _check_seeds(seeds)
    try:
        check_run_count([len(axis) for axis in axes], len(seeds))
    except ValueError as error:
        raise UserError(str(error)) from None
    paths = [path for axis in axes for path in axis[0]]
    labels = short_names(paths)
    runs = []
    for combination in itertools.product(*axes):
        point = {path: value for part in combination for path, value in part.items()}
        for seed in seeds:
            runs.append(PlannedRun(point, seed, run_name(point, seed, labels)))
    _check_names(runs)
    return Plan(paths, seeds, runs)


def _check_seeds(seeds: Sequence[Any]) -> None:
    if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds):
        raise UserError(f"a sweep's seeds are integers >= 0, found {list(seeds)}")
    if len(set(seeds)) != len(seeds):
        raise UserError(f"the sweep's seeds repeat: {list(seeds)}")


def short_names(paths: Sequence[str]) -> dict[str, str]:
    """Each path's shortest tail of keys that no other path shares: its folder label."""
    keys = {path: [k for k in re.split(r"[.\[\]]+", path) if k] for path in paths}
    labels = {}
    for path, parts in keys.items():
        for size in range(1, len(parts) + 1):
            tail = parts[-size:]
            if tail[0].isdigit() and size < len(parts):  # an index says nothing alone
                continue
            if all(other[-size:] != tail for p, other in keys.items() if p != path):
                break
        labels[path] = ".".join(tail)
    return labels


_LINEAR_WIDTH = re.compile(r"model\.layers\[(\d+)\]\.linear(?:\.out_features)?")
_MLP_WIDTH = re.compile(r"model\.mlp\.hidden(?:\[\d+\])?")
HIDDEN_WIDTH = "hidden width"


def field_names(
    paths: Sequence[str], layers: Sequence[Any] | None, short: dict[str, str] | None = None
) -> dict[str, str]:
    """Each swept path's name for a reader (a table's column, a plot's axis or legend):
    ``"hidden width"`` for the ``out_features`` of a ``linear`` that another ``linear``
    follows in the spec's `layers` (or an ``mlp:``'s ``hidden``), its `short` name (the
    sweep's, ``lr``; default `short_names`) otherwise. Two swept widths keep their short
    names in brackets, so they stay apart. Here, not in `viz`, so that the summary table
    and the plots say the same."""
    short = short or short_names(paths)
    names = {}
    for path in paths:
        match = _LINEAR_WIDTH.fullmatch(path)
        later = layers[int(match.group(1)) + 1 :] if match and layers else []
        hidden = any(isinstance(layer, dict) and "linear" in layer for layer in later)
        names[path] = HIDDEN_WIDTH if hidden or _MLP_WIDTH.fullmatch(path) else short[path]
    widths = [path for path in paths if names[path] == HIDDEN_WIDTH]
    if len(widths) > 1:
        names.update({path: f"{HIDDEN_WIDTH} ({short[path]})" for path in widths})
    return names


def fields_title(paths: Sequence[str], names: dict[str, str]) -> str:
    """``hidden width (model.layers[0].linear.out_features)``: the swept fields for a title,
    what they mean first where a name says more than a path's tail (`field_names`), then
    the paths as the spec writes them."""
    text = ", ".join(paths)
    short = short_names(paths)
    if any(names[path] != short[path] for path in paths):
        return f"{', '.join(names[path] for path in paths)} ({text})"
    return text


def run_name(point: dict[str, Any], seed: int, labels: dict[str, str]) -> str:
    """``out_features=12,lr=0.1,seed=3``: a run's folder, from its point and seed."""
    parts = [f"{labels[path]}={folder_safe(format_value(v))}" for path, v in point.items()]
    return ",".join([*parts, f"seed={seed}"])


def _check_names(runs: Sequence[PlannedRun]) -> None:
    names = [run.name for run in runs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise UserError(
            f"the sweep's values repeat (or differ only in characters a folder name cannot "
            f"hold): {', '.join(repeated[:3])} would be trained twice; list each value once"
        )
    for name in names:
        if len(name.encode()) > NAME_MAX:
            raise UserError(
                f"the run folder name {name[:40]!r}... is {len(name.encode())} bytes long, more "
                f"than a file system allows ({NAME_MAX}); sweep fewer fields or shorter values"
            )


def format_value(value: Any) -> str:
    """A value as YAML writes it inline (12, 0.001, true, [64, 32]), so it reads back."""
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, (int, float, str)):
        return str(value)
    return yaml.safe_dump(value, default_flow_style=True, width=1000).strip()


def folder_safe(text: str) -> str:
    """Text usable in a folder name on every system and in a shell: '[64, 32]' -> '64_32'."""
    return re.sub(r"[^\w.+-]+", "_", text).strip("_") or "_"
