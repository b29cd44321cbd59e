"""What a training run shows: live bars in a terminal or a notebook, plain lines elsewhere.

In a terminal, `LiveReporter` draws rich progress bars for epochs and steps with the
running loss, throughput (samples/s), elapsed time and ETA, and prints every epoch's
training and held-out metrics above them. In a Jupyter notebook, `NotebookReporter` shows
the same bars and the metrics so far in one output updated in place. When output is not a
terminal (CI, pipes, files), `PlainReporter` prints one line per epoch instead. All end
with a table of the metrics per epoch and a sparkline of the loss; ``--quiet`` shows
nothing (the ``train`` command then prints only the run folder).
"""

from __future__ import annotations

import io
import math
import sys
import time
from typing import IO, Any

from .loop import Reporter, Trainer

SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float]) -> str:
    """A tiny bar chart of `values` in one line of text (no dependency)."""
    finite = [v for v in values if v == v and abs(v) != float("inf")]
    if not finite:
        return ""
    lo, hi = min(finite), max(finite)
    span = hi - lo or 1.0
    return "".join(
        SPARK[min(len(SPARK) - 1, int((v - lo) / span * (len(SPARK) - 1) + 0.5))]
        if v in finite
        else " "
        for v in values
    )


def format_metric(value: float) -> str:
    """Four decimals for ordinary metrics; four significant digits for small or large ones,
    so a regression's test loss 0.00029 is not shown as 0.0003 or 0.0000."""
    if value == 0 or (1e-2 <= abs(value) < 1e5):
        return f"{value:.4f}"
    return f"{value:.4g}"


def metric_text(value: Any) -> str:
    """A cell of the metrics table: floats by `format_metric`, epochs as they are."""
    if isinstance(value, float):
        return format_metric(value)
    return str(value)


def metric_columns(history: list[dict]) -> list[str]:
    """The columns of the metrics table: every metric but the learning rate and the time."""
    return [c for c in history[0] if c not in ("lr", "seconds")] if history else []


def metrics_table(history: list[dict], title: str = "Metrics per epoch") -> Any:
    """A rich Table of the history, with the loss sparkline in its caption."""
    from rich.table import Table

    columns = metric_columns(history)
    table = Table(title=title, caption=_caption(history))
    for c in columns:
        table.add_column(c, justify="right")
    for row in history:
        table.add_row(*(metric_text(row.get(c)) for c in columns))
    return table


def _caption(history: list[dict]) -> str:
    """The training loss's sparkline; on a log scale when it falls by more than 10x (a
    regression's loss often does, and on a linear scale all but the first bar are flat)."""
    losses = [row["train_loss"] for row in history if "train_loss" in row]
    if len(losses) < 2:
        return ""
    positive = [v for v in losses if v > 0 and math.isfinite(v)]
    if len(positive) == len(losses) and max(positive) > 10 * min(positive):
        return f"train loss (log scale) {sparkline([math.log10(v) for v in losses])}"
    return f"train loss {sparkline(losses)}"


class PlainReporter(Reporter):
    """One line per epoch; for logs and pipes."""

    def __init__(self, stream: IO[str] | None = None):
        self.stream = stream or sys.stdout

    def start(self, trainer: Trainer) -> None:
        self.trainer = trainer
        self.total = trainer.setup.epochs
        self.samples = 0
        self.started = time.perf_counter()
        print(f"run folder: {trainer.run_dir}", file=self.stream)
        print(f"data: {trainer.setup.dataset.describe()}", file=self.stream)

    def step(self, loss: float, samples: int) -> None:
        self.samples += samples

    def epoch_end(self, row: dict) -> None:
        elapsed = time.perf_counter() - self.started
        rate = self.samples / elapsed if elapsed > 0 else 0.0
        metrics = "  ".join(
            f"{k} {metric_text(v)}" for k, v in row.items() if k not in ("epoch", "seconds", "lr")
        )
        print(
            f"epoch {row['epoch']}/{self.total}  {metrics}  {rate:,.0f} samples/s  {elapsed:.1f}s",
            file=self.stream,
            flush=True,
        )

    def finish(self, history: list[dict]) -> None:
        from rich.console import Console

        console = Console(file=self.stream, no_color=True, highlight=False, force_jupyter=False)
        console.print(metrics_table(history))


class LiveReporter(PlainReporter):
    """Rich progress bars (epochs and steps) with running loss, samples/s and ETA."""

    def start(self, trainer: Trainer) -> None:
        from rich.console import Console

        super().start(trainer)
        self.console = Console(file=self.stream)
        self._add_bars(trainer)
        self.bars.start()

    def _add_bars(self, trainer: Trainer) -> None:
        """The two bars (epochs, steps of this epoch) on `self.console`, not yet drawn."""
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TextColumn("{task.fields[rate]} samples/s"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        done = trainer.progress.epoch
        self.epoch_bar = self.bars.add_task(
            "epochs", total=self.total, completed=done, loss="-", rate="-"
        )
        self.step_bar = self.bars.add_task(
            "steps",
            total=trainer.steps_per_epoch,
            completed=trainer.progress.step,
            loss="-",
            rate="-",
        )
        self.running = 0.0
        self.pending = 0
        self.last_update = 0.0

    def step(self, loss: float, samples: int) -> None:
        super().step(loss, samples)
        self.running = loss if self.running == 0.0 else 0.98 * self.running + 0.02 * loss
        self.pending += 1
        now = time.perf_counter()
        if now - self.last_update >= 0.1:  # redrawing every step would cost more than the step
            self._flush(now)

    def _flush(self, now: float) -> None:
        elapsed = now - self.started
        rate = f"{self.samples / elapsed:,.0f}" if elapsed > 0 else "-"
        loss = format_metric(self.running)
        self.bars.update(self.step_bar, advance=self.pending, loss=loss, rate=rate)
        self.bars.update(self.epoch_bar, rate=rate)  # both bars show the run's throughput
        self.pending = 0
        self.last_update = now

    def epoch_end(self, row: dict) -> None:
        self._flush(time.perf_counter())
        self.bars.update(self.epoch_bar, advance=1, loss=format_metric(row["train_loss"]))
        if row["epoch"] < self.total:  # after the last epoch the steps bar stays full
            self.bars.reset(self.step_bar, total=self.trainer.steps_per_epoch)
        self._show_epoch(row)

    def _show_epoch(self, row: dict) -> None:
        """The epoch's metrics, printed above the bars."""
        shown = [k for k in row if k not in ("epoch", "seconds", "lr")]
        summary = "  ".join(f"{k} {metric_text(row[k])}" for k in shown)
        self.bars.console.print(f"epoch {row['epoch']}/{self.total}  {summary}")

    def finish(self, history: list[dict]) -> None:
        self.bars.stop()
        self.console.print(metrics_table(history))

    def close(self) -> None:
        if hasattr(self, "bars"):
            self.bars.stop()


class NotebookReporter(LiveReporter):
    """In Jupyter: the same bars and the metrics table so far, in one output that is updated
    in place (IPython's display handle), as HTML with a plain-text copy.

    Terminal bars redraw by moving the cursor with escape codes, which a notebook prints as
    garbage, and rich's own live display in Jupyter needs ipywidgets; a display handle needs
    nothing beyond the kernel, and the finished cell keeps the last picture.
    """

    def __init__(self, stream: IO[str] | None = None, display: Any = None):
        super().__init__(stream)
        self.display = display  # IPython.display.display unless given (tests give a fake)

    def start(self, trainer: Trainer) -> None:
        from rich.console import Console

        PlainReporter.start(self, trainer)
        if self.display is None:
            from IPython.display import display

            self.display = display
        self.console = Console(file=io.StringIO(), force_jupyter=False)  # the bars never print
        self._add_bars(trainer)
        self.rows: list[dict] = []
        self.handle = self.display(self._bundle(self.rows), raw=True, display_id=True)

    def _flush(self, now: float) -> None:
        super()._flush(now)
        self.handle.update(self._bundle(self.rows), raw=True)

    def _show_epoch(self, row: dict) -> None:
        self.rows.append(row)
        self.handle.update(self._bundle(self.rows), raw=True)

    def finish(self, history: list[dict]) -> None:
        self.handle.update(self._bundle(history), raw=True)

    def _bundle(self, history: list[dict]) -> dict[str, str]:
        from rich.console import Group

        parts = [self.bars.get_renderable()]
        if history:
            parts.append(metrics_table(history))
        return rich_bundle(Group(*parts))


def rich_bundle(renderable: Any, width: int = 100) -> dict[str, str]:
    """A rich renderable as the two formats a notebook shows: HTML with rich's colours, and
    plain text without escape codes (what a text-only frontend shows)."""
    from rich.console import Console
    from rich.jupyter import JUPYTER_HTML_FORMAT

    console = Console(
        file=io.StringIO(), record=True, width=width, force_jupyter=False, color_system="truecolor"
    )
    console.print(renderable)
    return {
        "text/plain": console.export_text(clear=False).rstrip(),
        "text/html": console.export_html(inline_styles=True, code_format=JUPYTER_HTML_FORMAT),
    }


def in_jupyter() -> bool:
    """Whether this process is a Jupyter kernel (rich's own test, as its Console uses)."""
    from rich.console import Console

    return Console().is_jupyter


def choose_reporter(quiet: bool, stream: IO[str]) -> Reporter:
    """Bars in a terminal, a live display in Jupyter, plain lines elsewhere, nothing with
    --quiet."""
    if quiet:
        return Reporter()
    if stream.isatty():
        return LiveReporter(stream)
    if stream in (sys.stdout, sys.stderr) and in_jupyter():
        return NotebookReporter(stream)
    return PlainReporter(stream)
