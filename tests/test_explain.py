"""The backprop explainer: its numbers are the engine's, its formulas the ops', and its
expression language builds graphs without evaluating Python."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor, Value, nn
from tinygrad_edu import functional as F
from tinygrad_edu.errors import UserError
from tinygrad_edu.explain import MAX_EXPRESSION, MAX_NODES, backprop, parse
from tinygrad_edu.extras import install_hint

ROOT = Path(__file__).resolve().parents[1]

GOLDEN = """\
backward pass of L = -4.0: dL/dL = 1
L = c + a    dL/dL = 1.0
  dL/dc = 1;  dL/dc = dL/dL * dL/dc = 1.0 * 1.0 = 1.0
  dL/da = 1;  dL/da = dL/dL * dL/da = 1.0 * 1.0 = 1.0  (use 1 of 2)
c = a * b    dL/dc = 1.0
  dc/da = b = -3.0;  dL/da += dL/dc * dc/da = 1.0 * (-3.0) = -3.0  -> dL/da = -2.0
  dc/db = a = 2.0;  dL/db = dL/dc * dc/db = 1.0 * 2.0 = 2.0
gradients: dL/da = -2.0, dL/db = 2.0"""


def test_the_chain_rule_written_out_with_accumulation():
    assert str(backprop(parse("c = a * b; L = c + a", {"a": 2, "b": -3}))) == GOLDEN


def test_local_derivative_formulas_of_each_op():
    text = str(
        backprop(
            parse(
                "L = tanh(a) * exp(b) + log(c) + sigmoid(a) + c**2", {"a": 0.5, "b": -1.0, "c": 3.0}
            )
        )
    )
    # auto-names follow the topological order: n1 = c^2.0, n2 = sigmoid(a), ..., n5 = tanh(a)
    for formula in [
        "dn5/da = 1 - n5^2",
        "dn4/db = n4 ",
        "dn3/dc = 1 / c",
        "n2 * (1 - n2)",
        "dn1/dc = 2.0 * c^(2.0 - 1) = 6.0",
    ]:
        assert formula in text, formula


EXPRESSIONS = [
    "L = relu(a * b + c) * a",
    "d = a * b; e = d.tanh() + a; L = e * e",
    "L = (a - b) / (c * c + 1) + a ** b",
    "L = sigmoid(a) * log(c * c + 1) + exp(-b)",
]


# No subnormal inputs: for c * c the engine adds g*c twice, the listing shows one term
# g*(2c); equal bit for bit (doubling is exact) unless g*c is subnormal and rounds.
@given(
    expression=st.sampled_from(EXPRESSIONS),
    a=st.floats(0.1, 3),
    b=st.floats(-3, 3, allow_subnormal=False),
    c=st.floats(-3, 3, allow_subnormal=False),
)
def test_the_explained_gradients_are_the_engines_bit_for_bit(expression, a, b, c):
    values = {"a": a, "b": b, "c": c}
    explanation = backprop(parse(expression, values))
    fresh = parse(expression, values)
    fresh.backward()
    leaves = {v.label: v.grad for v in tg.autograd.topological_order(fresh) if v.label in values}
    explained = {explanation.names[id(v)]: v.grad for v in explanation.leaves}
    assert explained == leaves
    # each leaf's gradient is the sum of the chain-rule products that the listing shows
    for name, grad in explained.items():
        terms = [t for s in explanation.steps for t in s.terms if t.name == name]
        assert terms and math.isclose(sum(t.contribution for t in terms), grad, abs_tol=1e-12)
        assert [t.use for t in terms] == list(range(1, len(terms) + 1))


def test_value_dot_and_micrograd_style_ops_are_explained():
    w, x, b = Value(2.0, label="w"), Value(-1.5, label="x"), Value(0.5, label="b")
    out = Value.dot([w], [x], b)
    out.label = "L"
    text = str(backprop(out))
    assert "dL/dw = x = -1.5" in text and "dL/dx = w = 2.0" in text

    def double(v: Value) -> Value:  # an op written outside Value, micrograd's way
        out = Value(2 * v.data, (v,), "double")

        def _backward():
            v.grad += 2 * out.grad

        out._backward = _backward
        return out

    y = double(Value(3.0, label="y"))
    y.label = "L"
    assert "dL/dy = ddouble = 2.0" in str(backprop(y))


def test_a_tiny_tensor_mlp_is_explained_in_matrix_form_with_its_shapes():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    X = Tensor.randn(32, 784)
    names = {id(p): name for name, p in model.named_parameters()}
    names[id(X)] = "X"
    explanation = backprop(F.cross_entropy(model(X), Tensor([i % 10 for i in range(32)])), names)
    text = str(explanation)
    assert "dL/d0.weight = dL/dh1.T @ X: (128, 32) @ (32, 784) -> (128, 784)" in text
    assert "dL/dh2 = dL/dh3 @ 2.weight: (32, 10) @ (10, 128) -> (32, 128)" in text
    assert "dL/dh1 = dL/dh2 * (h1 > 0), element by element: (32, 128)" in text
    # the backward pass really ran, and each gradient has the shape the listing states
    assert explanation.leaf_grads == {n: tuple(p.shape) for n, p in model.named_parameters()}
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize(
    "expression, message",
    [
        ("__import__('os').system('true')", "cannot use"),
        ("a.__class__", "cannot use"),
        ("lambda: a", "cannot use"),
        ("import os", "assignments and expressions only"),
        ("a +", "cannot read the expression"),
        ("q * a", "--set q=NUMBER"),
        ("", "empty"),
        ("a" + "+a" * (MAX_NODES // 2 + 1), "more than"),
        ("a" * (MAX_EXPRESSION + 1), "the limit is"),
    ],
)
def test_the_expression_language_refuses_what_it_does_not_know(expression, message):
    with pytest.raises(UserError, match=message):
        parse(expression, {"a": 1.0})


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )


def without_dot(tmp_path: Path) -> dict[str, str]:
    """An environment whose PATH holds no programs, so no ``dot``, whether or not this machine
    has Graphviz: the CLI runs by its full path and needs none."""
    empty = tmp_path / "empty-path"
    empty.mkdir(exist_ok=True)
    return {**os.environ, "PATH": str(empty)}


def test_cli_backprop_prints_the_steps_and_rejects_bad_values():
    result = cli("backprop", "c = a * b; L = c + a", "--set", "a=2", "b=-3")
    assert result.returncode == 0 and result.stdout.strip() == GOLDEN
    result = cli("backprop", "a * b", "--set", "a=2", "b=minus")
    assert result.returncode == 2 and "NAME=NUMBER" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_cli_backprop_frames_highlight_the_nodes_done_so_far(tmp_path):
    result = cli(
        "backprop", "c = a * b; L = c + a", "--set", "a=2", "b=-3", "--frames", str(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    frames = sorted(tmp_path.glob("step_*.svg"))
    assert [f.name for f in frames] == ["step_001.svg", "step_002.svg"]
    first, last = (f.read_text() for f in frames)
    assert first.count('fill="#ffe082"') < last.count('fill="#ffe082"')
    assert "grad 0.0000" in first and "grad 0.0000" not in last  # b gets its gradient at step 2


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_cli_backprop_gif_has_one_frame_per_step(tmp_path):
    Image = pytest.importorskip(
        "PIL.Image", reason="Pillow not installed: pip install -e '.[plot]'"
    )
    gif = tmp_path / "steps.gif"
    expression = "c = a * b; d = relu(c) + b; L = d * a"
    result = cli("backprop", expression, "--set", "a=2", "b=-3", "--gif", str(gif))
    assert result.returncode == 0, result.stderr
    steps = len(backprop(parse(expression, {"a": 2, "b": -3})).steps)
    assert steps == 4 and f"wrote {gif} ({steps} frames)" in result.stdout
    with Image.open(gif) as animation:
        assert animation.n_frames == steps and animation.info["loop"] == 0
        frames = []
        for number in range(steps):
            animation.seek(number)
            frames.append(animation.convert("RGB").tobytes())
    assert len(set(frames)) == steps  # each frame shows its own step
    assert [p.name for p in tmp_path.iterdir()] == ["steps.gif"]  # no temporary files left


def test_frame_dots_name_each_step_above_the_graph():
    explanation = backprop(parse("c = a * b; L = c + a", {"a": 2, "b": -3}))
    dots = explanation.frame_dots()
    assert len(dots) == len(explanation.steps) == 2
    assert 'label="step 1 of 2: L = c + a, dL/dL = 1.0"' in dots[0]
    assert 'label="step 2 of 2: c = a * b, dL/dc = 1.0"' in dots[1]
    assert [v.grad for v in explanation.leaves] == [-2.0, 2.0]  # the final gradients stay


def test_cli_backprop_gif_refuses_bad_targets_before_any_work(tmp_path):
    result = cli("backprop", "a * b", "--set", "a=2", "b=-3", "--gif", str(tmp_path / "x.png"))
    assert result.returncode == 2 and "end the file name with .gif" in result.stderr
    assert result.stdout == ""  # refused before the explanation is printed
    target = tmp_path / "no" / "x.gif"
    result = cli("backprop", "a * b", "--set", "a=2", "b=-3", "--gif", str(target))
    assert result.returncode == 2 and str(target) in result.stderr and result.stdout == ""
    assert "Traceback" not in result.stderr


def test_gif_without_pillow_says_what_to_install(monkeypatch, tmp_path):
    from tinygrad_edu.explain import GIF_MISSING

    monkeypatch.setitem(sys.modules, "PIL", None)  # import PIL now raises ImportError
    monkeypatch.setenv("PATH", str(tmp_path))  # and no dot: Pillow is named first either way
    explanation = backprop(parse("L = a * b", {"a": 2.0, "b": -3.0}))
    with pytest.raises(UserError) as error:
        explanation.check_drawable("--gif steps.gif", animated=True)
    assert str(error.value) == GIF_MISSING
    with pytest.raises(UserError, match="a is an input"):  # the request's mistake comes first
        backprop(parse("a", {"a": 2.0})).check_drawable("--gif steps.gif", animated=True)
    assert GIF_MISSING.endswith(install_hint("plot"))


# The same verdict with and without Graphviz: the request's own mistake is reported first
# (issue 20: without dot, the missing dot was reported instead and the test failed).
@pytest.mark.parametrize("dot", ["as installed", "hidden"])
@pytest.mark.parametrize("option, target", [("--gif", "steps.gif"), ("--frames", "frames")])
def test_drawing_an_input_alone_is_refused_in_words(tmp_path, dot, option, target):
    env = without_dot(tmp_path) if dot == "hidden" else None
    result = cli("backprop", "a", "--set", "a=2", option, str(tmp_path / target), env=env)
    assert result.returncode == 2 and "a is an input" in result.stderr
    assert "no steps to draw" in result.stderr and "Graphviz" not in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not (tmp_path / target).exists()


@pytest.mark.parametrize("option, target", [("--gif", "steps.gif"), ("--frames", "frames")])
def test_without_dot_drawing_is_refused_before_anything_is_printed_or_made(
    tmp_path, option, target
):
    expression = "c = a * b; L = c + a"
    result = cli(
        "backprop",
        expression,
        "--set",
        "a=2",
        "b=-3",
        option,
        str(tmp_path / target),
        env=without_dot(tmp_path),
    )
    assert result.returncode == 2 and result.stdout == ""  # not the listing, then a failure
    message = result.stderr
    assert message.startswith(f"error: {option} {tmp_path / target} needs the Graphviz dot")
    for way in ("apt-get install graphviz", "brew install", "conda install", "winget install"):
        assert way in message
    assert "leave the option out" in message and "--out" not in message  # backprop has no --out
    assert not (tmp_path / target).exists()  # no empty frames folder left behind


def test_frames_into_a_file_is_refused_before_any_work(tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    result = cli("backprop", "a * b", "--set", "a=2", "b=-3", "--frames", str(target))
    assert result.returncode == 2 and "is a file, not a folder" in result.stderr
    assert result.stdout == "" and target.read_text() == "mine"


def test_the_library_refuses_frames_of_an_input_alone_before_making_the_folder(tmp_path):
    explanation = backprop(parse("a", {"a": 2.0}))
    with pytest.raises(UserError, match="drawing the frames: a is an input"):
        explanation.frames(tmp_path / "frames")
    with pytest.raises(UserError, match="drawing the GIF: a is an input"):
        explanation.gif(tmp_path / "steps.gif")
    assert list(tmp_path.iterdir()) == []
