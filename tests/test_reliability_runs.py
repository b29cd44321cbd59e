"""Every promise of a run folder holds against a hostile user (issue 9): a rejected command
changes nothing, two processes never share a folder, signals and full disks keep the last
checkpoint, damaged files and unwritable places are one paragraph with exit code 2."""

from __future__ import annotations

import csv
import errno
import io
import os
import signal
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import cli, runs
from tinygrad_edu.errors import UserError
from tinygrad_edu.io import npz
from tinygrad_edu.runs.lock import FolderInUse, RunLock
from tinygrad_edu.training import loop
from tinygrad_edu.training.layout import CHECKPOINT, LOCK, METRICS, MODEL, SPEC, SWEEP_CSV
from tinygrad_edu.training.loop import TrainingDiverged

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, str(ROOT / "cli.py")]

MOONS = """\
name: moons-reliable
seed: 2
model:
  input: [2]
  layers: [linear: 8, relu, linear: 2]
data: {{source: moons, n_samples: {n}, noise: 0.1}}
loss: cross_entropy
optimizer: {{name: {optimizer}, lr: {lr}}}
train: {{epochs: {epochs}, batch_size: 32}}
"""
STEPS_PER_EPOCH = 8  # 240 training samples of 300, batches of 32


def write_spec(folder: Path, n=300, epochs=3, optimizer="adam", lr=0.05, name="spec.yaml"):
    path = folder / name
    path.write_text(MOONS.format(n=n, epochs=epochs, optimizer=optimizer, lr=lr))
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes: equal snapshots mean nothing changed."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def interrupt_at(stop_at: int):
    def hook(step: int) -> None:
        if step == stop_at:
            os.kill(os.getpid(), signal.SIGINT)

    return hook


def interrupted_run(tmp_path: Path, stop_at: int = 5, epochs: int = 3) -> Path:
    """A run stopped by Ctrl-C after `stop_at` steps (mid-epoch unless a multiple of 8)."""
    out = tmp_path / "run"
    with pytest.raises(loop.TrainingInterrupted):
        runs.train(
            write_spec(tmp_path, epochs=epochs),
            {},
            out=out,
            quiet=True,
            on_step=interrupt_at(stop_at),
        )
    return out


def run_cli(capsys, *args: str) -> tuple[int, str]:
    """`python cli.py ARGS` in this process: (exit code, stderr). Any exception other than
    a UserError would escape main() and fail the test: that is the 'no traceback' check."""
    code = cli.main([str(a) for a in args])
    return code, capsys.readouterr().err


def assert_one_paragraph(code: int, err: str, *fragments: str) -> None:
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    for fragment in fragments:
        assert fragment in err, err


def finite_checkpoint(path: Path) -> dict:
    state = npz.load_npz(path)
    for name, value in state.items():
        if name.startswith("model/"):
            assert np.all(np.isfinite(value)), name
    return state


# --- 1. a rejected --resume changes nothing ---------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"model.layers[0].linear": 64}, "does not fit the run's spec"),
        ({"model.layers[0].linear.bias": False}, "does not fit the run's spec"),
        ({"seed": 99}, "different seed"),
        ({"data.n_samples": 200}, "different data"),
        ({"train.batch_size": 7}, "in the middle of an epoch"),
        ({"train.epochs": 0}, "positive integer"),
    ],
)
def test_a_rejected_resume_leaves_the_run_folder_byte_identical(tmp_path, overrides, fragment):
    out = interrupted_run(tmp_path)
    before = snapshot(out)
    with pytest.raises(UserError, match=fragment):
        runs.train(None, overrides, resume=out, quiet=True)
    assert snapshot(out) == before
    runs.train(None, {}, resume=out, quiet=True)  # and the run still resumes as it was
    assert (out / MODEL).is_file()


def test_batch_size_may_change_at_an_epoch_boundary(tmp_path):
    out = tmp_path / "run"
    runs.train(write_spec(tmp_path, epochs=1), {}, out=out, quiet=True)
    final = runs.train(None, {"train.batch_size": 16, "train.epochs": 3}, resume=out, quiet=True)
    assert final["epoch"] == 3 and "batch_size: 16" in (out / SPEC).read_text()


def test_resume_of_a_finished_run_says_how_to_train_longer(tmp_path):
    out = tmp_path / "run"
    runs.train(write_spec(tmp_path, epochs=2), {}, out=out, quiet=True)
    before = snapshot(out)
    with pytest.raises(UserError, match=r"is finished: it has trained 2 epochs.*--epochs 12"):
        runs.train(None, {}, resume=out, quiet=True)
    assert snapshot(out) == before
    final = runs.train(None, {"train.epochs": 3}, resume=out, quiet=True)
    assert final["epoch"] == 3


def test_a_new_learning_rate_on_resume_is_the_one_that_trains(tmp_path):
    out = tmp_path / "run"
    runs.train(write_spec(tmp_path, epochs=1, optimizer="sgd", lr=0.05), {}, out=out, quiet=True)
    runs.train(None, {"train.epochs": 2, "optimizer.lr": 0.2}, resume=out, quiet=True)
    lrs = [line.split(",")[-2] for line in (out / "metrics.csv").read_text().splitlines()[1:]]
    assert lrs == ["0.05", "0.2"]  # what spec.yaml says, not the checkpoint's old rate
    assert "lr: 0.2" in (out / SPEC).read_text()


def test_a_new_learning_rate_under_a_schedule_is_refused_and_changes_nothing(tmp_path):
    spec = write_spec(tmp_path, epochs=1)
    out = tmp_path / "run"
    runs.train(spec, {"scheduler": "cosine"}, out=out, quiet=True)
    before = snapshot(out)
    with pytest.raises(UserError, match="its schedule .cosine. sets the rate"):
        runs.train(None, {"train.epochs": 2, "optimizer.lr": 0.2}, resume=out, quiet=True)
    assert snapshot(out) == before


# --- 2. one process per run folder --------------------------------------------------------


def test_the_lock_names_its_owner_and_is_removed_on_release(tmp_path):
    with RunLock(tmp_path) as lock:
        assert (tmp_path / LOCK).read_text() == f"{os.getpid()}\n"
        with pytest.raises(FolderInUse, match=f"in use by process {os.getpid()}"):
            RunLock(tmp_path).acquire()  # a second open file description: refused
        assert lock.path.exists()
    assert not (tmp_path / LOCK).exists()
    RunLock(tmp_path).acquire().release()  # free again


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    (tmp_path / LOCK).write_text(dead.stdout)
    with RunLock(tmp_path):
        assert (tmp_path / LOCK).read_text() == f"{os.getpid()}\n"


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*CLI, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_for(path: Path, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def _stop(process: subprocess.Popen) -> tuple[str, str]:
    process.send_signal(signal.SIGINT)
    return process.communicate(timeout=60)


def test_two_trainings_started_together_into_one_folder(tmp_path):
    spec = write_spec(tmp_path, n=4000, epochs=200)
    out = tmp_path / "run"
    first, second = _start("train", spec, "--out", out), _start("train", spec, "--out", out)
    try:
        deadline = time.monotonic() + 60
        while first.poll() is None and second.poll() is None:
            assert time.monotonic() < deadline, "neither training refused the shared folder"
            time.sleep(0.02)
        loser, winner = (first, second) if first.poll() is not None else (second, first)
        _, err = loser.communicate(timeout=60)
        assert loser.returncode == 2, err
        assert f"in use by process {winner.pid}" in err and "Traceback" not in err
        _wait_for(out / CHECKPOINT, winner)
        # --resume of the run in progress is refused the same way, and changes nothing
        resumed = subprocess.run(
            [*CLI, "train", "--resume", str(out)], capture_output=True, text=True, timeout=120
        )
        assert resumed.returncode == 2 and f"process {winner.pid}" in resumed.stderr
    finally:
        _, err = _stop(winner) if winner.poll() is None else ("", "")
    assert winner.returncode == 130, err
    assert not (out / LOCK).exists()  # released at the end


def test_a_second_sweep_into_a_folder_in_use_names_the_first(tmp_path):
    spec = write_spec(tmp_path, n=4000, epochs=200)
    out = tmp_path / "sweep"
    sweep = ["sweep", spec, "--path", "seed", "--values", "1", "2", "--out", out]
    first = _start(*sweep)
    try:
        _wait_for(out / "seed=1" / CHECKPOINT, first)
        second = subprocess.run(
            [*CLI, *map(str, sweep)], capture_output=True, text=True, timeout=120
        )
        assert second.returncode == 2, second.stderr
        assert f"in use by process {first.pid}" in second.stderr
    finally:
        _, err = _stop(first)
    assert first.returncode == 130, err  # Ctrl-C in a sweep: the sweep's message, no traceback
    assert f"sweep --resume {out}" in err and "Traceback" not in err


def test_a_killed_run_leaves_a_stale_lock_that_resume_takes_over(tmp_path):
    spec = write_spec(tmp_path, n=300, epochs=100000)
    out = tmp_path / "run"
    process = _start("train", spec, "--out", out, "--quiet")
    _wait_for(out / CHECKPOINT, process)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate()
    assert (out / LOCK).read_text().strip() == str(process.pid)  # left behind by the kill
    final = runs.train(
        None,
        {"train.epochs": npz.load_npz(out / CHECKPOINT)["meta/epoch"] + 1},
        resume=out,
        quiet=True,
    )
    assert final["run_dir"] == str(out) and not (out / LOCK).exists()


# --- 3. and 4. --out never overwrites what is already there --------------------------------


def test_out_dot_in_a_folder_of_the_users_own_files_leaves_them_untouched(tmp_path):
    spec = write_spec(tmp_path)
    (tmp_path / "metrics.csv").write_text("my,own,numbers\n1,2,3\n")
    before = snapshot(tmp_path)
    result = subprocess.run(
        [*CLI, "train", "spec.yaml", "--out", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "is not empty" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(tmp_path) == before
    assert before[spec.name] == spec.read_bytes()


def test_a_second_sweep_never_replaces_sweep_csv(tmp_path):
    from tinygrad_edu.runs.sweep import run_sweep

    spec = write_spec(tmp_path, epochs=1)
    run_sweep(spec, "seed", ["1"], out=tmp_path / "s")
    before = snapshot(tmp_path / "s")
    with pytest.raises(UserError, match=f"already holds a sweep \\({SWEEP_CSV}\\)"):
        run_sweep(spec, "seed", ["2"], out=tmp_path / "s")
    assert snapshot(tmp_path / "s") == before


# --- 5. a checkpoint only of finite weights and a finite held-out loss --------------------


class _PoisonAtStep(loop.Trainer):
    """Makes the update of one global step produce a NaN weight."""

    poison_step = 0

    def _train_step(self, xb, yb, metrics) -> None:
        super()._train_step(xb, yb, metrics)
        if self.progress.global_step + 1 == self.poison_step:
            next(iter(self.setup.model.parameters())).data[0, 0] = np.nan


@pytest.mark.parametrize(("epoch", "kept"), [(2, "epoch 1"), (1, None)])
def test_a_bad_update_at_the_end_of_an_epoch_is_never_checkpointed(
    tmp_path, monkeypatch, epoch, kept
):
    monkeypatch.setattr(_PoisonAtStep, "poison_step", epoch * STEPS_PER_EPOCH)  # the last step
    monkeypatch.setattr(runs.start, "Trainer", _PoisonAtStep)
    out = tmp_path / "run"
    with pytest.raises(TrainingDiverged) as info:
        runs.train(write_spec(tmp_path), {}, out=out, quiet=True)
    message = str(info.value)
    assert f"after the update of epoch {epoch}, step {STEPS_PER_EPOCH}" in message
    if kept:
        assert f"The checkpoint of {kept} is kept in {out / CHECKPOINT}." in message
        assert finite_checkpoint(out / CHECKPOINT)["meta/epoch"] == 1
        assert len((out / METRICS).read_text().splitlines()) == 2  # header + epoch 1
    else:
        assert "No checkpoint was written" in message
        assert not out.exists()  # nothing to keep: no empty run folder either


def test_a_nan_held_out_loss_is_never_checkpointed(tmp_path, monkeypatch):
    real = loop.evaluate_arrays
    calls = []

    def nan_in_epoch_2(*args, **kwargs):
        calls.append(1)
        metrics = real(*args, **kwargs)
        return {**metrics, "loss": float("nan")} if len(calls) == 2 else metrics

    monkeypatch.setattr(loop, "evaluate_arrays", nan_in_epoch_2)
    out = tmp_path / "run"
    with pytest.raises(TrainingDiverged, match="test loss became nan at the end of epoch 2"):
        runs.train(write_spec(tmp_path), {}, out=out, quiet=True)
    assert finite_checkpoint(out / CHECKPOINT)["meta/epoch"] == 1


# --- 7. SIGTERM and stale temporary files -----------------------------------------------


def test_sigterm_saves_a_checkpoint_and_exits_143(tmp_path):
    spec = write_spec(tmp_path, n=4000, epochs=200)
    out = tmp_path / "run"
    process = _start("train", spec, "--out", out)
    _wait_for(out / METRICS, process)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143, err
    assert "interrupted (SIGTERM)" in err and f"python cli.py train --resume {out}" in err
    assert "Traceback" not in err
    state = finite_checkpoint(out / CHECKPOINT)
    assert state["meta/epoch"] >= 1 and not (out / LOCK).exists()


def test_resume_removes_stale_temporary_files_of_killed_writes(tmp_path):
    out = interrupted_run(tmp_path)
    stale = [out / ".checkpoint.npz.k3j_9x2a.tmp", out / ".metrics.csv.abcdefgh.tmp"]
    for path in stale:
        path.write_bytes(b"PK\x03\x04 half a file")
    (out / "notes.tmp").write_text("the user's own file")
    runs.train(None, {}, resume=out, quiet=True)
    assert not any(path.exists() for path in stale)
    assert (out / "notes.tmp").read_text() == "the user's own file"


# --- 8. damaged .npz files ---------------------------------------------------------------


def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncated":
        data = data[: len(data) // 2]
    elif how == "bit-flipped":
        data[len(data) // 3] ^= 0x10  # inside the first array's bytes: a CRC mismatch
    else:
        data = bytearray()
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("finished")
    runs.train(write_spec(folder, epochs=2), {}, out=folder / "run", quiet=True)
    return folder / "run"


def _copy_run(source: Path, destination: Path) -> Path:
    destination.mkdir()
    for path in source.iterdir():
        (destination / path.name).write_bytes(path.read_bytes())
    return destination


@pytest.mark.parametrize("how", ["truncated", "bit-flipped", "empty"])
def test_a_damaged_model_is_one_paragraph_for_evaluate_and_predict(
    tmp_path, capsys, finished_run, how
):
    run = _copy_run(finished_run, tmp_path / "run")
    _damage(run / MODEL, how)
    points = tmp_path / "points.csv"
    points.write_text("0.0,1.0\n")
    for args in (["evaluate", run], ["predict", run, "--input", points, "--output", "p.csv"]):
        code, err = run_cli(capsys, *args)
        assert_one_paragraph(code, err, f"{run / MODEL} is damaged", "training again rebuilds it")


@pytest.mark.parametrize("how", ["truncated", "bit-flipped", "empty"])
def test_a_damaged_checkpoint_is_one_paragraph_for_resume(tmp_path, capsys, how):
    run = interrupted_run(tmp_path)
    _damage(run / CHECKPOINT, how)
    before = snapshot(run)
    code, err = run_cli(capsys, "train", "--resume", run)
    assert_one_paragraph(code, err, f"{run / CHECKPOINT} is damaged", "model.npz")
    assert snapshot(run) == before


# --- 10. unwritable destinations, full disks, and the checkpoint write's every stage ------


def _fail_with(code: int):
    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    return fail


def _torn_savez(handle, **arrays):
    handle.write(b"PK\x03\x04 half")
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize(
    ("stage", "target", "replacement"),
    [
        ("open", tempfile, "NamedTemporaryFile"),
        ("write", np, "savez"),
        ("fsync", os, "fsync"),
        ("replace", os, "replace"),
    ],
)
def test_a_checkpoint_write_failing_at_any_stage_keeps_the_previous_one(
    tmp_path, monkeypatch, stage, target, replacement
):
    path = tmp_path / CHECKPOINT
    npz.save_npz(path, {"model/w": np.arange(3.0), "meta/epoch": 1})
    failure = _torn_savez if stage == "write" else _fail_with(errno.ENOSPC)
    monkeypatch.setattr(target, replacement, failure)
    with pytest.raises(UserError, match=f"cannot write {path}: No space left on device; the disk"):
        npz.save_npz(path, {"model/w": np.zeros(3), "meta/epoch": 2})
    monkeypatch.undo()
    restored = npz.load_npz(path)
    assert restored["meta/epoch"] == 1 and np.array_equal(restored["model/w"], np.arange(3.0))
    assert [p.name for p in tmp_path.iterdir()] == [CHECKPOINT]  # no temporary file left


def test_a_full_disk_during_training_keeps_the_last_checkpoint_and_resume_catches_up(
    tmp_path, monkeypatch
):
    spec = write_spec(tmp_path)
    runs.train(spec, {}, out=tmp_path / "straight", quiet=True)
    real, writes = np.savez, []

    def disk_full_at_second_checkpoint(handle, **arrays):
        writes.append(1)
        if len(writes) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(handle, **arrays)

    monkeypatch.setattr(np, "savez", disk_full_at_second_checkpoint)
    out = tmp_path / "run"
    with pytest.raises(UserError, match="No space left on device"):
        runs.train(spec, {}, out=out, quiet=True)
    monkeypatch.undo()
    assert finite_checkpoint(out / CHECKPOINT)["meta/epoch"] == 1
    runs.train(None, {}, resume=out, quiet=True)
    for name in ("model/0.weight", "model/2.bias"):
        a = npz.load_npz(out / MODEL)[name]
        assert np.array_equal(a, npz.load_npz(tmp_path / "straight" / MODEL)[name])


def test_a_read_only_run_folder_is_one_paragraph_and_changes_nothing(tmp_path, capsys, monkeypatch):
    run = interrupted_run(tmp_path)
    before = snapshot(run)
    monkeypatch.setattr(os, "open", _fail_with(errno.EROFS))  # root ignores chmod, so simulate
    code, err = run_cli(capsys, "train", "--resume", run)
    assert_one_paragraph(code, err, f"cannot write the run folder {run}: Read-only file system")
    monkeypatch.undo()
    assert snapshot(run) == before


@pytest.mark.parametrize(
    "args",
    [
        ["predict", "{run}", "--input", "{points}", "--output", "{tmp}/missing/p.csv"],
        ["predict", "{run}", "--input", "{points}", "--output", "{tmp}"],
        ["graph", "{spec}", "--out", "{tmp}/missing/graph.dot"],
        ["graph", "{spec}", "--out", "{tmp}"],
        ["schema", "--out", "{tmp}/missing/schema.json"],
        ["schema", "--out", "{tmp}"],
        ["train", "{spec}", "--out", "{points}"],
    ],
)
def test_unwritable_outputs_are_one_paragraph(tmp_path, capsys, finished_run, args):
    points = tmp_path / "points.csv"
    points.write_text("0.0,1.0\n")
    values = {"run": finished_run, "points": points, "tmp": tmp_path, "spec": write_spec(tmp_path)}
    code, err = run_cli(capsys, *[a.format(**values) for a in args])
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert "does not exist" in err or "folder" in err or "is a file" in err


def test_plot_into_a_read_only_folder_is_one_paragraph(tmp_path, capsys, finished_run, monkeypatch):
    pytest.importorskip("matplotlib", reason="matplotlib not installed")
    run = _copy_run(finished_run, tmp_path / "run")
    monkeypatch.setattr(tempfile, "NamedTemporaryFile", _fail_with(errno.EACCES))
    code, err = run_cli(capsys, "plot", run)
    assert_one_paragraph(code, err, "cannot write", "Permission denied")


def test_a_spec_yaml_that_cannot_be_written_leaves_no_run_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tempfile, "NamedTemporaryFile", _fail_with(errno.ENOSPC))
    with pytest.raises(UserError, match="No space left on device"):
        runs.train(write_spec(tmp_path), {}, quiet=True)
    assert not (tmp_path / "runs").exists()


# --- 13. and 14. backend problems, and no empty folder after a failed start ---------------


def _fake_cupy_without_devices() -> types.ModuleType:
    cupy = types.ModuleType("cupy")
    cupy.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=lambda: 0))
    return cupy


@pytest.mark.parametrize(
    ("module", "fragment"),
    [(None, "needs CuPy, which is not installed"), ("fake", "no CUDA device was found")],
    ids=["no-cupy", "no-device"],
)
def test_backend_cupy_that_cannot_run_is_a_user_error_and_leaves_no_folder(
    tmp_path, capsys, monkeypatch, module, fragment
):
    monkeypatch.chdir(tmp_path)
    fake = None if module is None else _fake_cupy_without_devices()
    monkeypatch.setitem(sys.modules, "cupy", fake)
    code, err = run_cli(capsys, "train", write_spec(tmp_path), "--backend", "cupy")
    assert_one_paragraph(code, err, fragment)
    assert not (tmp_path / "runs").exists()


def test_help_works_whatever_the_backend_variable_says():
    env = {**os.environ, "TINYGRAD_EDU_BACKEND": "cupy"}
    done = subprocess.run([*CLI, "--help"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "COMMAND" in done.stdout, done.stderr


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (MOONS.format(n=300, epochs=2, optimizer="sgd", lr=1e30), "No checkpoint was written"),
        (MOONS.format(n=2, epochs=2, optimizer="sgd", lr=0.1), "the test split is empty"),
        (
            "name: t\nmodel: {input: [4], layers: [linear: 2]}\n"
            "data: {source: npz, path: d.npz}\nloss: cross_entropy\n"
            "optimizer: {name: sgd, lr: 0.1}\ntrain: {epochs: 1, batch_size: 4}\n",
            "samples of shape (3,)",
        ),
    ],
    ids=["diverged-in-epoch-1", "empty-test-split", "shape-mismatch"],
)
def test_a_failed_train_leaves_no_run_folder(tmp_path, monkeypatch, text, fragment):
    monkeypatch.chdir(tmp_path)
    np.savez(tmp_path / "d.npz", X=np.zeros((20, 3)), y=np.arange(20) % 2)
    (tmp_path / "spec.yaml").write_text(text)
    with pytest.raises(UserError) as info:
        runs.train(tmp_path / "spec.yaml", {}, quiet=True)
    assert fragment in str(info.value)
    assert not (tmp_path / "runs").exists()


# --- 12. and 17. smaller crashes and silent acceptances -----------------------------------


def test_an_empty_npz_is_refused_in_train_and_predict(tmp_path, finished_run):
    np.savez(tmp_path / "empty.npz", X=np.zeros((0, 2)), y=np.zeros(0))
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "name: t\nmodel: {input: [2], layers: [linear: 2]}\n"
        "data: {source: npz, path: empty.npz}\nloss: cross_entropy\n"
        "optimizer: {name: sgd, lr: 0.1}\ntrain: {epochs: 1, batch_size: 4}\n"
    )
    with pytest.raises(UserError, match=r"X holds no samples \(shape \(0, 2\)\)"):
        runs.train(spec, {}, out=tmp_path / "run", quiet=True)
    with pytest.raises(UserError, match="X holds no samples"):
        runs.predict(finished_run, tmp_path / "empty.npz", tmp_path / "p.csv")
    assert not (tmp_path / "run").exists() and not (tmp_path / "p.csv").exists()


def test_a_300_character_name_is_refused_before_any_folder_is_made(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = write_spec(tmp_path)
    with pytest.raises(UserError, match=r"name: expected a name of 1 to 200 letters"):
        runs.train(spec, {"name": "n" * 300}, quiet=True)
    assert not (tmp_path / "runs").exists()


def test_validate_and_train_refuse_a_300_character_name_alike(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = write_spec(tmp_path).read_text().replace("moons-reliable", "n" * 300)
    (tmp_path / "long.yaml").write_text(text)
    for command in ("validate", "train"):
        code, err = run_cli(capsys, command, tmp_path / "long.yaml")
        assert code == 2, err
        assert "long.yaml:1:7: name: expected a name of 1 to 200 letters" in err, err
        assert "(300 characters)" in err
    assert not (tmp_path / "runs").exists()
    (tmp_path / "ok.yaml").write_text(text.replace("n" * 300, "n" * 200))  # the limit itself
    assert run_cli(capsys, "validate", tmp_path / "ok.yaml")[0] == 0


def test_resume_with_tensorboard_where_a_file_is_named_tensorboard(tmp_path, capsys):
    pytest.importorskip("tensorboardX", reason="--tensorboard needs tensorboardX (the extra)")
    out = interrupted_run(tmp_path)
    (out / "tensorboard").write_text("the user's notes")
    before = snapshot(out)
    code, err = run_cli(capsys, "train", "--resume", out, "--tensorboard", "--no-plots")
    assert_one_paragraph(code, err, f"{out / 'tensorboard'} is not a folder", "mv ")
    assert snapshot(out) == before


def test_gradcheck_refuses_a_negative_max_elements(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["gradcheck", "specs/mlp.yaml", "--max-elements", "-1"])
    assert info.value.code == 2
    assert "expected 0 (all) or a positive integer, found -1" in capsys.readouterr().err


def test_evaluate_says_a_run_has_no_test_samples(tmp_path, capsys):
    text = MOONS.format(n=10, epochs=1, optimizer="sgd", lr=0.1).replace(
        "noise: 0.1", "noise: 0.1, test_fraction: 0.01, validation_fraction: 0.3"
    )  # 10 x 0.01 rounds to no test sample; the validation split is the held-out one
    (tmp_path / "spec.yaml").write_text(text)
    final = runs.train(tmp_path / "spec.yaml", {}, out=tmp_path / "run", quiet=True)
    assert "val_loss" in final and "test_loss" not in final
    code, err = run_cli(capsys, "evaluate", tmp_path / "run")
    assert_one_paragraph(code, err, "test split holds no samples")


def test_predict_warns_when_features_overflow_to_non_finite_probabilities(
    tmp_path, capsys, finished_run
):
    points = tmp_path / "points.csv"
    points.write_text("-3.4e38,-3.4e38\n0.5,0.5\n")  # float32 overflows in the first layer
    assert runs.predict(finished_run, points, tmp_path / "p.csv") == 2
    err = capsys.readouterr().err
    assert "warning: 1 of 2 predictions" in err and "not finite" in err


# --- the predictions CSV, quoted as RFC 4180 says --------------------------------------------

HOSTILE_LABELS = ["a,b", 'say "hi"', "two\nlines"]


def test_class_labels_with_commas_quotes_and_newlines_stay_one_cell(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 2))
    y = np.array(HOSTILE_LABELS)[np.argmax(X @ rng.normal(size=(2, 3)), axis=1)]
    np.savez(tmp_path / "d.npz", X=X, y=y)
    (tmp_path / "spec.yaml").write_text(
        MOONS.format(n=0, epochs=1, optimizer="adam", lr=0.05)
        .replace(
            "{source: moons, n_samples: 0, noise: 0.1}",
            f"{{source: npz, path: {tmp_path / 'd.npz'}}}",
        )
        .replace("linear: 2]", "linear: 3]")
    )
    runs.train(tmp_path / "spec.yaml", {}, out=tmp_path / "run", quiet=True)
    (tmp_path / "in.csv").write_text("0.5,0.5\n-1,2\n3,-1\n")
    assert runs.predict(tmp_path / "run", tmp_path / "in.csv", tmp_path / "p.csv") == 3
    with open(tmp_path / "p.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["prediction", *(f"p_{name}" for name in sorted(HOSTILE_LABELS))]
    assert len(rows) == 4 and all(len(row) == 4 and row[0] in HOSTILE_LABELS for row in rows[1:])


@given(st.lists(st.text(min_size=1, max_size=12), min_size=2, max_size=4, unique=True))
def test_any_class_names_read_back_from_the_predictions_csv(names):
    from tinygrad_edu.objectives import Objective

    outputs = np.eye(len(names), dtype=np.float32)[::-1] * 5  # each row predicts one class
    rows = runs.prediction_rows(Objective("cross_entropy", len(names), {}), outputs, names)
    read = list(csv.reader(io.StringIO(runs.csv_text(rows), newline="")))
    assert read == rows
    assert [row[0] for row in read[1:]] == names[::-1]


@settings(max_examples=40, deadline=None)
@given(
    st.one_of(
        st.text(alphabet='0123456789.,-+e "\n\r\tnaifx', max_size=60),
        st.binary(max_size=60).map(lambda b: b.decode("latin-1")),
    )
)
def test_predict_reads_or_refuses_any_features_csv(finished_run, text):
    """Whatever the input CSV holds: predictions for its rows, or one UserError; never
    another exception, and never a half-written predictions file."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "in.csv", Path(folder) / "p.csv"
        source.write_bytes(text.encode("latin-1"))
        try:
            count = runs.predict(finished_run, source, target)
        except UserError:
            assert not target.exists()
        else:
            with open(target, newline="") as handle:
                assert len(list(csv.reader(handle))) == count + 1
