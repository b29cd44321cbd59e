"""Runs: starting them, using them when they are done, and sweeps of them (``tg.runs``).

Reading order: `lock` (one process per run folder), `record` (how a run was made,
``run.json``), `init_from` (a spec's ``init.from`` weights), `start` (``train``: a new run
or ``--resume``), `exported` (what an exported file carries to be used alone), `finished`
(load a finished run's model and weights, evaluate, predict), `trained` (a finished run
rebuilt for pictures), `folder` (a run folder as one object for notebooks), `compare` (runs
side by side), `sweep_plan`, `sweep` and `sweep_workers` (one run per point of a grid).
The folder's file names are `training.layout`'s; the loop itself is `training.loop`.

``tg.runs`` is this package: ``tg.runs.load_model(run_dir)``, ``tg.runs.open(run_dir)``,
``tg.runs.train(spec, {})``, ...
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .finished import (
    csv_text,
    evaluate,
    load_model,
    load_run,
    load_weights,
    predict,
    prediction_rows,
    restore,
)
from .folder import RunFolder
from .init_from import init_problems, load_initial_weights
from .start import print_json, resolved_spec, restart_unstarted, train

__all__ = [
    "csv_text",
    "evaluate",
    "init_problems",
    "load_initial_weights",
    "load_model",
    "load_run",
    "load_weights",
    "open",
    "predict",
    "prediction_rows",
    "print_json",
    "resolved_spec",
    "restart_unstarted",
    "restore",
    "train",
]


def open(run_dir: str | Path) -> Any:  # noqa: A001 - tg.runs.open, as the folder's name
    """The run folder as an object (`folder.RunFolder`): its metrics, spec, record, plots and
    model; in Jupyter it shows them (``tg.runs.open(path)`` as the last line of a cell)."""
    return RunFolder.open(run_dir)
