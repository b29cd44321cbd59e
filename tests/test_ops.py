"""The op table (`tinygrad_edu.ops`): every row's derivative against central differences in
float64, the scalar and array forms of a shared formula agree, and the explainer prints
the table's own rules (so a formula cannot drift between the engine and its explanation)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor, Value, explain, ops
from tinygrad_edu.explain import backprop

H = 1e-6
# extra arguments of the rows that take some, and inputs clear of kinks and poles
ARGS = {"leaky_relu": (0.1,), "clip": (-0.5, 0.5)}
POSITIVE = {"log", "log1p", "sqrt", "pow"}


def inputs(draw_positive: bool) -> st.SearchStrategy[np.ndarray]:
    low = 0.2 if draw_positive else -2.0
    values = st.floats(low, 2.0).filter(lambda v: min(abs(v), abs(abs(v) - 0.5)) > 0.05)
    return st.lists(values, min_size=1, max_size=5).map(lambda v: np.asarray(v, np.float64))


def central(f, x: np.ndarray) -> np.ndarray:
    return (f(x + H) - f(x - H)) / (2 * H)


@pytest.mark.parametrize("name", sorted(ops.UNARY))
@given(data=st.data())
def test_each_unary_rows_backward_is_its_forwards_derivative(name, data):
    row, args = ops.UNARY[name], ARGS.get(name, ())
    x = data.draw(inputs(name in POSITIVE))
    out = row.forward(x, *args)
    got = row.backward(np.ones_like(x), x, out, *args)
    np.testing.assert_allclose(got, central(lambda v: row.forward(v, *args), x), atol=1e-6)


@pytest.mark.parametrize("name", sorted(set(ops.BINARY) - {"where"}))
@given(data=st.data())
def test_each_binary_rows_backwards_are_its_forwards_partial_derivatives(name, data):
    row = ops.BINARY[name]
    x = data.draw(inputs(name in POSITIVE))
    y = data.draw(inputs(True).filter(lambda v: len(v) == len(x)) | st.just(x[::-1] + 0.3))
    if name in ("rsub", "rdiv", "rpow"):
        y = 1.7  # a number on the left
    out = row.forward(x, y)
    g = np.ones_like(x)
    np.testing.assert_allclose(
        row.backward[0](g, x, y, out), central(lambda v: row.forward(v, y), x), atol=1e-5
    )
    if row.backward[1] is not None:
        got = row.backward[1](g, x, y, out)
        np.testing.assert_allclose(got, central(lambda v: row.forward(x, v), y), atol=1e-5)


def test_every_row_says_its_formula_and_each_kinked_op_its_tie_rule():
    for row in [*ops.UNARY.values(), *ops.BINARY.values()]:
        words = row.words if isinstance(row.words, tuple) else (row.words,)
        assert words[0] and row.latex and row.rule, row.name
    for name in ("relu", "leaky_relu", "abs", "clip"):
        assert "0" in ops.UNARY[name].tie or "slope" in ops.UNARY[name].tie
    for name in ("maximum", "minimum", "pow", "rpow"):
        assert ops.BINARY[name].tie


@given(st.floats(-3.0, 3.0))
def test_the_scalar_engine_uses_the_rows_local_derivatives(x):
    """Value's exp, log, sigmoid and tanh gradients are the rows' ``local`` at that point."""
    for name, method in (("exp", Value.exp), ("sigmoid", Value.sigmoid), ("tanh", Value.tanh)):
        v = Value(x)
        out = method(v)
        out.backward()
        assert v.grad == ops.UNARY[name].local(x, out.data)
    if x > 0:
        v = Value(x)
        out = v.log()
        out.backward()
        assert v.grad == ops.LOG.local(x, out.data)


def test_the_explainer_reads_its_rules_from_the_table(monkeypatch):
    """Change a row's words and rule: both explanations change with it (no copy to drift)."""
    a = Value(0.3, label="a")
    text = str(backprop(a.tanh()))
    assert "1 - " in text
    changed = dataclasses.replace(ops.TANH, words="TANH'")
    monkeypatch.setitem(explain._SCALAR_OPS, "tanh", changed)  # Value's op names -> rows
    assert "TANH'" in str(backprop(Value(0.3, label="a").tanh()))

    x = Tensor([[1.0, 2.0]], requires_grad=True)
    monkeypatch.setitem(ops.UNARY, "sqrt", dataclasses.replace(ops.SQRT, rule="ROOT {g}"))
    assert "ROOT dL/d" in str(backprop(x.sqrt().sum()))


def test_the_explainer_gives_every_tables_op_its_rule():
    """sqrt and maximum had no rule in the explainer's own copy ("the backward of ...")."""
    x = Tensor([[1.0, 4.0]], requires_grad=True)
    text = str(backprop((x.sqrt() + tg.tensor([[1.0, 1.0]]).maximum(x)).sum()))
    assert "dL/dx1 = dL/dh2 / (2 * h2), element by element: (1, 2)" in text
    assert "dL/dx1 = dL/dh1 * (x1 > x2), element by element: (1, 2)" in text
    assert "the backward of" not in text


@given(st.floats(0.1, 3.0), st.floats(-3.0, 3.0), st.sampled_from([2, 3, -1, 0.5]))
def test_the_scalar_engines_arithmetic_has_the_rows_local_derivatives(a, b, p):
    """Value's +, * and ** (its hot + and * inline, marked) agree with ops.ADD, MUL, POW."""
    x, y = Value(a), Value(b)
    (x + y).backward()
    assert (x.grad, y.grad) == tuple(f(a, b, a + b) for f in ops.ADD.local)
    x, y = Value(a), Value(b)
    (x * y).backward()
    assert (x.grad, y.grad) == tuple(f(a, b, a * b) for f in ops.MUL.local)
    x = Value(a)
    out = x**p
    out.backward()
    assert x.grad == ops.POW.local[0](a, p, out.data)


def test_value_py_reads_micrograds_shape_first_and_its_edges_last():
    """Issue 22: the ops and their backward functions come first; the speed tricks and the
    IEEE 754 edges after the line that says to skip them on first reading."""
    import inspect

    from tinygrad_edu import value

    source = inspect.getsource(value)
    tail = source.index("# === skip on first reading")
    for name in ("def __add__", "def _add_backward", "def __mul__", "def __pow__", "def relu",
                 "def tanh", "def exp", "def backward"):  # fmt: skip
        assert source.index(name) < tail, name
    for name in ("def _node", "def _ieee_pow", "def _ieee_log", "def _pow_grad", "_FLOAT_ERRORS ="):
        assert source.index(name) > tail, name
    assert (
        source.index("def __add__")
        < source.index("def _add_backward")
        < source.index("def __mul__")
    )  # each op, then its backward
