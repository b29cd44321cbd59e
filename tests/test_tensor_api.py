"""The Tensor's public behaviour, PyTorch's semantics: dtypes, attributes, backward and
graph lifetime, no_grad, factories and seeding, non-differentiable ops, repr and errors."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import ShapeError, Tensor
from tinygrad_edu import functional as F


def dtype_of(t: Tensor) -> np.dtype:
    """The NumPy dtype of a tensor's values (backend-independent)."""
    return t.numpy().dtype


# --- construction and dtypes ------------------------------------------------------------------


def test_python_floats_get_float32_by_default(xp_backend):
    assert tg.get_default_dtype() == "float32"
    assert dtype_of(Tensor(1.5)) == np.float32
    assert dtype_of(Tensor([1.0, 2.0])) == np.float32
    assert dtype_of(Tensor([[1, 2.5], [3, 4]])) == np.float32
    assert dtype_of(Tensor(np.zeros(3))) == np.float64  # arrays keep their dtype
    assert dtype_of(Tensor(np.zeros(3, dtype=np.float32))) == np.float32


def test_set_default_dtype_and_per_tensor_dtype(xp_backend):
    tg.set_default_dtype("float64")
    assert tg.get_default_dtype() == "float64"
    assert dtype_of(Tensor([1.0, 2.0])) == np.float64
    assert dtype_of(Tensor.zeros(2)) == np.float64
    assert dtype_of(Tensor.randn(2)) == np.float64
    tg.set_default_dtype(np.float32)
    assert dtype_of(Tensor([1.0])) == np.float32
    assert dtype_of(Tensor([1.0], dtype="float64")) == np.float64
    assert dtype_of(Tensor([1.0], dtype=np.float64)) == np.float64
    assert dtype_of(Tensor(np.ones(2), dtype="float32")) == np.float32
    with pytest.raises(TypeError, match="float32 or float64"):
        tg.set_default_dtype("int64")
    with pytest.raises(TypeError, match="unknown dtype"):
        Tensor([1.0], dtype="float128x")


def test_integer_data_stays_integer_and_cannot_require_grad(xp_backend):
    labels = Tensor([0, 3, 1])
    assert dtype_of(labels) == np.int64
    np.testing.assert_array_equal(labels.numpy(), [0, 3, 1])
    assert dtype_of(Tensor(np.array([1, 2], dtype=np.int32))) == np.int32
    with pytest.raises(TypeError, match="floating-point.*int64"):
        Tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError):
        labels.requires_grad_()
    assert dtype_of(labels.to("float32")) == np.float32
    assert Tensor([1.0, 2.0]).to("float32").requires_grad_().requires_grad


def test_attributes(xp_backend):
    values = np.arange(6.0).reshape(2, 3)
    t = Tensor(values, requires_grad=True)
    assert t.shape == (2, 3) and isinstance(t.shape, tuple)
    assert t.ndim == 2 and t.numel() == 6 and len(t) == 2
    assert tg.backend._dtype_name(t.dtype) == "float64"
    assert t.data is not None and t.grad is None
    assert t.requires_grad and t.is_leaf
    np.testing.assert_array_equal(t.numpy(), values)
    assert isinstance(t.numpy(), np.ndarray)
    assert t.tolist() == values.tolist()
    assert Tensor([[2.5]]).item() == 2.5 and isinstance(Tensor(3).item(), int)
    with pytest.raises(ValueError, match=r"one element.*\(2, 3\)"):
        t.item()
    with pytest.raises(TypeError, match="0-d"):
        len(Tensor(1.0))


def test_detach_cuts_the_graph_and_shares_values(xp_backend):
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    d = y.detach()
    assert not d.requires_grad and d._prev == () and d.is_leaf
    np.testing.assert_array_equal(d.numpy(), [3.0, 6.0])
    (d * x).sum().backward()  # no gradient flows through the detached branch
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 6.0])


def test_grad_can_be_set_and_zeroed(xp_backend):
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])
    x.zero_grad()
    assert x.grad is None  # as PyTorch's zero_grad(set_to_none=True)
    x.grad = Tensor([5.0, 5.0])
    (x * 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0])
    x.grad = None
    assert x.grad is None


# --- backward ---------------------------------------------------------------------------------


def test_backward_seeds_one_for_scalars(xp_backend):
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, -4.0, 6.0])
    y = Tensor([[4.0]], requires_grad=True)  # one element counts as a scalar, as PyTorch
    (y * 2).backward()
    np.testing.assert_array_equal(y.grad.numpy(), [[2.0]])


def test_backward_of_a_non_scalar_needs_a_gradient(xp_backend):
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    with pytest.raises(RuntimeError, match=r"scalar.*\(2,\)"):
        y.backward()
    y.backward(Tensor([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 40.0])
    with pytest.raises(ShapeError, match=r"\(3,\).*\(2,\)"):
        (x * x).backward(Tensor([1.0, 2.0, 3.0]))


def test_backward_without_anything_to_differentiate(xp_backend):
    with pytest.raises(RuntimeError, match="requires_grad"):
        (Tensor([1.0]) * 2).sum().backward()


def test_leaf_gradients_accumulate_across_backward_calls(xp_backend):
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3 + 2, 3 + 4])


def test_non_leaf_gradients_are_not_kept(xp_backend):
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    loss = (h * h).sum()
    loss.backward()
    assert not h.is_leaf
    assert h.grad is None and loss.grad is None
    np.testing.assert_array_equal(x.grad.numpy(), [8.0, 16.0])


def test_the_graph_is_freed_after_backward(xp_backend):
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x.tanh()
    loss = (h * 2).sum()
    ref = weakref.ref(h)
    del h
    gc.collect()
    assert ref() is not None  # the graph holds the intermediate until backward
    loss.backward()
    gc.collect()
    assert ref() is None
    assert loss._prev == ()
    assert x.grad is not None


def test_a_second_backward_through_a_freed_graph_is_an_error(xp_backend):
    # PyTorch: "Trying to backward through the graph a second time"
    x = Tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])  # nothing added silently

    h = x * 3
    h.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        (h * h).sum().backward()  # reuses an intermediate whose graph is gone


def test_retain_graph_allows_a_second_backward(xp_backend):
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    loss = (h * x).sum()
    ref = weakref.ref(h)
    del h
    loss.backward(retain_graph=True)
    gc.collect()
    assert ref() is not None
    first = x.grad.numpy().copy()
    expected = np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0]))  # d(x e^x)/dx
    np.testing.assert_allclose(first, expected, rtol=1e-6)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * expected, rtol=1e-6)
    assert ref() is None or ref().grad is None


# --- no_grad ----------------------------------------------------------------------------------


def test_no_grad_records_no_graph(xp_backend):
    x = Tensor([1.0, 2.0], requires_grad=True)
    with tg.no_grad():
        y = (x * 2).exp().sum()
        assert not y.requires_grad and y._prev == () and y._backward is None
        z = x[0]
        assert not z.requires_grad
    w = x * 2  # recording resumes after the block
    assert w.requires_grad and w._prev


def test_no_grad_as_a_decorator_and_after_an_exception(xp_backend):
    x = Tensor([1.0], requires_grad=True)

    @tg.no_grad()
    def evaluate(t):
        return t * 2

    assert not evaluate(x).requires_grad
    assert (x * 2).requires_grad
    with pytest.raises(ZeroDivisionError), tg.no_grad():
        raise ZeroDivisionError
    assert (x * 2).requires_grad
    with tg.no_grad():
        with tg.no_grad():
            pass
        assert not (x * 2).requires_grad


def test_no_grad_holds_for_its_own_thread_only():
    # as PyTorch's grad mode: one thread's optimizer step (under no_grad) must not stop
    # the forward pass of a model trained in another thread from recording its graph
    import threading

    inside, done = threading.Event(), threading.Event()
    seen = []

    def evaluate():
        with tg.no_grad():
            seen.append(tg.is_grad_enabled())
            inside.set()
            done.wait(10)

    thread = threading.Thread(target=evaluate)
    thread.start()
    assert inside.wait(10)
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()  # while the other thread is inside no_grad
    done.set()
    thread.join()
    assert seen == [False] and tg.is_grad_enabled()
    assert y.requires_grad and y._prev
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


# --- factories and randomness -----------------------------------------------------------------


def test_factories(xp_backend):
    tg.manual_seed(0)  # the statistical checks below are then deterministic
    np.testing.assert_array_equal(Tensor.zeros(2, 3).numpy(), np.zeros((2, 3)))
    np.testing.assert_array_equal(Tensor.zeros((2, 3)).numpy(), np.zeros((2, 3)))
    np.testing.assert_array_equal(Tensor.ones(4).numpy(), np.ones(4))
    np.testing.assert_array_equal(Tensor.full((2, 2), 7.5).numpy(), np.full((2, 2), 7.5))
    for t in (Tensor.zeros(2), Tensor.ones(2, 1), Tensor.full((3,), 2.0), Tensor.randn(3)):
        assert dtype_of(t) == np.float32 and not t.requires_grad
    assert Tensor.zeros(2, requires_grad=True).requires_grad
    assert dtype_of(Tensor.ones(2, dtype="float64")) == np.float64
    np.testing.assert_array_equal(Tensor.arange(5).numpy(), np.arange(5))
    assert dtype_of(Tensor.arange(5)) == np.int64
    np.testing.assert_allclose(Tensor.arange(1.0, 2.0, 0.25).numpy(), [1.0, 1.25, 1.5, 1.75])
    assert dtype_of(Tensor.arange(1.0, 2.0, 0.25)) == np.float32
    np.testing.assert_array_equal(Tensor.arange(2, 8, 3).numpy(), [2, 5])
    like = Tensor.zeros_like(Tensor(np.ones((2, 2))))
    assert like.shape == (2, 2) and dtype_of(like) == np.float64 and not like.numpy().any()
    np.testing.assert_array_equal(Tensor.ones_like(Tensor([1.0, 2.0])).numpy(), [1.0, 1.0])
    assert Tensor.randn(2, 3).shape == (2, 3) and Tensor.randn((4,)).shape == (4,)
    u = Tensor.rand(1000).numpy()
    assert u.min() >= 0.0 and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.05
    n = Tensor.randn(2000).numpy()
    assert abs(n.mean()) < 0.1 and abs(n.std() - 1.0) < 0.1


def test_manual_seed_reproduces_the_same_numbers_on_every_backend(xp_backend):
    tg.manual_seed(123)
    first = Tensor.randn(3, 4).numpy()
    uniform = Tensor.rand(5).numpy()
    tg.manual_seed(123)
    np.testing.assert_array_equal(Tensor.randn(3, 4).numpy(), first)
    np.testing.assert_array_equal(Tensor.rand(5).numpy(), uniform)
    # the same seed gives the same values on NumPy (host-side generator)
    tg.set_backend("numpy")
    tg.manual_seed(123)
    np.testing.assert_array_equal(Tensor.randn(3, 4).numpy(), first)
    expected = np.random.default_rng(123).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_array_equal(first, expected)
    tg.manual_seed(124)
    assert not np.array_equal(Tensor.randn(3, 4).numpy(), first)


# --- non-differentiable ops -------------------------------------------------------------------


def test_comparisons_and_argmax_give_no_gradient(xp_backend):
    x = Tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], requires_grad=True)
    for result, expected in [
        (x > 2.0, [[False, True, False], [True, False, True]]),
        (x >= 2.0, [[False, True, True], [True, False, True]]),
        (x < 2.0, [[True, False, False], [False, True, False]]),
        (x <= 1.0, [[True, False, False], [False, True, False]]),
        (x == 5.0, [[False, True, False], [False, False, False]]),
        (x != 5.0, [[True, False, True], [True, True, True]]),
        (x > Tensor([2.0, 2.0, 2.0]), [[False, True, False], [True, False, True]]),
    ]:
        assert not result.requires_grad and result._prev == ()
        assert dtype_of(result) == np.bool_
        np.testing.assert_array_equal(result.numpy(), expected)
    for result, expected in [
        (x.argmax(), 3),
        (x.argmax(axis=1), [1, 0]),
        (x.argmin(axis=0), [0, 1, 0]),
        (x.argmax(axis=1, keepdims=True), [[1], [0]]),
    ]:
        assert not result.requires_grad and result._prev == ()
        assert np.issubdtype(dtype_of(result), np.integer)
        np.testing.assert_array_equal(result.numpy(), expected)


def test_gradients_flow_through_advanced_indexing(xp_backend):
    # PyTorch 2.13: x[[0, 2, 0]] and x[x > 1.5] scatter-add their gradients back
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    picked = x[Tensor([0, 2, 0])]
    np.testing.assert_array_equal(picked.numpy(), [1.0, 3.0, 1.0])
    (picked * Tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [101.0, 0.0, 10.0])
    x.grad = None
    x[x > 1.5].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 1.0])


# --- repr, float32 preservation, errors -------------------------------------------------------


def test_repr_is_readable(xp_backend):
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert repr(x).startswith("tensor([1., 2.]") and "requires_grad=True" in repr(x)
    assert "grad_fn=<mul>" in repr(x * 2)
    assert repr(Tensor([1, 2])).startswith("tensor([1, 2]")
    assert "dtype=float64" in repr(Tensor([1.0], dtype="float64"))
    assert "dtype" not in repr(Tensor([1.0]))
    assert "requires_grad" not in repr(Tensor([1.0]))


def test_float32_stays_float32_through_ops_with_python_numbers(xp_backend):
    x = Tensor([[0.5, -1.5], [2.0, 0.25]], requires_grad=True)
    w = Tensor([[0.1, 0.2], [0.3, 0.4]], requires_grad=True)
    results = [
        x * 2.5, 2.5 * x, x + 1, 1.0 - x, x / 3.0, 3.0 / x, x**2.0, x**2, 2.0**x, -x,
        x.maximum(0.5), x.minimum(0.5), x.clip(-1.0, 1.0), x.exp(), x.abs().log(),
        x.abs().sqrt(), x.tanh(), x.sigmoid(), x.relu(), x.leaky_relu(0.1), x.gelu(),
        x.sum(), x.mean(axis=0), x.max(), x.min(axis=1), x.var(), x @ w, x.T, x[0],
        x.reshape(4), F.softmax(x), F.log_softmax(x), F.linear(x, w, Tensor([0.5, 0.5])),
        F.cross_entropy(x, Tensor([0, 1]), label_smoothing=0.1), F.mse_loss(x, w),
        F.binary_cross_entropy_with_logits(x, w), F.hinge_loss(x, Tensor([1, 0])),
        F.dropout(x, 0.5), tg.concatenate([x, w]), tg.stack([x, w]),
    ]  # fmt: skip
    for k, out in enumerate(results):
        assert dtype_of(out) == np.float32, f"result {k} is {dtype_of(out)}"
    sum(r.sum() for r in results).backward()
    assert dtype_of(x.grad) == np.float32 and dtype_of(w.grad) == np.float32


def test_matmul_shape_error_text(xp_backend):
    with pytest.raises(ShapeError) as info:
        Tensor.zeros(32, 784) @ Tensor.zeros(128, 10)
    assert str(info.value) == "matmul: (32, 784) @ (128, 10): inner dimensions 784 and 128 differ"
    with pytest.raises(ShapeError, match=r"matmul: \(3,\) @ \(4,\): inner dimensions 3 and 4"):
        Tensor.zeros(3) @ Tensor.zeros(4)
    with pytest.raises(ShapeError, match="at least 1 dimension"):
        Tensor(1.0) @ Tensor.zeros(3)
    with pytest.raises(ShapeError, match="batch dimensions"):
        Tensor.zeros(2, 3, 4) @ Tensor.zeros(3, 4, 5)


@pytest.mark.parametrize(
    "op, name",
    [
        (lambda a, b: a + b, "add"),
        (lambda a, b: a - b, "sub"),
        (lambda a, b: a * b, "mul"),
        (lambda a, b: a / b, "div"),
        (lambda a, b: a**b, "pow"),
        (Tensor.maximum, "maximum"),
        (Tensor.minimum, "minimum"),
    ],
)
def test_broadcast_errors_name_the_op_and_both_shapes(xp_backend, op, name):
    a, b = Tensor.ones(2, 3, requires_grad=True), Tensor.ones(4)
    with pytest.raises(ShapeError, match=rf"{name}: shapes \(2, 3\) and \(4,\)"):
        op(a, b)


def test_shape_op_errors(xp_backend):
    x = Tensor.zeros(2, 3)
    with pytest.raises(ShapeError, match=r"reshape.*\(2, 3\).*\(4,\)"):
        x.reshape(4)
    with pytest.raises(ShapeError, match=r"broadcast_to.*\(2, 3\).*\(4, 3\)"):
        x.broadcast_to(4, 3)
    with pytest.raises(ShapeError, match=r"concatenate.*\(2, 3\).*\(2, 2\)"):
        tg.concatenate([x, Tensor.zeros(2, 2)], axis=0)
    with pytest.raises(ShapeError, match="stack"):
        tg.stack([x, Tensor.zeros(3, 2)])
    with pytest.raises(IndexError, match=r"range of \[-2, 1\], but got 2"):
        x.sum(axis=2)


def test_numpy_scalars_keep_their_dtype_and_full_follows_its_fill_value():
    assert Tensor(np.float64(2.0)).dtype == np.float64  # as torch.tensor(np.float64(2))
    assert Tensor(2.0).dtype == np.float32
    assert Tensor.full((2,), 7).dtype == np.int64
    assert Tensor.full((2,), 7.0).dtype == np.float32
    assert Tensor.full((2,), True).dtype == np.bool_


def test_backward_through_a_chain_ten_thousand_deep_needs_no_recursion():
    """The one walk both engines share (`autograd.topological_order`) is iterative: a chain
    far past Python's recursion limit (1,000 frames) backpropagates, on Tensors as on Values."""
    x = Tensor([0.5], dtype="float64", requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0 + x
    y.sum().backward()
    assert x.grad.numpy().tolist() == [10_001.0]
