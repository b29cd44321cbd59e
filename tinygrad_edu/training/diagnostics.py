"""What happens inside a network while it trains: per-layer diagnostics and weight snapshots.

``train.diagnostics: true`` (``train --diagnostics``) adds one row per `Linear` layer and
epoch to ``diagnostics.csv`` in the run folder, measured when the epoch ends:

- ``dead_fraction``: for a hidden layer, the fraction of its units that are zero on every
  sample of the *whole training set* (evaluated at the epoch's end, in evaluation mode): a
  dead ReLU gets no gradient, so it never learns again. Empty for the output layer.
- ``grad_norm``: the L2 norm of the layer's gradient (weight and bias together) of the
  epoch's *last step*: the gradient that made the epoch's last update.
- ``weight_norm``: the L2 (Frobenius) norm of the layer's weight matrix.

``train.snapshots: true`` (``train --snapshots``) saves the weights after every epoch as
``snapshots/epoch_001.npz``, ... (the ``model/`` keys of ``model.npz``, written atomically,
loadable without pickle), so ``plot --animate`` can draw the run epoch by epoch.

Both are written before the epoch's checkpoint, and a resumed run rewrites the rows of the
epochs it trains again: the files always agree with the checkpoint. Measuring draws no
random numbers, so a run with diagnostics trains bit-identically to one without.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np

from ..io.atomic import write_text_atomic
from ..io.npz import prefix_keys, save_npz
from ..nn import Linear
from .hidden import dead_units, hidden_activations
from .layout import DIAGNOSTICS, SNAPSHOTS, snapshot_path

COLUMNS = ("epoch", "layer", "units", "dead_fraction", "grad_norm", "weight_norm")


def record_epoch(setup: Any, run_dir: Path, epoch: int) -> None:
    """Write what the spec's ``train:`` asks for about the epoch that just ended."""
    train = setup.spec.train
    if getattr(train, "diagnostics", False):
        write_diagnostics(run_dir / DIAGNOSTICS, epoch, layer_diagnostics(setup))
    if getattr(train, "snapshots", False):
        save_snapshot(run_dir, epoch, setup.model.state_dict())


def layer_diagnostics(setup: Any) -> list[dict[str, Any]]:
    """One row per Linear layer of the model: units, dead fraction, gradient and weight norm."""
    model = getattr(setup.model, "module", setup.model)  # the scalar engine's wraps the layers
    was_training = model.training
    model.eval()  # dropout off: the units as the trained network computes them
    X = setup.dataset.X_train
    hidden = dict(hidden_activations(model, X))
    model.train(was_training)
    rows = []
    for name, module in model.named_children():
        if not isinstance(module, Linear):
            continue
        params = [p for p in (module.weight, module.bias) if p is not None]
        grads = [p._grad for p in params if p._grad is not None]
        grad_norm = math.sqrt(sum(_squared(g) for g in grads)) if grads else math.nan
        dead = float(np.mean(dead_units(hidden[name]))) if name in hidden else None
        rows.append(
            {
                "layer": name,
                "units": module.out_features,
                "dead_fraction": dead,
                "grad_norm": grad_norm,
                "weight_norm": math.sqrt(_squared(module.weight.data)),
            }
        )
    return rows


def _squared(array: Any) -> float:
    values = np.asarray(array, dtype=np.float64)
    return float(np.sum(values * values))


def write_diagnostics(path: Path, epoch: int, rows: list[dict[str, Any]]) -> None:
    """Replace the rows of `epoch` and later (a resumed run trains them again), atomically."""
    kept = [row for row in read_diagnostics(path) if int(row["epoch"]) < epoch]
    lines = [",".join(COLUMNS)]
    for row in kept:
        lines.append(",".join(str(row[c]) for c in COLUMNS))
    for row in rows:
        cells = {**row, "epoch": epoch}
        lines.append(",".join(_cell(cells[c]) for c in COLUMNS))
    write_text_atomic(path, "\n".join(lines) + "\n")


def read_diagnostics(path: Path) -> list[dict[str, str]]:
    """The rows of a diagnostics.csv as text (an empty list when there is none)."""
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return repr(float(value)) if isinstance(value, float) else str(value)


def save_snapshot(run_dir: Path, epoch: int, state: dict[str, Any]) -> Path:
    """The weights after `epoch`, under model.npz's keys."""
    path = snapshot_path(run_dir, epoch)
    path.parent.mkdir(exist_ok=True)
    arrays = prefix_keys(state, "model")
    arrays["meta/epoch"] = epoch
    save_npz(path, arrays)
    return path


def list_snapshots(run_dir: Path) -> list[Path]:
    """The run's snapshots in epoch order."""
    return sorted((Path(run_dir) / SNAPSHOTS).glob("epoch_*.npz"))
