"""Runs side by side in one picture: their learning curves overlaid (``compare.png``).

What is compared (which runs, their labels, their metrics) is `runs.compare`'s; this
module only draws it.
"""

from __future__ import annotations

import math
from pathlib import Path

from ..runs.compare import read_metrics, run_labels
from . import figures


def learning_curves(runs: list[Path], path: Path) -> Path:
    """Every run's training and held-out loss per epoch, overlaid (``compare.png``)."""
    labels = run_labels(runs)
    fig = figures.new_figure(figsize=(7.2, 4.4))
    ax = fig.add_subplot(1, 1, 1)
    log = True
    for label, run, color in zip(labels, runs, figures.sequence_colors(len(runs))):
        rows = read_metrics(run)
        if not rows:
            continue
        held = "val" if "val_loss" in rows[0] else "test"
        epochs = [r["epoch"] for r in rows]
        for split, style in (("train", "-"), (held, "--")):
            values = [r.get(f"{split}_loss", math.nan) for r in rows]
            log = log and all(v > 0 for v in values)
            ax.plot(epochs, values, style, color=color, label=f"{label} ({split})")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (solid: training, dashed: held-out)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title(f"learning curves of {len(runs)} runs")
    return figures.save_png(fig, path)
