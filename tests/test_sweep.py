"""Sweeps: one run per value in one folder, sweep.csv, the table, the spec's sweep:
section (read from the YAML, with the file's line numbers kept), and early errors."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from tinygrad_edu.errors import UserError
from tinygrad_edu.spec import SpecError
from tinygrad_edu.training.sweep import SWEEP_CSV, load_sweep_spec, read_sweep_csv, run_sweep

WIDTH = "model.layers[0].linear.out_features"

MOONS = """\
name: moons-sweep
seed: 1
model:
  input: [2]
  layers: [linear: 8, relu, linear: 2]
data: {source: moons, n_samples: 120}
loss: cross_entropy
optimizer: {name: adam, lr: 0.05}
train: {epochs: 2, batch_size: 32}
"""

SECTION = """\
sweep:
  path: model.layers[0].linear.out_features   # the hidden width
  values: [2, 6]
"""


def write(tmp_path: Path, text: str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def rows_of(folder: Path) -> list[dict[str, str]]:
    with open(folder / SWEEP_CSV, newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_sweep_trains_one_run_per_value_in_one_folder(tmp_path):
    spec = write(tmp_path, MOONS)
    result = run_sweep(spec, WIDTH, ["2", "6"], out=tmp_path / "sweep")
    assert result.folder == tmp_path / "sweep"
    assert result.values == [2, 6]  # command-line strings are read as YAML
    for width in (2, 6):
        run = tmp_path / "sweep" / f"{WIDTH}={width}"
        for name in ("spec.yaml", "metrics.csv", "model.npz", "checkpoint.npz"):
            assert (run / name).is_file(), f"{run.name}/{name}"
        assert f"out_features: {width}" in (run / "spec.yaml").read_text()
    rows = rows_of(tmp_path / "sweep")
    assert [row[WIDTH] for row in rows] == ["2", "6"]
    assert [row["run_dir"] for row in rows] == [f"{WIDTH}=2", f"{WIDTH}=6"]
    assert all(0.0 <= float(row["test_accuracy"]) <= 1.0 for row in rows)
    assert [p.name for p in (tmp_path / "sweep").iterdir() if p.name.startswith(".")] == []

    path, read_back = read_sweep_csv(tmp_path / "sweep")
    assert path == WIDTH
    assert [row["value"] for row in read_back] == [2, 6]
    assert result.metric("test_accuracy") == [row["test_accuracy"] for row in read_back]


def test_the_table_has_one_row_per_value(tmp_path):
    result = run_sweep(write(tmp_path, MOONS), WIDTH, [2, 6], out=tmp_path / "sweep")
    table = result.table()
    assert table.row_count == 2
    headers = [column.header for column in table.columns]
    assert headers[0] == "out_features" and "test_accuracy" in headers
    console = Console(width=200, record=True)
    console.print(table)
    text = console.export_text()
    assert f"sweep of {WIDTH}" in text
    for row in result.rows:
        assert f"{row['test_accuracy']:.4g}" in text


def test_the_values_can_come_from_the_specs_sweep_section(tmp_path):
    spec = write(tmp_path, MOONS.replace("train:", SECTION + "train:"))
    result = run_sweep(spec, out=tmp_path / "sweep")
    assert (result.path, result.values) == (WIDTH, [2, 6])
    assert len(rows_of(tmp_path / "sweep")) == 2
    # a run of the sweep is an ordinary run: its spec has no sweep section
    run_spec = yaml.safe_load((tmp_path / "sweep" / f"{WIDTH}=2" / "spec.yaml").read_text())
    assert "sweep" not in run_spec


def test_given_values_replace_the_sections(tmp_path):
    spec = write(tmp_path, MOONS + SECTION)
    result = run_sweep(spec, values=[3], out=tmp_path / "sweep")
    assert (result.path, result.values) == (WIDTH, [3])


def test_errors_in_the_rest_of_a_spec_keep_their_line_numbers(tmp_path):
    text = SECTION + MOONS.replace("lr: 0.05", "lr: -1")
    with pytest.raises(SpecError) as info:
        load_sweep_spec(write(tmp_path, text))
    line = text.splitlines().index("optimizer: {name: adam, lr: -1}") + 1
    assert f"spec.yaml:{line}:" in str(info.value) and "optimizer.lr" in str(info.value)


@pytest.mark.parametrize(
    "section, offset, message",
    [
        ("sweep: [1, 2]\n", 1, "sweep: expected a mapping, found [1, 2]"),
        ("sweep:\n  path: train.epochs\n", 2, "sweep.values: required, but missing"),
        ("sweep:\n  path: 3\n  values: [1]\n", 2, "sweep.path: expected a string, found 3"),
        ("sweep:\n  path: seed\n  values: []\n", 3, "sweep.values: expected at least 1 item"),
    ],
)
def test_a_bad_sweep_section_is_reported_at_its_line(tmp_path, section, offset, message):
    spec = write(tmp_path, MOONS + section)
    with pytest.raises(UserError, match=re.escape(message)) as info:
        load_sweep_spec(spec)
    assert f"spec.yaml:{len(MOONS.splitlines()) + offset}:" in str(info.value)


@pytest.mark.parametrize(
    "path, message",
    [
        ("model.layers[7].linear.out_features", "model.layers is a list of 3 items"),
        ("train.epoch", "did you mean 'epochs'"),
    ],
)
def test_a_bad_path_gives_the_spec_error_before_any_training(tmp_path, path, message):
    with pytest.raises(SpecError, match=message):
        run_sweep(write(tmp_path, MOONS), path, [1, 2], out=tmp_path / "sweep")
    assert not (tmp_path / "sweep").exists()


def test_a_bad_value_fails_before_any_training(tmp_path):
    with pytest.raises(SpecError, match="out_features"):
        run_sweep(write(tmp_path, MOONS), WIDTH, [4, 0], out=tmp_path / "sweep")
    assert not (tmp_path / "sweep").exists()


def test_nothing_to_sweep_and_repeated_values_are_user_errors(tmp_path):
    spec = write(tmp_path, MOONS)
    with pytest.raises(UserError, match="nothing to sweep"):
        run_sweep(spec, out=tmp_path / "sweep")
    with pytest.raises(UserError, match="values repeat"):
        run_sweep(spec, WIDTH, ["4", 4], out=tmp_path / "sweep")
    with pytest.raises(UserError, match="spec file not found"):
        run_sweep(tmp_path / "missing.yaml", WIDTH, [4])
