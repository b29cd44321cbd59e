"""Sweeps: train one spec once per value of one of its fields, and compare the results.

A sweep changes exactly one field, named by its dotted key path as for overrides
(``model.layers[0].linear.out_features``), and keeps everything else, seed and data
included, so the differences between the runs come from that field alone. That is how
the lecture's figures are made: the same network at widths 1, 3, 6, 12 and 48.

The path and the values come from the caller (the command line) or from the spec's own
``sweep:`` section::

    sweep:
      path: model.layers[0].linear.out_features
      values: [1, 3, 6, 12, 48]

Every value is applied and validated before the first training starts, so a bad path or
value fails at once instead of after an hour of training. The runs go into one folder::

    runs/<name>-sweep/<timestamp>/
        sweep.csv                                   one row per value: its final metrics
        model.layers[0].linear.out_features=1/      an ordinary run folder per value
        model.layers[0].linear.out_features=3/
        ...

``sweep.csv`` is rewritten atomically after each run, so an interrupted sweep keeps the
rows of the runs that finished. The folder must be new or empty and is locked for the
sweep's life, so a second sweep into it is refused instead of replacing its rows.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import UserError
from .checkpoint import write_text_atomic

SWEEP_CSV = "sweep.csv"


@dataclass
class SweepResult:
    """The finished sweep: its folder and one row of final metrics per value."""

    folder: Path
    path: str
    rows: list[dict[str, Any]]  # {"value", "run_dir", final metrics...}

    @property
    def values(self) -> list[Any]:
        return [row["value"] for row in self.rows]

    def metric(self, name: str) -> list[float]:
        """One final metric per value, in the order of the values (``"test_loss"``)."""
        return [float(row[name]) for row in self.rows]

    def table(self) -> Any:
        """A rich Table of the final metrics, one row per value."""
        from rich.table import Table

        columns = [c for c in metric_columns(self.rows) if not c.startswith("train_")]
        columns.insert(0, "train_loss")
        table = Table(title=f"sweep of {self.path}", caption=str(self.folder))
        table.add_column(self.path.rsplit(".", 1)[-1], justify="right")  # the title has it all
        for name in columns:
            table.add_column(name, justify="right")
        for row in self.rows:
            cells = [_format_metric(row.get(name)) for name in columns]
            table.add_row(format_value(row["value"]), *cells)
        return table


def metric_columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The metric names of sweep rows: train, validation and test metrics, in that order."""
    names = list(rows[0]) if rows else []
    return [n for n in names if n.startswith(("train_", "val_", "test_"))]


def run_sweep(
    spec_path: str | Path,
    path: str | None = None,
    values: Sequence[Any] | None = None,
    out: str | Path | None = None,
    quiet: bool = True,
    verbose: bool = False,
) -> SweepResult:
    """Train `spec_path` once per value of the field at `path`; see the module docstring.

    `path` and `values` default to the spec's ``sweep:`` section; either may be given
    alone to replace the section's. String values are read as YAML, as on a command line
    ("12" is 12, "[64, 32]" a list). `out` is the sweep folder (default
    ``runs/<name>-sweep/<timestamp>``). Returns the final metrics of every run.

    `quiet` prints nothing; otherwise each finished run prints one line (`finished_line`),
    and `verbose` prints every run's full training log instead.
    """
    from ..spec import apply_overrides
    from ..spec.loader import parse_value
    from . import runs
    from .lock import claim_new_folder
    from .loop import new_run_dir

    spec, section = load_sweep_spec(spec_path)
    path = path or (section.path if section else None)
    if values is not None:  # from a command line: read as YAML, as overrides are
        values = [parse_value(v) if isinstance(v, str) else v for v in values]
    elif section is not None:
        values = section.values
    if not path or not values:
        raise UserError(
            f"{spec_path}: nothing to sweep; give the field and its values (e.g. path "
            "model.layers[0].linear.out_features, values 1 3 6) or add a 'sweep:' section "
            "with 'path' and 'values' to the spec"
        )
    folders = [f"{path}={_folder_safe(format_value(v))}" for v in values]
    if len(set(folders)) != len(folders):
        raise UserError(f"the sweep's values repeat: {', '.join(map(format_value, values))}")
    # every value is checked first; the runs themselves are ordinary runs, without the section
    variants = [apply_overrides(spec, {path: value, "sweep": None}) for value in values]
    target = Path(out) if out else new_run_dir(f"{spec.name}-sweep")
    fresh = None if out else (lambda: new_run_dir(f"{spec.name}-sweep"))
    rows: list[dict[str, Any]] = []
    # a new or empty folder only, locked for the sweep's life: never replace a sweep.csv
    with claim_new_folder(target, fresh) as folder:
        for number, (value, variant, name) in enumerate(zip(values, variants, folders), start=1):
            if verbose:
                print(f"[{number}/{len(values)}] {path}={format_value(value)}", flush=True)
            started = time.perf_counter()
            final = runs.train(variant, {}, out=folder / name, quiet=not verbose)
            final["run_dir"] = name
            rows.append({"value": value, **final})
            write_sweep_csv(folder / SWEEP_CSV, path, rows)
            if not quiet and not verbose:
                seconds = time.perf_counter() - started
                print(finished_line(number, len(values), path, rows[-1], seconds), flush=True)
    return SweepResult(folder, path, rows)


def finished_line(number: int, total: int, path: str, row: dict[str, Any], seconds: float) -> str:
    """One line for a finished run of a sweep: its value and held-out metrics, as the
    table's columns show them (``[2/5] ...out_features=3  test_loss 0.1203 ...  (1.4s)``)."""
    names = [n for n in metric_columns([row]) if not n.startswith("train_")]
    metrics = "  ".join(f"{n} {_format_metric(row[n])}" for n in names)
    return f"[{number}/{total}] {path}={format_value(row['value'])}  {metrics}  ({seconds:.1f}s)"


def load_sweep_spec(spec_path: str | Path) -> tuple[Any, Any]:
    """The spec of a file and its ``sweep:`` section (None if it has none)."""
    from ..spec import load_spec

    spec = load_spec(spec_path)
    return spec, spec.sweep


def format_value(value: Any) -> str:
    """A value as YAML writes it inline (12, 0.001, true, [64, 32]), so it reads back."""
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, (int, float, str)):
        return str(value)
    return yaml.safe_dump(value, default_flow_style=True, width=1000).strip()


def _folder_safe(text: str) -> str:
    """Text usable as (part of) a folder name on every system: '[64, 32]' -> '64_32'."""
    return re.sub(r"[^\w.+-]+", "_", text).strip("_") or "_"


def _format_metric(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else "" if value is None else str(value)


def write_sweep_csv(path: Path, swept: str, rows: Sequence[dict[str, Any]]) -> None:
    """One row per value: the value (column named by the swept path), the final
    metrics, and the run folder, written atomically."""
    columns = ["epoch", *metric_columns(rows), "run_dir"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([swept, *columns])
    for row in rows:
        cells = [repr(v) if isinstance(v := row.get(c), float) else v for c in columns]
        writer.writerow([format_value(row["value"]), *("" if c is None else c for c in cells)])
    write_text_atomic(path, buffer.getvalue())


def is_sweep_folder(folder: str | Path) -> bool:
    """Whether `folder` is a sweep's folder (it holds sweep.csv), not one run's."""
    return (Path(folder) / SWEEP_CSV).is_file()


def evaluate_sweep(folder: str | Path) -> SweepResult:
    """Every finished run of a sweep folder evaluated on its test split, as `runs.evaluate`
    evaluates one run: one row per value, with the run's final training loss (from
    sweep.csv) and the test metrics measured now from its saved model."""
    from . import runs

    folder = Path(folder)
    path, recorded = read_sweep_csv(folder)
    rows = []
    for row in recorded:
        metrics = runs.evaluate(folder / row["run_dir"])
        measured = {
            f"test_{name}": value
            for name, value in metrics.items()
            if name not in ("run_dir", "test_samples")
        }
        recorded_loss = {"train_loss": row.get("train_loss")}
        rows.append({"value": row["value"], **recorded_loss, **measured, "run_dir": row["run_dir"]})
    return SweepResult(folder, path, rows)


def read_sweep_csv(folder: str | Path) -> tuple[str, list[dict[str, Any]]]:
    """(swept path, rows) of a sweep folder's sweep.csv; values and metrics as numbers."""
    from ..spec.loader import parse_value

    file = Path(folder) / SWEEP_CSV
    if not file.is_file():
        raise UserError(f"{folder} holds no {SWEEP_CSV}: not a sweep folder (runs/<name>-sweep/…)")
    with open(file, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = []
        for cells in reader:
            row: dict[str, Any] = {"value": parse_value(cells[0])}
            for name, cell in zip(header[1:], cells[1:]):
                row[name] = cell if name == "run_dir" else float(cell) if cell else None
            rows.append(row)
    return header[0], rows
