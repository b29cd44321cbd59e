"""Training runs: convergence, determinism, resume bit-identity, atomic checkpoints,
divergence handling, evaluate and predict."""

from __future__ import annotations

import csv
import io
import os
import re
import signal
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import runs
from tinygrad_edu.errors import UserError
from tinygrad_edu.io import npz
from tinygrad_edu.training.layout import CHECKPOINT, METRICS, MODEL
from tinygrad_edu.training.loop import TrainingDiverged, TrainingInterrupted

MOONS = """
name: moons-test
seed: 3
model:
  input: [2]
  layers: [linear: 16, relu, dropout: 0.1, linear: 2]
data: {{source: moons, n_samples: 300, noise: 0.1}}
loss: cross_entropy
optimizer: {{name: {optimizer}, lr: {lr}}}
scheduler: {{name: cosine}}
train: {{epochs: {epochs}, batch_size: 32}}
"""


def write_spec(tmp_path: Path, optimizer: str = "adam", lr: float = 0.05, epochs: int = 4) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(MOONS.format(optimizer=optimizer, lr=lr, epochs=epochs))
    return path


def weights(run_dir: Path, name: str = MODEL) -> dict[str, np.ndarray]:
    return {k: v for k, v in npz.load_npz(run_dir / name).items() if k.startswith("model/")}


def metric_rows(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / METRICS) as handle:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(handle)]


def assert_same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys() and a
    for key in a:
        assert np.array_equal(a[key], b[key]), key


def test_training_converges_on_moons(tmp_path):
    spec = write_spec(tmp_path, epochs=12)
    final = runs.train(spec, {}, out=tmp_path / "run", quiet=True)
    rows = metric_rows(tmp_path / "run")
    assert len(rows) == 12
    assert float(rows[-1]["train_loss"]) < 0.5 * float(rows[0]["train_loss"])
    assert float(rows[-1]["train_accuracy"]) > float(rows[0]["train_accuracy"])
    assert final["test_accuracy"] >= 0.9
    for name in (CHECKPOINT, MODEL, METRICS, "spec.yaml"):
        assert (tmp_path / "run" / name).is_file()


def test_same_spec_and_seed_give_bit_identical_weights(tmp_path):
    spec = write_spec(tmp_path)
    runs.train(spec, {}, out=tmp_path / "a", quiet=True)
    runs.train(spec, {}, out=tmp_path / "b", quiet=True)
    assert_same_weights(weights(tmp_path / "a"), weights(tmp_path / "b"))
    runs.train(spec, {"seed": 4}, out=tmp_path / "c", quiet=True)
    assert not np.array_equal(
        weights(tmp_path / "a")["model/0.weight"], weights(tmp_path / "c")["model/0.weight"]
    )


@pytest.mark.parametrize("stop_at", [5, 10, 20])  # mid-epoch and right at an epoch's end
def test_resume_after_ctrl_c_is_bit_identical(tmp_path, stop_at):
    spec = write_spec(tmp_path)
    runs.train(spec, {}, out=tmp_path / "straight", quiet=True)

    def interrupt(step: int) -> None:
        if step == stop_at:
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(TrainingInterrupted) as info:
        runs.train(spec, {}, out=tmp_path / "cut", quiet=True, on_step=interrupt)
    assert info.value.exit_code == 130
    assert (tmp_path / "cut" / CHECKPOINT).is_file()
    assert not (tmp_path / "cut" / MODEL).exists()
    runs.train(None, {}, resume=tmp_path / "cut", quiet=True)
    assert_same_weights(weights(tmp_path / "straight"), weights(tmp_path / "cut"))
    assert metric_rows(tmp_path / "straight") == metric_rows(tmp_path / "cut")


def test_resume_needs_a_checkpoint(tmp_path):
    with pytest.raises(UserError, match="no checkpoint.npz"):
        runs.train(None, {}, resume=tmp_path, quiet=True)


def test_interrupted_checkpoint_write_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.npz"
    npz.save_npz(path, {"model/w": np.arange(3.0), "meta/epoch": 1})

    def torn_write(handle, **arrays):
        handle.write(b"PK\x03\x04 half a zip file")
        raise KeyboardInterrupt  # the process is stopped in the middle of the write

    monkeypatch.setattr(np, "savez", torn_write)
    with pytest.raises(KeyboardInterrupt):
        npz.save_npz(path, {"model/w": np.zeros(3), "meta/epoch": 2})
    monkeypatch.undo()
    restored = npz.load_npz(path)
    assert restored["meta/epoch"] == 1 and np.array_equal(restored["model/w"], np.arange(3.0))
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.npz"]  # no temp file left


def test_nan_loss_stops_with_a_clear_error_and_keeps_the_last_checkpoint(tmp_path):
    spec = write_spec(tmp_path, optimizer="sgd", lr=1e30, epochs=3)
    with pytest.raises(TrainingDiverged) as info:
        runs.train(spec, {}, out=tmp_path / "run", quiet=True)
    message = str(info.value)
    assert "epoch" in message and "step" in message and "Try --lr" in message
    assert info.value.exit_code == 2
    if (tmp_path / "run" / CHECKPOINT).exists():  # diverged after a finished epoch
        npz.load_npz(tmp_path / "run" / CHECKPOINT)


def test_the_divergence_probe_returns_the_largest_tried_rate_that_lowered_the_loss(tmp_path):
    from tinygrad_edu import rng
    from tinygrad_edu.spec import load_spec
    from tinygrad_edu.training.divergence import PROBE_BUDGET, probe_learning_rate
    from tinygrad_edu.training.loop import prepare

    setup = prepare(load_spec(write_spec(tmp_path, optimizer="sgd", lr=1e30)))
    start, ds = setup.model.state_dict(), setup.dataset
    random_state = rng.get_state()

    def probe(lr: float, budget: int = PROBE_BUDGET):
        return probe_learning_rate(
            setup.spec, start, setup.objective, ds.X_train, ds.y_train, lr, budget
        )

    found = probe(1e30)
    assert found.lr is not None and found.loss_after < found.loss_before
    assert found.tried == tuple(
        float(f"{1e30 / 10**k:.3g}") for k in range(1, len(found.tried) + 1)
    )
    assert found.tried[-1] == found.lr and len(found.tried) > 1
    assert rng.get_state() == random_state  # the run's random stream is untouched
    assert_same_weights(start, setup.model.state_dict())  # the probe trains a copy
    again = probe(found.lr * 10)  # the same rate, alone: the same numbers (no shuffling)
    assert (again.lr, again.loss_before, again.loss_after) == (
        found.lr,
        found.loss_before,
        found.loss_after,
    )
    larger = probe(found.lr * 100)  # the rate tried just before it did not lower the loss
    assert larger.tried[0] == found.lr * 10 and larger.lr == found.lr
    starved = probe(1e30, budget=3)  # the budget bounds the work: too small to find one
    assert starved.lr is None and "saw the loss fall with none" in starved.advice()


def test_evaluate_reproduces_the_final_test_metrics(tmp_path):
    spec = write_spec(tmp_path)
    final = runs.train(spec, {}, out=tmp_path / "run", quiet=True)
    metrics = runs.evaluate(tmp_path / "run")
    assert metrics["accuracy"] == final["test_accuracy"]
    assert metrics["loss"] == pytest.approx(final["test_loss"])


def test_predict_writes_classes_and_probabilities(tmp_path):
    spec = write_spec(tmp_path)
    runs.train(spec, {}, out=tmp_path / "run", quiet=True)
    features = tmp_path / "points.csv"
    features.write_text("x0,x1\n0.0,1.0\n1.0,-0.5\n-1.0,0.5\n")
    count = runs.predict(tmp_path / "run", features, tmp_path / "preds.csv")
    assert count == 3
    rows = list(csv.reader(open(tmp_path / "preds.csv")))
    assert rows[0] == ["prediction", "p_0", "p_1"]
    for row in rows[1:]:
        p = [float(v) for v in row[1:]]
        assert sum(p) == pytest.approx(1.0, abs=1e-5)
        assert int(row[0]) == int(np.argmax(p))


def test_predict_rejects_wrong_feature_count(tmp_path):
    spec = write_spec(tmp_path)
    runs.train(spec, {}, out=tmp_path / "run", quiet=True)
    features = tmp_path / "points.csv"
    features.write_text("1,2,3\n")
    with pytest.raises(UserError, match="3 values but the model takes 2"):
        runs.predict(tmp_path / "run", features, tmp_path / "preds.csv")


def test_unwritable_output_folder_is_a_user_error(tmp_path):
    spec = write_spec(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(UserError, match="cannot write the run folder"):
        runs.train(spec, {}, out=blocker / "run", quiet=True)


def test_shape_mismatch_between_data_and_model_fails_before_training(tmp_path):
    data = tmp_path / "d.npz"
    np.savez(data, X=np.zeros((20, 3)), y=np.arange(20) % 2)
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "name: t\nmodel: {input: [4], layers: [linear: 2]}\n"
        "data: {source: npz, path: d.npz}\nloss: cross_entropy\n"
        "optimizer: {name: sgd, lr: 0.1}\ntrain: {epochs: 1, batch_size: 4}\n"
    )
    with pytest.raises(UserError) as info:
        runs.train(spec, {}, out=tmp_path / "run", quiet=True)
    assert "(3,)" in str(info.value) and "[4]" in str(info.value)
    assert not (tmp_path / "run" / CHECKPOINT).exists()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bars_in_a_terminal_and_plain_lines_elsewhere(tmp_path):
    spec = write_spec(tmp_path, epochs=2)
    terminal = _Terminal()
    runs.train(spec, {}, out=tmp_path / "tty", stream=terminal)
    shown = terminal.getvalue()
    assert "epochs" in shown and "steps" in shown and "samples/s" in shown
    assert "Metrics per epoch" in shown and "test accuracy" in shown
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown)
    epoch_line = text[text.index("epoch 2/2") :].split("epochs")[0]  # rich wraps at 80 columns
    assert "train_loss" in epoch_line and "test_loss" in epoch_line
    final = shown.split("\x1b[?25h")[0]  # the bars as they are left when the run ends
    last_epochs = final[final.rindex("epochs") :].splitlines()[0]
    last_steps = final[final.rindex("steps") :].splitlines()[0]
    assert "- samples/s" not in last_epochs and "samples/s" in last_epochs
    steps = re.search(r"(\d+)/(\d+)", re.sub(r"\x1b\[[0-9;]*m", "", last_steps))
    assert steps and steps.group(1) == steps.group(2) != "0"  # the steps bar ends full

    plain = io.StringIO()
    runs.train(spec, {}, out=tmp_path / "pipe", stream=plain)
    lines = plain.getvalue().splitlines()
    assert sum(line.startswith("epoch ") for line in lines) == 2
    assert "\x1b[" not in plain.getvalue()  # no colour codes in logs


def test_predict_names_the_first_bad_cell(tmp_path):
    spec = write_spec(tmp_path)
    runs.train(spec, {}, out=tmp_path / "run", quiet=True)
    features = tmp_path / "points.csv"
    features.write_text("x0,x1\n0.0,1.0\n1.0,oops\n")
    with pytest.raises(UserError, match=r"line 3, column 'x1': 'oops' is not a number"):
        runs.predict(tmp_path / "run", features, tmp_path / "preds.csv")
    assert not (tmp_path / "preds.csv").exists()


def test_metrics_keep_four_significant_digits_when_small():
    from tinygrad_edu.training.progress import format_metric

    assert [format_metric(v) for v in (0.5, 0.0, 0.00029, 4.4e-05, 123456.0)] == [
        "0.5000",
        "0.0000",
        "0.00029",
        "4.4e-05",
        "1.235e+05",
    ]


def test_the_loss_sparkline_turns_logarithmic_when_the_loss_falls_by_decades():
    from tinygrad_edu.training.progress import _caption

    falling = [{"train_loss": v} for v in (1.0, 0.1, 0.01, 0.001)]
    assert _caption(falling) == "train loss (log scale) █▆▃▁"
    assert _caption([{"train_loss": v} for v in (1.0, 0.8, 0.6)]) == "train loss █▅▁"


def test_json_seconds_is_the_whole_training_and_epoch_seconds_the_last_epoch(tmp_path):
    spec = write_spec(tmp_path, epochs=2)
    final = runs.train(spec, {}, out=tmp_path / "run", quiet=True)
    with open(tmp_path / "run" / "metrics.csv") as handle:
        seconds = [float(row["seconds"]) for row in csv.DictReader(handle)]
    assert final["seconds"] == pytest.approx(sum(seconds), abs=1e-3)
    assert final["epoch_seconds"] == seconds[-1]
