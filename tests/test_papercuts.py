"""The small things a new user meets in the first hour (issue 15): each one as it is met,
through the command line: a graph file whose extension picks its format, the README's
error example, grouped skip reasons, switching the optimizer with --set, a quiet sweep,
evaluating a sweep, layers from --import and from installed packages, and the shipped
example specs named from any folder."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tinygrad_edu import cli
from tinygrad_edu.spec import SpecError, apply_overrides, load_spec, parse_spec
from tinygrad_edu.training.sweep import read_sweep_csv
from tinygrad_edu.viz import graphs

ROOT = Path(__file__).resolve().parents[1]

TINY = """\
name: tiny
seed: 3
model:
  input: [2]
  layers: [linear: 3, relu, linear: 2]
data: {source: moons, n_samples: 60}
loss: cross_entropy
optimizer: {name: sgd, lr: 0.1, momentum: 0.9}
train: {epochs: 1, batch_size: 16}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None):
    """``python cli.py ARGS`` as a user types it; a user error never shows a traceback."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


# --- 3. graph --out: the extension picks the format -----------------------------------------------

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")

MAGIC = {"svg": b"<?xml", "png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-"}


def test_graph_dot_writes_the_text(tmp_path, capsys):
    spec = write(tmp_path, "tiny.yaml", TINY)
    assert cli.main(["graph", str(spec), "--out", str(tmp_path / "g.dot")]) == 0
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    assert capsys.readouterr().out == f"wrote {tmp_path / 'g.dot'}\n"


@needs_dot
@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
def test_graph_pictures_are_rendered_by_dot_in_the_format_of_the_extension(tmp_path, fmt):
    spec = write(tmp_path, "tiny.yaml", TINY)
    out = tmp_path / f"graph.{fmt}"
    assert cli.main(["graph", str(spec), "--out", str(out)]) == 0
    assert out.read_bytes().startswith(MAGIC[fmt])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["tiny.yaml", out.name])


@pytest.mark.parametrize("name", ["graph.jpg", "graph", "graph.dot.txt"])
def test_graph_refuses_an_unknown_extension_before_any_work(tmp_path, name):
    result = run("graph", "no-such-spec.yaml", "--out", str(tmp_path / name))
    assert result.returncode == 2
    assert "cannot tell the graph's format" in result.stderr
    assert "end the file name with one of .dot, .svg, .png, .pdf" in result.stderr
    assert "spec file not found" not in result.stderr  # refused before the spec is read
    assert list(tmp_path.iterdir()) == []


def test_graph_without_dot_says_what_to_install_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(graphs.shutil, "which", lambda name: None)
    spec = write(tmp_path, "tiny.yaml", TINY)
    assert cli.main(["graph", str(spec), "--out", str(tmp_path / "graph.png")]) == 2
    assert capsys.readouterr().err == f"error: {graphs.DOT_MISSING}\n"
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.yaml"]


# --- 5. the README's example of errors is a real file, and prints what the README says ------------

README = (ROOT / "README.md").read_text(encoding="utf-8")
SESSIONS = re.findall(r"```\n\$ (python cli\.py [^\n]*)\n(.*?)```", README, re.S)


def test_the_readmes_error_example_is_a_shipped_file_outside_specs():
    commands = [command for command, _ in SESSIONS]
    assert "python cli.py validate examples/bad.yaml" in commands
    assert (ROOT / "examples" / "bad.yaml").is_file()
    assert run("validate", "examples/bad.yaml").returncode == 2


@pytest.mark.parametrize("command, shown", SESSIONS, ids=[c for c, _ in SESSIONS])
def test_a_readme_session_prints_what_the_readme_shows(command, shown):
    result = run(*shlex.split(command)[2:])
    assert result.stdout + result.stderr == shown


# --- 8. skip reasons, grouped ---------------------------------------------------------------------

SKIPPING = """\
import pytest

@pytest.mark.parametrize("n", range(3))
@pytest.mark.skipif(True, reason="no CUDA device")
def test_gpu(n):
    pass

def test_torch():
    pytest.skip("PyTorch not installed")

def test_runs():
    assert True
"""


@pytest.mark.parametrize("flags", [[], ["-ra"]], ids=["default", "-ra"])
def test_skips_are_listed_once_per_reason_with_a_count(tmp_path, flags):
    test_file = write(tmp_path, "test_skipping.py", SKIPPING)
    command = [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml")]
    command += ["--rootdir", str(tmp_path), "-p", "conftest", "-p", "no:cacheprovider"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])}
    result = subprocess.run(
        [*command, *flags, str(test_file)], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "   3 skipped: no CUDA device" in lines
    assert "   1 skipped: PyTorch not installed" in lines
    assert lines.index("   3 skipped: no CUDA device") < lines.index(
        "   1 skipped: PyTorch not installed"
    )
    assert not [line for line in lines if line.startswith("SKIPPED")]  # not one per test
    assert "1 passed, 4 skipped" in lines[-1]


# --- 1. switching the optimizer, loss or scheduler with --set -------------------------------------


def test_set_optimizer_name_switches_to_adams_defaults_and_keeps_lr(tmp_path, capsys):
    spec = write(tmp_path, "tiny.yaml", TINY)  # sgd with momentum 0.9
    argv = ["train", str(spec), "--set", "optimizer.name=adam", "--out", str(tmp_path / "run")]
    assert cli.main([*argv, "--quiet", "--no-plots"]) == 0
    resolved = load_spec(tmp_path / "run" / "spec.yaml").optimizer
    assert resolved.model_dump() == {
        "name": "adam",
        "lr": 0.1,  # kept: adam has an lr too
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 0.0,
    }
    assert capsys.readouterr().err.splitlines() == [
        "optimizer sgd -> adam: dropped momentum (not options of adam); kept lr"
    ]


def test_switching_kind_keeps_given_options_the_new_kind_has_and_takes_its_defaults():
    spec = parse_spec(TINY.replace("momentum: 0.9", "momentum: 0.9, weight_decay: 0.001"))
    notes: list[str] = []
    adamw = apply_overrides(spec, {"optimizer.name": "adamw"}, notify=notes.append).optimizer
    assert (adamw.name, adamw.lr, adamw.weight_decay) == ("adamw", 0.1, 0.001)
    assert notes == [
        "optimizer sgd -> adamw: dropped momentum (not options of adamw); kept lr, weight_decay"
    ]
    # sgd's weight_decay default (0) is not "given": adamw's own default (0.01) applies
    plain = apply_overrides(parse_spec(TINY), {"optimizer.name": "adamw"}, notify=notes.append)
    assert plain.optimizer.weight_decay == 0.01


def test_an_option_set_before_the_switch_counts_as_given():
    notes: list[str] = []
    overrides = {"optimizer.weight_decay": "0.5", "optimizer.name": "adamw"}
    adamw = apply_overrides(parse_spec(TINY), overrides, notify=notes.append).optimizer
    assert adamw.weight_decay == 0.5
    back = apply_overrides(
        parse_spec(TINY), {"optimizer.name": "adam", "optimizer.betas": "[0.5, 0.6]"}
    )
    assert back.optimizer.betas == (0.5, 0.6)


def test_loss_and_scheduler_names_switch_too():
    notes: list[str] = []
    smoothing = TINY.replace(
        "loss: cross_entropy", "loss: {name: cross_entropy, label_smoothing: 0.1}"
    )
    hinge = apply_overrides(parse_spec(smoothing), {"loss.name": "hinge"}, notify=notes.append)
    assert hinge.loss.model_dump() == {"name": "hinge", "margin": 1.0}
    stepped = TINY + "scheduler: {name: step, step_size: 2, gamma: 0.5}\n"
    cosine = apply_overrides(parse_spec(stepped), {"scheduler.name": "cosine"}, notify=notes.append)
    assert cosine.scheduler.model_dump() == {"name": "cosine", "t_max": None, "eta_min": 0.0}
    assert notes == [
        "loss cross_entropy -> hinge: dropped label_smoothing (not options of hinge)",
        "scheduler step -> cosine: dropped step_size, gamma (not options of cosine)",
    ]
    added = apply_overrides(parse_spec(TINY), {"scheduler.name": "cosine"}, notify=notes.append)
    assert added.scheduler.name == "cosine" and len(notes) == 2  # nothing dropped, nothing said


def test_a_switch_that_drops_nothing_says_nothing_and_a_misspelled_kind_is_suggested():
    notes: list[str] = []
    plain = TINY.replace(", momentum: 0.9", "")
    assert apply_overrides(parse_spec(plain), {"optimizer.name": "adam"}, notify=notes.append)
    assert notes == []
    with pytest.raises(SpecError, match="unknown optimizer 'adma'; did you mean 'adam'"):
        apply_overrides(parse_spec(TINY), {"optimizer.name": "adma"}, notify=notes.append)
    assert notes == []


# --- 7. a sweep prints one line per run; --verbose the full logs ----------------------------------

SWEPT = TINY + "sweep: {path: 'model.layers[0].linear.out_features', values: [2, 4]}\n"


def sweep_output(tmp_path: Path, *flags: str) -> list[str]:
    spec = write(tmp_path, "swept.yaml", SWEPT)
    result = run("sweep", str(spec), "--out", str(tmp_path / "sweep"), "--no-plots", *flags)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_a_sweep_prints_one_line_per_finished_run_then_the_table(tmp_path):
    lines = sweep_output(tmp_path)
    width = "model.layers[0].linear.out_features"
    assert [line.split("  ")[0] for line in lines[:2]] == [f"[1/2] {width}=2", f"[2/2] {width}=4"]
    for line in lines[:2]:
        assert re.fullmatch(r".*  test_loss \S+  test_accuracy \S+  \(\d+\.\ds\)", line), line
    assert "sweep of model.layers[0].linear.out_features" in lines[2]
    assert not [line for line in lines if line.startswith(("epoch ", "run folder:", "data:"))]


def test_sweep_verbose_prints_every_runs_full_log(tmp_path):
    lines = sweep_output(tmp_path, "--verbose")
    assert sum(line.startswith("run folder:") for line in lines) == 2
    assert sum(line.startswith("epoch 1/1") for line in lines) == 2
    assert "[2/2] model.layers[0].linear.out_features=4" in lines


def test_sweep_quiet_prints_only_the_table(tmp_path):
    lines = sweep_output(tmp_path, "--quiet")
    assert "sweep of model.layers[0].linear.out_features" in lines[0]
    assert not [line for line in lines if line.startswith("[")]


# --- 6. evaluate on a sweep folder evaluates every run --------------------------------------------


def test_evaluate_on_a_sweep_folder_evaluates_every_run_in_a_table(tmp_path):
    sweep_output(tmp_path, "--quiet")
    folder = tmp_path / "sweep"
    _, recorded = read_sweep_csv(folder)
    result = run("evaluate", str(folder), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["sweep"], data["path"]) == (str(folder), "model.layers[0].linear.out_features")
    assert [row["value"] for row in data["runs"]] == [2, 4]
    for measured, row in zip(data["runs"], recorded):  # the saved models give the same numbers
        assert measured["run_dir"] == row["run_dir"]
        assert measured["test_accuracy"] == row["test_accuracy"]
        assert measured["test_loss"] == pytest.approx(row["test_loss"], rel=1e-6)
    table = run("evaluate", str(folder))
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert "sweep of model.layers[0].linear.out_features" in lines[0]
    assert "test_accuracy" in lines[2]
    cells = [line.split("│")[1].strip() for line in lines if line.startswith("│")]
    assert cells == ["2", "4"]
