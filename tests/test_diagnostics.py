"""train.diagnostics and train.snapshots (training/diagnostics.py), diagnostics.png and
plot --animate (viz/plots.py)."""

from __future__ import annotations

import csv
import os
import signal
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import runs
from tinygrad_edu.cli import main
from tinygrad_edu.errors import UserError
from tinygrad_edu.io import npz
from tinygrad_edu.training.diagnostics import read_diagnostics, write_diagnostics
from tinygrad_edu.training.layout import DIAGNOSTICS, snapshot_path
from tinygrad_edu.training.loop import TrainingInterrupted

pytest.importorskip("matplotlib", reason="plots need matplotlib")

MOONS = """
name: diagnostics-test
seed: 1
model:
  input: [2]
  layers: [linear: 8, relu, dropout: 0.2, linear: 6, relu, linear: 2]
data: {source: moons, n_samples: 150, noise: 0.2}
loss: cross_entropy
optimizer: {name: adam, lr: 0.05}
train: {epochs: 3, batch_size: 16}
"""
UNIVERSAL = "specs/universal_approximation.yaml"
WIDTH_1 = "model.layers[0].linear.out_features=1"


def moons(tmp_path: Path) -> Path:
    path = tmp_path / "moons.yaml"
    path.write_text(MOONS)
    return path


def rows_without_seconds(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / "metrics.csv") as handle:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(handle)]


def model_weights(path: Path) -> dict[str, np.ndarray]:
    return {k: v for k, v in npz.load_npz(path).items() if k.startswith("model/")}


def test_the_width_1_universal_approximation_run_stalls_because_its_relu_died(
    tmp_path: Path,
) -> None:
    """The README's example: the spec's seed, the only override its width."""
    code = main(["train", UNIVERSAL, "--set", WIDTH_1, "--diagnostics", "--quiet",
                 "--out", str(tmp_path / "run")])  # fmt: skip
    assert code == 0
    rows = read_diagnostics(tmp_path / "run" / DIAGNOSTICS)
    hidden = [row for row in rows if row["layer"] == "0"]
    output = [row for row in rows if row["layer"] == "2"]
    assert len(hidden) == len(output) == 20
    assert all(float(row["dead_fraction"]) == 1.0 for row in hidden)  # dead from epoch 1 on
    assert all(float(row["grad_norm"]) == 0.0 for row in hidden)  # so it gets no gradient
    assert all(float(row["grad_norm"]) > 0.0 and row["dead_fraction"] == "" for row in output)
    for layer in (hidden, output):  # the weights freeze (the output's multiply a dead 0)
        assert len({row["weight_norm"] for row in layer[4:]}) == 1
    final = rows_without_seconds(tmp_path / "run")[-1]
    assert abs(float(final["test_r2"])) < 0.01  # a constant: the mean of sin, nothing more
    assert (tmp_path / "run" / "diagnostics.png").is_file()


def test_diagnostics_agree_with_the_saved_weights_and_change_nothing(tmp_path: Path) -> None:
    spec = moons(tmp_path)
    runs.train(spec, {}, out=tmp_path / "plain", quiet=True)
    runs.train(spec, {"train.diagnostics": True}, out=tmp_path / "measured", quiet=True)
    assert rows_without_seconds(tmp_path / "plain") == rows_without_seconds(tmp_path / "measured")
    weights = model_weights(tmp_path / "measured" / "model.npz")
    for key, value in model_weights(tmp_path / "plain" / "model.npz").items():
        assert np.array_equal(value, weights[key]), key

    rows = read_diagnostics(tmp_path / "measured" / DIAGNOSTICS)
    last = {row["layer"]: row for row in rows if row["epoch"] == "3"}
    assert sorted(last) == ["0", "3", "5"] and len(rows) == 9
    setup = runs.restore(tmp_path / "measured")  # the data the run trained on, same split
    h = setup.dataset.X_train.astype(np.float64)
    for name in ("0", "3"):  # the hidden layers, recomputed here with NumPy (dropout is off)
        W, b = weights[f"model/{name}.weight"], weights[f"model/{name}.bias"]
        h = np.maximum(h @ W.T.astype(np.float64) + b, 0.0)
        dead = np.mean(np.all(h == 0.0, axis=0))
        assert float(last[name]["dead_fraction"]) == pytest.approx(dead)
        assert float(last[name]["weight_norm"]) == pytest.approx(np.linalg.norm(W), rel=1e-6)
        assert int(last[name]["units"]) == len(W)
    assert last["5"]["dead_fraction"] == ""  # the output layer has no dead units to count
    assert all(float(row["grad_norm"]) > 0 for row in last.values())


def test_a_resumed_run_writes_the_same_diagnostics_and_snapshots(tmp_path: Path) -> None:
    spec = moons(tmp_path)
    switches = {"train.diagnostics": True, "train.snapshots": True}
    runs.train(spec, switches, out=tmp_path / "straight", quiet=True)

    def interrupt(step: int) -> None:
        if step == 14:  # in epoch 2
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(TrainingInterrupted):
        runs.train(spec, switches, out=tmp_path / "cut", quiet=True, on_step=interrupt)
    runs.train(None, {}, resume=tmp_path / "cut", quiet=True)
    assert read_diagnostics(tmp_path / "straight" / DIAGNOSTICS) == read_diagnostics(
        tmp_path / "cut" / DIAGNOSTICS
    )
    for epoch in (1, 2, 3):
        straight = model_weights(snapshot_path(tmp_path / "straight", epoch))
        cut = model_weights(snapshot_path(tmp_path / "cut", epoch))
        assert straight.keys() == cut.keys()
        assert all(np.array_equal(straight[k], cut[k]) for k in straight)


def test_an_epoch_trained_again_replaces_its_rows(tmp_path: Path) -> None:
    path = tmp_path / DIAGNOSTICS
    row = {"layer": "0", "units": 2, "dead_fraction": 0.5, "grad_norm": 1.0, "weight_norm": 2.0}
    for epoch in (1, 2, 3):
        write_diagnostics(path, epoch, [row])
    write_diagnostics(path, 2, [{**row, "dead_fraction": 0.0}])  # epoch 2 again, after a kill
    rows = read_diagnostics(path)
    assert [(r["epoch"], r["dead_fraction"]) for r in rows] == [("1", "0.5"), ("2", "0.0")]


def test_snapshots_are_every_epochs_weights_without_pickle(tmp_path: Path) -> None:
    code = main(["train", str(moons(tmp_path)), "--snapshots", "--quiet", "--no-plots",
                 "--out", str(tmp_path / "run")])  # fmt: skip
    assert code == 0
    run = tmp_path / "run"
    assert sorted(p.name for p in (run / "snapshots").iterdir()) == [
        "epoch_001.npz",
        "epoch_002.npz",
        "epoch_003.npz",
    ]
    with np.load(run / "snapshots" / "epoch_003.npz", allow_pickle=False) as arrays:
        last = {k: arrays[k] for k in arrays.files if k.startswith("model/")}
    final = model_weights(run / "model.npz")
    assert last.keys() == final.keys()
    assert all(np.array_equal(last[k], final[k]) for k in final)
    first = model_weights(snapshot_path(run, 1))
    assert not all(np.array_equal(first[k], final[k]) for k in final)


def test_plot_animate_writes_one_frame_per_epoch(tmp_path: Path) -> None:
    from PIL import Image

    runs.train(moons(tmp_path), {"train.snapshots": True}, out=tmp_path / "run", quiet=True)
    assert main(["plot", str(tmp_path / "run"), "--animate"]) == 0
    with Image.open(tmp_path / "run" / "decision_boundary.gif") as gif:
        assert gif.n_frames == 3
        frames = []
        for index in range(3):
            gif.seek(index)
            frames.append(np.asarray(gif.convert("RGB")))
    assert not np.array_equal(frames[0], frames[2])  # the boundary moves over the epochs

    fit_run = tmp_path / "fit"
    main(["train", UNIVERSAL, "--set", "train.epochs=2", "--snapshots", "--quiet", "--no-plots",
          "--out", str(fit_run)])  # fmt: skip
    assert main(["plot", str(fit_run), "--animate"]) == 0
    with Image.open(fit_run / "fit.gif") as gif:
        assert gif.n_frames == 2


def test_plot_animate_without_snapshots_says_how_to_record_them(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    runs.train(moons(tmp_path), {}, out=tmp_path / "run", quiet=True)
    assert main(["plot", str(tmp_path / "run"), "--animate"]) == 2
    error = capsys.readouterr().err
    assert "has no snapshots" in error and "--snapshots" in error and "Traceback" not in error
    assert not (tmp_path / "run" / "decision_boundary.gif").exists()


def test_the_gif_is_written_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib.animation import PillowWriter

    from tinygrad_edu.viz.plots import animate_run

    runs.train(moons(tmp_path), {"train.snapshots": True}, out=tmp_path / "run", quiet=True)
    gif = tmp_path / "run" / "decision_boundary.gif"
    gif.write_bytes(b"the earlier animation")

    def broken(self: PillowWriter) -> None:
        raise UserError("the writer failed half-way")

    monkeypatch.setattr(PillowWriter, "finish", broken)
    with pytest.raises(UserError, match="half-way"):
        animate_run(tmp_path / "run")
    assert gif.read_bytes() == b"the earlier animation"
    assert not [p for p in gif.parent.iterdir() if p.name.startswith(".decision_boundary")]
