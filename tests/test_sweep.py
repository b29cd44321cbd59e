"""Sweeps: the sweep: section's forms (path + values, grid, zip, range, logspace, seeds,
repeats) with line-numbered errors, the runs and their short folder names, sweep.csv and the
summary's mean ± std, resume without redoing, appending rows, the lock, and --jobs."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from tinygrad_edu.cli import main
from tinygrad_edu.errors import UserError
from tinygrad_edu.spec import SpecError, load_spec
from tinygrad_edu.spec.sweep_values import MAX_SWEEP_RUNS, expand_values
from tinygrad_edu.training import runs
from tinygrad_edu.training.lock import FolderInUse, RunLock
from tinygrad_edu.training.loop import Trainer
from tinygrad_edu.training.sweep import (
    SUMMARY_CSV,
    SWEEP_CSV,
    SweepInterrupted,
    read_sweep_csv,
    run_sweep,
    summarize,
)
from tinygrad_edu.training.sweep_plan import plan_sweep, short_names
from tinygrad_edu.training.sweep_workers import threads_per_worker

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, str(ROOT / "cli.py")]
WIDTH = "model.layers[0].linear.out_features"
THREADS_BEFORE = os.environ.get("OPENBLAS_NUM_THREADS")

MOONS = """\
name: moons-sweep
seed: 1
model:
  input: [2]
  layers: [linear: 8, relu, linear: 2]
data: {source: moons, n_samples: 100}
loss: cross_entropy
optimizer: {name: adam, lr: 0.05}
train: {epochs: 1, batch_size: 32}
"""

SECTION = """\
sweep:
  path: model.layers[0].linear.out_features   # the hidden width
  values: [2, 6]
"""

GRID = """\
sweep:
  grid:
    model.layers[0].linear.out_features: [2, 4]
    optimizer.lr: [0.01, 0.1]
  seeds: [0, 1]
"""


def write(tmp_path: Path, text: str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def rows_of(folder: Path, name: str = SWEEP_CSV) -> list[dict[str, str]]:
    with open(folder / name, newline="") as handle:
        return list(csv.DictReader(handle))


def plan_of(tmp_path: Path, section: str):
    spec = load_spec(write(tmp_path, MOONS + section))
    return plan_sweep(spec.sweep, spec.seed)


def cli(capsys, *args: object) -> tuple[int, str, str]:
    """The command line in this process (as `main` runs it): exit code, stdout, stderr."""
    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def trainings(monkeypatch) -> list[tuple[str, str]]:
    """Every call of runs.train by a sweep: (run folder name, "new" or "resume")."""
    calls: list[tuple[str, str]] = []
    real = runs.train

    def counting(spec, overrides, out=None, resume=None, **options):
        calls.append((Path(out or resume).name, "resume" if resume else "new"))
        return real(spec, overrides, out=out, resume=resume, **options)

    monkeypatch.setattr(runs, "train", counting)
    return calls


# --- the forms of the sweep: section ------------------------------------------------------


def test_a_grid_is_the_product_of_its_lists_times_the_seeds(tmp_path):
    plan = plan_of(tmp_path, GRID.replace("[0.01, 0.1]", "[0.01, 0.03, 0.1]"))
    assert plan.paths == [WIDTH, "optimizer.lr"] and plan.seeds == [0, 1]
    assert len(plan.runs) == 2 * 3 * 2
    assert [(r.point[WIDTH], r.point["optimizer.lr"], r.seed) for r in plan.runs[:4]] == [
        (2, 0.01, 0),
        (2, 0.01, 1),
        (2, 0.03, 0),
        (2, 0.03, 1),
    ]  # the last axis changes fastest, the seeds within each point
    assert plan.runs[-1].name == "out_features=4,lr=0.1,seed=1"


def test_zip_moves_its_fields_together_and_combines_with_a_grid(tmp_path):
    section = """\
sweep:
  zip:
    optimizer.lr: [0.1, 0.01, 0.001]
    train.epochs: [1, 2, 3]
  grid: {"model.layers[0].linear.out_features": [2, 4]}  # in braces, [0] needs quotes
"""
    plan = plan_of(tmp_path, section)
    assert len(plan.runs) == 2 * 3  # one axis for the zip, not 3 x 3
    pairs = {(r.point["optimizer.lr"], r.point["train.epochs"]) for r in plan.runs}
    assert pairs == {(0.1, 1), (0.01, 2), (0.001, 3)}
    assert plan.seeds == [1]  # no seeds given: the spec's own


def test_range_and_logspace_values(tmp_path):
    assert expand_values("range(1, 10, 3)") == [1, 4, 7]
    assert expand_values("range(0, 3)") == [0, 1, 2]
    assert expand_values("range(0.1, 0.4, 0.1)") == [0.1, 0.2, 0.3]
    assert expand_values("range(5, 0, -2)") == [5, 3, 1]
    assert expand_values("logspace(-3, -1, 3)") == [0.001, 0.01, 0.1]
    assert expand_values("logspace(-4, 0, 9)") == pytest.approx(np.logspace(-4, 0, 9), rel=1e-11)
    plan = plan_of(tmp_path, "sweep:\n  grid:\n    optimizer.lr: 'logspace(-2, -1, 2)'\n")
    assert [r.point["optimizer.lr"] for r in plan.runs] == [0.01, 0.1]


def test_repeats_runs_the_specs_seed_and_the_ones_after_it(tmp_path):
    plan = plan_of(tmp_path, SECTION + "  repeats: 3\n")
    assert plan.seeds == [1, 2, 3]  # the spec's seed is 1
    assert len(plan.runs) == 6 and plan.runs[0].name == "out_features=2,seed=1"
    assert plan_of(tmp_path, "sweep: {path: seed, values: [4, 5]}\n").seeds == [4, 5]


def test_folder_names_are_short_and_shell_safe_with_the_full_paths_kept():
    assert short_names([WIDTH, "optimizer.lr"]) == {WIDTH: "out_features", "optimizer.lr": "lr"}
    other = "model.layers[2].linear.out_features"
    assert short_names([WIDTH, other]) == {
        WIDTH: "layers.0.linear.out_features",
        other: "layers.2.linear.out_features",
    }
    assert short_names(["model.layers[1]"]) == {"model.layers[1]": "layers.1"}


def test_list_values_make_safe_names(tmp_path):
    text = MOONS.replace("layers: [linear: 8, relu, linear: 2]", "mlp: {hidden: [4], outputs: 2}")
    spec = load_spec(
        write(tmp_path, text + "sweep: {path: model.mlp.hidden, values: [[4], [8, 4]]}\n")
    )
    names = [run.name for run in plan_sweep(spec.sweep, spec.seed).runs]
    assert names == ["hidden=4,seed=1", "hidden=8_4,seed=1"]
    assert all(re.fullmatch(r"[\w.+=,-]+", name) for name in names)


@pytest.mark.parametrize(
    "section, offset, message",
    [
        ("sweep: [1, 2]\n", 1, "sweep: expected a mapping, found [1, 2]"),
        ("sweep:\n  path: train.epochs\n", 2, "sweep.values: values is needed with path"),
        ("sweep:\n  path: 3\n  values: [1]\n", 2, "sweep.path: expected a string, found 3"),
        ("sweep:\n  path: seed\n  values: []\n", 3, "sweep.values: expected at least 1 value"),
        (
            "sweep:\n  zip:\n    optimizer.lr: [0.1, 0.2]\n    train.epochs: [1, 2, 3]\n",
            3,
            "sweep.zip: the lists of zip must have one length, found optimizer.lr: 2, "
            "train.epochs: 3",
        ),
        (
            "sweep:\n  grid:\n    optimizer.lr: 'logspace(-3, -1)'\n",
            3,
            "sweep.grid.optimizer.lr: logspace takes logspace(start, stop, num), found 2 numbers",
        ),
        (
            "sweep:\n  grid: {optimizer.lr: 'range(0, 1e9)'}\n",
            2,
            f"has 1000000000 values, more than a sweep allows ({MAX_SWEEP_RUNS})",
        ),
        (
            "sweep:\n  grid: {optimizer.lr: [0.1]}\n  seeds: [0]\n  repeats: 2\n",
            4,
            "sweep.repeats: give seeds or repeats, not both",
        ),
        (
            "sweep:\n  grid: {optimizer.lr: 'range(1, 41)', train.epochs: 'range(1, 6)'}\n"
            "  repeats: 6\n",
            2,
            f"the sweep has 1200 runs (40 x 5 x 6 values x seeds), more than one sweep "
            f"allows ({MAX_SWEEP_RUNS})",
        ),
        ("sweep: {grid: {optimizer.lr: 'lin(1, 2)'}}\n", 1, "expected a list of values, "),
    ],
)
def test_a_bad_sweep_section_is_reported_at_its_line(tmp_path, section, offset, message):
    spec = write(tmp_path, MOONS + section)
    with pytest.raises(UserError, match=re.escape(message)) as info:
        load_spec(spec)
    assert f"spec.yaml:{len(MOONS.splitlines()) + offset}:" in str(info.value)


def test_errors_in_the_rest_of_a_spec_keep_their_line_numbers(tmp_path):
    text = SECTION + MOONS.replace("lr: 0.05", "lr: -1")
    with pytest.raises(SpecError) as info:
        load_spec(write(tmp_path, text))
    line = text.splitlines().index("optimizer: {name: adam, lr: -1}") + 1
    assert f"spec.yaml:{line}:" in str(info.value) and "optimizer.lr" in str(info.value)


# --- running: folders, rows, summary ------------------------------------------------------


def test_a_sweep_trains_one_run_per_value_in_one_folder(tmp_path):
    spec = write(tmp_path, MOONS)
    result = run_sweep(spec, WIDTH, ["2", "6"], out=tmp_path / "sweep")
    assert result.folder == tmp_path / "sweep"
    assert result.values == [2, 6]  # command-line strings are read as YAML
    for width in (2, 6):
        run = tmp_path / "sweep" / f"out_features={width},seed=1"
        for name in ("spec.yaml", "metrics.csv", "model.npz", "checkpoint.npz", "run.json"):
            assert (run / name).is_file(), f"{run.name}/{name}"
        run_spec = yaml.safe_load((run / "spec.yaml").read_text())
        assert run_spec["model"]["layers"][0] == {"linear": {"out_features": width, "bias": True}}
        assert "sweep" not in run_spec  # a run of the sweep is an ordinary run
        record = json.loads((run / "run.json").read_text())
        assert record["sweep"] == {
            "folder": str(tmp_path / "sweep"),
            "point": {WIDTH: width},
            "seed": 1,
        }
    rows = rows_of(tmp_path / "sweep")
    assert list(rows[0])[:3] == [WIDTH, "seed", "epoch"]  # the full key path in the header
    assert [row[WIDTH] for row in rows] == ["2", "6"]
    assert [row["run_dir"] for row in rows] == ["out_features=2,seed=1", "out_features=6,seed=1"]
    assert all(0.0 <= float(row["test_accuracy"]) <= 1.0 for row in rows)
    assert [p.name for p in (tmp_path / "sweep").iterdir() if p.name.startswith(".")] == []
    resolved = yaml.safe_load((tmp_path / "sweep" / "sweep.yaml").read_text())
    assert resolved["sweep"] == {"path": WIDTH, "values": [2, 6]}  # what --resume reads
    paths, read_back = read_sweep_csv(tmp_path / "sweep")
    assert paths == [WIDTH]
    assert result.metric("test_accuracy") == [row["test_accuracy"] for row in read_back]


def test_the_summary_is_mean_sample_std_min_max_over_the_seeds(tmp_path):
    spec = write(tmp_path, MOONS + SECTION + "  seeds: [0, 1, 2]\n")
    result = run_sweep(spec, out=tmp_path / "sweep")
    rows = rows_of(tmp_path / "sweep")
    assert len(rows) == 6 and [row["seed"] for row in rows[:3]] == ["0", "1", "2"]
    summary = rows_of(tmp_path / "sweep", SUMMARY_CSV)
    assert [(s[WIDTH], s["runs"]) for s in summary] == [("2", "3"), ("6", "3")]
    for point in summary:
        mine = [r for r in rows if r[WIDTH] == point[WIDTH]]
        for metric in ("train_loss", "test_loss", "test_accuracy"):
            numbers = np.array([float(r[metric]) for r in mine])
            assert float(point[f"{metric}_mean"]) == pytest.approx(numbers.mean(), rel=1e-12)
            assert float(point[f"{metric}_std"]) == pytest.approx(numbers.std(ddof=1), rel=1e-12)
            assert float(point[f"{metric}_min"]) == numbers.min()
            assert float(point[f"{metric}_max"]) == numbers.max()
    assert result.values == [2, 6] and len(result.rows) == 6


def test_summarize_known_runs():
    rows = [
        {"w": 1, "seed": 0, "test_loss": 1.0},
        {"w": 1, "seed": 1, "test_loss": 2.0},
        {"w": 1, "seed": 2, "test_loss": 6.0},
        {"w": 2, "seed": 0, "test_loss": 0.5},
    ]
    first, second = summarize(["w"], rows)
    assert (first["runs"], first["test_loss_mean"], first["test_loss_min"]) == (3, 3.0, 1.0)
    assert first["test_loss_std"] == pytest.approx(np.sqrt(((1 - 3) ** 2 + 1 + 9) / 2))
    assert (second["runs"], second["test_loss_mean"], second["test_loss_std"]) == (1, 0.5, None)


def test_the_table_shows_mean_plus_minus_std_per_point(tmp_path):
    result = run_sweep(write(tmp_path, MOONS + GRID), out=tmp_path / "sweep")
    table = result.table()
    assert table.row_count == 4  # points, not runs
    headers = [column.header for column in table.columns]
    assert headers[:3] == ["hidden width", "lr", "runs"] and "test_accuracy" in headers
    console = Console(width=200, record=True)
    console.print(table)
    text = " ".join(console.export_text().split())  # the caption may wrap
    assert f"sweep of hidden width, lr ({WIDTH}, optimizer.lr)" in text and "std (ddof=1)" in text
    for point in result.summary:
        mean, std = point["test_loss_mean"], point["test_loss_std"]
        assert f"{mean:.4g} ± {std:.2g}" in text


def test_the_values_can_come_from_the_section_and_be_replaced(tmp_path):
    spec = write(tmp_path, MOONS + SECTION)
    result = run_sweep(spec, values=[3], out=tmp_path / "a")
    assert (result.paths, result.values) == ([WIDTH], [3])
    result = run_sweep(spec, grid={"optimizer.lr": "[0.1, 0.2]"}, out=tmp_path / "b")
    assert result.paths == [WIDTH, "optimizer.lr"] and len(result.rows) == 4


def test_a_bad_path_or_value_fails_before_any_training(tmp_path, trainings):
    spec = write(tmp_path, MOONS)
    with pytest.raises(SpecError, match="model.layers is a list of 3 items"):
        run_sweep(spec, "model.layers[7].linear.out_features", [1, 2], out=tmp_path / "s")
    with pytest.raises(SpecError, match="did you mean 'epochs'"):
        run_sweep(spec, grid={"train.epoch": "[1, 2]"}, out=tmp_path / "s")
    with pytest.raises(SpecError, match="out_features"):
        run_sweep(spec, WIDTH, [4, 0], out=tmp_path / "s")  # the second value is bad
    assert trainings == [] and not (tmp_path / "s").exists()


def test_nothing_to_sweep_and_repeated_values_are_user_errors(tmp_path):
    spec = write(tmp_path, MOONS)
    with pytest.raises(UserError, match="nothing to sweep"):
        run_sweep(spec, out=tmp_path / "sweep")
    with pytest.raises(UserError, match="values repeat"):
        run_sweep(spec, WIDTH, ["4", 4], out=tmp_path / "sweep")
    with pytest.raises(UserError, match="seeds twice"):
        run_sweep(spec, "seed", [1, 2], seeds=[3], out=tmp_path / "sweep")
    with pytest.raises(UserError, match="spec file not found"):
        run_sweep(tmp_path / "missing.yaml", WIDTH, [4])


# --- resume, append, lock --------------------------------------------------------------------


def test_resume_trains_only_what_is_missing_and_appends_rows(tmp_path, trainings):
    spec = write(tmp_path, MOONS + SECTION)
    out = tmp_path / "sweep"
    run_sweep(spec, out=out, seeds=[0, 1])
    assert len(trainings) == 4
    before = (out / SWEEP_CSV).read_text()

    run_sweep(None, resume=out)  # everything is done: nothing trains
    assert len(trainings) == 4 and (out / SWEEP_CSV).read_text() == before

    result = run_sweep(None, resume=out, values=[2, 6, 9], seeds=[0, 1, 2])
    assert sorted(trainings[4:]) == sorted(
        [(f"out_features={w},seed=2", "new") for w in (2, 6)]
        + [(f"out_features=9,seed={s}", "new") for s in (0, 1, 2)]
    )
    after = (out / SWEEP_CSV).read_text()
    assert after.startswith(before)  # the old rows, unchanged, then the new ones
    assert len(after.splitlines()) == 1 + 4 + 5 and len(result.rows) == 9
    assert [row["runs"] for row in result.summary] == [3, 3, 3]


def test_an_interrupted_sweep_resumes_its_run_from_the_checkpoint(tmp_path, monkeypatch):
    text = MOONS.replace("epochs: 1", "epochs: 2") + SECTION
    fresh = run_sweep(write(tmp_path, text), out=tmp_path / "fresh")
    real_init = Trainer.__init__

    def stop_the_second_run(self, setup, run_dir, *args, **kwargs):
        real_init(self, setup, run_dir, *args, **kwargs)
        if run_dir.name.startswith("out_features=6"):  # Ctrl-C after its third step
            self.on_step = lambda step: step == 3 and setattr(self, "_interrupted", 2)

    monkeypatch.setattr(Trainer, "__init__", stop_the_second_run)
    out = tmp_path / "sweep"
    with pytest.raises(SweepInterrupted) as stop:
        run_sweep(write(tmp_path, text), out=out)
    assert stop.value.runs == [out / "out_features=6,seed=1"] and stop.value.exit_code == 130
    assert len(rows_of(out)) == 1 and (out / "out_features=6,seed=1" / "checkpoint.npz").exists()
    monkeypatch.undo()

    calls: list = []
    real = runs.train
    monkeypatch.setattr(runs, "train", lambda *a, **k: calls.append(k) or real(*a, **k))
    run_sweep(None, resume=out)
    assert [Path(k["resume"]).name for k in calls] == ["out_features=6,seed=1"]
    assert (out / SWEEP_CSV).read_text() == (fresh.folder / SWEEP_CSV).read_text()
    for run in ("out_features=2,seed=1", "out_features=6,seed=1"):
        resumed, whole = (out / run / "model.npz"), (fresh.folder / run / "model.npz")
        assert resumed.read_bytes() == whole.read_bytes()


def test_resume_refuses_a_changed_spec_and_a_folder_in_use(tmp_path):
    spec = write(tmp_path, MOONS + SECTION)
    out = tmp_path / "sweep"
    run_sweep(spec, out=out)
    changed = write(tmp_path, MOONS.replace("epochs: 1", "epochs: 2") + SECTION, "other.yaml")
    with pytest.raises(UserError, match=r"differs from the one of the sweep .* in train"):
        run_sweep(changed, resume=out)
    with pytest.raises(UserError, match="sweeps model.layers.0..linear.out_features, this one"):
        run_sweep(spec, resume=out, path="optimizer.lr", values=[0.1])
    with RunLock(out), pytest.raises(FolderInUse):
        run_sweep(None, resume=out)
    with pytest.raises(UserError, match="holds no sweep.yaml"):
        run_sweep(None, resume=out / "out_features=2,seed=1")


def _killed_before_its_first_checkpoint(run_dir: Path, spec_source: Path) -> None:
    """What SIGKILL during a run's first epoch leaves: its spec.yaml, record and a half
    written file, the lock of the dead process, and no checkpoint."""
    run_dir.mkdir()
    (run_dir / "spec.yaml").write_text(spec_source.read_text())
    (run_dir / "run.json").write_text('{"status": "running"}')
    (run_dir / ".spec.yaml.k3j9x2ab.tmp").write_text("half a spec")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout  # fmt: skip
    (run_dir / ".lock").write_text(dead)


def test_a_run_killed_before_its_first_checkpoint_restarts_on_resume(tmp_path):
    spec = write(tmp_path, MOONS + SECTION)
    fresh = run_sweep(spec, out=tmp_path / "fresh")
    out = tmp_path / "sweep"
    run_sweep(spec, out=out, values=[2])  # the run of width 6 is then killed at its start
    killed = out / "out_features=6,seed=1"
    _killed_before_its_first_checkpoint(killed, fresh.folder / killed.name / "spec.yaml")
    stale = out / ".sweep.csv.a1b2c3d4.tmp"  # the sweep's own write, cut short by the kill
    stale.write_text("seed,run_dir\n")

    run_sweep(None, resume=out, values=[2, 6])

    assert (out / SWEEP_CSV).read_text() == (fresh.folder / SWEEP_CSV).read_text()
    model = killed / "model.npz"
    assert model.read_bytes() == (fresh.folder / killed.name / "model.npz").read_bytes()
    assert not stale.exists() and not list(killed.glob(".*.tmp"))


def test_a_sweep_killed_in_its_first_epoch_resumes(tmp_path):
    """SIGKILL (no handler runs) while the first run trains its first epoch; a long epoch
    (1,250 steps) so that the kill comes before its checkpoint."""
    text = MOONS.replace("n_samples: 100", "n_samples: 50000").replace("epochs: 1", "epochs: 2")
    spec = write(tmp_path, text + "sweep: {path: seed, values: [3]}\n")
    out = tmp_path / "sweep"
    process = subprocess.Popen(
        [*CLI, "sweep", str(spec), "--out", str(out), "--no-plots", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    run = out / "seed=3"
    deadline = time.monotonic() + 120
    while not (run / "run.json").exists():
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.005)
    process.kill()
    process.communicate()
    assert not (run / "checkpoint.npz").exists(), "the epoch ended before the kill"
    resumed = subprocess.run(
        [*CLI, "sweep", "--resume", str(out), "--no-plots", "--quiet"],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert [row["run_dir"] for row in rows_of(out)] == ["seed=3"]
    assert (run / "model.npz").is_file()


def test_a_killed_run_holding_the_users_files_is_refused_and_kept(tmp_path):
    spec = write(tmp_path, MOONS + SECTION)
    out = tmp_path / "sweep"
    run_sweep(spec, out=out, values=[2])
    killed = out / "out_features=6,seed=1"
    _killed_before_its_first_checkpoint(killed, spec)
    (killed / "notes.txt").write_text("the user's own")
    with pytest.raises(UserError, match=r"files a run does not write \(notes.txt\)"):
        run_sweep(None, resume=out, values=[2, 6])
    assert (killed / "notes.txt").read_text() == "the user's own"
    assert (killed / "spec.yaml").exists()


def test_resume_of_a_damaged_sweep_csv_is_one_paragraph_and_the_way_out_works(tmp_path, capsys):
    spec = write(tmp_path, MOONS + SECTION)
    out = tmp_path / "sweep"
    run_sweep(spec, out=out)
    good = (out / SWEEP_CSV).read_text()
    (out / SWEEP_CSV).write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe binary")
    code, _, err = cli(capsys, "sweep", "--resume", out, "--no-plots")
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert f"{out / SWEEP_CSV} is damaged" in err and f"mv {out / SWEEP_CSV}" in err
    assert (out / SWEEP_CSV).read_bytes().startswith(b"\x89PNG")  # nothing written
    (out / SWEEP_CSV).rename(out / "sweep.csv.damaged")  # the advice, followed
    assert cli(capsys, "sweep", "--resume", out, "--no-plots", "--quiet")[0] == 0
    assert (out / SWEEP_CSV).read_text() == good  # rebuilt from the finished runs


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(st.binary(max_size=200), st.text(alphabet=',"\n\r\x00seedrun_dir01.x', max_size=80))
)
def test_read_sweep_csv_reads_or_refuses_any_bytes(content):
    """Whatever sweep.csv holds, reading it gives rows or a UserError, never another error."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        data = content if isinstance(content, bytes) else content.encode()
        (Path(folder) / SWEEP_CSV).write_bytes(data)
        try:
            paths, rows = read_sweep_csv(folder)
        except UserError as error:
            assert "is damaged" in str(error) or "cannot" in str(error)
        else:
            assert all("run_dir" in row and "seed" in row for row in rows)


# --- parallel runs ---------------------------------------------------------------------------


def test_jobs_2_gives_the_same_weights_and_rows_as_jobs_1(tmp_path):
    spec = write(tmp_path, MOONS + GRID.replace("[0.01, 0.1]", "[0.05]"))
    one = run_sweep(spec, out=tmp_path / "one", jobs=1)
    two = run_sweep(spec, out=tmp_path / "two", jobs=2)
    assert len(one.rows) == 4
    assert (one.folder / SWEEP_CSV).read_text() == (two.folder / SWEEP_CSV).read_text()
    assert (one.folder / SUMMARY_CSV).read_text() == (two.folder / SUMMARY_CSV).read_text()
    for row in one.rows:
        first, second = one.folder / row["run_dir"], two.folder / row["run_dir"]
        assert (first / "model.npz").read_bytes() == (second / "model.npz").read_bytes()
        # each worker's BLAS had its share of the cores (the record asks the library)
        blas = json.loads((second / "run.json").read_text())["blas"]["threads"]
        assert str(blas).split()[0] == str(threads_per_worker(2))
    assert os.environ.get("OPENBLAS_NUM_THREADS") == THREADS_BEFORE  # restored in the parent


def test_a_diverged_run_in_a_parallel_sweep_is_named_and_the_other_rows_kept(tmp_path):
    spec = write(tmp_path, MOONS)
    with pytest.raises(UserError, match=r"lr=1e\+30,seed=1: the loss became nan") as info:
        run_sweep(spec, grid={"optimizer.lr": [0.05, 1e30]}, out=tmp_path / "s", jobs=2)
    assert str(tmp_path / "s") in str(info.value)
    assert [row["run_dir"] for row in rows_of(tmp_path / "s")] == ["lr=0.05,seed=1"]


def test_a_sweep_that_fails_before_its_first_run_leaves_no_folder(tmp_path, monkeypatch):
    def failing(*args, **kwargs):
        raise UserError("the data cannot be read")

    monkeypatch.setattr(runs, "train", failing)
    with pytest.raises(UserError, match="the data cannot be read"):
        run_sweep(write(tmp_path, MOONS + SECTION), out=tmp_path / "new" / "sweep")
    assert not (tmp_path / "new").exists()


def test_ctrl_c_stops_a_parallel_sweep_cleanly_with_resumable_runs(tmp_path):
    text = MOONS.replace("n_samples: 100", "n_samples: 400").replace("epochs: 1", "epochs: 500")
    spec = write(tmp_path, text + SECTION)
    out = tmp_path / "sweep"
    process = subprocess.Popen(
        [*CLI, "sweep", str(spec), "--out", str(out), "--jobs", "2", "--no-plots"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 120
    while len(list(out.glob("*/checkpoint.npz"))) < 2 and process.poll() is None:
        assert time.monotonic() < deadline, "the runs wrote no checkpoints"
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "Traceback" not in err and f"python cli.py sweep --resume {out}" in err
    assert not list(out.rglob(".lock"))  # every lock released: the workers have ended
    for run in ("out_features=2,seed=1", "out_features=6,seed=1"):
        assert f"{out / run}" in err  # named as resumable
        record = json.loads((out / run / "run.json").read_text())
        assert record["status"] == "interrupted"  # stopped by the Ctrl-C, with a checkpoint
        assert (out / run / "checkpoint.npz").is_file() and not (out / run / "model.npz").exists()


# --- the command line ------------------------------------------------------------------------


def test_the_cli_takes_grid_and_seeds(tmp_path, capsys):
    spec = write(tmp_path, MOONS)
    out = tmp_path / "sweep"
    code, stdout, stderr = cli(
        capsys,
        "sweep", spec, "--grid", f"{WIDTH}=[2, 4]", "--grid", "optimizer.lr=logspace(-2, -1, 2)",
        "--seeds", "0", "1", "--out", out, "--no-plots", "--quiet",
    )  # fmt: skip
    assert code == 0, stderr
    assert len(rows_of(out)) == 8 and "± " in stdout
    assert (out / "out_features=4,lr=0.1,seed=1" / "model.npz").is_file()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--zip", "optimizer.lr=[0.1, 0.2]", "--zip", "train.epochs=[1]"], "one length"),
        (["--grid", "optimizer.lr"], "--grid takes PATH=VALUES"),
        (["--resume", "nowhere"], "cannot resume nowhere: it holds no sweep.yaml"),
        (["--grid", "seed=[1, 2]", "--repeats", "2"], "seeds twice"),
    ],
)
def test_cli_errors_are_one_paragraph_with_exit_code_2(tmp_path, capsys, args, message):
    code, _, stderr = cli(capsys, "sweep", write(tmp_path, MOONS), *args, "--out", tmp_path / "s")
    assert code == 2, stderr
    assert message in stderr and "Traceback" not in stderr
    assert stderr.strip().count("\n") == 0  # one paragraph
    assert not (tmp_path / "s").exists()
