"""A loss that blows up and stays finite ends like a diverged run (issue 20, item 3): Adam
at ``lr: 1e9`` takes the lecture's net to a loss of 1e19 without an overflow, and used to
finish with exit 0. The rule (`divergence.BlowUpLimit`) compares each epoch's losses with
the loss the run started from and the loss of predicting zeros; the shipped specs show it
stays far away from healthy runs."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import nn
from tinygrad_edu.training import runs
from tinygrad_edu.training.divergence import BLOWN_UP_RUN, BlowUpLimit
from tinygrad_edu.training.objectives import Objective

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, str(ROOT / "cli.py")]


def test_adam_at_lr_1e9_stops_with_the_divergence_paragraph_and_exit_code_2(tmp_path):
    out = tmp_path / "run"
    result = subprocess.run(
        [*CLI, "train", str(ROOT / "specs" / "mlp.yaml"), "--set", "optimizer.name=adam"]
        + ["--lr", "1e9", "--epochs", "2", "--out", str(out), "--no-plots"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "the training loss reached" in error and "at the end of epoch 1" in error
    assert "still a finite number, but the training has blown up" in error
    assert "No checkpoint was written (this happened in the first epoch, before its" in error
    assert "the weights grow without bound" in error and "Try --lr " in error  # as for nan
    assert "epoch 2/2" not in result.stdout  # stopped at once, not after the last epoch


def test_chance_level_is_the_loss_of_zero_outputs_as_pytorch_computes_it():
    """PyTorch 2.13: ``F.cross_entropy(torch.zeros(4, 10), y)`` = 2.3025851249694824 (ln 10),
    ``F.binary_cross_entropy_with_logits(torch.zeros(4, 1), t)`` = 0.6931471824645996
    (ln 2), ``F.mse_loss(torch.zeros(4, 1), t)`` = mean(t**2)."""
    X = np.linspace(-1, 1, 8, dtype=np.float32).reshape(4, 2)
    cases = [
        (nn.Linear(2, 10), Objective("cross_entropy", 10, {}), np.array([0, 3, 9, 1]), 2.3025851),
        (
            nn.Linear(2, 1),
            Objective("binary_cross_entropy_with_logits", 1, {}),
            np.array([0, 1, 1, 0]),
            0.6931472,
        ),
        (nn.Linear(2, 1), Objective("mse", 1, {}), np.array([1.0, -2.0, 3.0, 0.5]), 3.5625),
    ]
    for model, objective, y, expected in cases:
        model.train()
        limit = BlowUpLimit.measure(model, objective, X, y)
        assert limit.chance == pytest.approx(expected, rel=1e-6), objective.loss
        assert math.isfinite(limit.start) and model.training  # the mode is left as it was


def test_the_rule_fires_only_over_both_references():
    limit = BlowUpLimit(start=1e-5, chance=2.3)  # fine-tuning from weights already trained
    assert limit.exceeded({"training": 0.5, "test": 2.0}, 1) is None  # a bump, not a blow-up
    assert limit.exceeded({"training": 2.3 * BLOWN_UP_RUN * 0.99}, 1) is None
    message = limit.exceeded({"training": 1.0, "test": 5e18}, 3)
    assert message is not None and message.startswith("the test loss reached 5e+18 at the end")
    started_badly = BlowUpLimit(start=4e4, chance=2.3)  # huge starting weights
    assert started_badly.exceeded({"training": 5e4}, 1) is None
    assert BlowUpLimit(math.nan, 2.3).exceeded({"training": 1e30}, 1) is not None  # chance
    assert BlowUpLimit(2.3, 2.3).exceeded({"training": math.nan}, 1) is None  # nan: its own check


SHIPPED = sorted((ROOT / "specs").glob("*.yaml"))
EPOCHS = {"mlp": 1, "deep_mlp": 1}  # the MNIST nets: the epoch where Adam at 1e9 blows up


@pytest.mark.parametrize("spec", SHIPPED, ids=[path.stem for path in SHIPPED])
def test_the_shipped_specs_train_far_below_the_blow_up_limit(tmp_path, spec):
    overrides = {"train.epochs": EPOCHS[spec.stem]} if spec.stem in EPOCHS else {}
    if spec.stem == "universal_approximation":  # the sweep's narrowest width: the slowest fit
        overrides["model.layers[0].linear.out_features"] = 1
    runs.train(spec, overrides, out=tmp_path / "run", quiet=True)  # raises if it diverged
    history = runs.open(tmp_path / "run").metrics
    worst = max(max(row["train_loss"], row.get("val_loss") or row["test_loss"]) for row in history)
    first = history[0]["train_loss"]
    assert worst < 10 * max(first, 1.0) < BLOWN_UP_RUN  # orders of magnitude from the rule
