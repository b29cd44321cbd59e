"""The run folder and the sweep folder: every file name in one place.

A run folder (``runs/<name>/<timestamp>/``, `new_run_dir`) holds what is needed to continue
or use the run without the original spec file::

    spec.yaml          SPEC         the resolved spec, every default written out
    run.json           RECORD       how the run was made (`runs.record`)
    metrics.csv        METRICS      one row per finished epoch
    checkpoint.npz     CHECKPOINT   the latest state, for --resume
    model.npz          MODEL        once finished: weights, normalization, class names
    diagnostics.csv    DIAGNOSTICS  train.diagnostics: one row per layer and epoch
    snapshots/         SNAPSHOTS    train.snapshots: the weights after each epoch
    tensorboard/       TENSORBOARD  train.tensorboard: TensorBoard's event files
    .lock              LOCK         while a process trains there (`runs.lock`)

A sweep folder holds one run folder per run, and::

    sweep.yaml         SWEEP_SPEC   the resolved spec with its sweep section (for --resume)
    sweep.csv          SWEEP_CSV    one row per run
    sweep_summary.csv  SUMMARY_CSV  one row per point

The writers, the readers and the messages all take the names from here, so a name is
changed in one line. The pictures ``plot`` draws and the files ``export`` writes are named
by the modules that make them.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

SPEC = "spec.yaml"
RECORD = "run.json"
METRICS = "metrics.csv"
CHECKPOINT = "checkpoint.npz"
MODEL = "model.npz"
DIAGNOSTICS = "diagnostics.csv"
SNAPSHOTS = "snapshots"
TENSORBOARD = "tensorboard"
LOCK = ".lock"

SWEEP_SPEC = "sweep.yaml"
SWEEP_CSV = "sweep.csv"
SUMMARY_CSV = "sweep_summary.csv"

RUN_FILES = (SPEC, RECORD, METRICS, DIAGNOSTICS)
"""The files a run writes before its first checkpoint (and its TENSORBOARD folder): removed
again if it fails that early."""


def new_run_dir(name: str, root: str | os.PathLike = "runs") -> Path:
    """``runs/<name>/<timestamp>/``, made unique if two runs start in the same second."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(root) / name / stamp
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{stamp}-{n}")
    return candidate


def snapshot_path(run_dir: str | os.PathLike, epoch: int) -> Path:
    """Where the weights after `epoch` go: ``snapshots/epoch_001.npz``, ..."""
    return Path(run_dir) / SNAPSHOTS / f"epoch_{epoch:03d}.npz"
