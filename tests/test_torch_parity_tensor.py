"""The Tensor engine against PyTorch 2.13: names and signatures a PyTorch user types first,
edge-case values and gradients, errors and result dtypes.

Every expected number, shape, dtype and message below was computed once with torch 2.13
(float64 where gradients are compared) and written here; the tests never import torch.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor

INF, NAN = math.inf, math.nan
M = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]


def f64(values, requires_grad: bool = True) -> Tensor:
    return Tensor(values, dtype="float64", requires_grad=requires_grad)


def grads(fn, *values, weights=None):
    """fn's output and the gradients of sum(fn(*inputs) * weights), as lists (PyTorch's form)."""
    inputs = [f64(v) for v in values]
    out = fn(*inputs)
    (out if weights is None else out * Tensor(weights, dtype="float64")).sum().backward()
    return out.numpy().tolist(), [t.grad.numpy().tolist() for t in inputs]


def same(actual, expected) -> None:
    np.testing.assert_allclose(np.asarray(actual, float), np.asarray(expected, float), rtol=1e-12)


# --- G: package-level names -------------------------------------------------------------------


def test_package_level_factories_and_dtype_names(xp_backend):
    t = tg.tensor([1, 2], dtype=tg.float32, requires_grad=True)
    assert isinstance(t, Tensor) and t.requires_grad and t.numpy().dtype == np.float32
    assert tg.tensor([1, 2]).numpy().dtype == np.int64
    assert tg.zeros(2, 3).shape == (2, 3) and tg.ones((2,)).numpy().tolist() == [1.0, 1.0]
    assert tg.full((2,), 7).numpy().dtype == np.int64
    assert tg.arange(3).numpy().tolist() == [0, 1, 2]
    assert tg.zeros_like(t).numpy().dtype == np.float32
    assert tg.ones_like(t, dtype=tg.float64).numpy().dtype == np.float64
    tg.manual_seed(0)
    assert tg.randn(2, 2).shape == (2, 2) and tg.rand(3).shape == (3,)
    names = [tg.float32, tg.float64, tg.int32, tg.int64, tg.bool]
    assert [Tensor([1], dtype=d).numpy().dtype.name for d in names] == [
        "float32", "float64", "int32", "int64", "bool",
    ]  # fmt: skip
    assert tg.zeros(1).numpy().dtype == tg.float32
    assert Tensor([1.0]).to(tg.int64).numpy().dtype == np.int64


def test_tg_tensor_is_the_function_and_importing_the_module_cannot_shadow_it():
    """The module is `_tensor` (as PyTorch renamed torch/tensor.py): importing it keeps
    `tg.tensor` the function."""
    import importlib

    module = importlib.import_module("tinygrad_edu._tensor")
    assert callable(tg.tensor) and module.Tensor is Tensor
    assert tg.tensor is module.tensor


def test_save_and_load_a_state_dict(tmp_path, xp_backend):
    state = {"w": Tensor([[1.0, 2.0]]), "b": Tensor([0.5], dtype="float64"), "step": 3}
    path = tmp_path / "model.npz"
    tg.save(state, path)
    loaded = tg.load(path)
    assert set(loaded) == {"w", "b", "step"} and loaded["step"] == 3
    assert loaded["w"].numpy().tolist() == [[1.0, 2.0]] and loaded["w"].numpy().dtype == np.float32
    assert loaded["b"].numpy().dtype == np.float64
    with np.load(path, allow_pickle=False) as data:  # a plain .npz: no pickle needed
        assert sorted(data.files) == ["b", "step", "w"]
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # no temp file left
    with pytest.raises(tg.errors.UserError, match="state dicts"):
        tg.save([Tensor([1.0])], tmp_path / "list.npz")


def test_save_and_load_a_models_state_dict(tmp_path):
    tg.manual_seed(0)
    model = tg.nn.MLP(4, [3], 2)
    tg.save(model.state_dict(), tmp_path / "mlp.npz")
    tg.manual_seed(1)
    again = tg.nn.MLP(4, [3], 2)
    again.load_state_dict(tg.load(tmp_path / "mlp.npz"))
    for p, q in zip(model.parameters(), again.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_inference_mode_records_no_graph():
    x = Tensor([1.0], requires_grad=True)
    with tg.inference_mode():
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad


# --- B: methods -----------------------------------------------------------------------------


def test_shape_methods(xp_backend):
    x = Tensor(M)
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-1) == 3 and x.dim() == 2
    assert x.t().shape == (3, 2) and x.mT.shape == (3, 2) and Tensor([1.0, 2.0]).t().shape == (2,)
    assert Tensor.zeros(2, 1, 3).squeeze().shape == (2, 3)
    assert Tensor.zeros(2, 1, 3).squeeze(1).shape == (2, 3)
    assert Tensor.zeros(2, 1, 3).squeeze(0).shape == (2, 1, 3)  # not size 1: unchanged
    assert Tensor.zeros(2, 1, 1).squeeze((1, 2)).shape == (2,)
    assert x.unsqueeze(-1).shape == (2, 3, 1) and x.unsqueeze(0).shape == (1, 2, 3)
    assert x.view(-1, 2).shape == (3, 2)
    assert x[:, None].expand(-1, 4, -1).shape == (2, 4, 3)
    assert Tensor.zeros(2, 1).expand(4, -1, 3).shape == (4, 2, 3)
    assert Tensor([1, 2]).repeat(2, 2).numpy().tolist() == [[1, 2, 1, 2], [1, 2, 1, 2]]
    with pytest.raises(
        RuntimeError, match=r"t\(\) expects a tensor with <= 2 dimensions, but self is 3D"
    ):
        Tensor.zeros(2, 2, 2).t()
    with pytest.raises(RuntimeError, match="mT is only supported on matrices.*Got 1-D tensor"):
        _ = Tensor.zeros(2).mT
    with pytest.raises(RuntimeError, match=r"expanded size of the tensor \(-1\) isn't allowed"):
        Tensor.zeros(2, 1).expand(-1, -1, 3)
    with pytest.raises(RuntimeError, match="repeat dims can not be smaller"):
        Tensor.zeros(2, 3).repeat(2)


def test_dim_and_keepdim_are_accepted_wherever_axis_and_keepdims_are(xp_backend):
    x = Tensor(M)
    assert tg.cat([x, x], dim=1).shape == (2, 6) and Tensor.cat([x, x], dim=-1).shape == (2, 6)
    assert tg.concatenate([x, x], dim=0).shape == (4, 3)
    assert tg.stack([x, x], dim=2).shape == (2, 3, 2) and Tensor.stack([x], dim=0).shape == (
        1,
        2,
        3,
    )
    assert x.sum(dim=1, keepdim=True).shape == (2, 1) and x.mean(dim=(0, 1)).item() == 3.5
    assert x.max(dim=0).numpy().tolist() == [4.0, 5.0, 6.0]  # values only, as torch.amax
    assert x.min(dim=1, keepdim=True).numpy().tolist() == [[1.0], [4.0]]
    assert x.var(dim=1, keepdim=True).shape == (2, 1)
    assert (
        x.argmax(dim=1).numpy().tolist() == [2, 2] and x.argmin(dim=0).numpy().tolist() == [0] * 3
    )
    assert x.argmax(dim=1, keepdim=True).shape == (2, 1)
    assert tg.functional.log_softmax(x, dim=0).shape == (2, 3)
    assert x.flatten(start_dim=0, end_dim=1).shape == (6,)
    with pytest.raises(TypeError, match="axis= or as dim=, not both"):
        x.sum(axis=0, dim=0)


def test_reductions_and_functions_match_pytorch(xp_backend):
    x = f64(M, requires_grad=False)
    same(x.std().item(), 1.8708286933869707)
    same(x.std(dim=1, keepdim=True).numpy(), [[1.0], [1.0]])
    same(x.var(dim=0).numpy(), [4.5, 4.5, 4.5])
    same(x.amax(dim=1).numpy(), [3.0, 6.0])
    same(x.amin(0).numpy(), [1.0, 2.0, 3.0])
    same(x.softmax(dim=0).numpy(), [[0.04742587317756678] * 3, [0.9525741268224334] * 3])
    same(
        x.log_softmax(dim=1).numpy()[0], [-2.40760596444438, -1.40760596444438, -0.4076059644443804]
    )
    same(tg.functional.softmax(x, dim=1).numpy(), x.softmax(1).numpy())
    v = f64([1.0, 2.0, 3.0], requires_grad=False)
    same(v.sin().numpy(), [0.8414709848078965, 0.9092974268256817, 0.1411200080598672])
    same(v.cos().numpy(), [0.5403023058681398, -0.4161468365471424, -0.9899924966004454])
    same(v.log1p().numpy(), [0.6931471805599453, 1.0986122886681098, 1.3862943611198906])
    assert x.masked_fill(x > 3, -1.0).numpy().tolist() == [[1, 2, 3], [-1, -1, -1]]
    assert tg.where(x > 2, x, 0.0).numpy().tolist() == [[0, 0, 3], [4, 5, 6]]
    assert x.add(1, alpha=2).numpy().tolist() == [[3, 4, 5], [6, 7, 8]]
    assert x.sub(x).numpy().sum() == 0 and x.mul(2).div(2).numpy().tolist() == M
    assert x.pow(2).numpy()[0].tolist() == [1, 4, 9] and x.matmul(x.T).shape == (2, 2)
    assert x.clone().numpy().tolist() == M and x.clone().data is not x.data


@pytest.mark.filterwarnings("ignore:.*encountered:RuntimeWarning")  # inf - inf, as PyTorch's
def test_gradients_of_new_ops_match_pytorch(xp_backend):
    out, (g,) = grads(lambda t: t.logsumexp(dim=1), [[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    same(out, [5.065883903757429, 7.0190450078792574])
    same(g[0], [0.017147825545520388, 0.9362395518765056, 0.04661262257797389])
    out, (g,) = grads(lambda t: t.std(dim=0), [[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    same(out, [4.242640687119285, 3.5355339059327378, 0.7071067811865476])
    same(g, [[-0.7071067811865476, 0.7071067811865475, -0.7071067811865475],
             [0.7071067811865476, -0.7071067811865475, 0.7071067811865475]])  # fmt: skip
    _, (g,) = grads(lambda t: t.repeat(2, 2), [1.0, 2.0], weights=[[1, 2, 3, 4], [5, 6, 7, 8]])
    same(g, [16.0, 20.0])
    _, (ga, gb) = grads(lambda a, b: tg.where(Tensor([True, False]), a, b), [1.0, 2.0], [3.0, 4.0])
    assert ga == [1.0, 0.0] and gb == [0.0, 1.0]
    _, (g,) = grads(lambda a: a.masked_fill(Tensor([True, False]), 5.0), [1.0, 2.0])
    assert g == [0.0, 1.0]
    # std of constant values: gradient 0 (PyTorch masks it), not nan
    assert grads(lambda t: t.std(), [1.0, 1.0])[1] == [[0.0, 0.0]]
    _, (g,) = grads(lambda t: t.std(), [1.0, 2.0, 4.0])
    same(g, [-0.43643578047198484, -0.10910894511799625, 0.5455447255899809])
    # logsumexp at infinities, as PyTorch: nan gradients where inf - inf appears
    out, (g,) = grads(lambda t: t.logsumexp(dim=0), [-INF, -INF])
    assert out == -INF and np.isnan(g).all()
    out, (g,) = grads(lambda t: t.logsumexp(dim=0), [INF, 1.0])
    assert out == INF and np.isnan(g[0]) and g[1] == 0.0


def test_conversions_dtypes_and_devices(xp_backend):
    x = Tensor([1.5, -2.0], requires_grad=True)
    assert x.long().numpy().dtype == np.int64 and x.int().numpy().dtype == np.int32
    assert x.bool().numpy().tolist() == [True, True] and not x.long().requires_grad
    assert x.to("float64").requires_grad  # float casts stay differentiable
    assert x.cpu() is x and x.to("cpu") is x and x.device == "cpu"
    assert x.to("cpu", tg.float64).numpy().dtype == np.float64
    assert x.to(dtype=tg.float64, device="cpu").numpy().dtype == np.float64
    assert x.to(Tensor([1], dtype="int64")).numpy().dtype == np.int64
    with pytest.raises(RuntimeError, match="set_backend\\('cupy'\\)"):
        x.to("cuda")


def test_retain_grad_and_hooks_follow_pytorch(xp_backend):
    # torch: h.grad reflects the hook's change even with retain_grad() called first
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    h = x * 2
    h.retain_grad()
    seen = []
    h.register_hook(lambda g: seen.append(g.numpy().tolist()) or g * 10)
    (h * h).sum().backward()
    assert seen == [[[4.0, 8.0], [12.0, 16.0]]]
    assert h.grad.numpy().tolist() == [[40.0, 80.0], [120.0, 160.0]]
    assert x.grad.numpy().tolist() == [[80.0, 160.0], [240.0, 320.0]]
    # a leaf's hook sees each pass's gradient before it is accumulated
    a = Tensor([1.0, 2.0], requires_grad=True)
    remove = a.register_hook(lambda g: g * 3)
    (a * a).sum().backward()
    (a * a).sum().backward()
    assert a.grad.numpy().tolist() == [12.0, 24.0]
    remove()
    (a * a).sum().backward()
    assert a.grad.numpy().tolist() == [14.0, 28.0]
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't"):
        Tensor([1.0]).register_hook(print)
    with pytest.raises(
        RuntimeError, match="can't retain_grad on Tensor that has requires_grad=False"
    ):
        Tensor([1.0]).retain_grad()
    assert (x * 2).grad is None  # a non-leaf without retain_grad keeps nothing


# --- C: Python conversions --------------------------------------------------------------------


def test_python_numbers_and_truth_values(xp_backend):
    assert float(Tensor([2.5])) == 2.5 and int(Tensor([[3.7]])) == 3 and bool(Tensor(2.0))
    assert not bool(Tensor([0.0]))
    loss = Tensor(0.25)
    assert (loss < 0.5) and not (loss > 0.5)  # `if loss < 0.5:` works
    with pytest.raises(
        RuntimeError, match="^Boolean value of Tensor with more than one value is ambiguous$"
    ):
        bool(Tensor([1.0, 2.0]))
    with pytest.raises(
        ValueError, match="only one element tensors can be converted to Python scalars"
    ):
        float(Tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="only one element tensors"):
        int(Tensor([1, 2]))


def test_tensors_in_containers_behave_as_in_pytorch(xp_backend):
    a = Tensor([1.0, 2.0])
    assert a in [a]  # identity first, as Python's `in`
    assert Tensor(1.0) in [Tensor(1.0)]  # one element: compared by value
    assert [Tensor(1.0)] == [Tensor(1.0)]
    with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
        a in [Tensor([3.0, 4.0])]  # noqa: B015 (the comparison is the test)
    assert 2.0 in a and 5.0 not in a  # element membership, as torch's __contains__


# --- D: NumPy on the left ---------------------------------------------------------------------


def test_numpy_values_on_the_left_give_tensors_with_gradients():
    p = Tensor([1.0, 2.0], requires_grad=True)
    scaled = np.float64(0.1) * p
    assert isinstance(scaled, Tensor) and scaled.requires_grad
    assert scaled.numpy().dtype == np.float32  # a NumPy scalar counts as a number, as PyTorch
    summed = np.ones(2) + p
    assert isinstance(summed, Tensor) and summed.numpy().dtype == np.float64
    product = np.ones((2, 2)) @ p
    assert isinstance(product, Tensor) and product.numpy().tolist() == [3.0, 3.0]
    (scaled.sum() + summed.sum() + product.sum()).backward()
    np.testing.assert_allclose(p.grad.numpy(), [3.1, 3.1], rtol=1e-6)  # float32
    assert np.asarray(p).tolist() == [1.0, 2.0]


def test_the_micrograd_update_on_data_works():
    p = Tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    (p * p).sum().backward()
    p.data -= 0.1 * p.grad  # NumPy computes on the Tensor's values, in place
    assert isinstance(p.data, np.ndarray)
    same(p.data, [0.8, 1.6])
    p.data -= 0.1 * p.grad.data
    same(p.data, [0.6, 1.2])
    with tg.no_grad():
        p -= 0.5 * p.grad  # in place, as PyTorch
    same(p.numpy(), [-0.4, -0.8])
    assert p.is_leaf and p.requires_grad


# --- E: indices and in-place changes ----------------------------------------------------------


def test_indices_and_axes_as_numpy_integers_or_tensors(xp_backend):
    x = Tensor(M)
    assert x[np.int64(1)].numpy().tolist() == [4.0, 5.0, 6.0]
    assert x[Tensor(1)].numpy().tolist() == [4.0, 5.0, 6.0]
    assert x.sum(axis=np.int64(1)).numpy().tolist() == [6.0, 15.0]
    assert x.sum(dim=Tensor(0)).numpy().tolist() == [5.0, 7.0, 9.0]
    assert x.size(np.int64(0)) == 2 and x.unsqueeze(np.int32(0)).shape == (1, 2, 3)


def test_gradients_through_integer_arrays_and_masks(xp_backend):
    out, (g,) = grads(lambda t: t[Tensor([1, 0, 1]), Tensor([2, 2, 0])], M, weights=[1, 10, 100])
    assert out == [6.0, 3.0, 4.0] and g == [[0.0, 0.0, 10.0], [100.0, 0.0, 1.0]]
    if xp_backend.name != "array_api_strict":  # it takes integer arrays only with integers
        out, (g,) = grads(lambda t: t[:, [0, 0]], M)
        assert out == [[1.0, 1.0], [4.0, 4.0]] and g == [[2.0, 0.0, 0.0], [2.0, 0.0, 0.0]]
    mask = Tensor([[True, False, True], [False, False, True]])
    out, (g,) = grads(lambda t: t[mask], M, weights=[1, 2, 3])
    assert out == [1.0, 3.0, 6.0] and g == [[1.0, 0.0, 2.0], [0.0, 0.0, 3.0]]


def test_in_place_changes_follow_pytorch_rules(xp_backend):
    z = Tensor.zeros(3)
    z[0] = 1
    z.add_(2).mul_(3)
    assert z.numpy().tolist() == [9.0, 6.0, 6.0]
    assert z.fill_(7).numpy().tolist() == [7.0] * 3 and z.zero_().numpy().tolist() == [0.0] * 3
    assert z.copy_(Tensor([1.0, 2.0, 3.0])).numpy().tolist() == [1.0, 2.0, 3.0]
    leaf = Tensor([1.0, 2.0], requires_grad=True)
    message = "a leaf Variable that requires grad is being used in an in-place operation."
    for change in (lambda: leaf.add_(1), lambda: leaf.zero_(), lambda: leaf.__setitem__(0, 5.0)):
        with pytest.raises(RuntimeError, match=message.replace(".", r"\.")):
            change()
    with pytest.raises(RuntimeError, match="in-place operation"):
        leaf -= 1
    with pytest.raises(RuntimeError, match="part of a graph.*out of place"):
        (leaf * 2).add_(1)  # PyTorch allows it (version counters); documented difference
    with tg.no_grad():
        leaf.mul_(2)
        leaf[1] = 0.0
    assert leaf.numpy().tolist() == [2.0, 0.0]
    total = Tensor(0.0)
    total += leaf.sum()  # not in place (a graph is recorded): a new tensor, as a user expects
    assert total.requires_grad


# --- F: invalid dims --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda x: x.flatten(2, 1), IndexError, "expected to be in range of [-2, 1], but got 2"),
        (lambda x: x.flatten(1, 0), RuntimeError, "start_dim cannot come after end_dim"),
        (lambda x: x.flatten(5), IndexError, "expected to be in range of [-2, 1], but got 5"),
        (lambda x: x.permute(0, 3), IndexError, "expected to be in range of [-2, 1], but got 3"),
        (lambda x: x.permute(0), RuntimeError, "input.dim() = 2 is not equal to len(dims) = 1"),
        (lambda x: x.permute(0, 0), RuntimeError, "permute(): duplicate dims are not allowed."),
        (lambda x: tg.stack([x[0]], dim=5), IndexError, "range of [-2, 1], but got 5"),
        (lambda x: tg.cat([x[0]], dim=5), IndexError, "range of [-1, 0], but got 5"),
        (lambda x: x.sum(dim=(0, 0)), RuntimeError, "dim 0 appears multiple times in the list"),
        (lambda x: x.unsqueeze(3), IndexError, "range of [-3, 2], but got 3"),
        (lambda x: x.softmax(dim=2), IndexError, "range of [-2, 1], but got 2"),
        (lambda x: x.sum().sum(dim=1), IndexError, "range of [-1, 0], but got 1"),
        (lambda x: x.transpose(0, 2), IndexError, "range of [-2, 1], but got 2"),
        (lambda x: x.argmax(dim=2), IndexError, "range of [-2, 1], but got 2"),
    ],
)
def test_invalid_dims_raise_as_pytorch(xp_backend, call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call(Tensor.zeros(2, 3))


# --- H: edge cases ----------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:.*encountered:RuntimeWarning")  # inf/nan, as PyTorch
def test_pow_gradients_at_zero_match_pytorch(xp_backend):
    assert grads(lambda x: x**0, [0.0, 2.0]) == ([1.0, 1.0], [[0.0, 0.0]])
    assert grads(lambda x: x**0.0, [0.0, 2.0]) == ([1.0, 1.0], [[0.0, 0.0]])
    out, (gx, gp) = grads(
        lambda x, p: x**p, [0.0, 0.0, 0.0, -2.0, 2.0, 0.0], [0.0, 2.0, -1.0, 3.0, 3.0, 0.5]
    )
    assert out == [1.0, 0.0, INF, -8.0, 8.0, 0.0]
    assert gx == [0.0, 0.0, -INF, 12.0, 12.0, INF]
    same(gp[:3] + gp[4:], [0.0, 0.0, -INF, 5.545177444479562, 0.0])
    assert np.isnan(gp[3])
    assert grads(lambda p: 0.0**p, [0.0, 2.0, -1.0, 0.5]) == (
        [1.0, 0.0, INF, 0.0],
        [[0.0, 0.0, -INF, 0.0]],
    )
    assert np.isnan(grads(lambda p: (-2.0) ** p, [2.0, 3.0])[1]).all()


@pytest.mark.filterwarnings("ignore:.*encountered:RuntimeWarning")  # inf/nan, as PyTorch
def test_var_without_degrees_of_freedom_matches_pytorch(xp_backend):
    out, (g,) = grads(lambda t: t.var(), [1.0])
    assert np.isnan(out) and np.isnan(g).all()
    assert grads(lambda t: t.var(correction=3), [1.0, 2.0]) == (INF, [[INF, INF]])
    assert grads(lambda t: t.var(correction=2), [2.0, 1.0]) == (INF, [[INF, INF]])
    out, (g,) = grads(lambda t: t.var(correction=2), [1.0, 1.0])
    assert np.isnan(out) and np.isnan(g).all()
    out, (g,) = grads(lambda t: t.std(correction=3), [1.0, 2.0])
    assert out == INF and np.isnan(g).all()
    assert grads(lambda t: t.var(correction=0), [5.0]) == (0.0, [[0.0]])


@pytest.mark.filterwarnings("ignore:.*encountered:RuntimeWarning")  # inf/nan, as PyTorch
def test_var_along_dims_without_degrees_of_freedom_matches_pytorch(xp_backend):
    """Along given dims PyTorch's gradient is 2 (x - mean) / (n - correction) in IEEE
    arithmetic (issue 20 item 7: this engine gave the whole-tensor rule, inf or nan)."""
    assert grads(lambda t: t.var(dim=0, correction=2), [1.0, 2.0]) == (INF, [[-INF, INF]])
    assert grads(lambda t: t.var(dim=0, correction=3), [1.0, 2.0]) == (INF, [[1.0, -1.0]])
    assert grads(lambda t: t.var(dim=0, correction=2.5), [1.0, 4.0]) == (INF, [[6.0, -6.0]])
    square = [[1.0, 2.0], [5.0, 3.0]]
    assert grads(lambda t: t.var(dim=(0, 1), correction=4), square) == (
        INF, [[[-INF, -INF], [INF, INF]]],
    )  # fmt: skip
    assert grads(lambda t: t.var(dim=(0, 1), correction=5), square) == (
        INF, [[[3.5, 1.5], [-4.5, -0.5]]],
    )  # fmt: skip
    assert grads(lambda t: t.var(dim=1, correction=2, keepdim=True), square) == (
        [[INF], [INF]], [[[-INF, INF], [INF, -INF]]],
    )  # fmt: skip
    out, (g,) = grads(lambda t: t.var(dim=1, correction=3), [[1.0, 2.0, 3.0], [5.0, 3.0, 3.0]])
    assert out == [INF, INF]
    assert np.isnan(g[0][1]) and g[0][0] == -INF and g[0][2] == INF  # x = mean: inf * 0
    out, (g,) = grads(lambda t: t.var(dim=0), 3.0)  # 0-d: the whole-tensor rule, nan
    assert np.isnan(out) and np.isnan(g)
    # std's gradient goes through var's: 0 * (finite) = 0, 0 * inf = nan
    assert grads(lambda t: t.std(dim=0, correction=3), [1.0, 2.0]) == (INF, [[0.0, -0.0]])
    out, (g,) = grads(lambda t: t.std(dim=0, correction=2), [1.0, 2.0])
    assert out == INF and np.isnan(g).all()


def test_an_empty_index_list_selects_nothing_as_pytorch(xp_backend):
    """``x[[]]`` is an empty selection in PyTorch (NumPy reads [] as a float array and
    raises IndexError; issue 20 item 7)."""
    x = Tensor(M, requires_grad=True)
    assert x[[]].shape == (0, 3) and x[[]].numpy().dtype == np.float32
    assert x[np.array([])].shape == (0, 3)
    if xp_backend.name != "array_api_strict":  # it mixes index arrays with integers only
        assert x[[], 1].shape == (0,) and x[1, []].shape == (0,) and x[:, []].shape == (2, 0)
    x[[]].sum().backward()
    assert x.grad.numpy().tolist() == [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]


def _not_for(kernel: str, dtype: str) -> tuple:
    return NotImplementedError, f"\"{kernel}\" not implemented for '{dtype}'"


@pytest.mark.parametrize(
    "call, raised",
    [
        (lambda b, i: b**b, _not_for("pow", "Bool")),
        (lambda b, i: b ** Tensor(True), _not_for("pow", "Bool")),
        (lambda b, i: True**b, _not_for("pow", "Bool")),
        (lambda b, i: b.abs(), _not_for("abs_cpu", "Bool")),
        (lambda b, i: b.relu(), (RuntimeError, "Boolean inputs not supported for relu")),
        (lambda b, i: i.leaky_relu(), _not_for("leaky_relu_cpu", "Long")),
        (lambda b, i: b.leaky_relu(), _not_for("leaky_relu_cpu", "Bool")),
        (lambda b, i: i.gelu(), _not_for("GeluKernelImpl", "Long")),
        (lambda b, i: tg.functional.gelu(i), _not_for("GeluKernelImpl", "Long")),
        (lambda b, i: tg.functional.gelu(b), _not_for("GeluKernelImpl", "Bool")),
    ],
)
def test_ops_pytorch_refuses_for_bool_or_integer_tensors_raise(xp_backend, call, raised):
    """Issue 20 item 7: these gave a result (int8, bool, float) where PyTorch raises."""
    error, message = raised
    with pytest.raises(error, match=re.escape(message)):
        call(Tensor([True, False]), Tensor([1, -2]))


def test_result_dtypes_of_bool_and_integer_powers_and_abs_are_pytorchs(xp_backend):
    flags = Tensor([True, False])
    assert (flags**True).numpy().dtype == np.bool_ and (flags**True).tolist() == [True, False]
    assert (flags**False).numpy().dtype == np.bool_ and (flags**False).tolist() == [True, True]
    assert (2**flags).numpy().dtype == np.int64 and (2**flags).tolist() == [2, 1]
    assert (Tensor([2, 3]) ** flags).tolist() == [2, 1]
    assert (flags ** Tensor([2, 3])).numpy().dtype == np.int64
    assert Tensor([1, -2]).abs().numpy().dtype == np.int64


def test_empty_dims_reduce_every_dimension_as_pytorch(xp_backend):
    x = Tensor(M)
    for reduce in (x.sum, x.mean, x.amax, x.amin):
        assert reduce(dim=()).shape == () and reduce(axis=()).shape == ()
    assert x.sum(dim=()).item() == 21.0


def test_gradients_at_nan_follow_pytorch(xp_backend):
    assert grads(Tensor.relu, [NAN, 0.0, 1.0, -1.0])[1] == [[1.0, 0.0, 1.0, 0.0]]
    assert grads(Tensor.abs, [NAN, 0.0, 1.0, -1.0])[1] == [[0.0, 0.0, 1.0, -1.0]]
    for op in (Tensor.maximum, Tensor.minimum):
        assert grads(op, [NAN, 1.0, 1.0], [1.0, NAN, 1.0])[1] == [[1.0, 1.0, 0.5], [1.0, 1.0, 0.5]]
    assert grads(lambda t: t.leaky_relu(0.01), [NAN])[1] == [[0.01]]
    assert grads(lambda t: t.clamp(-1, 1), [NAN])[1] == [[0.0]]


def test_gradient_arrays_of_two_leaves_are_separate_and_writable(xp_backend):
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.data *= 0.5
    assert a.grad.numpy().tolist() == [0.5, 0.5] and b.grad.numpy().tolist() == [1.0, 1.0]
    c = Tensor([[1.0, 2.0]], requires_grad=True)
    c.sum().backward()  # the gradient of sum is a broadcast: stored as a writable copy
    c.grad.data *= 2.0
    assert c.grad.numpy().tolist() == [[2.0, 2.0]]


# --- I: result dtypes ---------------------------------------------------------------------------

DTYPES = ["bool", "int32", "int64", "float32", "float64"]
OPERANDS = [("dim", d) for d in DTYPES] + [("zero", d) for d in DTYPES]
NUMBERS = {"bool": True, "int": 2, "float": 2.5}
RIGHT = OPERANDS + [("number", n) for n in NUMBERS]

# torch 2.13: dtype of `left * right` and `left / right`, one row per left operand, one column
# per right operand in the order of RIGHT (dims, 0-d tensors, then Python numbers); b bool,
# i int32, l int64, f float32, d float64 (the letters of NumPy's type codes)
CODES = {"b": "bool", "i": "int32", "l": "int64", "f": "float32", "d": "float64"}
MUL = {
    "dim bool": "b i l f d b i l f d b l f",
    "dim int32": "i i l f d i i i f d i i f",
    "dim int64": "l l l f d l l l f d l l f",
    "dim float32": "f f f f d f f f f f f f f",
    "dim float64": "d d d d d d d d d d d d d",
    "zero bool": "b i l f d b i l f d b l f",
    "zero int32": "i i l f d i i l f d i i f",
    "zero int64": "l i l f d l l l f d l l f",
    "zero float32": "f f f f d f f f f d f f f",
    "zero float64": "d d d f d d d d d d d d d",
}
DIV = {
    "dim bool": "f f f f d f f f f d f f f",
    "dim int32": "f f f f d f f f f d f f f",
    "dim int64": "f f f f d f f f f d f f f",
    "dim float32": "f f f f d f f f f f f f f",
    "dim float64": "d d d d d d d d d d d d d",
    "zero bool": "f f f f d f f f f d f f f",
    "zero int32": "f f f f d f f f f d f f f",
    "zero int64": "f f f f d f f f f d f f f",
    "zero float32": "f f f f d f f f f d f f f",
    "zero float64": "d d d f d d d d d d d d d",
}


def operand(kind: str, name: str):
    if kind == "number":
        return NUMBERS[name]
    return Tensor(np.ones(2 if kind == "dim" else (), dtype=name))


@pytest.mark.parametrize("op, table", [("mul", MUL), ("div", DIV)])
def test_the_whole_promotion_table_is_pytorchs(op, table):
    # NumPy only: the rule is backend-independent code, and array_api_strict refuses
    # arithmetic on bool arrays (bool * bool), which PyTorch and NumPy allow
    for left in OPERANDS:
        expected = [CODES[c] for c in table[" ".join(left)].split()]
        for right, dtype in zip(RIGHT, expected):
            a, b = operand(*left), operand(*right)
            out = a * b if op == "mul" else a / b
            assert out.numpy().dtype.name == dtype, f"{left} {op} {right}"


def test_promotion_with_numpy_scalars_functions_and_errors(xp_backend):
    x = Tensor([1.0, 2.0])
    assert (x * np.float64(0.1)).numpy().dtype == np.float32
    assert (x + np.int64(3)).numpy().dtype == np.float32
    assert (x * Tensor(np.float64(2.0))).numpy().dtype == np.float32
    ints, flags = Tensor([1, 2]), Tensor([True, False])
    for fn in (Tensor.exp, Tensor.log, Tensor.sqrt, Tensor.tanh, Tensor.sigmoid):
        assert fn(ints).numpy().dtype == np.float32
        assert fn(Tensor([True, True])).numpy().dtype == np.float32
    assert Tensor([1, -2]).relu().numpy().dtype == np.int64
    assert Tensor([1, -2]).relu().numpy().tolist() == [1, 0]
    assert (flags**2).numpy().dtype == np.int64
    np.testing.assert_allclose(flags.sigmoid().numpy(), [0.7310585786300049, 0.5], rtol=1e-6)
    with pytest.raises(RuntimeError, match=r"mean\(\): could not infer output dtype\. .*Got: Long"):
        ints.mean()
    with pytest.raises(RuntimeError, match="std and var only support floating point"):
        ints.var()
