"""Layers and containers: structure, repr, initialisation, saving/loading, modes, gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn
from tinygrad_edu.errors import UserError


def lecture_mlp() -> nn.MLP:
    return nn.MLP(784, [128], 10)


# --- repr ---------------------------------------------------------------------------------

LECTURE_SEQUENTIAL = """\
Sequential(
  (0): Flatten(start_dim=1, end_dim=-1)
  (1): Linear(in_features=784, out_features=128, bias=True)
  (2): ReLU()
  (3): Linear(in_features=128, out_features=10, bias=True)
)"""


def test_repr_of_the_lecture_sequential_is_pytorchs():
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    assert repr(model) == LECTURE_SEQUENTIAL


def test_repr_of_mlp_names_the_class_and_lists_the_layers():
    assert repr(lecture_mlp()) == LECTURE_SEQUENTIAL.replace("Sequential(", "MLP(")


def test_repr_of_every_layer_and_nesting():
    model = nn.Sequential(
        nn.Dropout(0.25),
        nn.GELU(),
        nn.LeakyReLU(0.2),
        nn.Softmax(dim=1),
        nn.Tanh(),
        nn.Sigmoid(),
        nn.Identity(),
        nn.Sequential(nn.Linear(2, 3, bias=False), nn.Sequential()),
    )
    assert (
        repr(model)
        == """\
Sequential(
  (0): Dropout(p=0.25, inplace=False)
  (1): GELU(approximate='none')
  (2): LeakyReLU(negative_slope=0.2)
  (3): Softmax(dim=1)
  (4): Tanh()
  (5): Sigmoid()
  (6): Identity()
  (7): Sequential(
    (0): Linear(in_features=2, out_features=3, bias=False)
    (1): Sequential()
  )
)"""
    )


def test_repr_of_module_list_groups_identical_runs_as_pytorch():
    layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)] + [nn.ReLU(), nn.Linear(4, 2)])
    assert (
        repr(layers)
        == """\
ModuleList(
  (0-2): 3 x Linear(in_features=4, out_features=4, bias=True)
  (3): ReLU()
  (4): Linear(in_features=4, out_features=2, bias=True)
)"""
    )
    assert repr(nn.ModuleList()) == "ModuleList()"


def test_repr_of_a_custom_module_with_named_children():
    class Net(nn.Module):
        def __init__(self):
            self.encoder = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
            self.head = nn.Linear(2, 1)

    assert (
        repr(Net())
        == """\
Net(
  (encoder): Sequential(
    (0): Linear(in_features=3, out_features=2, bias=True)
    (1): ReLU()
  )
  (head): Linear(in_features=2, out_features=1, bias=True)
)"""
    )


# --- structure and parameters -------------------------------------------------------------


def test_lecture_mlp_has_101770_parameters_with_pytorch_names():
    model = lecture_mlp()
    assert model.num_parameters() == 784 * 128 + 128 + 128 * 10 + 10 == 101_770
    names = [name for name, _ in model.named_parameters()]
    assert names == ["1.weight", "1.bias", "3.weight", "3.bias"]
    assert [p.shape for p in model.parameters()] == [(128, 784), (128,), (10, 128), (10,)]


def test_mlp_structure_for_each_activation_name():
    model = nn.MLP(6, [5, 4], 3, activation="tanh")
    assert [type(m).__name__ for m in model] == [
        "Flatten", "Linear", "Tanh", "Linear", "Tanh", "Linear"
    ]  # fmt: skip
    assert model.num_parameters() == (6 * 5 + 5) + (5 * 4 + 4) + (4 * 3 + 3)
    for name, cls in [
        ("relu", nn.ReLU),
        ("leaky_relu", nn.LeakyReLU),
        ("sigmoid", nn.Sigmoid),
        ("gelu", nn.GELU),
        ("identity", nn.Identity),
        ("none", nn.Identity),
        (None, nn.Identity),
    ]:
        assert isinstance(nn.MLP(2, [3], 1, activation=name)[2], cls)
    assert [type(m).__name__ for m in nn.MLP(3, [], 2)] == ["Flatten", "Linear"]


def test_unknown_activation_lists_the_choices():
    with pytest.raises(ValueError, match="unknown activation 'swish'.*relu, leaky_relu"):
        nn.MLP(2, [3], 1, activation="swish")


def test_nested_names_children_and_modules():
    class Net(nn.Module):
        def __init__(self):
            self.scale = nn.Parameter([1.0])
            self.layers = nn.ModuleList([nn.Linear(2, 3), nn.Linear(3, 1)])
            self.act = nn.ReLU()
            self.not_a_parameter = Tensor([1.0, 2.0], requires_grad=True)

    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "scale",
        "layers.0.weight",
        "layers.0.bias",
        "layers.1.weight",
        "layers.1.bias",
    ]
    assert [n for n, _ in net.named_children()] == ["layers", "act"]
    assert list(net.children()) == [net.layers, net.act]
    assert [n for n, _ in net.named_modules()] == ["", "layers", "layers.0", "layers.1", "act"]
    assert len(list(net.modules())) == 5
    assert net.num_parameters() == 1 + 9 + 4


def test_shared_parameters_and_modules_are_counted_once():
    shared = nn.Linear(3, 3)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert model.num_parameters() == 12
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(model.modules())) == 3


def test_frozen_parameter_stays_a_parameter_but_is_not_trainable():
    model = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
    model[0].weight.requires_grad_(False)
    assert model.num_parameters() == 23
    assert model.num_parameters(trainable_only=True) == 23 - 12
    assert "0.weight" in model.state_dict()


def test_parameter_is_a_tensor_sharing_memory_and_requiring_grad():
    t = Tensor([1.0, 2.0])
    p = nn.Parameter(t)
    assert isinstance(p, Tensor) and p.requires_grad and p.data is t.data
    assert p.dtype == np.float32
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    assert not nn.Parameter([1.0], requires_grad=False).requires_grad
    with pytest.raises(TypeError, match="floating-point"):
        nn.Parameter([1, 2])
    assert type((p * 2).detach()) is Tensor  # results of ops are plain tensors


def test_sequential_indexing_slicing_append_and_dict_form():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c and list(seq) == [a, b, c]
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and list(head) == [a, b]
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and isinstance(seq[3], nn.Sigmoid)
    named = nn.Sequential({"hidden": a, "act": b})
    assert [n for n, _ in named.named_children()] == ["hidden", "act"]
    assert repr(named).startswith("Sequential(\n  (hidden): Linear(")
    with pytest.raises(TypeError, match="item 1 is a int, not a Module"):
        nn.Sequential(a, 3)


def test_module_list_append_extend_and_index():
    layers = nn.ModuleList([nn.Linear(1, 1)])
    layers.append(nn.ReLU()).extend([nn.Tanh(), nn.Sigmoid()])
    assert len(layers) == 4 and isinstance(layers[-1], nn.Sigmoid)
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    with pytest.raises(NotImplementedError, match="ModuleList does not define forward"):
        layers(Tensor([1.0]))


# --- initialisation -----------------------------------------------------------------------


def test_linear_init_is_uniform_within_one_over_sqrt_fan_in():
    tg.manual_seed(0)
    layer = nn.Linear(784, 128)
    bound = 1 / math.sqrt(784)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert w.shape == (128, 784) and b.shape == (128,)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.999 * bound  # the full range is used
    # U(-a, a): mean 0, variance a^2 / 3, every tenth of the range holds a tenth of the values
    assert abs(w.mean()) < 0.01 * bound
    assert w.var() == pytest.approx(bound**2 / 3, rel=0.02)
    fractions = np.histogram(w, bins=10, range=(-bound, bound))[0] / w.size
    np.testing.assert_allclose(fractions, 0.1, atol=0.005)


def test_linear_init_is_reproducible_with_manual_seed():
    tg.manual_seed(42)
    first = nn.MLP(5, [4], 3).state_dict()
    tg.manual_seed(42)
    second = nn.MLP(5, [4], 3).state_dict()
    tg.manual_seed(43)
    other = nn.MLP(5, [4], 3).state_dict()
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])
    assert not np.array_equal(first["1.weight"], other["1.weight"])


def test_linear_init_is_the_same_on_every_backend(xp_backend):
    tg.manual_seed(7)
    layer = nn.Linear(6, 4)
    values = layer.weight.numpy()
    tg.set_backend("numpy")
    tg.manual_seed(7)
    np.testing.assert_array_equal(values, nn.Linear(6, 4).weight.numpy())


def test_linear_dtype_follows_argument_or_default():
    assert nn.Linear(2, 2).weight.dtype == np.float32
    assert nn.Linear(2, 2, dtype="float64").bias.dtype == np.float64
    tg.set_default_dtype("float64")
    assert nn.MLP(2, [2], 1)[1].weight.dtype == np.float64


# --- forward ------------------------------------------------------------------------------


def test_layer_forwards_compute_the_right_values():
    x = Tensor([[-2.0, 0.5, 3.0]])
    v = np.array([[-2.0, 0.5, 3.0]])
    np.testing.assert_allclose(nn.ReLU()(x).numpy(), [[0, 0.5, 3]])
    np.testing.assert_allclose(nn.LeakyReLU(0.1)(x).numpy(), [[-0.2, 0.5, 3]], rtol=1e-6)
    np.testing.assert_allclose(nn.Tanh()(x).numpy(), np.tanh(v), rtol=1e-6)
    np.testing.assert_allclose(nn.Sigmoid()(x).numpy(), 1 / (1 + np.exp(-v)), rtol=1e-6)
    gelu = 0.5 * v * (1 + np.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3)))
    np.testing.assert_allclose(nn.GELU("tanh")(x).numpy(), gelu, rtol=1e-6)
    exact = [[v_ * 0.5 * (1 + math.erf(v_ / math.sqrt(2))) for v_ in v[0]]]
    # float32: 1 + erf(x) cancels for x < 0, as in PyTorch's float32 GELU
    np.testing.assert_allclose(nn.GELU()(x).numpy(), exact, rtol=1e-6, atol=2e-7)
    assert nn.Identity()(x) is x
    np.testing.assert_allclose(nn.Softmax(dim=1)(x).numpy(), np.exp(v) / np.exp(v).sum(), rtol=1e-6)
    layer = nn.Linear(3, 2)
    expected = v @ layer.weight.numpy().T + layer.bias.numpy()
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-6)
    assert nn.Linear(3, 2, bias=False)(x).shape == (1, 2)


def test_flatten_dims():
    x = Tensor.zeros(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.Flatten(2)(x).shape == (2, 3, 20)


def test_gelu_is_exact_by_default_and_offers_the_tanh_approximation():
    assert nn.GELU().approximate == "none" and nn.GELU("tanh").approximate == "tanh"
    with pytest.raises(ValueError, match="'none' or 'tanh'"):
        nn.GELU(approximate="erf")


def test_mlp_flattens_images():
    model = nn.MLP(784, [16], 10)
    assert model(Tensor.zeros(4, 1, 28, 28)).shape == (4, 10)


def test_mlp_trains_on_every_backend(xp_backend):
    tg.manual_seed(0)
    model = nn.MLP(4, [8], 3)
    x = Tensor.randn(5, 4)
    loss = tg.functional.cross_entropy(model(x), Tensor([0, 1, 2, 0, 1]))
    loss.backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


# --- modes --------------------------------------------------------------------------------


def test_train_and_eval_toggle_dropout_in_nested_modules():
    model = nn.Sequential(nn.Linear(4, 4), nn.Sequential(nn.Dropout(0.5)))
    dropout = model[1][0]
    assert model.training and dropout.training
    assert model.eval() is model
    assert not model.training and not dropout.training
    x = Tensor.ones(64, 32)
    assert dropout(x) is x  # evaluation: identity
    model.train()
    assert dropout.training
    tg.manual_seed(0)
    out = dropout(x).numpy()
    assert set(np.unique(out)) == {0.0, 2.0}  # dropped, or kept and scaled by 1/(1-p)
    assert 0.4 < (out == 0).mean() < 0.6


def test_dropout_gradient_is_the_mask_scaled():
    tg.manual_seed(1)
    x = Tensor.ones(10, 10, requires_grad=True)
    out = nn.Dropout(0.2)(x)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), out.numpy())  # d out/dx = mask / (1 - p)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        nn.Dropout(1.0)


def test_to_converts_every_parameter():
    model = nn.MLP(3, [2], 1).to("float64")
    assert {p.dtype for p in model.parameters()} == {np.dtype("float64")}


# --- state dict ---------------------------------------------------------------------------


def test_state_dict_is_a_copy_and_round_trips():
    tg.manual_seed(0)
    source = nn.MLP(6, [5], 3)
    state = source.state_dict()
    assert list(state) == ["1.weight", "1.bias", "3.weight", "3.bias"]
    assert all(isinstance(v, np.ndarray) for v in state.values())
    state["1.bias"][:] = 100.0  # changing the copy leaves the model alone
    assert source[1].bias.numpy().max() < 1
    state = source.state_dict()
    target = nn.MLP(6, [5], 3)
    assert target.load_state_dict(state) == ([], [])
    x = Tensor.randn(4, 6)
    np.testing.assert_array_equal(source(x).numpy(), target(x).numpy())
    state["1.bias"][:] = 100.0  # the loaded model holds its own copy
    assert target[1].bias.numpy().max() < 1


def test_load_state_dict_converts_dtype():
    model = nn.Linear(2, 2)
    model.load_state_dict({"weight": np.eye(2), "bias": [1, 2]})
    assert model.weight.dtype == np.float32 and model.bias.dtype == np.float32
    np.testing.assert_array_equal(model.bias.numpy(), [1.0, 2.0])


def test_load_state_dict_names_key_and_both_shapes():
    model = nn.MLP(6, [5], 3)
    state = model.state_dict()
    state["1.weight"] = np.zeros((4, 6))
    with pytest.raises(nn.StateDictError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    assert "size mismatch for 1.weight" in message
    assert "expects shape (5, 6)" in message and "has (4, 6)" in message
    assert isinstance(info.value, UserError)


def test_load_state_dict_reports_missing_and_unexpected_keys():
    model = nn.MLP(6, [5], 3)
    state = model.state_dict()
    del state["3.bias"]
    state["5.weight"] = np.zeros(3)
    with pytest.raises(
        nn.StateDictError, match=r"missing key\(s\): 3\.bias.*unexpected key\(s\): 5\.weight"
    ):
        model.load_state_dict(state)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["3.bias"] and result.unexpected_keys == ["5.weight"]


# --- gradients ----------------------------------------------------------------------------


def call_with_parameters(model: nn.Module, tensors, x: Tensor) -> Tensor:
    """Run `model` with its parameters replaced by `tensors` (in named_parameters order)."""
    modules = dict(model.named_modules())
    saved = []
    for (name, _), tensor in zip(list(model.named_parameters()), tensors):
        path, _, attr = name.rpartition(".")
        owner = modules[path]
        saved.append((owner, attr, getattr(owner, attr)))
        setattr(owner, attr, tensor)
    try:
        return model(x)
    finally:
        for owner, attr, param in saved:
            setattr(owner, attr, param)


@pytest.mark.parametrize(
    "build, input_shape",
    [
        (lambda: nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2), nn.Sigmoid()), (5, 3)),
        (
            lambda: nn.Sequential(
                nn.Flatten(),
                nn.Linear(6, 5),
                nn.GELU(),
                nn.Linear(5, 4),
                nn.LeakyReLU(0.1),
                nn.Linear(4, 3),
                nn.Softmax(),
            ),
            (2, 2, 3),
        ),
        (lambda: nn.MLP(4, [3, 3], 2, activation="relu"), (3, 4)),
    ],
)
def test_gradients_through_sequential_match_finite_differences(build, input_shape):
    tg.manual_seed(3)
    model = build().to("float64")
    x = Tensor.randn(*input_shape, dtype="float64", requires_grad=True)
    params = list(model.parameters())
    # the swap is real: other parameter values give other outputs (else the check is vacuous)
    zeroed = call_with_parameters(model, [Tensor.zeros_like(p) for p in params], x)
    assert not np.allclose(zeroed.numpy(), model(x).numpy())
    assert tg.gradcheck(
        lambda x, *ps: call_with_parameters(model, ps, x), [x, *params], atol=1e-6, rtol=1e-5
    )


def test_backward_through_model_fills_parameter_grads_like_the_functional_form():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = Tensor.randn(5, 3)
    model(x).sum().backward()
    w1, b1, w2, b2 = (Tensor(p.numpy(), requires_grad=True) for p in model.parameters())
    (tg.functional.linear(tg.functional.linear(x, w1, b1).relu(), w2, b2)).sum().backward()
    for p, q in zip(model.parameters(), (w1, b1, w2, b2)):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6)


# --- the call hook ------------------------------------------------------------------------


def test_trace_calls_sees_containers_before_children_and_restores():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU()))
    seen = []

    def tracer(module, run):
        seen.append(type(module).__name__)
        return run()

    with nn.trace_calls(tracer):
        out = model(Tensor.ones(1, 2))
    assert out.shape == (1, 2)
    assert seen == ["Sequential", "Linear", "Sequential", "ReLU"]
    model(Tensor.ones(1, 2))
    assert len(seen) == 4  # uninstalled after the block


# --- buffers, apply, requires_grad_, to -----------------------------------------------------


def bn_model():
    tg.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3), nn.Linear(3, 1))


def test_state_dict_holds_buffers_under_pytorchs_names_and_order():
    model = bn_model()
    # PyTorch 2.13's keys for the same Sequential, in its order
    assert list(model.state_dict()) == [
        "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
        "1.num_batches_tracked", "2.weight", "2.bias",
    ]  # fmt: skip
    assert [name for name, _ in model.named_buffers()] == [
        "1.running_mean", "1.running_var", "1.num_batches_tracked",
    ]  # fmt: skip
    assert len(list(model.buffers())) == 3 and len(list(model.parameters())) == 6
    model(Tensor(np.random.default_rng(0).standard_normal((8, 3))))
    state = model.state_dict()
    assert state["1.num_batches_tracked"] == 1 and state["1.num_batches_tracked"].dtype == np.int64
    twin = bn_model()
    twin.load_state_dict(state)
    np.testing.assert_array_equal(twin[1].running_var.numpy(), model[1].running_var.numpy())
    assert twin[1].num_batches_tracked.item() == 1
    del state["1.running_mean"]
    with pytest.raises(nn.StateDictError, match=r"missing key\(s\): 1.running_mean"):
        twin.load_state_dict(state)


def test_non_persistent_buffers_are_not_saved():
    module = nn.Identity()
    module.register_buffer("scale", Tensor([2.0]), persistent=False)
    module.register_buffer("offset", Tensor([1.0]))
    assert [n for n, _ in module.named_buffers()] == ["scale", "offset"]
    assert list(module.state_dict()) == ["offset"]
    module.offset = Tensor([5.0])  # reassigning keeps it a buffer
    assert module.state_dict()["offset"].tolist() == [5.0]
    with pytest.raises(TypeError, match="Parameter"):
        module.register_buffer("w", nn.Parameter([1.0]))


def test_apply_visits_children_first_and_returns_the_module():
    model = bn_model()
    seen = []
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "BatchNorm1d", "Linear", "Sequential"]  # PyTorch's order

    def init(m):
        if isinstance(m, nn.Linear):
            m.weight.data[...] = 0.5

    model.apply(init)
    assert np.all(model[0].weight.numpy() == 0.5) and np.all(model[2].weight.numpy() == 0.5)


def test_requires_grad_freezes_and_unfreezes_every_parameter():
    model = bn_model()
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    assert model.num_parameters(trainable_only=True) == 0 and model.num_parameters() == 22
    model[2].requires_grad_()
    assert [n for n, p in model.named_parameters() if p.requires_grad] == ["2.weight", "2.bias"]


def test_to_converts_floating_buffers_and_keeps_integer_ones():
    model = bn_model().to("float64")
    assert model[1].running_mean.dtype == np.float64 and model[1].weight.dtype == np.float64
    assert model[1].num_batches_tracked.dtype == np.int64
    out = model(Tensor(np.ones((4, 3)), dtype="float64"))
    assert out.dtype == np.float64


def test_batch_norm_and_layer_norm_rows_in_the_summary():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 4), nn.BatchNorm1d(4), nn.LayerNorm(4), nn.Linear(4, 2))
    text = str(tg.summary(model, input_size=(16, 8)))
    assert "├─BatchNorm1d: 1-2                       [16, 4]                   8" in text
    assert "├─LayerNorm: 1-3                         [16, 4]                   8" in text
    assert "Total params: 62" in text  # buffers are not parameters (torchinfo counts 62 too)


# --- the new layers in specs ------------------------------------------------------------------

NORM_SPEC = """
name: norm-test
seed: 1
model:
  input: [2]
  layers: [linear: 8, batch_norm, relu, {layer_norm: {eps: 0.001}}, {gelu: tanh}, linear: 2]
data: {source: moons, n_samples: 100, noise: 0.1}
loss: cross_entropy
optimizer: {name: adam, lr: 0.05}
train: {epochs: 2, batch_size: 16}
"""


def test_layer_norm_batch_norm_and_gelu_options_in_a_spec(tmp_path):
    from tinygrad_edu import runs
    from tinygrad_edu.io import npz
    from tinygrad_edu.spec import build_model, parse_spec

    spec = parse_spec(NORM_SPEC)
    model = build_model(spec)
    assert [type(m).__name__ for m in model] == [
        "Linear", "BatchNorm1d", "ReLU", "LayerNorm", "GELU", "Linear",
    ]  # fmt: skip
    assert (model[1].num_features, model[3].normalized_shape, model[3].eps) == (8, (8,), 0.001)
    assert model[4].approximate == "tanh" and build_model(parse_spec(
        NORM_SPEC.replace("{gelu: tanh}", "gelu"))
    )[4].approximate == "none"  # fmt: skip
    path = tmp_path / "spec.yaml"
    path.write_text(NORM_SPEC)
    runs.train(path, {}, out=tmp_path / "run", quiet=True)
    saved = npz.load_npz(tmp_path / "run" / "model.npz")
    # 70 training samples in batches of 16: 5 batches per epoch, 2 epochs
    assert saved["model/1.num_batches_tracked"] == 10
    assert "model/1.running_var" in saved and "model/3.weight" in saved


def test_batch_norm_needs_flat_or_channel_samples():
    from tinygrad_edu.spec import SpecError, parse_spec

    bad = NORM_SPEC.replace("input: [2]", "input: [2, 3, 4]")
    with pytest.raises(SpecError, match=r"batch_norm \(BatchNorm1d\) takes samples of shape"):
        parse_spec(bad)


# --- loading a CLI run's model from Python --------------------------------------------------------

RUN_SPEC = """
name: load-test
seed: 2
model: {input: [2], mlp: {hidden: [6], outputs: 2}}
data: {source: moons, n_samples: 80, noise: 0.1}
loss: cross_entropy
optimizer: {name: sgd, lr: 0.1}
train: {epochs: 1, batch_size: 16}
"""


def test_runs_load_model_and_load_weights_give_the_trained_network(tmp_path):
    from tinygrad_edu import runs
    from tinygrad_edu.io import npz

    path = tmp_path / "spec.yaml"
    path.write_text(RUN_SPEC)
    runs.train(path, {}, out=tmp_path / "run", quiet=True)
    saved = npz.load_npz(tmp_path / "run" / "model.npz")
    model = tg.runs.load_model(tmp_path / "run")
    assert isinstance(model, nn.MLP) and not model.training
    np.testing.assert_array_equal(model[1].weight.numpy(), saved["model/1.weight"])
    weights = tg.runs.load_weights(tmp_path / "run")
    assert list(weights) == ["1.weight", "1.bias", "3.weight", "3.bias"]  # no model/ prefix
    mine = nn.MLP(2, [6], 2)
    mine.load_state_dict(weights)
    x = Tensor([[0.5, -0.2], [1.0, 0.3]])
    np.testing.assert_array_equal(mine(x).numpy(), model(x).numpy())
    with pytest.raises(tg.errors.UserError, match="run folder not found"):
        tg.runs.load_model(tmp_path / "nothing")


def test_import_stays_lazy_about_the_training_stack():
    import subprocess
    import sys

    code = (
        "import sys, tinygrad_edu as tg; "
        "assert 'tinygrad_edu.runs' not in sys.modules; "
        "assert tg.runs.load_model; print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        tg.nope  # noqa: B018
