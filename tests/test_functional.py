"""tinygrad_edu.functional on every backend: values against independent NumPy formulas
(PyTorch's definitions), gradients against central differences, numerical stability for
huge logits, and the errors for bad targets and shapes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import ANY, arrays, floats, grid, leaf, shapes, with_fixtures

import tinygrad_edu as tg
from tinygrad_edu import ShapeError, Tensor
from tinygrad_edu import functional as F

TIGHT = dict(rtol=1e-12, atol=1e-12)


def check_forward(out: Tensor, expected) -> None:
    expected = np.asarray(expected, dtype=np.float64)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, **TIGHT)


def np_log_softmax(a: np.ndarray, axis: int) -> np.ndarray:
    """The textbook formula (fine for the small logits hypothesis draws here)."""
    return np.log(np.exp(a) / np.exp(a).sum(axis=axis, keepdims=True))


@st.composite
def logits_and_targets(draw, min_classes: int = 1):
    n = draw(st.integers(1, 4), label="N")
    classes = draw(st.integers(min_classes, 5), label="C")
    logits = draw(arrays((n, classes)), label="logits")
    targets = draw(st.lists(st.integers(0, classes - 1), min_size=n, max_size=n), label="y")
    return logits, np.array(targets, dtype=np.int64)


def reduce_np(per_sample: np.ndarray, reduction: str):
    return {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](per_sample)


# --- softmax family --------------------------------------------------------------------------


@with_fixtures
@given(data=st.data())
def test_log_softmax_and_softmax(xp_backend, data):
    a = data.draw(arrays(shapes(min_dims=1)), label="a")
    axis = data.draw(st.integers(-a.ndim, a.ndim - 1), label="axis")
    check_forward(F.log_softmax(leaf(a), axis=axis), np_log_softmax(a, axis))
    check_forward(F.softmax(leaf(a), axis=axis), np.exp(np_log_softmax(a, axis)))
    assert tg.gradcheck(lambda t: F.log_softmax(t, axis=axis), [leaf(a)])
    assert tg.gradcheck(lambda t: F.softmax(t, axis=axis), [leaf(a)])


def test_log_softmax_default_axis_is_the_last(xp_backend):
    a = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    check_forward(F.log_softmax(Tensor(a, dtype="float64")), np_log_softmax(a, -1))
    check_forward(F.softmax(Tensor(a, dtype="float64")), np.exp(np_log_softmax(a, -1)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_log_softmax_is_finite_for_huge_logits(xp_backend, dtype):
    x = Tensor([[1e4, 0.0, -1e4], [5e3, 5e3, -1e4]], dtype=dtype, requires_grad=True)
    out = F.log_softmax(x)
    expected = [[0.0, -1e4, -2e4], [-math.log(2), -math.log(2), -1.5e4 - math.log(2)]]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    (out * Tensor([[1.0, 2.0, 3.0], [1.0, 0.0, 0.0]], dtype=dtype)).sum().backward()
    assert np.all(np.isfinite(x.grad.numpy()))
    probabilities = F.softmax(Tensor([[1e4, -1e4, 1e4]], dtype=dtype)).numpy()
    np.testing.assert_allclose(probabilities, [[0.5, 0.0, 0.5]])


# --- cross-entropy ---------------------------------------------------------------------------


def np_cross_entropy(logits, targets, smoothing=0.0, reduction="mean"):
    """PyTorch's definition: target distribution (1 - s) * onehot + s / C."""
    classes = logits.shape[1]
    onehot = np.eye(classes)[targets]
    distribution = (1 - smoothing) * onehot + smoothing / classes
    return reduce_np(-(distribution * np_log_softmax(logits, 1)).sum(axis=1), reduction)


@with_fixtures
@given(
    data=logits_and_targets(),
    smoothing=st.sampled_from([0.0, 0.1, 0.37, 1.0]),
    reduction=st.sampled_from(["mean", "sum", "none"]),
)
def test_cross_entropy(xp_backend, data, smoothing, reduction):
    logits, targets = data
    y = Tensor(targets)
    fn = lambda z: F.cross_entropy(z, y, label_smoothing=smoothing, reduction=reduction)  # noqa: E731
    check_forward(fn(leaf(logits)), np_cross_entropy(logits, targets, smoothing, reduction))
    assert tg.gradcheck(fn, [leaf(logits)])


@with_fixtures
@given(data=logits_and_targets(), smoothing=floats(0, 1))
def test_label_smoothing_mixes_cross_entropy_with_the_uniform_loss(xp_backend, data, smoothing):
    # PyTorch's docs: loss = (1 - s) * CE(onehot) + s * mean over classes of -log p
    logits, targets = data
    logp = np_log_softmax(logits, 1)
    plain = -logp[np.arange(len(targets)), targets]
    expected = np.mean((1 - smoothing) * plain + smoothing * -logp.mean(axis=1))
    out = F.cross_entropy(leaf(logits), targets.tolist(), label_smoothing=smoothing)
    np.testing.assert_allclose(out.item(), expected, rtol=1e-10)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cross_entropy_is_finite_and_right_for_huge_logits(xp_backend, dtype):
    logits = Tensor([[1e4, 0.0, -1e4], [-1e4, 1e4, 1e4]], dtype=dtype, requires_grad=True)
    loss = F.cross_entropy(logits, Tensor([0, 2]))
    # sample 0: its class wins by 1e4 -> loss 0; sample 1: two tied winners -> log 2
    assert loss.item() == pytest.approx(math.log(2) / 2, rel=1e-6)
    loss.backward()
    np.testing.assert_allclose(
        logits.grad.numpy(), [[0.0, 0.0, 0.0], [0.0, 0.25, -0.25]], atol=1e-7
    )
    smoothed = F.cross_entropy(logits.detach(), [0, 2], label_smoothing=0.1)
    assert np.isfinite(smoothed.item())


def test_cross_entropy_errors(xp_backend):
    logits = Tensor([[0.1, 0.2, 0.3], [0.0, 1.0, 2.0]], requires_grad=True)
    with pytest.raises(ValueError, match=r"\[0, 2\].*3"):
        F.cross_entropy(logits, Tensor([0, 3]))
    with pytest.raises(ValueError, match="-1"):
        F.cross_entropy(logits, [-1, 0])
    with pytest.raises(TypeError, match="integer class indices"):
        F.cross_entropy(logits, Tensor([0.0, 1.0]))
    with pytest.raises(ShapeError, match=r"\(2, 3\).*\(3,\)"):
        F.cross_entropy(logits, Tensor([0, 1, 2]))
    with pytest.raises(ShapeError, match=r"\(N, C\)"):
        F.cross_entropy(Tensor([0.1, 0.2]), Tensor([0]))
    with pytest.raises(ShapeError):
        F.cross_entropy(logits, Tensor([[0], [1]]))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(logits, [0, 1], label_smoothing=1.5)
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(logits, [0, 1], reduction="avg")


# --- regression losses -------------------------------------------------------------------------


@with_fixtures
@given(data=st.data(), reduction=st.sampled_from(["mean", "sum", "none"]))
def test_mse_loss(xp_backend, data, reduction):
    shape = data.draw(shapes(), label="shape")
    a, b = data.draw(arrays(shape), label="input"), data.draw(arrays(shape), label="target")
    fn = lambda x, y: F.mse_loss(x, y, reduction=reduction)  # noqa: E731
    check_forward(fn(leaf(a), leaf(b)), reduce_np((a - b) ** 2, reduction))
    assert tg.gradcheck(fn, [leaf(a), leaf(b)])


def test_mse_loss_errors(xp_backend):
    with pytest.raises(ShapeError, match=r"\(2,\).*\(3,\)"):
        F.mse_loss(Tensor([1.0, 2.0]), Tensor([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(Tensor([1.0]), Tensor([1.0]), reduction="mean_")


def np_bce_with_logits(x, y):
    p = 1 / (1 + np.exp(-x))
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


@with_fixtures
@given(data=st.data(), reduction=st.sampled_from(["mean", "sum", "none"]))
def test_binary_cross_entropy_with_logits(xp_backend, data, reduction):
    shape = data.draw(shapes(), label="shape")
    x = data.draw(arrays(shape, floats(-6, 6)), label="logits")
    y = data.draw(arrays(shape, floats(0, 1)), label="target")
    fn = lambda s, t: F.binary_cross_entropy_with_logits(s, t, reduction=reduction)  # noqa: E731
    check_forward(fn(leaf(x), leaf(y)), reduce_np(np_bce_with_logits(x, y), reduction))
    # differentiable in both arguments (soft targets), as PyTorch
    assert tg.gradcheck(fn, [leaf(x), leaf(y)])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_binary_cross_entropy_with_logits_is_stable(xp_backend, dtype):
    x = Tensor([1e4, 1e4, -1e4, -1e4], dtype=dtype, requires_grad=True)
    y = Tensor([1.0, 0.0, 1.0, 0.0], dtype=dtype)
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(loss.numpy(), [0.0, 1e4, 1e4, 0.0])
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 1.0, -1.0, 0.0])
    with pytest.raises(ShapeError, match="binary_cross_entropy_with_logits"):
        F.binary_cross_entropy_with_logits(x, Tensor([1.0, 0.0]))


# --- hinge losses ------------------------------------------------------------------------------


@with_fixtures
@given(data=st.data(), column=st.booleans())
def test_binary_hinge_loss(xp_backend, data, column):
    n = data.draw(st.integers(1, 6), label="N")
    # scores on a grid that never hits y * s == margin (the kink)
    scores = data.draw(arrays((n, 1) if column else (n,), grid(offset=0.025)), label="scores")
    signs = np.array(data.draw(st.lists(st.sampled_from([-1, 1]), min_size=n, max_size=n)))
    expected = np.mean(np.maximum(0.0, 1.0 - signs * scores.reshape(-1)))
    fn = lambda s: F.hinge_loss(s, Tensor(signs))  # noqa: E731
    check_forward(fn(leaf(scores)), expected)
    assert tg.gradcheck(fn, [leaf(scores)])
    check_forward(F.hinge_loss(leaf(scores), signs.tolist()), expected)


def np_multi_margin_loss(scores, targets, margin):
    """PyTorch's multi_margin_loss (p=1): mean_i sum_{c != y_i} max(0, m - s_y + s_c) / C."""
    n, classes = scores.shape
    total = 0.0
    for i in range(n):
        for c in range(classes):
            if c != targets[i]:
                total += max(0.0, margin - scores[i, targets[i]] + scores[i, c])
    return total / classes / n


@with_fixtures
@given(data=logits_and_targets(min_classes=2), margin=st.sampled_from([1.01, 0.33]))
def test_multiclass_hinge_loss(xp_backend, data, margin):
    logits, targets = data
    # scores on a grid with step 0.05: margin - s_y + s_c is never within 0.01 of the kink
    scores = np.round(logits * 20) / 20
    fn = lambda s: F.hinge_loss(s, Tensor(targets), margin=margin)  # noqa: E731
    check_forward(fn(leaf(scores)), np_multi_margin_loss(scores, targets, margin))
    assert tg.gradcheck(fn, [leaf(scores)])


def test_hinge_loss_errors(xp_backend):
    with pytest.raises(ShapeError, match="integer targets"):
        F.hinge_loss(Tensor([[0.1, 0.2], [0.3, 0.4]]), Tensor([0.0, 1.0]))
    with pytest.raises(ShapeError, match="differ in size"):
        F.hinge_loss(Tensor([0.1, 0.2, 0.3]), Tensor([1, -1]))


# --- linear ------------------------------------------------------------------------------------


@st.composite
def linear_operands(draw):
    batch = draw(st.sampled_from([(), (1,), (3,), (2, 2)]), label="batch shape")
    n_in, n_out = draw(st.integers(1, 3), label="in"), draw(st.integers(1, 3), label="out")
    x = draw(arrays(batch + (n_in,)), label="x")
    w = draw(arrays((n_out, n_in)), label="W")
    b = draw(st.none() | arrays((n_out,)), label="b")
    return x, w, b


@with_fixtures
@given(data=linear_operands())
def test_linear(xp_backend, data):
    x, w, b = data
    expected = x @ w.T + (0.0 if b is None else b)
    if b is None:
        check_forward(F.linear(leaf(x), leaf(w)), expected)
        assert tg.gradcheck(F.linear, [leaf(x), leaf(w)])
    else:
        check_forward(F.linear(leaf(x), leaf(w), leaf(b)), expected)
        assert tg.gradcheck(F.linear, [leaf(x), leaf(w), leaf(b)])


def test_linear_shape_error(xp_backend):
    with pytest.raises(ShapeError, match=r"linear: .*\(4, 3\).*3 features.*\(2, 5\).*5"):
        F.linear(Tensor.zeros(4, 3), Tensor.zeros(2, 5))


# --- dropout and the activation wrappers --------------------------------------------------------


def test_dropout_in_training_zeroes_and_rescales(xp_backend):
    tg.manual_seed(0)
    x = Tensor.ones(100, 100, dtype="float64", requires_grad=True)
    out = F.dropout(x, p=0.25)
    values = out.numpy()
    kept = values != 0
    # every survivor is scaled by 1 / (1 - p), so the expected value is unchanged
    np.testing.assert_allclose(values[kept], 1 / 0.75)
    assert abs(kept.mean() - 0.75) < 0.03  # 10,000 draws: 7 standard deviations
    assert abs(values.mean() - 1.0) < 0.04
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), values)  # d(x * mask)/dx = mask

    tg.manual_seed(0)
    np.testing.assert_array_equal(F.dropout(x, p=0.25).numpy(), values)  # seeded


def test_dropout_in_eval_or_with_p_zero_is_the_identity(xp_backend):
    x = Tensor([[1.0, -2.0], [3.0, 4.0]], requires_grad=True)
    np.testing.assert_array_equal(F.dropout(x, p=0.5, training=False).numpy(), x.numpy())
    np.testing.assert_array_equal(F.dropout(x, p=0.0).numpy(), x.numpy())
    for p in (-0.1, 1.0):
        with pytest.raises(ValueError, match="dropout probability"):
            F.dropout(x, p=p)


@with_fixtures
@given(a=arrays(shapes(), ANY))
def test_activation_wrappers_match_the_methods(xp_backend, a):
    x = Tensor(a, dtype="float64")
    for fn, method in [
        (F.relu, x.relu),
        (F.tanh, x.tanh),
        (F.sigmoid, x.sigmoid),
        (lambda t: F.gelu(t, approximate="tanh"), x.gelu),
        (F.leaky_relu, x.leaky_relu),
    ]:
        np.testing.assert_array_equal(fn(x).numpy(), method().numpy())
    np.testing.assert_array_equal(F.leaky_relu(x, 0.3).numpy(), np.where(a > 0, a, 0.3 * a))
