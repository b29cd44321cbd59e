"""TensorBoard event files for a run (``train --tensorboard`` or ``train.tensorboard: true``).

`TensorBoardReporter` is one more `Reporter`: the training loop tells it about every step and
epoch, as it tells the progress display, and it writes them with tensorboardX into the run
folder's ``tensorboard/`` subfolder (``tensorboard --logdir runs/`` shows every run):

- scalars: ``step/train_loss`` per optimizer step, and every column of ``metrics.csv`` per
  epoch as ``epoch/<column>`` (the same numbers);
- histograms per epoch of every parameter (``weights/<name>``) and of its gradient from the
  epoch's last step (``gradients/<name>``);
- the resolved spec as text (``spec``).

The network graph is not written: tensorboardX draws graphs by tracing PyTorch models.
tensorboardX is in the ``tensorboard`` extra; without it the run stops before it starts with the
one-line install hint.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..extras import install_hint
from .layout import TENSORBOARD
from .loop import Reporter, Trainer

MISSING_TENSORBOARDX = f"TensorBoard files need tensorboardX: {install_hint('tensorboard')}"


def check_available() -> None:
    """Fail before training starts when tensorboardX is missing (exit 2, one line)."""
    try:
        import tensorboardX  # noqa: F401
    except ImportError:
        raise UserError(MISSING_TENSORBOARDX) from None


def check_folder(run_dir: Path) -> None:
    """Refuse, before a resumed run changes anything, a ``tensorboard`` entry of its folder
    that is not a folder (a file, a dangling link): no event file could be written there."""
    target = Path(run_dir) / TENSORBOARD
    if os.path.lexists(target) and not target.is_dir():
        raise UserError(
            f"{target} is not a folder, so the TensorBoard event files of --tensorboard cannot "
            f"be written into it; move it away (mv {target} {target}.old) and resume again, "
            "or resume without --tensorboard"
        )


class TensorBoardReporter(Reporter):
    """Writes a run's scalars, histograms and spec as TensorBoard events."""

    def __init__(self, spec_text: str):
        self.spec_text = spec_text
        self.writer: Any = None

    def start(self, trainer: Trainer) -> None:
        from tensorboardX import SummaryWriter

        self.trainer = trainer
        self.writer = SummaryWriter(str(trainer.run_dir / TENSORBOARD))
        self.writer.add_text(
            "spec", f"```yaml\n{self.spec_text}\n```", trainer.progress.global_step
        )

    def step(self, loss: float, samples: int) -> None:
        self.writer.add_scalar("step/train_loss", loss, self.trainer.progress.global_step)

    def epoch_end(self, row: dict) -> None:
        epoch = int(row["epoch"])
        for key, value in row.items():
            if key != "epoch":
                self.writer.add_scalar(f"epoch/{key}", float(value), epoch)
        for name, parameter in self.trainer.setup.model.named_parameters():
            self.writer.add_histogram(f"weights/{name}", parameter.numpy(), epoch)
            if parameter.grad is not None:
                self.writer.add_histogram(f"gradients/{name}", parameter.grad.numpy(), epoch)
        self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class Reporters(Reporter):
    """Several reporters told the same things, in order (the display, then TensorBoard)."""

    def __init__(self, *reporters: Reporter):
        self.reporters = reporters

    def start(self, trainer: Trainer) -> None:
        for reporter in self.reporters:
            reporter.start(trainer)

    def step(self, loss: float, samples: int) -> None:
        for reporter in self.reporters:
            reporter.step(loss, samples)

    def epoch_end(self, row: dict) -> None:
        for reporter in self.reporters:
            reporter.epoch_end(row)

    def finish(self, history: list[dict]) -> None:
        for reporter in self.reporters:
            reporter.finish(history)

    def close(self) -> None:
        for reporter in self.reporters:
            reporter.close()
