"""Sweeps: train one spec at every point of a grid of its fields, each point with several
seeds, and summarize the results as mean ± standard deviation per point.

A sweep changes only the fields it names, by their dotted key paths as for overrides
(``model.layers[0].linear.out_features``), and the seed; everything else stays, so the
differences between the points come from those fields alone, and the spread over the seeds
of one point says how much of a difference is luck. That is how the lecture's Figure 6 is
made: the same network at widths 1, 3, 6, 12 and 48, five seeds each.

The fields and values come from the spec's ``sweep:`` section (see `sweep_plan` for the
points and folder names, `tinygrad_edu.spec.sweep_values` for ``range``/``logspace``)::

    sweep:
      grid:                                   # every combination: 5 x 2 points
        model.layers[0].linear.out_features: [1, 3, 6, 12, 48]
        optimizer.lr: [0.01, 0.1]
      seeds: [0, 1, 2, 3, 4]                  # or repeats: 5

or from the command line, each option replacing its key of the section. Every run's spec
is applied and validated, and the number of runs checked against `MAX_SWEEP_RUNS`, before
the first training starts, so a bad path or value fails at once instead of after an hour
of training. The runs go into one folder::

    runs/<name>-sweep/<timestamp>/
        sweep.yaml                        the resolved spec with its sweep section (for --resume)
        sweep.csv                         one row per run: point fields, seed, final metrics
        sweep_summary.csv                 one row per point: runs, mean/std/min/max per metric
        out_features=1,lr=0.01,seed=0/    an ordinary run folder per run
        ...

Both CSV files are rewritten atomically after each run, so an interrupted sweep keeps the
rows of the runs that finished. The standard deviation is the sample one (ddof=1, NumPy's
``np.std(x, ddof=1)``), empty for a point with a single run. The folder is locked for the
sweep's life (`lock`), so two processes never run one sweep.

``resume=DIR`` continues a sweep: a run whose folder holds its model.npz is done and is not
trained again, an interrupted run continues from its checkpoint, and the rest start. The
spec may list more values than before (new rows are appended; rows are never replaced),
but must otherwise be the sweep's own. ``jobs=N`` trains N runs at a time in worker
processes (`sweep_workers`), with results identical to ``jobs=1``.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserError
from ..spec.sweep_values import MAX_SWEEP_RUNS
from .checkpoint import remove_stale_temp_files, write_text_atomic
from .sweep_plan import (
    Plan,
    PlannedRun,
    field_names,
    fields_title,
    format_value,
    plan_sweep,
    short_names,
)

__all__ = [
    "MAX_SWEEP_RUNS",
    "SWEEP_CSV",
    "SWEEP_SPEC",
    "SUMMARY_CSV",
    "SweepInterrupted",
    "SweepResult",
    "evaluate_sweep",
    "format_value",
    "group_by_point",
    "is_sweep_folder",
    "point_label",
    "read_sweep_csv",
    "run_sweep",
    "summarize",
]

SWEEP_CSV = "sweep.csv"
SUMMARY_CSV = "sweep_summary.csv"
SWEEP_SPEC = "sweep.yaml"
STATISTICS = ("mean", "std", "min", "max")
_INTEGER = re.compile(r"^[+-]?\d+$")


class SweepInterrupted(Exception):
    """Ctrl-C or SIGTERM during a sweep: the finished runs are in sweep.csv, the unfinished
    ones hold checkpoints, and ``sweep --resume FOLDER`` continues."""

    def __init__(self, folder: Path, signal_name: str, exit_code: int, runs: Sequence[Path]):
        super().__init__(f"sweep {folder} interrupted ({signal_name})")
        self.folder, self.signal_name, self.exit_code = folder, signal_name, exit_code
        self.runs = list(runs)


@dataclass
class SweepResult:
    """A sweep's folder, its swept fields, one row per run and one summary row per point."""

    folder: Path
    paths: list[str]  # the swept fields (full key paths); the seed is not among them
    rows: list[dict[str, Any]]  # {path: value, ..., "seed", final metrics..., "run_dir"}
    layers: list[Any] | None = None  # the spec's model.layers: which width is a hidden one

    @property
    def names(self) -> dict[str, str]:
        """The swept fields' names for a reader: "hidden width", "lr" (`field_names`)."""
        return field_names(self.paths, self.layers)

    @property
    def path(self) -> str:
        """The swept fields in one string, for titles."""
        return ", ".join(self.paths) or "seed"

    @property
    def summary(self) -> list[dict[str, Any]]:
        return summarize(self.paths, self.rows)

    @property
    def values(self) -> list[Any]:
        """The points in order: the value of a one-field sweep, else a tuple per point."""
        return [_point_value(self.paths, row) for row in self.summary]

    def metric(self, name: str, statistic: str = "mean") -> list[float]:
        """One number per point, in order: the mean (or std, min, max) of a final metric
        over the point's seeds (``metric("test_loss")``)."""
        return [row[f"{name}_{statistic}"] for row in self.summary]

    def table(self) -> Any:
        """A rich Table with one row per point: each metric as mean ± std over its seeds."""
        from rich.table import Table

        summary = self.summary
        columns = [c for c in metric_columns(self.rows) if not c.startswith("train_")]
        columns.insert(0, "train_loss")
        seeds = sorted({row["seed"] for row in self.rows})
        caption = f"mean ± std (ddof=1) over seeds {format_value(seeds)}; {self.folder}"
        names = self.names
        table = Table(
            title=f"sweep of {fields_title(self.paths, names) or 'seed'}", caption=caption
        )
        for path in self.paths:
            table.add_column(names[path], justify="right", no_wrap=True)  # title: full paths
        table.add_column("runs", justify="right", no_wrap=True)
        for name in columns:
            table.add_column(name, justify="right")
        for row in summary:
            cells = [format_value(row[path]) for path in self.paths] + [str(row["runs"])]
            cells += [mean_std(row.get(f"{n}_mean"), row.get(f"{n}_std")) for n in columns]
            table.add_row(*cells)
        return table


def mean_std(mean: Any, std: Any) -> str:
    """``0.1203 ± 0.0041``, or the mean alone for a single run."""
    if mean is None:
        return ""
    return _format_metric(mean) + ("" if std is None else f" ± {std:.2g}")


def _point_value(paths: Sequence[str], row: Mapping[str, Any]) -> Any:
    values = tuple(row[path] for path in paths)
    return values[0] if len(values) == 1 else values


def metric_columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The metric names of sweep rows: train, validation and test metrics, in the order
    they first appear."""
    names: dict[str, None] = {}
    for row in rows:
        names.update((n, None) for n in row if n.startswith(("train_", "val_", "test_")))
    return list(names)


def group_by_point(paths: Sequence[str], rows: Sequence[dict[str, Any]]) -> list[list[dict]]:
    """The rows of each point together (its seeds), points in the order of their first row."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(format_value(row[p]) for p in paths), []).append(row)
    return list(groups.values())


def point_label(
    paths: Sequence[str], row: Mapping[str, Any], labels: Mapping[str, str] | None = None
) -> str:
    """``out_features 12, lr 0.1``: a point for a legend or an axis (the seed alone: "spec");
    `labels` names the paths (default: their short names; plots say "hidden width")."""
    labels = labels or short_names(paths)
    return ", ".join(f"{labels[p]} {format_value(row[p])}" for p in paths) or "spec"


def summarize(paths: Sequence[str], rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per point (in the order of its first run): its fields, the number of runs,
    and per metric the mean, the sample standard deviation (ddof=1; None for one run), the
    minimum and the maximum over the point's runs."""
    summary = []
    for members in group_by_point(paths, rows):
        point: dict[str, Any] = {path: members[0][path] for path in paths}
        point["runs"] = len(members)
        for name in metric_columns(members):
            numbers = np.array([r[name] for r in members if r.get(name) is not None], float)
            if not len(numbers):
                continue
            point[f"{name}_mean"] = float(np.mean(numbers))
            point[f"{name}_std"] = float(np.std(numbers, ddof=1)) if len(numbers) > 1 else None
            point[f"{name}_min"] = float(np.min(numbers))
            point[f"{name}_max"] = float(np.max(numbers))
        summary.append(point)
    return summary


# --- running a sweep -----------------------------------------------------------------------


def run_sweep(
    spec_path: str | Path | None,
    path: str | None = None,
    values: Sequence[Any] | None = None,
    out: str | Path | None = None,
    quiet: bool = True,
    verbose: bool = False,
    *,
    grid: Mapping[str, Any] | None = None,
    zip: Mapping[str, Any] | None = None,  # noqa: A002 - the section's own key
    seeds: Sequence[Any] | None = None,
    repeats: int | None = None,
    jobs: int = 1,
    resume: str | Path | None = None,
    imports: Sequence[str] = (),
) -> SweepResult:
    """Train every run of the sweep of `spec_path`; see the module docstring.

    Each of `path`, `values`, `grid`, `zip`, `seeds` and `repeats` given replaces that key
    of the spec's ``sweep:`` section (`seeds` and `repeats` replace each other). String
    values are read as YAML, as on a command line ("12" is 12, "[64, 32]" a list,
    "logspace(-3, -1, 3)" a generator). `out` is the sweep folder (default
    ``runs/<name>-sweep/<timestamp>``); `resume` an existing sweep folder to continue (the
    spec defaults to the folder's sweep.yaml). `jobs` runs that many trainings at a time.
    `imports` are the ``--import`` modules, imported again by each worker process.

    `quiet` prints nothing; otherwise each finished run prints one line (`finished_line`),
    and `verbose` prints every run's full training log instead (only with ``jobs=1``).
    """
    from ..spec import apply_overrides
    from .loop import TrainingInterrupted

    if jobs < 1:
        raise UserError(f"--jobs takes a positive number of worker processes, found {jobs}")
    if verbose and jobs > 1:
        raise UserError("--verbose prints one run's log at a time: use it with --jobs 1")
    folder = _resumed_folder(resume, out) if resume is not None else None
    if spec_path is None:
        if folder is None:
            raise UserError("sweep needs a spec file, e.g. python cli.py sweep specs/x.yaml")
        spec_path = folder / SWEEP_SPEC
    spec = _swept_spec(spec_path, path, values, grid, zip, seeds, repeats)
    plan = plan_sweep(spec.sweep, spec.seed)
    base = apply_overrides(spec, {"sweep": None})
    # every run's spec is checked first; the runs themselves are ordinary runs, without the section
    for run in plan.runs:
        apply_overrides(base, {**run.point, "seed": run.seed})
    with _claimed(folder, out, spec.name) as folder:
        recorded: list[dict[str, Any]] = []
        if resume is not None:
            old_paths, recorded = _recorded(folder)
            _check_same_sweep(folder, base, plan, old_paths, recorded)
            remove_stale_temp_files(folder)  # its own writes that a kill cut short
        todo = _todo(folder, plan, {row["run_dir"] for row in recorded})
        write_text_atomic(folder / SWEEP_SPEC, _sweep_yaml(spec))
        rows = _Rows(folder, plan, recorded)
        rows.write()
        done = 0

        def finished(run: PlannedRun, final: dict[str, Any]) -> None:
            nonlocal done
            rows.add(run, final)
            done += 1
            if not quiet and not verbose:
                line = finished_line(done, len(todo), run.name, final, final.get("seconds"))
                print(line, flush=True)

        tasks = [_task(folder, run, how, verbose, imports) for run, how in todo]
        try:
            if jobs == 1:
                for number, (task, (run, _)) in enumerate(zip_(tasks, todo), start=1):
                    if verbose:
                        print(f"[{number}/{len(todo)}] {run.name}", flush=True)
                    finished(run, train_task(task))
            else:
                from .sweep_workers import run_in_workers

                run_in_workers(tasks, jobs, lambda i, final: finished(todo[i][0], final))
        except TrainingInterrupted as stop:
            raise SweepInterrupted(
                folder, stop.signal_name, stop.exit_code, [stop.run_dir]
            ) from None
        except SweepInterrupted as stop:
            raise SweepInterrupted(folder, stop.signal_name, stop.exit_code, stop.runs) from None
        except KeyboardInterrupt:  # between two runs: nothing was training
            raise SweepInterrupted(folder, "SIGINT", 130, []) from None
    return SweepResult(folder, plan.paths, rows.ordered(), _layers(base))


zip_ = zip  # the builtin, which run_sweep's `zip` parameter hides


@contextmanager
def _claimed(folder: Path | None, out: str | Path | None, name: str) -> Iterator[Path]:
    """The sweep's folder, locked for the ``with`` block: `folder` when resuming, else a new
    one (`out`, or ``runs/<name>-sweep/<timestamp>``), removed again if the sweep fails
    before its first run has a folder (so a failed start leaves no empty sweep behind)."""
    from .lock import RunLock, claim_new_folder
    from .loop import new_run_dir

    if folder is not None:
        with RunLock(folder):
            yield folder
        return
    target = Path(out) if out else new_run_dir(f"{name}-sweep")
    fresh = None if out else (lambda: new_run_dir(f"{name}-sweep"))
    with claim_new_folder(target, fresh) as new:
        try:
            yield new
        except BaseException:
            if not any(p.is_dir() for p in new.iterdir()):
                for file in (SWEEP_SPEC, SWEEP_CSV, SUMMARY_CSV):
                    (new / file).unlink(missing_ok=True)
                remove_stale_temp_files(new)
            raise


def _sweep_yaml(spec: Any) -> str:
    """sweep.yaml: the resolved spec with its sweep section, data paths made absolute (as a
    run's spec.yaml), so that --resume and the worker processes read the same spec; its
    ``${path}`` references stay, so that a swept field moves what refers to it."""
    from .runs import _spec_yaml

    # without the header that speaks of one run
    body = _spec_yaml(spec, references=True).split("\n", 1)[1]
    return "# The resolved spec of this sweep; its runs differ only in the swept fields.\n" + body


def _resumed_folder(resume: str | Path, out: Any) -> Path:
    folder = Path(resume)
    if not (folder / SWEEP_SPEC).is_file():
        raise UserError(
            f"cannot resume {folder}: it holds no {SWEEP_SPEC}; give the folder of a sweep "
            "(runs/<name>-sweep/<timestamp>) that was started by this version's 'sweep'"
        )
    if out is not None:
        raise UserError(
            f"--resume continues the sweep in its own folder {folder}; --out {out} would be "
            "ignored: drop --out (for a new sweep, drop --resume)"
        )
    return folder


def _swept_spec(
    spec_path: str | Path,
    path: str | None,
    values: Sequence[Any] | None,
    grid: Mapping[str, Any] | None,
    zip: Mapping[str, Any] | None,  # noqa: A002
    seeds: Sequence[Any] | None,
    repeats: int | None,
) -> Any:
    """The spec with the given keys of its sweep section replaced, validated as a file is."""
    from ..spec import apply_overrides, load_spec, spec_to_dict
    from ..spec.loader import parse_value

    spec = load_spec(spec_path)
    section = dict(spec_to_dict(spec).get("sweep") or {})

    def read(value: Any, where: str) -> Any:
        return parse_value(value, where) if isinstance(value, str) else value

    given: dict[str, Any] = {}
    if path is not None:
        given["path"] = path
    if values is not None:
        given["values"] = [read(v, "--values") for v in values]
    if grid is not None:
        given["grid"] = {key: read(v, f"--grid {key}") for key, v in grid.items()}
    if zip is not None:
        given["zip"] = {key: read(v, f"--zip {key}") for key, v in zip.items()}
    if seeds is not None:
        given["seeds"] = [read(v, "--seeds") for v in seeds]
        section.pop("repeats", None)
    if repeats is not None:
        given["repeats"] = repeats
        section.pop("seeds", None)
    section.update(given)
    if not section:
        raise UserError(
            f"{spec_path}: nothing to sweep; give the field and its values (e.g. path "
            "model.layers[0].linear.out_features, values 1 3 6) or add a 'sweep:' section "
            "with 'path' and 'values' (or 'grid', 'zip', 'seeds') to the spec"
        )
    return apply_overrides(spec, {"sweep": section}) if given else spec


def _recorded(folder: Path) -> tuple[list[str], list[dict[str, Any]]]:
    """(swept paths, rows) of the sweep.csv of a sweep to resume; none if it was moved away
    (the rows of its finished runs are then read back from their folders)."""
    return read_sweep_csv(folder) if (folder / SWEEP_CSV).exists() else ([], [])


def _check_same_sweep(
    folder: Path, base: Any, plan: Plan, old_paths: list[str], recorded: list[dict]
) -> None:
    """A resumed sweep must be the folder's own: the same spec apart from the sweep section,
    and the same swept fields, so that its rows compare like with like."""
    from ..spec import apply_overrides, load_spec, spec_to_dict

    before = spec_to_dict(apply_overrides(load_spec(folder / SWEEP_SPEC), {"sweep": None}))
    after = spec_to_dict(base)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    if changed:
        raise UserError(
            f"the spec differs from the one of the sweep in {folder} ({folder / SWEEP_SPEC}) "
            f"in {', '.join(changed)}; a resumed sweep may only add values to its sweep "
            "section: undo the change, or start a new sweep with --out"
        )
    if recorded and old_paths != plan.paths:
        raise UserError(
            f"the sweep in {folder} sweeps {', '.join(old_paths) or 'the seed alone'}, this one "
            f"{', '.join(plan.paths) or 'the seed alone'}; rows of different fields do not "
            "belong in one sweep.csv: sweep the same fields, or start a new sweep with --out"
        )


def _todo(folder: Path, plan: Plan, in_csv: set[str]) -> list[tuple[PlannedRun, str]]:
    """The runs still to train, each with how: "new", "resume" (from its checkpoint) or
    "record" (finished, but its row is missing from sweep.csv)."""
    from .loop import CHECKPOINT, MODEL
    from .runs import restart_unstarted

    todo = []
    for run in plan.runs:
        run_dir = folder / run.name
        if (run_dir / MODEL).is_file():
            if run.name not in in_csv:
                todo.append((run, "record"))
        elif (run_dir / CHECKPOINT).is_file():
            todo.append((run, "resume"))
        else:  # a run killed before its first checkpoint left nothing to resume: it restarts
            if run_dir.is_dir():
                restart_unstarted(run_dir)
            todo.append((run, "new"))
    return todo


def _task(
    folder: Path, run: PlannedRun, how: str, verbose: bool, imports: Sequence[str]
) -> dict[str, Any]:
    """What one training needs, as plain data a worker process can receive."""
    return {
        "spec": str(folder / SWEEP_SPEC),
        "point": run.point,
        "seed": run.seed,
        "run_dir": str(folder / run.name),
        "how": how,
        "verbose": verbose,
        "imports": list(imports),
        "record": {"folder": str(folder), "point": run.point, "seed": run.seed},
    }


def train_task(task: Mapping[str, Any]) -> dict[str, Any]:
    """Train (or resume, or only read back) one run of a sweep; returns its final metrics.

    The run's spec is made from the sweep's sweep.yaml the same way in this process and in
    a worker's, so ``--jobs N`` trains exactly what ``--jobs 1`` does."""
    from ..spec import apply_overrides, load_spec
    from . import runs

    run_dir = Path(task["run_dir"])
    quiet = not task["verbose"]
    if task["how"] == "record":
        return final_metrics(run_dir)
    if task["how"] == "resume":
        return runs.train(None, {}, resume=run_dir, quiet=quiet, sweep=task["record"])
    base = apply_overrides(load_spec(task["spec"]), {"sweep": None})
    variant = apply_overrides(base, {**task["point"], "seed": task["seed"]})
    return runs.train(variant, {}, out=run_dir, quiet=quiet, sweep=task["record"])


def final_metrics(run_dir: Path) -> dict[str, Any]:
    """The final metrics of a finished run whose row a sweep never wrote (it stopped between
    the run's end and the row): the last epoch of metrics.csv and the test split's now."""
    from . import runs
    from .loop import METRICS

    with open(run_dir / METRICS, newline="", encoding="utf-8") as handle:
        last = list(csv.DictReader(handle))[-1]
    final: dict[str, Any] = {k: _cell_value(k, v, ()) for k, v in last.items()}
    measured = runs.evaluate(run_dir)
    final.update(
        {f"test_{k}": v for k, v in measured.items() if k not in ("run_dir", "test_samples")}
    )
    return final


class _Rows:
    """The rows of sweep.csv: those recorded before (kept, in their order) and this
    sweep's, in the plan's order whatever order the runs finish in."""

    def __init__(self, folder: Path, plan: Plan, recorded: list[dict[str, Any]]):
        self.folder, self.plan = folder, plan
        self.recorded = recorded
        self.new: dict[str, dict[str, Any]] = {}

    def add(self, run: PlannedRun, final: Mapping[str, Any]) -> None:
        self.new[run.name] = {**run.point, "seed": run.seed, **final, "run_dir": run.name}
        self.write()

    def ordered(self) -> list[dict[str, Any]]:
        planned = [self.new[run.name] for run in self.plan.runs if run.name in self.new]
        return [*self.recorded, *planned]

    def write(self) -> None:
        rows = self.ordered()
        write_sweep_csv(self.folder / SWEEP_CSV, self.plan.paths, rows)
        write_summary_csv(self.folder / SUMMARY_CSV, self.plan.paths, rows)


def finished_line(
    number: int, total: int, name: str, row: dict[str, Any], seconds: float | None
) -> str:
    """One line for a finished run of a sweep: its folder name, held-out metrics as the
    table's columns show them, and its training time (``[2/5] out_features=3,seed=0
    test_loss 0.1203  (1.4s)``; none for a run that had finished before a resume)."""
    names = [n for n in metric_columns([row]) if not n.startswith("train_")]
    metrics = "  ".join(f"{n} {_format_metric(row[n])}" for n in names)
    took = "" if seconds is None else f"  ({seconds:.1f}s)"
    return f"[{number}/{total}] {name}  {metrics}{took}"


def _format_metric(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else "" if value is None else str(value)


# --- the CSV files ---------------------------------------------------------------------------


def _cell(value: Any) -> Any:
    """A CSV cell: floats in full (repr reads back to the same number), None empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return repr(value) if isinstance(value, float) else value


def write_sweep_csv(path: Path, paths: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    """One row per run: its point's values (columns named by their full key paths), the
    seed, the final epoch and metrics, and the run folder, written atomically."""
    columns = ["epoch", *metric_columns(rows), "run_dir"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*paths, "seed", *columns])
    for row in rows:
        point = [format_value(row[p]) for p in paths]
        writer.writerow([*point, row["seed"], *(_cell(row.get(c)) for c in columns)])
    write_text_atomic(path, buffer.getvalue())


def write_summary_csv(path: Path, paths: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    """One row per point: its values, its number of runs, and per metric the mean, the
    sample standard deviation (ddof=1), the minimum and the maximum over its seeds."""
    names = metric_columns(rows)
    columns = [f"{name}_{statistic}" for name in names for statistic in STATISTICS]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*paths, "runs", *columns])
    for point in summarize(paths, rows):
        values = [format_value(point[p]) for p in paths]
        writer.writerow([*values, point["runs"], *(_cell(point.get(c)) for c in columns)])
    write_text_atomic(path, buffer.getvalue())


def is_sweep_folder(folder: str | Path) -> bool:
    """Whether `folder` is a sweep's folder (it holds sweep.csv), not one run's."""
    return (Path(folder) / SWEEP_CSV).is_file()


def read_sweep_csv(folder: str | Path) -> tuple[list[str], list[dict[str, Any]]]:
    """(swept paths, rows) of a sweep folder's sweep.csv; values and metrics as numbers."""
    file = Path(folder) / SWEEP_CSV
    if not file.is_file():
        raise UserError(f"{folder} holds no {SWEEP_CSV}: not a sweep folder (runs/<name>-sweep/…)")
    try:
        with open(file, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            if "seed" not in header or "run_dir" not in header:
                raise ValueError("its header names no seed and run_dir columns")
            paths = header[: header.index("seed")]
            rows = []
            for cells in reader:
                if len(cells) != len(header):
                    raise ValueError(
                        f"line {reader.line_num} has {len(cells)} of {len(header)} cells"
                    )
                rows.append({n: _cell_value(n, c, paths) for n, c in zip_(header, cells)})
    except (UnicodeDecodeError, csv.Error, ValueError, StopIteration) as error:
        raise UserError(
            f"{file} is damaged and cannot be read ({error or 'it is empty'}); the runs' own "
            f"folders are intact: move it away (mv {file} {file}.damaged) and resume with "
            f"python cli.py sweep --resume {folder}, which writes it again from the finished runs"
        ) from None
    return paths, rows


def _cell_value(name: str, cell: str, paths: Sequence[str]) -> Any:
    """A sweep.csv cell read back: a point's value as YAML, the run folder as text, the
    rest as numbers (ints, such as epoch and seed, stay ints, so a rewritten row reads the
    same; an empty cell is None)."""
    from ..spec.loader import parse_value

    if name in paths:
        return parse_value(cell)
    if name == "run_dir":
        return cell
    return (int(cell) if _INTEGER.match(cell) else float(cell)) if cell else None


def evaluate_sweep(folder: str | Path) -> SweepResult:
    """Every finished run of a sweep folder evaluated on its test split, as `runs.evaluate`
    evaluates one run: one row per run, with the run's final training loss (from
    sweep.csv) and the test metrics measured now from its saved model."""
    from ..spec import load_spec
    from . import runs

    folder = Path(folder)
    paths, recorded = read_sweep_csv(folder)
    rows = []
    for row in recorded:
        metrics = runs.evaluate(folder / row["run_dir"])
        measured = {
            f"test_{name}": value
            for name, value in metrics.items()
            if name not in ("run_dir", "test_samples")
        }
        point = {path: row[path] for path in paths}
        kept = {"seed": row["seed"], "train_loss": row.get("train_loss")}
        rows.append({**point, **kept, **measured, "run_dir": row["run_dir"]})
    return SweepResult(folder, paths, rows, _layers(load_spec(folder / SWEEP_SPEC)))


def _layers(spec: Any) -> list[Any] | None:
    """The spec's ``model.layers`` as written (None for an ``mlp:`` model)."""
    return spec.model.model_dump(exclude_none=True).get("layers")
