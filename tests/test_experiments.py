"""A record of how each run was made (run.json), runs side by side (compare), and the list of
runs in a folder with their status (runs)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import runs
from tinygrad_edu.extras import install_hint
from tinygrad_edu.runs import compare, record
from tinygrad_edu.training.loop import TrainingDiverged, TrainingInterrupted

ROOT = Path(__file__).resolve().parents[1]

MOONS = """\
name: moons
seed: 3
model:
  input: [2]
  layers: [linear: 8, relu, linear: 2]
data: {source: moons, n_samples: 100}
loss: cross_entropy
optimizer: {name: sgd, lr: 0.05}
train: {epochs: 2, batch_size: 16}
"""


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "moons.yaml"
    path.write_text(MOONS)
    return path


def test_run_json_records_how_the_run_was_made(tmp_path, spec):
    runs.train(spec, {"seed": 5}, out=tmp_path / "run", quiet=True)
    data = json.loads((tmp_path / "run" / "run.json").read_text())
    assert data["status"] == "finished" and data["exit_code"] == 0
    assert data["seed"] == 5  # the seed actually used, after overrides
    assert data["numpy"] == np.__version__ and data["python"] == sys.version.split()[0]
    assert data["backend"] == "numpy" and data["device"] == "cpu" and data["dtype"] == "float32"
    assert data["started"] <= data["finished"]
    assert data["peak_memory_mib"] > 10
    assert data["blas"]["library"] and data["cpu"]
    assert data["command"] == sys.argv


@pytest.mark.parametrize("where", ["jupyter", "interactive", "python -c"])
def test_a_run_made_from_python_records_no_command_line(tmp_path, spec, monkeypatch, where):
    """Issue 20: in a notebook the record gave the kernel's launch command as how the run was
    made; in an interactive interpreter (argv ['']) or python -c, argv says nothing either."""
    from tinygrad_edu.training import progress

    if where == "jupyter":
        kernel = ["/venv/lib/python3.11/site-packages/ipykernel_launcher.py", "-f", "k.json"]
        monkeypatch.setattr(sys, "argv", kernel)
        monkeypatch.setattr(progress, "in_jupyter", lambda: True)
    else:
        monkeypatch.setattr(sys, "argv", [""] if where == "interactive" else ["-c"])
    runs.train(spec, {}, out=tmp_path / "run", quiet=True)
    data = record.read_record(tmp_path / "run")
    assert data["command"] is None
    said = record.describe(data)
    assert record.FROM_PYTHON in said and "ipykernel" not in said


def test_the_git_commit_of_the_working_tree_is_recorded(tmp_path, monkeypatch):
    git = ["git", "-c", "user.email=t@example.org", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "f.txt").write_text("one")
    subprocess.run([*git, "-C", str(tmp_path), "add", "f.txt"], check=True)
    subprocess.run([*git, "-C", str(tmp_path), "commit", "-qm", "first"], check=True)
    head = subprocess.run(
        ["git", "-C", str(tmp_path), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    monkeypatch.chdir(tmp_path)
    assert record.environment()["git"] == {"commit": head, "dirty": False}
    (tmp_path / "f.txt").write_text("two")
    assert record.environment()["git"] == {"commit": head, "dirty": True}
    monkeypatch.chdir(tmp_path.parent)  # not a repository: no commit to record
    assert record._git(Path("/")) is None


def test_interrupted_and_diverged_runs_say_so_and_a_resume_keeps_the_history(
    tmp_path, spec, monkeypatch
):
    def interrupt(step: int) -> None:
        if step == 3:
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(TrainingInterrupted):
        runs.train(spec, {}, out=tmp_path / "cut", quiet=True, on_step=interrupt)
    assert record.read_record(tmp_path / "cut")["status"] == "interrupted"
    assert record.read_record(tmp_path / "cut")["exit_code"] == 130
    runs.train(None, {}, resume=tmp_path / "cut", quiet=True)
    resumed = record.read_record(tmp_path / "cut")
    assert resumed["status"] == "finished"
    assert [s["status"] for s in resumed["sessions"]] == ["interrupted"]

    with pytest.raises(TrainingDiverged):  # before its first checkpoint: no folder is left
        runs.train(spec, {"optimizer.lr": 1e30}, out=tmp_path / "nan", quiet=True)
    assert not (tmp_path / "nan").exists()
    from tinygrad_edu.training.loop import Trainer

    step = Trainer._train_step

    def poisoned(self, *args):  # the second epoch's weights turn NaN: its loss diverges
        if self.progress.epoch == 1:
            for p in self.setup.model.parameters():
                p.data[...] = np.nan
        return step(self, *args)

    monkeypatch.setattr(Trainer, "_train_step", poisoned)
    with pytest.raises(TrainingDiverged):
        runs.train(spec, {}, out=tmp_path / "later", quiet=True)
    diverged = record.read_record(tmp_path / "later")
    assert diverged["status"] == "diverged" and diverged["exit_code"] == 2
    assert "epoch 2" in diverged["message"]


def test_compare_shows_only_the_spec_fields_that_differ(tmp_path, spec):
    runs.train(spec, {}, out=tmp_path / "a", quiet=True)
    runs.train(spec, {"optimizer.lr": 0.1, "train.batch_size": 32}, out=tmp_path / "b", quiet=True)
    differences = compare.spec_differences([tmp_path / "a", tmp_path / "b"])
    assert differences == {"optimizer.lr": [0.05, 0.1], "train.batch_size": [16, 32]}
    assert compare.spec_differences([tmp_path / "a", tmp_path / "a"]) == {}
    assert compare.run_labels([tmp_path / "a", tmp_path / "b"]) == ["a", "b"]
    from tinygrad_edu.viz.compare import learning_curves

    path = learning_curves([tmp_path / "a", tmp_path / "b"], tmp_path / "compare.png")
    assert path.read_bytes().startswith(b"\x89PNG")


def test_dotted_paths_are_the_paths_that_set_takes():
    spec = {"model": {"layers": [{"linear": 8}, "relu"]}, "train": {"epochs": 2}, "seed": 0}
    assert compare.dotted_paths(spec) == {
        "model.layers[0].linear": 8,
        "model.layers[1]": "relu",
        "train.epochs": 2,
        "seed": 0,
    }


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True, cwd=cwd
    )


def test_cli_runs_and_compare(tmp_path, spec):
    runs.train(spec, {}, out=tmp_path / "runs" / "a", quiet=True)
    with pytest.raises(TrainingInterrupted):
        runs.train(
            spec,
            {"optimizer.lr": 0.2},
            out=tmp_path / "runs" / "b",
            quiet=True,
            on_step=lambda step: step == 2 and os.kill(os.getpid(), signal.SIGINT),
        )
    listed = cli("runs", str(tmp_path / "runs"))
    assert listed.returncode == 0, listed.stderr
    rows = [line for line in listed.stdout.splitlines() if line.startswith("│")]
    assert len(rows) == 2
    assert "2/2" in rows[0] and "finished" in rows[0]
    assert "0/2" in rows[1] and "interrupted" in rows[1]

    shown = cli("compare", str(tmp_path / "runs"), "--out", str(tmp_path / "c.png"))
    assert shown.returncode == 0, shown.stderr
    assert "optimizer.lr" in shown.stdout and "0.2" in shown.stdout
    assert "seed 3" in shown.stdout  # each run's record
    assert (tmp_path / "c.png").is_file()

    missing = cli("compare", str(tmp_path / "nothing"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


def test_compare_draws_beside_the_runs_not_in_the_current_folder(tmp_path, spec):
    """Issue 20: compare wrote compare.png into the current folder (the repository's root)."""
    for name, lr in (("a", 0.05), ("b", 0.1)):
        runs.train(spec, {"optimizer.lr": lr}, out=tmp_path / "runs" / name, quiet=True)
    here = tmp_path / "here"  # where the user typed the command
    here.mkdir()
    shown = cli("compare", "../runs/a", "../runs/b", cwd=here)
    assert shown.returncode == 0, shown.stderr
    assert list(here.iterdir()) == []
    assert (tmp_path / "runs" / "compare.png").read_bytes().startswith(b"\x89PNG")
    assert shown.stdout.rstrip().endswith(f"wrote {Path('..') / 'runs' / 'compare.png'}")
    assert compare.default_picture([tmp_path / "s" / "p1", tmp_path / "s" / "p2"]) == (
        tmp_path / "s" / "compare.png"  # a sweep's runs: in the sweep's folder
    )
    assert compare.default_picture([Path("runs/a"), tmp_path / "runs" / "b"]).is_absolute()


def test_compare_refuses_a_folder_as_picture_before_printing(tmp_path, spec):
    runs.train(spec, {}, out=tmp_path / "runs" / "a", quiet=True)
    shown = cli("compare", str(tmp_path / "runs" / "a"), "--out", str(tmp_path))
    assert shown.returncode == 2 and "Traceback" not in shown.stderr
    assert shown.stdout == ""  # refused before the tables


def test_evaluate_shows_the_record(tmp_path, spec):
    runs.train(spec, {}, out=tmp_path / "run", quiet=True)
    shown = cli("evaluate", str(tmp_path / "run"))
    assert shown.returncode == 0 and "finished" in shown.stdout and "seed 3" in shown.stdout
    as_json = json.loads(cli("evaluate", str(tmp_path / "run"), "--json").stdout)
    assert as_json["record"]["status"] == "finished"


def read_events(folder: Path) -> list:
    """Every event of a run's TensorBoard files (TFRecord: length, crc, event, crc)."""
    import struct

    from tensorboardX.proto.event_pb2 import Event

    events = []
    for path in sorted(folder.glob("events.out.tfevents.*")):
        data = path.read_bytes()
        offset = 0
        while offset < len(data):
            (length,) = struct.unpack("<Q", data[offset : offset + 8])
            events.append(Event.FromString(data[offset + 12 : offset + 12 + length]))
            offset += 12 + length + 4
    return events


def test_tensorboard_scalars_equal_metrics_csv_with_histograms_and_the_spec(tmp_path, spec):
    pytest.importorskip(
        "tensorboardX", reason='tensorboardX not installed: pip install -e ".[test]"'
    )
    result = cli(
        "train", str(spec), "--out", str(tmp_path / "run"), "--quiet", "--no-plots", "--tensorboard"
    )
    assert result.returncode == 0, result.stderr
    events = read_events(tmp_path / "run" / "tensorboard")
    scalars: dict[str, dict[int, float]] = {}
    tags = set()
    for event in events:
        for value in event.summary.value:
            tags.add(value.tag)
            if value.HasField("simple_value"):
                scalars.setdefault(value.tag, {})[event.step] = value.simple_value
    rows = compare.read_metrics(tmp_path / "run")
    for column in ("train_loss", "test_loss", "test_accuracy", "lr"):
        assert scalars[f"epoch/{column}"] == pytest.approx(
            {int(r["epoch"]): r[column] for r in rows}, rel=1e-6
        )
    assert len(scalars["step/train_loss"]) == 2 * 5  # 80 training points, batches of 16
    assert {"weights/0.weight", "gradients/0.weight", "weights/2.bias"} <= tags
    assert any(t.startswith("spec") for t in tags)


def test_tensorboard_without_tensorboardx_says_how_to_install_it(monkeypatch):
    from tinygrad_edu.errors import UserError
    from tinygrad_edu.training import tensorboard

    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(UserError) as info:
        tensorboard.check_available()
    assert str(info.value) == f"TensorBoard files need tensorboardX: {install_hint('tensorboard')}"
