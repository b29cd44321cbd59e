"""Runs side by side: their final metrics, what differs in their specs, their learning curves.

`find_runs(folder)` lists the run folders below a folder (a folder with a ``spec.yaml`` is a
run; a sweep's runs are found in its subfolders), `summarize` says what one run is (name,
date, epochs, final metrics, status), and `compare` puts several runs next to each other:
the final metrics, and the fields of their resolved specs (``spec.yaml``) whose values are not
the same in all of them, so a reader sees at once what was changed between the runs.
`viz.compare.learning_curves` overlays their curves in one picture (``compare.png``), by default
beside the runs (`default_picture`), so comparing never leaves a file in whatever folder the
command ran in.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import UserError
from ..training.layout import CHECKPOINT, METRICS, MODEL, SPEC
from ..training.progress import format_metric
from .record import read_record


@dataclass
class RunSummary:
    """What `python cli.py runs` shows of one run folder."""

    path: Path
    name: str
    started: str
    epochs: str  # "10/10", "3/10"
    status: str
    final: dict[str, float]  # the last epoch's row of metrics.csv


def find_runs(folder: str | Path) -> list[Path]:
    """Every run folder at or below `folder`, in name order (a sweep's runs included)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"folder not found: {folder}")
    return sorted(spec.parent for spec in folder.rglob(SPEC) if spec.is_file())


def expand(paths: list[str | Path]) -> list[Path]:
    """Run folders from run folders, sweep folders and folders of runs, in order given."""
    runs: list[Path] = []
    for path in map(Path, paths):
        if (path / SPEC).is_file():
            runs.append(path)
        elif path.is_dir() and find_runs(path):
            runs.extend(find_runs(path))
        else:
            raise UserError(
                f"{path} is not a run folder (it holds no {SPEC}) and has none below it: give "
                "folders written by 'train' or 'sweep', e.g. runs/mnist-mlp/20261125-120000"
            )
    return runs


def read_metrics(run_dir: Path) -> list[dict[str, float]]:
    """A run's metrics.csv as numbers, one dict per epoch ([] before the first epoch ends)."""
    return read_metrics_csv(run_dir / METRICS)


def read_metrics_csv(path: Path) -> list[dict[str, float]]:
    """A metrics.csv file as numbers, one dict per row ([] when it does not exist yet)."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            return [{k: float(v) for k, v in row.items() if v} for row in csv.DictReader(handle)]
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as error:
        raise UserError(f"cannot read {path}: {error}") from None


def read_spec(run_dir: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load((run_dir / SPEC).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise UserError(f"cannot read {run_dir / SPEC}: {error}") from None
    if not isinstance(data, dict):
        raise UserError(f"{run_dir / SPEC} is not a spec (its top level is not a mapping)")
    return data


def summarize(run_dir: Path) -> RunSummary:
    spec = read_spec(run_dir)
    rows = read_metrics(run_dir)
    total = spec.get("train", {}).get("epochs", "?")
    record = read_record(run_dir)
    if record is not None:
        status, started = record["status"], record["started"]
    else:  # a run made before run.json: judge by its files
        status = (
            "finished"
            if (run_dir / MODEL).is_file()
            else ("interrupted" if (run_dir / CHECKPOINT).is_file() else "failed")
        )
        started = "?"
    final = {k: v for k, v in (rows[-1] if rows else {}).items() if k not in ("epoch", "lr")}
    return RunSummary(
        run_dir, str(spec.get("name", "?")), started, f"{len(rows)}/{total}", status, final
    )


def dotted_paths(data: Any, prefix: str = "") -> dict[str, Any]:
    """A nested spec as dotted paths, the form `--set` takes: {"optimizer.lr": 0.1, ...}."""
    if isinstance(data, dict):
        items: dict[str, Any] = {}
        for key, value in data.items():
            items.update(dotted_paths(value, f"{prefix}.{key}" if prefix else str(key)))
        return items
    if isinstance(data, list) and any(isinstance(v, (dict, list)) for v in data):
        items = {}
        for index, value in enumerate(data):
            items.update(dotted_paths(value, f"{prefix}[{index}]"))
        return items
    return {prefix: data}


_MISSING = "(not set)"


def spec_differences(runs: list[Path]) -> dict[str, list[Any]]:
    """The spec fields whose values are not the same in every run: path -> value per run."""
    flat = [dotted_paths(read_spec(run)) for run in runs]
    differences = {}
    for key in sorted(set().union(*flat)):
        values = [f.get(key, _MISSING) for f in flat]
        if len({repr(v) for v in values}) > 1:
            differences[key] = values
    return differences


def run_labels(runs: list[Path]) -> list[str]:
    """Short names for runs: their paths without the part they all share."""
    parts = [run.resolve().parts for run in runs]
    common = 0
    while all(len(p) > common + 1 for p in parts) and len({p[common] for p in parts}) == 1:
        common += 1
    return ["/".join(p[common:]) for p in parts]


def compare_tables(runs: list[Path]) -> list[Any]:
    """Two rich Tables: final metrics per run, and the spec fields that differ."""
    from rich.table import Table

    labels = run_labels(runs)
    summaries = [summarize(run) for run in runs]
    metrics = list(dict.fromkeys(k for s in summaries for k in s.final if k != "seconds"))
    table = Table(title="Final metrics (last epoch)")
    for column in ["run", "epochs", "status", *metrics]:
        table.add_column(column, justify="left" if column == "run" else "right")
    for label, summary in zip(labels, summaries):
        cells = [format_metric(summary.final[m]) if m in summary.final else "-" for m in metrics]
        table.add_row(label, summary.epochs, summary.status, *cells)
    differences = spec_differences(runs)
    diff = Table(title="Spec fields that differ" if differences else "The specs are identical")
    if differences:
        diff.add_column("field")
        for label in labels:
            diff.add_column(label, justify="right")
        for key, values in differences.items():
            diff.add_row(key, *(str(v) for v in values))
    return [table, diff]


def default_picture(runs: list[Path]) -> Path:
    """Where ``compare`` draws the curves without ``--out``: ``compare.png`` in the deepest
    folder that holds all the runs (``runs/`` for ``runs/a runs/b``, the sweep's folder for a
    sweep), not the current folder, which may be a repository that would carry it along."""
    parents = [run.parent for run in runs]
    try:
        common = os.path.commonpath(parents)
    except ValueError:  # relative and absolute paths mixed
        common = os.path.commonpath([parent.resolve() for parent in parents])
    return Path(common) / "compare.png"
