"""The two engines agree: the same computation built from Tensors (float64) and element by
element from Values gives the same gradients, for random expressions and random MLPs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import arrays, away_from_zero, floats, with_fixtures

from tinygrad_edu import Tensor, Value
from tinygrad_edu import functional as F

VARIABLES = ("x0", "x1", "x2")
UNARY = ("tanh", "relu", "exp", "sigmoid", "neg")
BINARY = ("+", "-", "*", "/")

# an expression is ("var", name) | ("const", number) | (unary, e) | (binary, e, e)
expressions = st.recursive(
    st.one_of(
        st.sampled_from(VARIABLES).map(lambda name: ("var", name)),
        st.sampled_from(VARIABLES).map(lambda name: ("var", name)),  # variables twice as likely
        away_from_zero(2.0, 0.1).map(lambda c: ("const", c)),
    ),
    lambda inner: st.one_of(
        st.tuples(st.sampled_from(UNARY), inner),
        st.tuples(st.sampled_from(BINARY), inner, inner),
    ),
    max_leaves=8,
)


# the unary ops on a constant sub-expression (a plain Python number)
NUMBER_FUNCTIONS = {
    "tanh": math.tanh,
    "exp": math.exp,
    "relu": lambda v: max(v, 0.0),
    "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
}


def evaluate(expr, env: dict):
    """Build `expr` from the engine objects in `env` (constants stay Python numbers, so
    the reflected operators 2 - x, 2 / x are exercised too)."""
    kind = expr[0]
    if kind == "var":
        return env[expr[1]]
    if kind == "const":
        return expr[1]
    if kind in BINARY:
        a, b = evaluate(expr[1], env), evaluate(expr[2], env)
        if kind == "+":
            return a + b
        if kind == "-":
            return a - b
        if kind == "*":
            return a * b
        # clear of the pole, where gradients of size 1e10 cancel to tiny sums in float64
        assume(np.all(magnitude(b) > 0.01))
        return a / b
    a = evaluate(expr[1], env)
    if kind == "neg":
        return -a
    if kind == "exp":  # Python's math.exp raises OverflowError where NumPy gives inf
        assume(np.all(magnitude(a) < 50))
    if isinstance(a, float):
        return NUMBER_FUNCTIONS[kind](a)
    return getattr(a, kind)()


def magnitude(v) -> np.ndarray:
    """|v| for a Tensor, a Value or a number."""
    if isinstance(v, Tensor):
        return np.abs(v.numpy())
    return np.abs(v.data if isinstance(v, Value) else v)


def uses_variable(expr) -> bool:
    return expr[0] == "var" or any(uses_variable(e) for e in expr[1:] if isinstance(e, tuple))


def assert_close(actual: np.ndarray, expected: np.ndarray) -> None:
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-9 * scale)


@with_fixtures
@given(expr=expressions, data=st.data())
def test_random_expressions_agree(xp_backend, expr, data):
    assume(uses_variable(expr))
    n = data.draw(st.integers(1, 4), label="n")
    inputs = {
        name: data.draw(arrays((n,), away_from_zero(2.0, 0.1)), label=name) for name in VARIABLES
    }
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        tensors = {
            name: Tensor(a, dtype="float64", requires_grad=True) for name, a in inputs.items()
        }
        out = evaluate(expr, tensors)
        out.sum().backward()
        tensor_grads = {
            name: np.zeros(n) if t.grad is None else t.grad.numpy() for name, t in tensors.items()
        }
    assume(np.all(magnitude(out) < 1e6))
    assume(all(np.all(np.abs(g) < 1e6) for g in tensor_grads.values()))

    value_grads = {name: np.zeros(n) for name in VARIABLES}
    value_out = np.zeros(n)
    for i in range(n):
        values = {name: Value(float(a[i])) for name, a in inputs.items()}
        result = evaluate(expr, values)
        result.backward()
        value_out[i] = result.data
        for name, v in values.items():
            value_grads[name][i] = v.grad

    assert_close(out.numpy(), value_out)
    for name in VARIABLES:
        assert_close(tensor_grads[name], value_grads[name])


# --- random MLPs --------------------------------------------------------------------------------


@st.composite
def mlps(draw):
    sizes = draw(st.lists(st.integers(1, 4), min_size=2, max_size=4), label="layer sizes")
    weights = [
        (
            draw(arrays((n_out, n_in), floats(-1, 1)), label="W"),
            draw(arrays((n_out,), floats(-1, 1)), label="b"),
        )
        for n_in, n_out in zip(sizes, sizes[1:])
    ]
    batch = draw(st.integers(1, 3), label="batch")
    x = draw(arrays((batch, sizes[0]), floats(-2, 2)), label="x")
    target = draw(arrays((batch, sizes[-1]), floats(-1, 1)), label="target")
    return weights, x, target


def tensor_mlp(weights, x, target, activation: str, fused: bool):
    params = [
        (
            Tensor(w, dtype="float64", requires_grad=True),
            Tensor(b, dtype="float64", requires_grad=True),
        )
        for w, b in weights
    ]
    inputs = Tensor(x, dtype="float64", requires_grad=True)
    h = inputs
    for k, (w, b) in enumerate(params):
        h = F.linear(h, w, b) if fused else h @ w.T + b
        if k < len(params) - 1:
            h = getattr(h, activation)()
    loss = ((h - Tensor(target, dtype="float64")) ** 2).mean()
    loss.backward()
    return loss.item(), inputs.grad.numpy(), [(w.grad.numpy(), b.grad.numpy()) for w, b in params]


def value_mlp(weights, x, target, activation: str):
    params = [
        ([[Value(float(v)) for v in row] for row in w], [Value(float(v)) for v in b])
        for w, b in weights
    ]
    inputs = [[Value(float(v)) for v in row] for row in x]
    total = Value(0.0)
    for sample, goal in zip(inputs, target):
        h = sample
        for k, (w, b) in enumerate(params):
            h = [sum((wi * hi for wi, hi in zip(row, h)), bj) for row, bj in zip(w, b)]
            if k < len(params) - 1:
                h = [getattr(v, activation)() for v in h]
        for out, t in zip(h, goal):
            total = total + (out - float(t)) ** 2
    loss = total / target.size
    loss.backward()
    grads = [
        (np.array([[v.grad for v in row] for row in w]), np.array([v.grad for v in b]))
        for w, b in params
    ]
    return loss.data, np.array([[v.grad for v in row] for row in inputs]), grads


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("fused", [False, True], ids=["matmul", "linear"])
@with_fixtures
@given(mlp=mlps())
def test_random_mlps_agree(xp_backend, activation, fused, mlp):
    weights, x, target = mlp
    t_loss, t_x_grad, t_grads = tensor_mlp(weights, x, target, activation, fused)
    v_loss, v_x_grad, v_grads = value_mlp(weights, x, target, activation)
    assert_close(np.array(t_loss), np.array(v_loss))
    assert_close(t_x_grad, v_x_grad)
    for (tw, tb), (vw, vb) in zip(t_grads, v_grads):
        assert_close(tw, vw)
        assert_close(tb, vb)
