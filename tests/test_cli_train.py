"""The train / evaluate / predict commands as a user runs them: exit codes, messages,
signals (Ctrl-C and kill), and no tracebacks."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import docs_pages
import numpy as np
import pytest

from tinygrad_edu.io.npz import load_npz

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, str(ROOT / "cli.py")]

SPEC = """
name: cli-moons
seed: 1
model:
  input: [2]
  layers: [linear: 32, relu, linear: 2]
data: {{source: moons, n_samples: {n}, noise: 0.1}}
loss: cross_entropy
optimizer: {{name: adam, lr: 0.02}}
train: {{epochs: {epochs}, batch_size: 16}}
"""


def spec_file(tmp_path: Path, n: int = 200, epochs: int = 3) -> Path:
    path = tmp_path / "moons.yaml"
    path.write_text(SPEC.format(n=n, epochs=epochs))
    return path


def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, **kwargs)


def assert_user_error(result: subprocess.CompletedProcess, fragment: str) -> None:
    assert result.returncode == 2, result.stderr
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_train_evaluate_predict_round_trip(tmp_path):
    out = tmp_path / "run"
    result = run("train", str(spec_file(tmp_path)), "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    final = json.loads(result.stdout)
    assert final["epoch"] == 3 and 0.0 <= final["test_accuracy"] <= 1.0
    assert "epoch 3/3" in result.stderr  # plain progress lines, not a terminal

    evaluated = run("evaluate", str(out), "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["accuracy"] == final["test_accuracy"]

    points = tmp_path / "points.npz"
    np.savez(points, X=np.array([[0.0, 1.0], [1.0, -0.5]], dtype=np.float32))
    predicted = run(
        "predict", str(out), "--input", str(points), "--output", str(tmp_path / "p.csv")
    )
    assert predicted.returncode == 0, predicted.stderr
    assert (tmp_path / "p.csv").read_text().splitlines()[0] == "prediction,p_0,p_1"


def test_the_readme_predict_example_has_its_input(tmp_path):
    """The README's ``predict runs/try --input examples/digits.csv`` names a file the clone
    holds (issue 20: digits.csv was never provided), and it is what its tool writes."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from make_example_digits import COUNT, digits_csv
    finally:
        sys.path.remove(str(ROOT / "tools"))
    example = ROOT / "examples" / "digits.csv"
    assert (
        example.read_text(encoding="utf-8") == digits_csv()
    )  # python tools/make_example_digits.py
    readme = docs_pages.page("docs/howto/own_data.md")
    assert "predict runs/try --input examples/digits.csv --output preds.csv" in readme
    assert "--input digits.csv" not in docs_pages.all_text()

    out = tmp_path / "try"
    trained = run(
        "train", "specs/mlp.yaml", "--epochs", "1", "--out", str(out), "--no-plots", cwd=ROOT
    )
    assert trained.returncode == 0, trained.stderr
    preds = tmp_path / "preds.csv"
    predicted = run(
        "predict", str(out), "--input", "examples/digits.csv", "--output", str(preds), cwd=ROOT
    )
    assert predicted.returncode == 0, predicted.stderr
    lines = preds.read_text().splitlines()
    assert lines[0] == ",".join(["prediction"] + [f"p_{d}" for d in range(10)])
    assert len(lines) == 1 + COUNT


def test_overrides_reach_the_run(tmp_path):
    out = tmp_path / "run"
    result = run(
        "train",
        str(spec_file(tmp_path)),
        "--epochs",
        "2",
        "--lr",
        "0.01",
        "--set",
        "model.layers[0].linear=8",
        "--out",
        str(out),
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"run folder: {out}\n"  # --quiet still says where the run is
    saved = (out / "spec.yaml").read_text()
    assert "epochs: 2" in saved and "lr: 0.01" in saved and "out_features: 8" in saved


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["train", "missing.yaml"], "spec file not found"),
        (["train"], "train needs a spec file"),
        (["train", "{spec}", "--set", "optimizer.lrr=1"], "did you mean 'lr'"),
        (["train", "{spec}", "--set", "noequals"], "--set takes PATH=VALUE"),
        (["train", "--resume", "{tmp}"], "holds no checkpoint.npz"),
        (["train", "{spec}", "--resume", "{tmp}"], "would be ignored: drop it"),
        (["train", "--resume", "{tmp}", "--out", "{tmp}/x"], "would be ignored: drop --out"),
        (["train", "{spec}", "--out", "{blocker}/run"], "cannot write the run folder"),
        (["evaluate", "{tmp}/nothing"], "run folder not found"),
        (["predict", "{tmp}", "--input", "x.csv", "--output", "y.csv"], "holds neither"),
    ],
)
def test_user_errors_exit_2_without_traceback(tmp_path, args, fragment):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    values = {"spec": str(spec_file(tmp_path)), "tmp": str(tmp_path), "blocker": str(blocker)}
    result = run(*[a.format(**values) for a in args], cwd=tmp_path)
    assert_user_error(result, fragment)


PROBED = re.compile(
    r"Try --lr (\S+): a probe of (\d+) steps from the same starting weights saw the loss "
    r"fall from (\S+) to (\S+) with it"
)


def test_nan_loss_exits_2_and_suggests_a_rate_the_probe_saw_work(tmp_path):
    out = tmp_path / "run"
    result = run("train", str(spec_file(tmp_path)), "--lr", "1e30", "--out", str(out))
    assert_user_error(result, "overshoots the minimum")
    suggested, steps, before, after = PROBED.search(result.stderr).groups()
    assert float(after) < float(before) and 0 < int(steps) <= 8
    assert float(suggested) < 1e30
    fixed = run("train", str(spec_file(tmp_path)), "--lr", suggested, "--out", str(out))
    assert fixed.returncode == 0, fixed.stderr  # the suggestion trains, first time


def test_the_lectures_net_at_lr_1e9_says_what_happened_in_one_paragraph(tmp_path):
    """Issue 20, 3: no NumPy warnings, no compile note, one paragraph and a tried rate."""
    spec = ROOT / "specs" / "mlp.yaml"
    result = run("train", str(spec), "--lr", "1e9", "--epochs", "1", "--out", str(tmp_path / "r"))
    assert_user_error(result, "the loss became nan at epoch 1, step ")
    assert "RuntimeWarning" not in result.stderr and "guard failed" not in result.stderr
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "the weights grow without bound" in error
    suggested, steps, before, after = PROBED.search(error).groups()
    assert float(suggested) <= 1e8 and float(after) < float(before)


def _wait_for(path: Path, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def _start_long_run(tmp_path: Path, out: Path) -> subprocess.Popen:
    spec = spec_file(tmp_path, n=4000, epochs=200)
    return subprocess.Popen(
        [*CLI, "train", str(spec), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_ctrl_c_saves_a_checkpoint_and_prints_the_resume_command(tmp_path):
    out = tmp_path / "run"
    process = _start_long_run(tmp_path, out)
    _wait_for(out / "metrics.csv", process)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert f"--resume {out}" in stderr and "Traceback" not in stderr
    state = load_npz(out / "checkpoint.npz")
    assert state["meta/epoch"] >= 1


def test_kill_never_leaves_a_corrupt_checkpoint(tmp_path):
    for attempt, delay in enumerate((0.0, 0.05, 0.13)):
        out = tmp_path / f"run{attempt}"
        process = _start_long_run(tmp_path, out)
        _wait_for(out / "checkpoint.npz", process)
        time.sleep(delay)
        os.kill(process.pid, signal.SIGKILL)
        process.communicate()
        state = load_npz(out / "checkpoint.npz")  # the previous checkpoint loads
        assert state["meta/epoch"] >= 1


def test_a_new_run_never_overwrites_an_old_one(tmp_path):
    out = tmp_path / "run"
    assert run("train", str(spec_file(tmp_path)), "--out", str(out), "--quiet").returncode == 0
    before = (out / "model.npz").read_bytes()
    result = run("train", str(spec_file(tmp_path)), "--out", str(out))
    assert_user_error(result, "already holds a run")
    assert (out / "model.npz").read_bytes() == before


def test_sweep_plot_and_graph_commands(tmp_path):
    spec = spec_file(tmp_path, epochs=1)
    out = tmp_path / "sweep"
    result = run(
        "sweep",
        str(spec),
        "--path",
        "model.layers[0].linear.out_features",
        "--values",
        "2",
        "8",
        "--out",
        str(out),
        "--quiet",
        "--no-plots",
    )
    assert result.returncode == 0, result.stderr
    assert "out_features" in result.stdout
    assert (out / "sweep.csv").read_text().count("\n") == 3  # header + one row per value

    (run_dir,) = out.glob("out_features=8,seed=*")  # short names: the last key and the seed
    plotted = run("plot", str(run_dir))
    assert plotted.returncode == 0, plotted.stderr
    assert "decision_boundary.png" in plotted.stdout

    dot = tmp_path / "graph.dot"
    drawn = run("graph", str(spec), "--out", str(dot))
    assert drawn.returncode == 0, drawn.stderr
    text = dot.read_text()
    assert text.startswith("digraph") and "cross_entropy" in text and "0.weight" in text


def test_sweep_with_a_bad_path_fails_before_training(tmp_path):
    out = tmp_path / "sweep"
    result = run(
        "sweep",
        str(spec_file(tmp_path)),
        "--path",
        "train.epoch",
        "--values",
        "1",
        "--out",
        str(out),
    )
    assert_user_error(result, "did you mean 'epochs'")
    assert not out.exists()
