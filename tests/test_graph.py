"""The computation graph of a spec's model: ops, shapes, parameter names and gradients in
the DOT text, SVG rendering through Graphviz's dot, and the message when dot is missing."""

from __future__ import annotations

import re
import shutil
import stat
from pathlib import Path

import pytest

from tinygrad_edu import rng
from tinygrad_edu.graph_text import DOT_MISSING, GraphvizMissing
from tinygrad_edu.spec import load_spec, parse_spec
from tinygrad_edu.viz.graphs import graph_dot, render_svg

TINY = """\
name: tiny
seed: 3
model:
  input: [2]
  layers: [linear: 3, relu, linear: 2]
data: {source: moons}
loss: cross_entropy
optimizer: {name: sgd, lr: 0.1}
train: {epochs: 1, batch_size: 8}
"""

_NODE = re.compile(r'^\s*(\w+) \[shape=(\w+), label="(.*)"\];$')
_EDGE = re.compile(r"^\s*(\w+) -> (\w+);$")


def parse(text: str) -> tuple[dict[str, str], dict[str, str], list[tuple[str, str]]]:
    """(tensor records, op ovals, edges) of the DOT text, each node by its id."""
    records, ops, edges = {}, {}, []
    for line in text.splitlines():
        if node := _NODE.match(line):
            uid, shape, label = node.groups()
            (records if shape == "record" else ops)[uid] = label.strip("{} ")
        elif edge := _EDGE.match(line):
            edges.append(edge.groups())
    return records, ops, edges


def record(records: dict[str, str], name: str) -> str:
    found = [label for label in records.values() if label.startswith(name + " |")]
    assert len(found) == 1, f"expected one node named {name!r} in {sorted(records.values())}"
    return found[0]


def test_the_graph_has_every_op_with_its_shapes():
    text = graph_dot(parse_spec(TINY), batch_size=5)
    assert text.startswith("digraph")
    records, ops, edges = parse(text)
    assert sorted(ops.values()) == ["cross_entropy", "linear", "linear", "relu"]
    assert "shape (5, 2) | float32" in record(records, "input")
    assert "shape (5, 3)" in record(records, "0 (Linear)")
    assert "shape (5, 3)" in record(records, "1 (ReLU)")
    assert "shape (5, 2)" in record(records, "2 (Linear)")
    assert "shape ()" in record(records, "loss (cross_entropy)")
    # each op has one edge to its output and one from each input: linear takes x, W and b
    for uid, label in ops.items():
        inputs = sum(1 for _, dst in edges if dst == uid)
        assert inputs == (3 if label == "linear" else 1), label
        assert sum(1 for src, _ in edges if src == uid) == 1, label


def test_parameters_are_named_and_show_the_gradient_of_the_backward_pass():
    records, _, _ = parse(graph_dot(parse_spec(TINY)))
    for name, shape in [("0.weight", (3, 2)), ("0.bias", (3,)), ("2.weight", (2, 3))]:
        label = record(records, name)
        assert f"shape {shape}" in label and f"grad {shape}" in label


def test_the_lectures_model_is_drawn_with_its_parameter_shapes():
    spec = load_spec(Path(__file__).resolve().parents[1] / "specs" / "mlp.yaml")
    records, ops, _ = parse(graph_dot(spec))
    assert "shape (128, 784)" in record(records, "1.weight")
    assert any("shape (2, 784)" in label for label in records.values())  # the flat images
    assert sorted(ops.values()) == ["cross_entropy", "linear", "linear", "relu"]


def test_an_mse_graph_shows_the_targets_and_the_ops_of_the_loss():
    spec = parse_spec(
        TINY.replace("input: [2]", "input: [1]")
        .replace("linear: 2]", "linear: 1]")
        .replace("{source: moons}", "{source: function}")
        .replace("cross_entropy", "mse")
    )
    records, ops, _ = parse(graph_dot(spec, batch_size=3))
    assert sorted(ops.values()) == ["linear", "linear", "mean", "mul", "relu", "sub"]
    assert "shape (3, 1)" in record(records, "targets")


def test_the_same_spec_gives_the_same_text():
    assert graph_dot(parse_spec(TINY)) == graph_dot(parse_spec(TINY))


def test_drawing_does_not_move_the_global_random_generator():
    rng.manual_seed(7)
    before = rng.get_state()
    graph_dot(parse_spec(TINY))
    assert rng.get_state() == before


def test_render_svg_runs_dot(tmp_path, monkeypatch):
    fake = tmp_path / "dot"  # stands in for Graphviz: echoes an SVG, checks its argument
    fake.write_text('#!/bin/sh\n[ "$1" = "-Tsvg" ] || exit 3\ncat > /dev/null\necho "<svg/>"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(shutil, "which", lambda name: str(fake))
    out = render_svg(graph_dot(parse_spec(TINY)), tmp_path / "graph.svg")
    assert out.read_text().strip() == "<svg/>"


def test_without_dot_the_message_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(GraphvizMissing) as info:
        render_svg("digraph G {}", tmp_path / "graph.svg")
    assert str(info.value) == DOT_MISSING
    for way in ("apt-get install graphviz", "brew install", "conda install", "winget install"):
        assert way in DOT_MISSING
    assert "--out" not in DOT_MISSING  # render_svg also draws backprop's frames: no CLI advice
    assert info.value.exit_code == 2
    assert not (tmp_path / "graph.svg").exists()
