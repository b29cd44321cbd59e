"""A run folder as one object, for notebooks: ``tg.runs.open("runs/mlp/20261125-120000")``.

`RunFolder` reads what ``train`` wrote (``metrics.csv``, ``spec.yaml``, ``run.json`` and the
plots) and shows it: as the last line of a Jupyter cell, `_repr_html_` gives how the run was
made (`record.describe`), its metrics per epoch as a table and its PNG plots embedded in the
page (base64, so the notebook needs no files next to it); in a terminal, ``repr`` gives the
same as text. Nothing is cached: each attribute reads the folder again, so a run still
training shows its newest epoch.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..spec import load_spec
from ..training.layout import SPEC
from ..training.progress import metric_columns, metric_text, metrics_table, rich_bundle
from .compare import read_metrics
from .finished import load_model
from .record import describe, read_record

PLOT_WIDTH = 420
"""Width in pixels of each plot in the notebook's view."""


@dataclass(frozen=True)
class RunFolder:
    """A run folder written by ``train``: its metrics, spec, record, plots and model."""

    path: Path

    @classmethod
    def open(cls, run_dir: str | Path) -> RunFolder:
        path = Path(run_dir)
        if not (path / SPEC).is_file():
            raise UserError(
                f"{path} is not a run folder (it holds no {SPEC}): give a folder written by "
                "'train', e.g. runs/mnist-mlp/20261125-120000"
            )
        return cls(path)

    @property
    def metrics(self) -> list[dict[str, float]]:
        """metrics.csv: one dict per epoch ([] before the first epoch ends)."""
        return [{**row, "epoch": int(row["epoch"])} for row in read_metrics(self.path)]

    @property
    def spec(self) -> Any:
        """The run's resolved spec (``spec.yaml``), as `tinygrad_edu.spec.load_spec` reads it."""
        return load_spec(self.path / SPEC)

    @property
    def record(self) -> dict[str, Any] | None:
        """run.json: how the run was made (None for a run older than run records)."""
        return read_record(self.path)

    @property
    def plots(self) -> dict[str, Path]:
        """The PNG pictures in the folder by name ('learning_curves': .../learning_curves.png)."""
        return {p.stem: p for p in sorted(self.path.glob("*.png")) if p.is_file()}

    def load_model(self) -> Any:
        """The trained model in evaluation mode (`finished.load_model`)."""
        return load_model(self.path)

    def __repr__(self) -> str:
        lines = [f"run folder {self.path}", describe(self.record)]
        metrics = self.metrics
        if metrics:  # plain text, no escape codes, even where Jupyter sets FORCE_COLOR
            lines.append(rich_bundle(metrics_table(metrics))["text/plain"])
        else:
            lines.append("no epoch has finished yet (metrics.csv is empty)")
        plots = self.plots
        lines.append(f"plots: {', '.join(plots) if plots else 'none (python cli.py plot DIR)'}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        parts = [
            f"<h4>run folder <code>{escape(str(self.path))}</code></h4>",
            f"<p>{escape(describe(self.record))}</p>",
        ]
        metrics = self.metrics
        if metrics:
            columns = metric_columns(metrics)
            head = "".join(f"<th>{escape(c)}</th>" for c in columns)
            rows = "".join(
                "<tr>"
                + "".join(f"<td>{escape(metric_text(r.get(c)))}</td>" for c in columns)
                + "</tr>"
                for r in metrics
            )
            parts.append(
                '<table style="font-family:monospace;text-align:right">'
                f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
            )
        else:
            parts.append("<p>no epoch has finished yet (metrics.csv is empty)</p>")
        figures = []
        for name, path in self.plots.items():
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            figures.append(
                f'<figure style="display:inline-block;vertical-align:top;margin:4px">'
                f'<img src="data:image/png;base64,{data}" width="{PLOT_WIDTH}" '
                f'alt="{escape(name)}">'
                f"<figcaption>{escape(name)}</figcaption></figure>"
            )
        parts.append("<div>" + "".join(figures) + "</div>" if figures else "<p>no plots</p>")
        return "\n".join(parts)
