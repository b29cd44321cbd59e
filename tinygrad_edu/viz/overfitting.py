"""When the learning curves say "overfitting": a small rule a student can check by eye.

A network that memorises its training set keeps lowering its training loss while the
held-out loss stops falling and turns upwards: from then on it learns the training
samples, not the task. ``learning_curves.png`` names that moment when the curves show it
clearly, by `find_overfitting`'s rule (all of it must hold):

- at least `MIN_EPOCHS` epochs, and the held-out loss was lowest at least two epochs
  before the last (one bad epoch is noise, not a turn);
- the last held-out loss is `RISE` (10 %) or more above that lowest value;
- the training loss is still falling: lower at the last epoch than at the best one;
- the gap is real: the last held-out loss is `GAP` (1.5) times the training loss or more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MIN_EPOCHS = 4
RISE = 1.10
GAP = 1.5


@dataclass(frozen=True)
class Overfitting:
    """Where the held-out loss turned, and how the two curves have gone since."""

    best_epoch: int
    best_loss: float
    last_epoch: int
    last_loss: float
    train_loss: float  # at the last epoch

    def note(self, held: str = "test") -> str:
        """One line for the loss panel of ``learning_curves.png``."""
        rise = self.last_loss / self.best_loss - 1
        return (
            f"overfitting: {held} loss lowest at epoch {self.best_epoch} ({self.best_loss:.3g}), "
            f"{rise:.0%} higher by epoch {self.last_epoch}\nwhile the training loss kept "
            f"falling (to {self.train_loss:.3g})"
        )


def find_overfitting(rows: list[dict[str, Any]], held: str = "test") -> Overfitting | None:
    """`Overfitting` if the rows of a metrics.csv (``epoch``, ``train_loss``,
    ``{held}_loss``) show it by the module's rule, else None."""
    key = f"{held}_loss"
    if len(rows) < MIN_EPOCHS or any(row.get(key) is None for row in rows):
        return None
    losses = [float(row[key]) for row in rows]
    best = min(range(len(rows)), key=losses.__getitem__)
    last = rows[-1]
    train_then, train_now = float(rows[best]["train_loss"]), float(last["train_loss"])
    if (
        best <= len(rows) - 3
        and losses[-1] >= RISE * losses[best]
        and train_now < train_then
        and losses[-1] >= GAP * train_now
    ):
        return Overfitting(
            int(rows[best]["epoch"]), losses[best], int(last["epoch"]), losses[-1], train_now
        )
    return None
