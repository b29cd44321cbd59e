"""Every differentiable Tensor op, on every backend: forward values against independent
NumPy code, gradients against central differences (tinygrad_edu.gradcheck in float64).

Inputs are drawn by hypothesis: random small shapes (0-d and size-1 dimensions
included), broadcastable pairs, and values kept away from kinks, domain edges and ties.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import (
    ANY,
    POSITIVE,
    arrays,
    away_from_zero,
    basic_indices,
    broadcast_pair,
    broadcastable_shapes,
    floats,
    grid,
    leaf,
    numpy_axis,
    reduction_axes,
    shapes,
    with_fixtures,
)

import tinygrad_edu as tg
from tinygrad_edu import Tensor

TIGHT = dict(rtol=1e-12, atol=1e-12)
WIDE = st.floats(-8, 8)


def check_forward(out: Tensor, expected) -> None:
    expected = np.asarray(expected)
    assert out.shape == expected.shape
    assert out.numpy().dtype == np.float64
    np.testing.assert_allclose(out.numpy(), expected, **TIGHT)


def np_sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def np_gelu(a):
    return 0.5 * a * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (a + 0.044715 * a**3)))


# --- one-input ops (including a tensor with a Python number, both orders) --------------------

# name -> (op on a Tensor, the same on a NumPy array, elements of the input)
UNARY = {
    "neg": (lambda t: -t, lambda a: -a, ANY),
    "add_number": (lambda t: t + 2.5, lambda a: a + 2.5, ANY),
    "radd_number": (lambda t: 2.5 + t, lambda a: 2.5 + a, ANY),
    "sub_number": (lambda t: t - 1.5, lambda a: a - 1.5, ANY),
    "rsub_number": (lambda t: 1 - t, lambda a: 1 - a, ANY),
    "mul_number": (lambda t: t * -3, lambda a: a * -3, ANY),
    "rmul_number": (lambda t: 0.5 * t, lambda a: 0.5 * a, ANY),
    "div_number": (lambda t: t / 4.0, lambda a: a / 4.0, ANY),
    "rdiv_number": (lambda t: 2.0 / t, lambda a: 2.0 / a, away_from_zero(gap=0.3)),
    "pow_int": (lambda t: t**3, lambda a: a**3, ANY),
    "pow_square": (lambda t: t**2.0, lambda a: a**2.0, ANY),
    "pow_negative": (lambda t: t**-1, lambda a: a**-1.0, away_from_zero(gap=0.3)),
    "pow_fraction": (lambda t: t**1.5, lambda a: a**1.5, POSITIVE),
    "rpow_number": (lambda t: 2.0**t, lambda a: 2.0**a, ANY),
    "rpow_fraction": (lambda t: 0.5**t, lambda a: 0.5**a, ANY),
    "exp": (Tensor.exp, np.exp, ANY),
    "log": (Tensor.log, np.log, POSITIVE),
    "sqrt": (Tensor.sqrt, np.sqrt, POSITIVE),
    "tanh": (Tensor.tanh, np.tanh, ANY),
    "sigmoid": (Tensor.sigmoid, np_sigmoid, WIDE),
    "relu": (Tensor.relu, lambda a: np.maximum(a, 0.0), away_from_zero()),
    "leaky_relu": (Tensor.leaky_relu, lambda a: np.where(a > 0, a, 0.01 * a), away_from_zero()),
    "leaky_relu_0.2": (
        lambda t: t.leaky_relu(0.2),
        lambda a: np.where(a > 0, a, 0.2 * a),
        away_from_zero(),
    ),
    "gelu": (Tensor.gelu, np_gelu, ANY),
    "abs": (Tensor.abs, np.abs, away_from_zero()),
    "builtin_abs": (abs, np.abs, away_from_zero()),
    "clip": (lambda t: t.clip(-1, 1), lambda a: np.clip(a, -1, 1), grid(offset=0.025)),
    "clip_min": (lambda t: t.clip(min=-0.5), lambda a: np.maximum(a, -0.5), grid(offset=0.025)),
    "clamp_max": (lambda t: t.clamp(max=0.5), lambda a: np.minimum(a, 0.5), grid(offset=0.025)),
    "maximum_number": (
        lambda t: t.maximum(0.3),
        lambda a: np.maximum(a, 0.3),
        grid(offset=0.025),
    ),
    "minimum_number": (
        lambda t: t.minimum(-0.3),
        lambda a: np.minimum(a, -0.3),
        grid(offset=0.025),
    ),
    "pow_zero": (lambda t: t**0, lambda a: a**0.0, ANY),
    "log1p": (Tensor.log1p, np.log1p, floats(-0.5, 3)),
    "sin": (Tensor.sin, np.sin, ANY),
    "cos": (Tensor.cos, np.cos, ANY),
    "clone": (Tensor.clone, np.copy, ANY),
    "add_alpha": (lambda t: t.add(1.5, alpha=2), lambda a: a + 3.0, ANY),
    "sub_method": (lambda t: t.sub(0.5), lambda a: a - 0.5, ANY),
    "mul_method": (lambda t: t.mul(-2.0), lambda a: a * -2.0, ANY),
    "div_method": (lambda t: t.div(4.0), lambda a: a / 4.0, ANY),
    "pow_method": (lambda t: t.pow(3), lambda a: a**3, ANY),
    "masked_fill": (
        lambda t: t.masked_fill(t > 0, 2.0),
        lambda a: np.where(a > 0, 2.0, a),
        away_from_zero(),
    ),
    "numpy_scalar_on_the_left": (lambda t: np.float64(1.5) * t, lambda a: 1.5 * a, ANY),
}


@pytest.mark.parametrize("name", UNARY)
@with_fixtures
@given(data=st.data())
def test_unary_op(xp_backend, name, data):
    op, reference, elements = UNARY[name]
    a = data.draw(arrays(shapes(), elements), label="a")
    check_forward(op(leaf(a)), reference(a))
    assert tg.gradcheck(op, [leaf(a)])


# --- two-tensor elementwise ops with broadcasting -------------------------------------------

BINARY = {
    "add": (lambda x, y: x + y, np.add, ANY, ANY),
    "sub": (lambda x, y: x - y, np.subtract, ANY, ANY),
    "mul": (lambda x, y: x * y, np.multiply, ANY, ANY),
    "div": (lambda x, y: x / y, np.divide, ANY, away_from_zero(gap=0.3)),
    "pow": (lambda x, y: x**y, np.power, POSITIVE, floats(-2, 2)),
    "maximum": (Tensor.maximum, np.maximum, grid(), grid(offset=0.025)),
    "minimum": (Tensor.minimum, np.minimum, grid(), grid(offset=0.025)),
    "where": (
        lambda x, y: tg.where(x > y, x, y),
        lambda a, b: np.where(a > b, a, b),
        grid(),
        grid(offset=0.025),
    ),
    "add_method": (Tensor.add, np.add, ANY, ANY),
    "sub_method": (lambda x, y: x.sub(y, alpha=0.5), lambda a, b: a - 0.5 * b, ANY, ANY),
    "mul_method": (Tensor.mul, np.multiply, ANY, ANY),
    "div_method": (Tensor.div, np.divide, ANY, away_from_zero(gap=0.3)),
    "pow_method": (Tensor.pow, np.power, POSITIVE, floats(-2, 2)),
}


@pytest.mark.parametrize("name", BINARY)
@with_fixtures
@given(data=st.data())
def test_binary_op_with_broadcasting(xp_backend, name, data):
    op, reference, first, second = BINARY[name]
    a, b = data.draw(broadcast_pair(first, second))
    check_forward(op(leaf(a), leaf(b)), reference(a, b))
    assert tg.gradcheck(op, [leaf(a), leaf(b)])


@with_fixtures
@given(data=st.data())
def test_gradient_flows_to_only_the_inputs_that_require_it(xp_backend, data):
    a, b = data.draw(broadcast_pair())
    fixed = Tensor(b, dtype="float64")
    assert tg.gradcheck(lambda x, y: x * y + x, [leaf(a), fixed])
    x = leaf(a)
    (x * fixed).sum().backward()
    assert fixed.grad is None
    np.testing.assert_allclose(
        x.grad.numpy(), sum_to_shape(np.broadcast_to(b, (a * b).shape), a.shape)
    )


def sum_to_shape(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum a broadcast array back to `shape` (the gradient of broadcasting)."""
    g = g.sum(axis=tuple(range(g.ndim - len(shape))))
    return g.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)


@with_fixtures
@given(data=st.data())
def test_inputs_used_several_times_accumulate(xp_backend, data):
    a, b = data.draw(broadcast_pair(ANY, away_from_zero(gap=0.3)))
    assert tg.gradcheck(lambda x, y: (x * y + x) / y - x * x, [leaf(a), leaf(b)])


# --- matmul ------------------------------------------------------------------------------------


@st.composite
def matmul_operands(draw, kind: str):
    n, k, m = (draw(st.integers(1, 3), label=name) for name in "nkm")
    if kind == "2d":
        shapes_ = (n, k), (k, m)
    elif kind == "vector_matrix":
        shapes_ = (k,), (k, m)
    elif kind == "matrix_vector":
        shapes_ = (n, k), (k,)
    elif kind == "vector_vector":
        shapes_ = (k,), (k,)
    elif kind == "vector_batch":
        shapes_ = (k,), (2, k, m)
    elif kind == "batch_vector":
        shapes_ = (2, n, k), (k,)
    else:  # batched, batch dimensions broadcast against each other
        batch_a, batch_b = draw(broadcastable_shapes(max_dims=2)).input_shapes
        batch_a, batch_b = (tuple(min(s, 2) for s in b) for b in (batch_a, batch_b))
        shapes_ = batch_a + (n, k), batch_b + (k, m)
    return tuple(draw(arrays(s), label="operand") for s in shapes_)


@pytest.mark.parametrize(
    "kind",
    [
        "2d",
        "vector_matrix",
        "matrix_vector",
        "vector_vector",
        "vector_batch",
        "batch_vector",
        "batched",
    ],
)
@with_fixtures
@given(data=st.data())
def test_matmul(xp_backend, kind, data):
    a, b = data.draw(matmul_operands(kind))
    check_forward(leaf(a) @ leaf(b), np.matmul(a, b))
    check_forward(tg.matmul(leaf(a), leaf(b)), np.matmul(a, b))
    assert tg.gradcheck(lambda x, y: x @ y, [leaf(a), leaf(b)])


# --- reductions -------------------------------------------------------------------------------


def np_logsumexp(a, axis=None, keepdims=False):
    peak = np.max(a, axis=axis, keepdims=True)
    out = peak + np.log(np.sum(np.exp(a - peak), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


REDUCTIONS = {
    "sum": (Tensor.sum, np.sum, ANY),
    "mean": (Tensor.mean, np.mean, ANY),
    "max": (Tensor.max, np.max, grid()),
    "min": (Tensor.min, np.min, grid()),
    "amax": (Tensor.amax, np.max, grid()),
    "amin": (Tensor.amin, np.min, grid()),
    "logsumexp": (None, np_logsumexp, ANY),
}


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("names", ["numpy", "torch"])
@with_fixtures
@given(data=st.data())
def test_reduction(xp_backend, name, names, data):
    op, reference, elements = REDUCTIONS[name]
    # distinct values (at least a grid step apart) so max/min have no ties
    a = data.draw(arrays(shapes(), elements, unique=True), label="a")
    axis = data.draw(reduction_axes(a.ndim), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    if name == "logsumexp":  # PyTorch's signature: dim is required
        fn = lambda t: t.logsumexp(axis, keepdims)  # noqa: E731
    elif names == "torch":  # dim=/keepdim=, PyTorch's names
        fn = lambda t: op(t, dim=axis, keepdim=keepdims)  # noqa: E731
    else:
        fn = lambda t: op(t, axis=axis, keepdims=keepdims)  # noqa: E731
    check_forward(fn(leaf(a)), reference(a, axis=numpy_axis(axis, a.ndim), keepdims=keepdims))
    assert tg.gradcheck(fn, [leaf(a)])


@with_fixtures
@given(data=st.data())
def test_var(xp_backend, data):
    a = data.draw(arrays(shapes(min_dims=1)), label="a")
    axis = data.draw(reduction_axes(a.ndim), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    correction = data.draw(st.sampled_from([0, 1]), label="correction")
    count = a.size if axis is None else math.prod(np.array(a.shape)[list(np.atleast_1d(axis))])
    if count - correction < 1:
        correction = 0
    fn = lambda t: t.var(axis=axis, keepdims=keepdims, correction=correction)  # noqa: E731
    check_forward(fn(leaf(a)), np.var(a, axis=axis, keepdims=keepdims, ddof=correction))
    assert tg.gradcheck(fn, [leaf(a)])
    std = lambda t: t.std(dim=axis, keepdim=keepdims, correction=correction)  # noqa: E731
    check_forward(std(leaf(a)), np.std(a, axis=axis, keepdims=keepdims, ddof=correction))
    if np.all(np.std(a, axis=axis, ddof=correction) > 1e-3):  # sqrt is not smooth at 0
        assert tg.gradcheck(std, [leaf(a)])


def test_var_default_is_the_unbiased_estimate(xp_backend):
    a = np.array([[1.0, 2.0, 4.0], [3.0, -1.0, 0.5]])
    check_forward(Tensor(a, dtype="float64").var(), np.var(a, ddof=1))
    check_forward(Tensor(a, dtype="float64").var(axis=1), np.var(a, axis=1, ddof=1))


# --- shape ops --------------------------------------------------------------------------------


@st.composite
def reshape_targets(draw, shape: tuple[int, ...]):
    size = math.prod(shape)
    options = [(size,), (-1,), tuple(reversed(shape)), shape + (1,), (1,) + shape, ()]
    if shape:
        options.append((-1, shape[-1]))
    return draw(st.sampled_from([s for s in options if math.prod(s) == size or -1 in s]))


@with_fixtures
@given(data=st.data())
def test_reshape(xp_backend, data):
    a = data.draw(arrays(shapes()), label="a")
    target = data.draw(reshape_targets(a.shape), label="target")
    check_forward(leaf(a).reshape(target), np.reshape(a, target))
    if target:
        check_forward(leaf(a).reshape(*target), np.reshape(a, target))
    assert tg.gradcheck(lambda t: t.reshape(target), [leaf(a)])


@with_fixtures
@given(data=st.data())
def test_flatten(xp_backend, data):
    a = data.draw(arrays(shapes()), label="a")
    ndim = max(a.ndim, 1)
    start = data.draw(st.integers(-ndim, ndim - 1), label="start_dim")
    end = data.draw(st.integers(-ndim, ndim - 1), label="end_dim")
    if a.ndim and start % a.ndim > end % a.ndim:
        start, end = end, start
    if a.ndim == 0:
        expected_shape = (1,)  # PyTorch: flattening a 0-d tensor gives shape (1,)
    else:
        s, e = start % a.ndim, end % a.ndim
        expected_shape = a.shape[:s] + (int(np.prod(a.shape[s : e + 1])),) + a.shape[e + 1 :]
    expected = a.reshape(expected_shape)
    check_forward(leaf(a).flatten(start, end), expected)
    check_forward(leaf(a).flatten(), a.reshape(-1))
    assert tg.gradcheck(lambda t: t.flatten(start, end), [leaf(a)])
    assert tg.gradcheck(lambda t: t.flatten(start), [leaf(a)])


@with_fixtures
@given(data=st.data())
def test_permute_transpose_and_T(xp_backend, data):
    a = data.draw(arrays(shapes(min_dims=1)), label="a")
    order = data.draw(st.permutations(range(a.ndim)), label="order")
    d0 = data.draw(st.integers(-a.ndim, a.ndim - 1), label="dim0")
    d1 = data.draw(st.integers(-a.ndim, a.ndim - 1), label="dim1")
    check_forward(leaf(a).permute(*order), np.transpose(a, order))
    check_forward(leaf(a).permute(order), np.transpose(a, order))
    check_forward(leaf(a).transpose(d0, d1), np.swapaxes(a, d0, d1))
    check_forward(leaf(a).T, np.transpose(a))
    assert tg.gradcheck(lambda t: t.permute(order), [leaf(a)])
    assert tg.gradcheck(lambda t: t.transpose(d0, d1), [leaf(a)])
    assert tg.gradcheck(lambda t: t.T, [leaf(a)])
    if a.ndim >= 2:
        check_forward(leaf(a).transpose(), np.swapaxes(a, -2, -1))
        assert tg.gradcheck(lambda t: t.transpose(), [leaf(a)])


@st.composite
def broadcast_targets(draw, shape: tuple[int, ...]):
    lead = draw(st.lists(st.integers(1, 3), max_size=2), label="new leading dims")
    grown = [draw(st.integers(1, 3)) if n == 1 else n for n in shape]
    target = tuple(lead) + tuple(grown)
    return target if math.prod(target) <= 36 else shape


@with_fixtures
@given(data=st.data())
def test_broadcast_to(xp_backend, data):
    a = data.draw(arrays(shapes()), label="a")
    target = data.draw(broadcast_targets(a.shape), label="target")
    check_forward(leaf(a).broadcast_to(target), np.broadcast_to(a, target))
    check_forward(leaf(a).expand(*target), np.broadcast_to(a, target))
    assert tg.gradcheck(lambda t: t.broadcast_to(target), [leaf(a)])


@st.composite
def concat_operands(draw):
    base = list(draw(shapes(min_dims=1, max_dims=3)))
    axis = draw(st.integers(-len(base), len(base) - 1), label="axis")
    count = draw(st.integers(1, 3), label="count")
    parts = []
    for _ in range(count):
        shape = list(base)
        shape[axis] = draw(st.integers(1, 3))
        parts.append(draw(arrays(tuple(shape)), label="part"))
    return parts, axis


@with_fixtures
@given(data=st.data())
def test_concatenate(xp_backend, data):
    parts, axis = data.draw(concat_operands())
    expected = np.concatenate(parts, axis=axis)
    check_forward(tg.concatenate([leaf(p) for p in parts], axis=axis), expected)
    check_forward(tg.cat([leaf(p) for p in parts], axis), expected)
    check_forward(Tensor.cat([leaf(p) for p in parts], axis), expected)
    assert tg.gradcheck(lambda *ts: tg.concatenate(ts, axis=axis), [leaf(p) for p in parts])


@with_fixtures
@given(data=st.data())
def test_stack(xp_backend, data):
    shape = data.draw(shapes(max_dims=2), label="shape")
    parts = data.draw(st.lists(arrays(shape), min_size=1, max_size=3), label="parts")
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)), label="axis")
    check_forward(tg.stack([leaf(p) for p in parts], axis=axis), np.stack(parts, axis=axis))
    check_forward(Tensor.stack([leaf(p) for p in parts], axis), np.stack(parts, axis=axis))
    assert tg.gradcheck(lambda *ts: tg.stack(ts, axis=axis), [leaf(p) for p in parts])


@with_fixtures
@given(data=st.data())
def test_basic_indexing(xp_backend, data):
    a = data.draw(arrays(shapes()), label="a")
    index = data.draw(basic_indices(a.shape), label="index")
    check_forward(leaf(a)[index], a[index])
    assert tg.gradcheck(lambda t: t[index], [leaf(a)])


@with_fixtures
@given(data=st.data())
def test_repeated_indexing_accumulates(xp_backend, data):
    a = data.draw(arrays(shapes(min_dims=1)), label="a")
    i = data.draw(st.integers(-a.shape[0], a.shape[0] - 1), label="i")
    assert tg.gradcheck(lambda t: t[i] * t[0] + t[i:], [leaf(a)])
    assert tg.gradcheck(lambda t: t[i] * t[0] + t[-1], [leaf(a)])


@with_fixtures
@given(a=arrays(shapes()))
def test_to_dtype(xp_backend, a):
    x = leaf(a)
    y = x.to("float32")
    assert y.numpy().dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), a.astype(np.float32))
    weights = np.arange(1.0, a.size + 1).reshape(a.shape)
    (y * Tensor(weights, dtype="float32")).sum().backward()
    # d cast(x)/dx = 1, and the gradient comes back in the input's dtype
    assert x.grad.numpy().dtype == np.float64
    np.testing.assert_array_equal(x.grad.numpy(), weights)
    assert x.to(np.float64) is x and x.double() is x
    assert x.float().numpy().dtype == np.float32
    # float32 rounding makes x -> x +- 1e-6 useless, so perturb by 1e-2 (the cast is linear)
    assert tg.gradcheck(lambda t: t.to("float32").to("float64") * 3.0, [leaf(a)], eps=1e-2)


# --- rules at kinks and ties (documented in _tensor.py, the same as PyTorch) -------------------


def _grad(fn, values, *others):
    x = Tensor(values, dtype="float64", requires_grad=True)
    fn(x, *others).sum().backward()
    return x.grad.numpy()


def test_relu_abs_and_leaky_relu_at_zero(xp_backend):
    v = [-1.0, 0.0, 2.0]
    np.testing.assert_array_equal(_grad(Tensor.relu, v), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(_grad(Tensor.abs, v), [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(_grad(lambda t: t.leaky_relu(0.1), v), [0.1, 0.1, 1.0])


def test_max_and_min_split_the_gradient_among_ties(xp_backend):
    v = [[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, 5.0, 0.0]]
    np.testing.assert_allclose(_grad(Tensor.max, v), [[0, 0, 0, 0], [1 / 3, 1 / 3, 1 / 3, 0]])
    np.testing.assert_allclose(
        _grad(lambda t: t.max(axis=1), v), [[0, 0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3, 0]]
    )
    np.testing.assert_allclose(
        _grad(lambda t: t.min(axis=0, keepdims=True), v), [[1, 1, 1, 0], [0, 0, 0, 1]]
    )
    np.testing.assert_allclose(_grad(Tensor.min, [2.0, 2.0]), [0.5, 0.5])


def test_maximum_and_minimum_give_half_to_each_input_on_a_tie(xp_backend):
    a = Tensor([1.0, 2.0, 3.0], dtype="float64", requires_grad=True)
    b = Tensor([1.0, 5.0, 0.0], dtype="float64", requires_grad=True)
    (a.maximum(b) * Tensor([10.0, 20.0, 30.0], dtype="float64")).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [5.0, 0.0, 30.0])
    np.testing.assert_array_equal(b.grad.numpy(), [5.0, 20.0, 0.0])
    a.zero_grad()
    b.zero_grad()
    a.minimum(b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(_grad(lambda t: t.maximum(2.0), [1.0, 2.0, 3.0]), [0, 0.5, 1])


def test_clip_passes_the_gradient_at_its_boundaries(xp_backend):
    v = [-2.0, -1.0, 0.0, 1.0, 2.0]
    np.testing.assert_array_equal(_grad(lambda t: t.clip(-1.0, 1.0), v), [0, 1, 1, 1, 0])
    np.testing.assert_array_equal(_grad(lambda t: t.clip(min=0.0), v), [0, 0, 1, 1, 1])
    np.testing.assert_array_equal(_grad(lambda t: t.clip(max=0.0), v), [1, 1, 1, 0, 0])


def test_pow_gradient_for_the_exponent_at_non_positive_bases(xp_backend):
    # d(x^p)/dp = x^p ln(x): 0 at x = 0 (flat), nan for x < 0 (not real), as PyTorch
    x = Tensor([-2.0, 0.0, 2.0], dtype="float64", requires_grad=True)
    p = Tensor([3.0, 2.0, 3.0], dtype="float64", requires_grad=True)
    out = x**p
    np.testing.assert_array_equal(out.numpy(), [-8.0, 0.0, 8.0])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [12.0, 0.0, 12.0])
    grad_p = p.grad.numpy()
    assert np.isnan(grad_p[0]) and grad_p[1] == 0.0
    assert grad_p[2] == pytest.approx(8.0 * math.log(2.0), rel=1e-12)


# --- PyTorch's shape methods and advanced indexing --------------------------------------------


@with_fixtures
@given(data=st.data())
def test_unsqueeze_squeeze_t_and_mT(xp_backend, data):
    a = data.draw(arrays(shapes()), label="a")
    d = data.draw(st.integers(-a.ndim - 1, a.ndim), label="dim")
    check_forward(leaf(a).unsqueeze(d), np.expand_dims(a, d))
    check_forward(leaf(a).squeeze(), np.squeeze(a))
    assert tg.gradcheck(lambda t: t.unsqueeze(d), [leaf(a)])
    assert tg.gradcheck(lambda t: t.squeeze(), [leaf(a)])
    if a.ndim <= 2:
        check_forward(leaf(a).t(), a.T)
        assert tg.gradcheck(lambda t: t.t(), [leaf(a)])
    if a.ndim >= 2:
        check_forward(leaf(a).mT, np.swapaxes(a, -2, -1))
        assert tg.gradcheck(lambda t: t.mT, [leaf(a)])


@with_fixtures
@given(data=st.data())
def test_repeat_and_expand_with_minus_one(xp_backend, data):
    a = data.draw(arrays(shapes(max_dims=2, max_side=2)), label="a")
    extra = data.draw(st.integers(0, 1), label="new dims")
    sizes = tuple(data.draw(st.integers(1, 2), label="size") for _ in range(a.ndim + extra))
    check_forward(leaf(a).repeat(*sizes), np.tile(a, sizes))
    assert tg.gradcheck(lambda t: t.repeat(*sizes), [leaf(a)])
    target = data.draw(broadcast_targets(a.shape), label="target")
    lead = len(target) - a.ndim
    keep = tuple(-1 if i >= lead and n == a.shape[i - lead] else n for i, n in enumerate(target))
    check_forward(leaf(a).expand(*keep), np.broadcast_to(a, target))
    assert tg.gradcheck(lambda t: t.expand(keep), [leaf(a)])


@st.composite
def advanced_indices(draw, shape: tuple[int, ...]):
    """An integer array (repeats allowed, negative too) for the first axis, or a boolean mask."""
    if draw(st.booleans(), label="mask"):
        return draw(hnp.arrays(np.bool_, shape), label="mask")
    picks = st.integers(-shape[0], shape[0] - 1)
    return np.array(draw(st.lists(picks, min_size=1, max_size=5), label="rows"))


@with_fixtures
@given(data=st.data())
def test_advanced_indexing_gradients_scatter_add(xp_backend, data):
    a = data.draw(arrays(shapes(min_dims=1)), label="a")
    index = data.draw(advanced_indices(a.shape), label="index")
    check_forward(leaf(a)[Tensor(index)], a[index])
    assert tg.gradcheck(lambda t: t[Tensor(index)], [leaf(a)])
