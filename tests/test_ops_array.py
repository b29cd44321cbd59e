"""The op table's rows for ops on whole arrays (`ops.ARRAY`: matmul, linear, reductions,
changes of shape, softmax): each backward is its forward's vector-Jacobian product (central
differences in float64 on inputs drawn by hypothesis), the Tensor engine runs the rows, and
the explainer prints their rules, so no formula has a second copy to drift."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import tinygrad_edu as tg
from tinygrad_edu import Tensor, ops
from tinygrad_edu import functional as F
from tinygrad_edu.explain import backprop

H = 1e-6


def numeric_vjp(f, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """d sum(g * f(x)) / dx by central differences, one element at a time."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = H
        grad[i] = (np.sum(g * f(x + step)) - np.sum(g * f(x - step))) / (2 * H)
    return grad


def floats(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    return arrays(np.float64, shape, elements=st.floats(-2.0, 2.0))


def distinct(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """No ties, and no two entries closer than a finite difference could tell apart."""
    n = int(np.prod(shape))
    values = st.lists(st.integers(-50, 50), min_size=n, max_size=n, unique=True)
    return values.map(lambda v: np.asarray(v, np.float64).reshape(shape) / 10)


def softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# (row, input strategy, forward of that input, backward of that input given the upstream g)
CASES = {
    "matmul a": (floats((2, 3)), lambda a: ops.MATMUL.forward(a, B), lambda g, a: ops.MATMUL.backward[0](g, a, B)),  # noqa: E501
    "matmul b": (floats((3, 4)), lambda b: ops.MATMUL.forward(A, b), lambda g, b: ops.MATMUL.backward[1](g, A, b)),  # noqa: E501
    "linear x": (floats((2, 3)), lambda x: ops.LINEAR.forward(x, W), lambda g, x: ops.LINEAR.backward[0](g, x, W)),  # noqa: E501
    "linear w": (floats((4, 3)), lambda w: ops.LINEAR.forward(A, w), lambda g, w: ops.LINEAR.backward[1](g, A, w)),  # noqa: E501
    "linear b": (floats((4,)), lambda b: ops.LINEAR.forward(A, W) + b, lambda g, b: ops.LINEAR.backward[2](g, A, W)),  # noqa: E501
    "sum": (floats((2, 3)), lambda x: ops.SUM.forward(x, (1,), True), lambda g, x: ops.SUM.backward[0](g, x.shape)),  # noqa: E501
    "mean": (floats((2, 3)), lambda x: ops.MEAN.forward(x, (0,), True), lambda g, x: ops.MEAN.backward[0](g, x.shape, 2)),  # noqa: E501
    "max": (distinct((2, 3)), lambda x: ops.MAX.forward(x, (1,)), lambda g, x: ops.MAX.backward[0](g, x, ops.MAX.forward(x, (1,)), (1,))),  # noqa: E501
    "min": (distinct((2, 3)), lambda x: ops.MIN.forward(x, (0,)), lambda g, x: ops.MIN.backward[0](g, x, ops.MIN.forward(x, (0,)), (0,))),  # noqa: E501
    "reshape": (floats((2, 3)), lambda x: ops.RESHAPE.forward(x, (3, 2)), lambda g, x: ops.RESHAPE.backward[0](g, x.shape)),  # noqa: E501
    "permute": (floats((2, 3, 4)), lambda x: ops.PERMUTE.forward(x, (2, 0, 1)), lambda g, x: ops.PERMUTE.backward[0](g, (1, 2, 0))),  # noqa: E501
    "softmax": (floats((2, 3)), lambda x: softmax(x, 1), lambda g, x: ops.SOFTMAX.backward[0](g, softmax(x, 1), 1)),  # noqa: E501
    "log_softmax": (floats((2, 3)), lambda x: np.log(softmax(x, 0)), lambda g, x: ops.LOG_SOFTMAX.backward[0](g, np.log(softmax(x, 0)), 0)),  # noqa: E501
}  # fmt: skip
A = np.linspace(-1.0, 1.0, 6).reshape(2, 3)  # the other inputs, where a case varies one
B = np.linspace(-1.0, 2.0, 12).reshape(3, 4)
W = np.linspace(0.5, -1.5, 12).reshape(4, 3)


@pytest.mark.parametrize("case", sorted(CASES))
@settings(deadline=None, max_examples=25)
@given(data=st.data())
def test_each_array_rows_backward_is_its_forwards_vector_jacobian_product(case, data):
    strategy, forward, backward = CASES[case]
    x = data.draw(strategy)
    g = data.draw(floats(np.shape(forward(x))))
    got = np.broadcast_to(backward(g, x), x.shape)  # the engine sums a broadcast back
    np.testing.assert_allclose(got, numeric_vjp(forward, x, g), atol=1e-6)


def test_broadcast_to_passes_the_gradient_on_for_the_engine_to_sum_back():
    g = np.arange(6.0).reshape(3, 2)
    assert ops.BROADCAST_TO.backward[0](g) is g
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x.broadcast_to(3, 2) * Tensor(g)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), g.sum(axis=0))  # [6, 9]


def test_every_array_row_says_a_rule_and_a_formula_for_each_input():
    for row in ops.ARRAY.values():
        assert len(row.rule) == len(row.latex) == len(row.backward) == len(row.inputs), row.name
        assert all(row.rule) and all(row.latex), row.name
    assert ops.MAX.tie and ops.MIN.tie  # ties share the gradient, as PyTorch's amax


@pytest.mark.parametrize(
    "name, loss",
    [
        ("matmul", lambda x: (x @ x.T).sum()),
        ("linear", lambda x: F.linear(x, x).sum()),
        ("sum", lambda x: x.sum()),
        ("mean", lambda x: x.mean()),
        ("max", lambda x: x.max()),
        ("reshape", lambda x: x.reshape(4).sum()),
        ("permute", lambda x: x.permute(1, 0).sum()),
        ("softmax", lambda x: (x.softmax(-1) * Tensor([[1.0, 3.0], [-2.0, 0.5]])).sum()),
        ("log_softmax", lambda x: (x.log_softmax(-1) * Tensor([[1.0, 3.0], [-2.0, 0.5]])).sum()),
    ],
)
def test_the_tensor_engine_runs_the_rows_backward(monkeypatch, name, loss):
    """Double a row's backward: the gradient the engine computes doubles with it."""
    x = Tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    loss(x).backward()
    expected = 2 * x.grad.numpy()
    row = ops.ARRAY[name]
    doubled = tuple(None if f is None else (lambda *args, f=f: 2 * f(*args)) for f in row.backward)
    changed = dataclasses.replace(row, backward=doubled)
    monkeypatch.setattr(ops, row.name.upper(), changed)
    monkeypatch.setitem(ops.ARRAY, name, changed)
    x = Tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    loss(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), expected)


def test_the_explainer_reads_the_array_rows_rules(monkeypatch):
    """Change matmul's rule: the explanation changes with it (explain keeps no copy)."""
    a = Tensor([[1.0, 2.0]], requires_grad=True)
    b = Tensor([[1.0], [3.0]], requires_grad=True)
    text = str(backprop((a @ b).sum(), {id(a): "a", id(b): "b"}))
    assert "dL/da = dL/dh1 @ b.T: (1, 1) @ (1, 2) -> (1, 2)" in text
    assert "dL/db = a.T @ dL/dh1: (2, 1) @ (1, 1) -> (2, 1)" in text
    changed = dataclasses.replace(ops.MATMUL, rule=("ROW {g} {b_shape}", "ROW {a_shape_T}"))
    monkeypatch.setitem(ops.ARRAY, "matmul", changed)
    text = str(backprop((a @ b).sum(), {id(a): "a", id(b): "b"}))
    assert "dL/da = ROW dL/dh1 (2, 1)" in text and "dL/db = ROW (2, 1)" in text


def test_a_network_with_every_array_op_is_explained_by_the_table():
    """Before the array rows, softmax, log_softmax, max, permute and broadcast_to printed
    "the backward of <op>" in place of a rule."""
    tg.manual_seed(0)
    x = Tensor.randn(4, 3, requires_grad=True)
    b = Tensor.randn(3, requires_grad=True)
    z = x.softmax(-1) + x.log_softmax(-1) + x.max(1, keepdims=True) + x.permute(1, 0).T
    loss = F.cross_entropy(z + b.broadcast_to(4, 3), Tensor([0, 1, 2, 0]))
    text = str(backprop(loss, {id(x): "x", id(b): "b"}))
    assert "the backward of" not in text
    assert "summed over the broadcast axes: (4, 3) -> (3,)" in text
    assert "to the largest entries of x, 0 elsewhere: (4, 1) -> (4, 3)" in text
    assert "(softmax(h" in text and "one_hot(targets)) / batch size: (4, 3)" in text
