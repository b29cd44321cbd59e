"""micrograd's nn API on the scalar Value: sizes, forward, gradients, zero_grad, seeding."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Value
from tinygrad_edu.value_nn import MLP, Layer, Module, Neuron


def _weights(layer: Layer) -> tuple[np.ndarray, np.ndarray]:
    W = np.array([[w.data for w in n.w] for n in layer.neurons])
    b = np.array([n.b.data for n in layer.neurons])
    return W, b


def test_parameter_counts_match_micrograd():
    tg.manual_seed(0)
    assert len(Neuron(3).parameters()) == 4
    assert len(Layer(3, 4).parameters()) == 16
    assert len(MLP(2, [16, 16, 1]).parameters()) == 337  # micrograd demo's count
    assert Module().parameters() == []


def test_structure_and_repr_match_micrograd():
    tg.manual_seed(0)
    model = MLP(3, [4, 1])
    assert [n.nonlin for n in model.layers[0].neurons] == [True] * 4
    assert [n.nonlin for n in model.layers[1].neurons] == [False]
    assert repr(model.layers[1]) == "Layer of [LinearNeuron(4)]"
    assert repr(Neuron(2)) == "ReLUNeuron(2)"
    assert repr(model).startswith("MLP of [Layer of [ReLUNeuron(3), ")
    assert isinstance(model([1.0, 2.0, 3.0]), Value)  # one output: a Value, not a list
    assert len(MLP(3, [4, 2])([1.0, 2.0, 3.0])) == 2


def test_initialisation_is_uniform_and_seeded():
    tg.manual_seed(7)
    a = [p.data for p in MLP(5, [8, 3]).parameters()]
    tg.manual_seed(7)
    b = [p.data for p in MLP(5, [8, 3]).parameters()]
    assert a == b
    weights = [w.data for layer in MLP(50, [40]).layers for n in layer.neurons for w in n.w]
    assert all(-1.0 <= w < 1.0 for w in weights)
    assert min(weights) < -0.9 and max(weights) > 0.9
    assert all(n.b.data == 0.0 for n in MLP(4, [3]).layers[0].neurons)


def test_forward_matches_numpy():
    tg.manual_seed(3)
    model = MLP(3, [5, 4, 2])
    x = [0.5, -1.5, 2.0]
    out = [v.data for v in model(x)]
    h = np.array(x)
    for i, layer in enumerate(model.layers):
        W, b = _weights(layer)
        h = W @ h + b
        if i < len(model.layers) - 1:
            h = np.maximum(h, 0.0)
    np.testing.assert_allclose(out, h, rtol=1e-12, atol=1e-12)


def _loss(model: MLP, xs: list[list[float]]) -> Value:
    total = Value(0.0)
    for x in xs:
        a, b = model([Value(v) for v in x])
        total = total + a * a + (b * 0.5).tanh()
    return total


def test_backward_matches_finite_differences():
    tg.manual_seed(11)
    model = MLP(3, [4, 4, 2])
    xs = [[0.3, -0.8, 1.1], [-1.2, 0.4, 0.7]]
    model.zero_grad()
    _loss(model, xs).backward()
    eps = 1e-6
    for p in model.parameters():
        analytic = p.grad
        original = p.data
        p.data = original + eps
        plus = _loss(model, xs).data
        p.data = original - eps
        minus = _loss(model, xs).data
        p.data = original
        numeric = (plus - minus) / (2 * eps)
        assert analytic == pytest.approx(numeric, rel=1e-5, abs=1e-7)


def test_gradient_reaches_inputs():
    tg.manual_seed(5)
    model = MLP(2, [3, 1])
    x = [Value(0.7), Value(-0.2)]
    model(x).backward()
    W1, _ = _weights(model.layers[0])
    W2, _ = _weights(model.layers[1])
    h = W1 @ np.array([0.7, -0.2]) + _weights(model.layers[0])[1]
    expected = (W2[0] * (h > 0)) @ W1
    np.testing.assert_allclose([v.grad for v in x], expected, rtol=1e-12, atol=1e-12)


def test_zero_grad_resets_every_parameter():
    tg.manual_seed(1)
    model = MLP(2, [3, 1])
    model([1.0, -2.0]).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_micrograd_demo_loop_learns():
    """micrograd's demo, unchanged but smaller: max-margin loss + L2 goes down."""
    tg.manual_seed(1337)
    rs = np.random.RandomState(0)
    X = rs.normal(size=(20, 2))
    y = np.where(X[:, 0] + X[:, 1] > 0, 1, -1)
    model = MLP(2, [8, 8, 1])

    def loss():
        inputs = [list(map(Value, xrow)) for xrow in X]  # NumPy scalars, as in the demo
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum(p * p for p in model.parameters())
        return data_loss + reg_loss

    first = None
    for k in range(15):
        total = loss()
        first = total.data if first is None else first
        model.zero_grad()
        total.backward()
        for p in model.parameters():
            p.data -= (1.0 - 0.9 * k / 100) * 0.1 * p.grad
    assert isinstance(total, Value)
    assert loss().data < 0.7 * first


def test_dot_equals_micrograds_chain_of_products():
    """Value.dot (one node) has the value and gradients of sum((w * x ...), b) (2n nodes)."""
    rs = np.random.default_rng(4)
    ws_data, xs_data = rs.normal(size=6).tolist(), rs.normal(size=6).tolist()
    results = []
    for fused in (True, False):
        ws = [Value(v) for v in ws_data]
        xs = [Value(v) for v in xs_data]
        b = Value(0.25)
        act = Value.dot(ws, xs, b) if fused else sum((w * x for w, x in zip(ws, xs)), b)
        (act * act).backward()
        results.append((act.data, [v.grad for v in ws + xs + [b]]))
    assert results[0][0] == results[1][0]  # same order of additions: bit-identical
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-15)
    assert len(Value.dot(ws, xs, b)._prev) == 13


def test_dot_accepts_numbers_and_checks_lengths():
    w = Value(2.0)
    out = Value.dot([w, 3.0], [4.0, Value(5.0)])
    assert out.data == 23.0
    out.backward()
    assert w.grad == 4.0
    with pytest.raises(ValueError, match="2 weights but 1 inputs"):
        Value.dot([w, w], [1.0])
