"""Optimizers and schedules against hand-computed updates, PyTorch's formulas and its numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn, optim

# --- independent NumPy references (PyTorch's documented pseudo-code) ----------------------


def sgd_reference(p, grads, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    p = p.copy()
    buf = None
    for g in grads:
        d_p = g + weight_decay * p
        if momentum != 0:
            buf = d_p.copy() if buf is None else momentum * buf + (1 - dampening) * d_p
            d_p = d_p + momentum * buf if nesterov else buf
        p = p - lr * d_p
    return p


def adam_reference(p, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    b1, b2 = betas
    p = p.copy()
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        if decoupled:
            p = p - lr * weight_decay * p
        else:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


def gradient_sequence(shape=(3, 4), steps=5, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for _ in range(steps)]


def run(optimizer_cls, p0, grads, dtype="float64", **kwargs):
    """Apply `grads` one per step through the optimizer; return the parameter's values."""
    param = nn.Parameter(p0.copy(), dtype=dtype)
    opt = optimizer_cls([param], **kwargs)
    for g in grads:
        param.grad = Tensor(g, dtype=dtype)
        opt.step()
    return param.numpy()


P0 = np.random.default_rng(99).standard_normal((3, 4))
GRADS = gradient_sequence()

SGD_CASES = [
    dict(lr=0.1),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.05, momentum=0.8, dampening=0.3),
    dict(lr=0.1, momentum=0.9, nesterov=True),
    dict(lr=0.1, weight_decay=0.01),
    dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.05),
]


@pytest.mark.parametrize("kwargs", SGD_CASES, ids=lambda k: ",".join(k))
def test_sgd_matches_reference_over_several_steps(kwargs):
    np.testing.assert_allclose(
        run(optim.SGD, P0, GRADS, **kwargs), sgd_reference(P0, GRADS, **kwargs), rtol=1e-12
    )


ADAM_CASES = [
    dict(lr=1e-3),
    dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6),
    dict(lr=0.01, weight_decay=0.1),
]


@pytest.mark.parametrize("kwargs", ADAM_CASES, ids=lambda k: ",".join(k))
def test_adam_matches_reference_over_several_steps(kwargs):
    np.testing.assert_allclose(
        run(optim.Adam, P0, GRADS, **kwargs), adam_reference(P0, GRADS, **kwargs), rtol=1e-12
    )


@pytest.mark.parametrize("kwargs", [dict(lr=0.01), dict(lr=0.01, weight_decay=0.3)])
def test_adamw_matches_reference_with_decoupled_decay(kwargs):
    reference_kwargs = {"weight_decay": 1e-2, **kwargs}  # AdamW's default decay is 1e-2
    expected = adam_reference(P0, GRADS, decoupled=True, **reference_kwargs)
    np.testing.assert_allclose(run(optim.AdamW, P0, GRADS, **kwargs), expected, rtol=1e-12)


# --- hand-computed values -----------------------------------------------------------------


def constant_steps(opt_factory, steps, grad=1.0, p0=0.0):
    param = nn.Parameter([p0], dtype="float64")
    opt = opt_factory([param])
    values = []
    for _ in range(steps):
        param.grad = Tensor([grad], dtype="float64")
        opt.step()
        values.append(param.item())
    return values


def test_sgd_momentum_by_hand():
    # b1 = g = 1, p = -0.1; b2 = 0.9 + 1 = 1.9, p = -0.29; b3 = 1.71 + 1 = 2.71, p = -0.561
    values = constant_steps(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), 3)
    assert values == pytest.approx([-0.1, -0.29, -0.561])


def test_sgd_dampening_does_not_scale_the_first_buffer():
    # b1 = g = 1 (not 0.5), p = -0.1; b2 = 0.9 * 1 + 0.5 * 1 = 1.4, p = -0.24
    values = constant_steps(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.5), 2)
    assert values == pytest.approx([-0.1, -0.24])


def test_sgd_nesterov_by_hand():
    # b1 = 1, step g + 0.9 b1 = 1.9, p = -0.19; b2 = 1.9, step 1 + 1.71 = 2.71, p = -0.461
    values = constant_steps(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True), 2)
    assert values == pytest.approx([-0.19, -0.461])


def test_adam_moves_by_lr_times_the_sign_for_a_constant_gradient():
    # with a constant g the corrected moments are m = g and v = g^2: each step is lr * g / |g|
    values = constant_steps(lambda ps: optim.Adam(ps, lr=0.01), 3, grad=-4.0)
    assert values == pytest.approx([0.01, 0.02, 0.03], rel=1e-8)


def test_adamw_decays_before_the_adam_step():
    # p = 1 * (1 - 0.01 * 0.1) - 0.01 * sign(2) = 0.999 - 0.01
    values = constant_steps(lambda ps: optim.AdamW(ps, lr=0.01, weight_decay=0.1), 1, 2.0, 1.0)
    assert values == pytest.approx([0.989])
    # Adam's L2 adds wd * p to the gradient instead: still one lr-sized step, no shrinking
    values = constant_steps(lambda ps: optim.Adam(ps, lr=0.01, weight_decay=0.1), 1, 2.0, 1.0)
    assert values == pytest.approx([0.99])


# --- mechanics ----------------------------------------------------------------------------


def test_float32_stays_float32_and_updates_are_in_place():
    p0, grads = P0.astype(np.float32), [g.astype(np.float32) for g in GRADS]
    for opt_cls, kwargs, reference in [
        (optim.SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.01), sgd_reference),
        (optim.Adam, dict(lr=0.01), adam_reference),
    ]:
        param = nn.Parameter(p0.copy())
        opt = opt_cls([param], **kwargs)
        data = param.data
        for g in grads:
            param.grad = Tensor(g)
            opt.step()
        assert param.data is data and param.dtype == np.float32
        assert all(v.dtype == np.float32 for v in opt.state[0].values() if hasattr(v, "dtype"))
        expected = reference(P0, GRADS, **kwargs)
        np.testing.assert_allclose(param.numpy(), expected, rtol=1e-4, atol=1e-5)


def test_state_buffers_are_reused_across_steps():
    param = nn.Parameter(P0.copy())
    opt = optim.Adam([param])
    param.grad = Tensor(GRADS[0])
    opt.step()
    m, v = opt.state[0]["exp_avg"], opt.state[0]["exp_avg_sq"]
    param.grad = Tensor(GRADS[1])
    opt.step()
    assert opt.state[0]["exp_avg"] is m and opt.state[0]["exp_avg_sq"] is v


def test_momentum_buffer_does_not_alias_a_shared_gradient():
    # a + b gives both leaves the very same gradient array; buffers must stay separate
    a = nn.Parameter([1.0, 2.0])
    b = nn.Parameter([3.0, 4.0])
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9)
    for _ in range(2):
        opt.zero_grad()
        (a + b).sum().backward()
        opt.step()
    np.testing.assert_allclose(a.numpy(), [1 - 0.29, 2 - 0.29], rtol=1e-6)
    np.testing.assert_allclose(b.numpy(), [3 - 0.29, 4 - 0.29], rtol=1e-6)


def test_parameters_without_gradient_are_skipped_and_steps_count_per_parameter():
    a = nn.Parameter([0.0], dtype="float64")
    b = nn.Parameter([0.0], dtype="float64")
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = Tensor([1.0], dtype="float64")
    opt.step()
    assert b.item() == 0.0 and 1 not in opt.state
    b.grad = Tensor([1.0], dtype="float64")
    opt.step()
    assert opt.state[0]["step"] == 2 and opt.state[1]["step"] == 1
    assert b.item() == pytest.approx(-0.1)  # b's first step: lr * sign(g)


def test_zero_grad_and_training_a_model_end_to_end():
    tg.manual_seed(0)
    model = nn.MLP(2, [16], 2)
    x = Tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = Tensor([0, 1, 1, 0])
    opt = optim.Adam(model.parameters(), lr=0.05)
    first = None
    for _ in range(200):
        opt.zero_grad()
        assert all(p.grad is None for p in model.parameters())
        loss = tg.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < 0.05 < first  # XOR learned


def test_optimizers_give_the_same_result_on_every_backend(xp_backend):
    for opt_cls, kwargs, reference in [
        (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01), sgd_reference),
        (optim.AdamW, dict(lr=0.01), adam_reference),
    ]:
        result = run(opt_cls, P0, GRADS, **kwargs)
        if opt_cls is optim.AdamW:
            kwargs = dict(kwargs, decoupled=True, weight_decay=1e-2)
        np.testing.assert_allclose(result, reference(P0, GRADS, **kwargs), rtol=1e-12)


def test_invalid_arguments_are_refused():
    p = nn.Parameter([1.0])
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="learning rate"):
        optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(TypeError, match="Tensors"):
        optim.SGD([np.zeros(2)], lr=0.1)
    assert len(optim.SGD([p, p], lr=0.1).params) == 1


# --- state dict ---------------------------------------------------------------------------


def npz_round_trip(state, path):
    np.savez(path, **state)
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


@pytest.mark.parametrize(
    "opt_cls, kwargs",
    [
        (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
        (optim.Adam, dict(lr=0.01, betas=(0.8, 0.95), weight_decay=0.1)),
        (optim.AdamW, dict(lr=0.01)),
    ],
)
def test_state_dict_through_npz_gives_an_identical_continuation(opt_cls, kwargs, tmp_path):
    grads = gradient_sequence(steps=6)
    original = nn.Parameter(P0.copy())
    opt = opt_cls([original], **kwargs)
    for g in grads[:3]:
        original.grad = Tensor(g)
        opt.step()
    state = opt.state_dict()
    assert all(isinstance(v, (np.ndarray, float, int)) for v in state.values())
    assert state["param_groups.0.lr"] == kwargs["lr"]
    restored = nn.Parameter(original.numpy().copy())
    opt2 = opt_cls([restored], lr=123.0)
    opt2.load_state_dict(npz_round_trip(state, tmp_path / "opt.npz"))
    assert opt2.lr == kwargs["lr"] and repr(opt2) == repr(opt)
    for g in grads[3:]:
        for p, o in ((original, opt), (restored, opt2)):
            p.grad = Tensor(g)
            o.step()
    np.testing.assert_array_equal(original.numpy(), restored.numpy())


def test_adam_state_dict_keys():
    p = nn.Parameter(np.zeros((2, 3)))
    opt = optim.Adam([p], lr=0.01)
    p.grad = Tensor(np.ones((2, 3)))
    opt.step()
    state = opt.state_dict()
    assert sorted(state) == [
        "param_groups.0.amsgrad", "param_groups.0.betas", "param_groups.0.eps",
        "param_groups.0.lr", "param_groups.0.maximize", "param_groups.0.params",
        "param_groups.0.weight_decay", "state.0.exp_avg", "state.0.exp_avg_sq", "state.0.step",
    ]  # fmt: skip
    assert state["state.0.step"] == 1 and state["state.0.exp_avg"].shape == (2, 3)
    np.testing.assert_array_equal(state["param_groups.0.betas"], [0.9, 0.999])
    np.testing.assert_array_equal(state["param_groups.0.params"], [0])
    state["state.0.exp_avg"][:] = 5  # a copy
    assert float(opt.state[0]["exp_avg"][0, 0]) != 5


def test_load_state_dict_errors_name_the_key():
    p = nn.Parameter(np.zeros((2, 3)))
    adam = optim.Adam([p])
    p.grad = Tensor(np.ones((2, 3)))
    adam.step()
    state = adam.state_dict()
    with pytest.raises(optim.OptimizerStateError, match="missing key.*momentum"):
        optim.SGD([p], lr=0.1).load_state_dict(state)
    bad = dict(state, **{"state.0.exp_avg": np.zeros((3, 2))})
    with pytest.raises(optim.OptimizerStateError, match=r"state.0.exp_avg has shape \(3, 2\)"):
        optim.Adam([p]).load_state_dict(bad)
    with pytest.raises(optim.OptimizerStateError, match="unexpected key 'state.0.velocity'"):
        optim.Adam([p]).load_state_dict(dict(state, **{"state.0.velocity": np.zeros((2, 3))}))
    with pytest.raises(optim.OptimizerStateError, match="refers to parameter 4"):
        optim.Adam([p]).load_state_dict(dict(state, **{"state.4.step": 1}))
    partial = {k: v for k, v in state.items() if k != "state.0.exp_avg_sq"}
    with pytest.raises(optim.OptimizerStateError, match="lacks state.0.exp_avg_sq"):
        optim.Adam([p]).load_state_dict(partial)


# --- schedules ----------------------------------------------------------------------------


def lr_sequence(scheduler, epochs):
    lrs = [scheduler.get_last_lr()[0]]
    for _ in range(epochs - 1):
        scheduler.optimizer.step()
        scheduler.step()
        assert scheduler.optimizer.lr == scheduler.get_last_lr()[0]
        lrs.append(scheduler.optimizer.lr)
    return lrs


def test_step_lr_follows_pytorchs_documented_example():
    # PyTorch's docs: lr = 0.05 for epochs 0-29, 0.005 for 30-59, 0.0005 for 60-89
    opt = optim.SGD([nn.Parameter([0.0])], lr=0.05)
    lrs = lr_sequence(optim.StepLR(opt, step_size=30, gamma=0.1), 90)
    assert lrs[:30] == pytest.approx([0.05] * 30)
    assert lrs[30:60] == pytest.approx([0.005] * 30)
    assert lrs[60:] == pytest.approx([0.0005] * 30)


def test_step_lr_closed_form():
    opt = optim.SGD([nn.Parameter([0.0])], lr=0.1)
    lrs = lr_sequence(optim.StepLR(opt, step_size=3, gamma=0.5), 12)
    assert lrs == pytest.approx([0.1 * 0.5 ** (e // 3) for e in range(12)], rel=1e-15)


def test_cosine_annealing_closed_form_and_endpoints():
    opt = optim.Adam([nn.Parameter([0.0])], lr=0.1)
    lrs = lr_sequence(optim.CosineAnnealingLR(opt, T_max=10, eta_min=0.001), 16)
    expected = [0.001 + (0.1 - 0.001) * (1 + math.cos(math.pi * e / 10)) / 2 for e in range(16)]
    assert lrs == pytest.approx(expected, rel=1e-15)
    assert lrs[0] == pytest.approx(0.1)
    assert lrs[5] == pytest.approx((0.1 + 0.001) / 2)
    assert lrs[10] == pytest.approx(0.001)


def test_scheduler_state_dict_restores_the_schedule(tmp_path):
    opt = optim.SGD([nn.Parameter([0.0])], lr=0.1, momentum=0.9)
    sched = optim.CosineAnnealingLR(opt, T_max=8, eta_min=0.01)
    lr_sequence(sched, 4)
    opt2 = optim.SGD([nn.Parameter([0.0])], lr=0.5, momentum=0.9)
    sched2 = optim.CosineAnnealingLR(opt2, T_max=3)
    opt2.load_state_dict(npz_round_trip(opt.state_dict(), tmp_path / "o.npz"))
    sched2.load_state_dict(npz_round_trip(sched.state_dict(), tmp_path / "s.npz"))
    assert sched2.state_dict() == sched.state_dict()
    assert sched2.get_last_lr() == sched.get_last_lr()
    assert lr_sequence(sched2, 6) == lr_sequence(sched, 6)
    with pytest.raises(optim.OptimizerStateError, match="missing key.*gamma"):
        optim.StepLR(opt, 2).load_state_dict(sched.state_dict())


# --- PyTorch's numbers (torch 2.13, float64, recorded; the tests do not import torch) ---------

TORCH_P0 = np.array([0.5, -1.2, 2.0, 0.1])
TORCH_GRADS = np.random.default_rng(7).standard_normal((5, 4))

# (optimizer, options, the parameter after the five gradients of TORCH_GRADS, from PyTorch)
TORCH_CASES = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01, "maximize": True},
     [0.09038984916250561, -1.7929403262882928, 1.819494926246546, 0.29486608965649697]),
    ("SGD", {"lr": 0.1, "maximize": True},
     [0.2815552551347247, -1.4701459723056354, 1.83453732351563, 0.12122758696306317]),
    ("Adam", {"lr": 0.1, "amsgrad": True},
     [0.6922362999807214, -1.021907068470688, 2.1321055399966617, 0.09475594422749495]),
    ("Adam", {"lr": 0.05, "betas": (0.8, 0.9), "weight_decay": 0.1, "amsgrad": True,
              "maximize": True},
     [0.2941789139587794, -1.2773897561179117, 1.8512437025220838, 0.1060193436034044]),
    ("AdamW", {"lr": 0.1, "amsgrad": True},
     [0.6896861432182673, -1.0158889182653232, 2.121677418487033, 0.09404470563080959]),
    ("RMSprop", {},
     [0.6474772083150042, -1.0621858115394929, 2.0926524850248227, 0.1145923792802506]),
    ("RMSprop", {"lr": 0.05, "alpha": 0.9, "eps": 1e-06, "weight_decay": 0.1, "momentum": 0.8,
                 "centered": True},
     [0.819936611117513, -0.768449233276679, 1.7837009428920991, 0.13406980362380577]),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "maximize": True},
     [0.3113724202207854, -1.397273615195963, 1.8950642532549011, 0.10060793490565509]),
    ("RMSprop", {"lr": 0.01, "centered": True},
     [0.649038039920186, -1.0610670079182822, 2.09332776224187, 0.11489674376455598]),
    ("Adagrad", {},
     [0.514719219068378, -1.1863059466037857, 2.0092830414154537, 0.10146682274537094]),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.1,
                 "initial_accumulator_value": 0.2, "eps": 1e-06},
     [0.6583036071665322, -1.0258308897591208, 1.9547054406096194, 0.10705152802521697]),
    ("Adagrad", {"lr": 0.1, "maximize": True},
     [0.3528078093162196, -1.3369405339621414, 1.9071695858454651, 0.08533177254629071]),
]  # fmt: skip


@pytest.mark.parametrize("name, kwargs, expected", TORCH_CASES, ids=lambda v: str(v)[:40])
def test_updates_match_pytorch(name, kwargs, expected):
    result = run(getattr(optim, name), TORCH_P0, TORCH_GRADS, **kwargs)
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name, kwargs, expected", TORCH_CASES[2::3], ids=lambda v: str(v)[:40])
def test_new_optimizers_on_every_backend(xp_backend, name, kwargs, expected):
    result = run(getattr(optim, name), TORCH_P0, TORCH_GRADS, **kwargs)
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name, kwargs, expected", TORCH_CASES, ids=lambda v: str(v)[:40])
def test_every_state_round_trips_through_npz(name, kwargs, expected, tmp_path):
    cls = getattr(optim, name)
    original = nn.Parameter(TORCH_P0.copy(), dtype="float64")
    opt = cls([original], **kwargs)
    for g in TORCH_GRADS[:2]:
        original.grad = Tensor(g)
        opt.step()
    restored = nn.Parameter(original.numpy().copy(), dtype="float64")
    opt2 = cls([restored], lr=0.123)
    opt2.load_state_dict(npz_round_trip(opt.state_dict(), tmp_path / "opt.npz"))
    assert repr(opt2) == repr(opt)
    for g in TORCH_GRADS[2:]:
        restored.grad = Tensor(g)
        opt2.step()
    np.testing.assert_allclose(restored.numpy(), expected, rtol=1e-12, atol=1e-15)


def test_param_groups_have_their_own_options_and_pytorchs_repr():
    a, b = nn.Parameter([1.0], dtype="float64"), nn.Parameter([1.0], dtype="float64")
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.01, "momentum": 0.5}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert opt.param_groups[1]["params"] == [b] and opt.param_groups[0]["momentum"] == 0.0
    for p in (a, b):
        p.grad = Tensor([2.0], dtype="float64")
    opt.step()
    assert (a.item(), b.item()) == pytest.approx((1 - 0.2, 1 - 0.02))
    assert repr(opt).splitlines()[:3] == ["SGD (", "Parameter Group 0", "    dampening: 0.0"]
    assert "Parameter Group 1\n    dampening: 0.0\n    lr: 0.01\n    maximize: False" in repr(opt)
    opt.lr = 0.5  # sets every group, as a schedule does
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.5]
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [a]}, {"params": [a]}], lr=0.1)
    opt.add_param_group({"params": [nn.Parameter([0.0])], "lr": 3.0})
    assert len(opt.params) == 3 and opt.param_groups[2]["lr"] == 3.0


def test_param_groups_state_dict_checks_the_group_sizes(tmp_path):
    a, b, c = (nn.Parameter(np.zeros(2)) for _ in range(3))
    opt = optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.5, "amsgrad": True}])
    for p in (a, b, c):
        p.grad = Tensor(np.ones(2))
    opt.step()
    state = npz_round_trip(opt.state_dict(), tmp_path / "o.npz")
    np.testing.assert_array_equal(state["param_groups.1.params"], [2])
    assert "state.2.max_exp_avg_sq" in state and "state.0.max_exp_avg_sq" not in state
    twin = optim.Adam([{"params": [a, b]}, {"params": [c]}])
    twin.load_state_dict(state)
    assert twin.param_groups[1]["lr"] == 0.5 and twin.param_groups[1]["amsgrad"] is True
    with pytest.raises(optim.OptimizerStateError, match="group 0 held 2 parameters.*holds 1"):
        optim.Adam([{"params": [a]}, {"params": [b, c]}]).load_state_dict(state)


def test_zero_grad_sets_none_by_default_or_zeros():
    p = nn.Parameter([1.0, 2.0])
    opt = optim.SGD([p], lr=0.1)
    (p * p).sum().backward()
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.numpy(), [0.0, 0.0])
    opt.zero_grad()
    assert p.grad is None
    model = nn.Linear(2, 1)
    model(Tensor([[1.0, 2.0]])).sum().backward()
    model.zero_grad(set_to_none=False)
    assert all(float(np.abs(q.grad.numpy()).sum()) == 0 for q in model.parameters())
    model.zero_grad()
    assert all(q.grad is None for q in model.parameters())


def test_new_optimizers_refuse_invalid_options():
    p = nn.Parameter([1.0])
    with pytest.raises(ValueError, match="alpha=-0.5"):
        optim.RMSprop([p], alpha=-0.5)
    with pytest.raises(ValueError, match="lr_decay=-1"):
        optim.Adagrad([p], lr_decay=-1)
    with pytest.raises(ValueError, match="learning rate"):
        optim.RMSprop([p], lr=-0.1)


# --- gradient clipping (PyTorch's numbers) ------------------------------------------------


@pytest.mark.parametrize(
    "norm_type, max_norm, total, ga, gb",
    [
        (2.0, 1.0, 5.5, [0.5454544462810098, -0.7272725950413463, 0.18181814876033658],
         [0.36363629752067317, -0.09090907438016829]),
        (1.0, 2.0, 10.5, [0.571428517006808, -0.7619046893424106, 0.19047617233560266],
         [0.3809523446712053, -0.09523808616780133]),
        (math.inf, 0.5, 4.0, [0.37499990625002344, -0.49999987500003124, 0.12499996875000781],
         [0.24999993750001562, -0.062499984375003904]),
        (2.0, 100.0, 5.5, [3.0, -4.0, 1.0], [2.0, -0.5]),
        (3.0, 1.0, 4.643522023687861, [0.646061187743916, -0.861414916991888, 0.215353729247972],
         [0.430707458495944, -0.107676864623986]),
    ],
)  # fmt: skip
def test_clip_grad_norm_matches_pytorch(norm_type, max_norm, total, ga, gb):
    a, b, c = (nn.Parameter(np.zeros(n)) for n in (3, 2, 1))
    a.grad, b.grad = Tensor([3.0, -4.0, 1.0], dtype="float64"), Tensor([2.0, -0.5], dtype="float64")
    norm = tg.nn.utils.clip_grad_norm_([a, b, c], max_norm, norm_type=norm_type)
    assert norm.item() == pytest.approx(total, rel=1e-14) and c.grad is None
    np.testing.assert_allclose(a.grad.numpy(), ga, rtol=1e-13)
    np.testing.assert_allclose(b.grad.numpy(), gb, rtol=1e-13)


def test_clip_grad_value_and_nonfinite_norm():
    a = nn.Parameter(np.zeros(3))
    a.grad = Tensor([3.0, -4.0, 1.0], dtype="float64")
    tg.nn.utils.clip_grad_value_(a, 1.5)
    np.testing.assert_array_equal(a.grad.numpy(), [1.5, -1.5, 1.0])  # PyTorch's result
    a.grad = Tensor([np.inf, 1.0, 0.0], dtype="float64")
    with pytest.raises(RuntimeError, match="error_if_nonfinite=False"):
        tg.nn.utils.clip_grad_norm_([a], 1.0, error_if_nonfinite=True)
    assert tg.nn.utils.clip_grad_norm_([nn.Parameter([1.0])], 1.0).item() == 0.0


# --- schedules: PyTorch's learning-rate sequences -------------------------------------------


def sequences(make_opt, make_schedule, steps, metrics=None):
    """(lr, momentum or beta1) at construction and after each of `steps - 1` steps."""
    opt = make_opt([nn.Parameter([0.0])])
    schedule = make_schedule(opt)

    def momentum():
        group = opt.param_groups[0]
        return group["betas"][0] if "betas" in group else group.get("momentum")

    lrs, moms = [opt.param_groups[0]["lr"]], [momentum()]
    for i in range(steps - 1):
        opt.step()
        schedule.step(metrics[i]) if metrics else schedule.step()
        lrs.append(opt.param_groups[0]["lr"])
        moms.append(momentum())
        assert schedule.get_last_lr() == [lrs[-1]]
    return lrs, moms


def sgd(params):
    return optim.SGD(params, lr=0.1, momentum=0.9)


def adam(params):
    return optim.Adam(params, lr=0.1)


S = optim.lr_scheduler
SCHEDULE_CASES = [  # (optimizer, schedule, PyTorch's lrs, PyTorch's momenta or None: constant)
    (sgd, lambda o: S.LinearLR(o),
     [0.03333333333333333, 0.04666666666666667, 0.060000000000000005, 0.07333333333333335,
      0.08666666666666668, 0.1, 0.1, 0.1], None),
    (sgd, lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=4),
     [0.1, 0.07750000000000001, 0.055000000000000014, 0.03250000000000001, 0.01, 0.01, 0.01],
     None),
    (sgd, lambda o: S.ExponentialLR(o, gamma=0.9),
     [0.1, 0.09000000000000001, 0.08100000000000002, 0.07290000000000002, 0.06561000000000002,
      0.05904900000000002], None),
    (sgd, lambda o: optim.StepLR(o, step_size=2, gamma=0.5),
     [0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125], None),
    (sgd, lambda o: optim.CosineAnnealingLR(o, T_max=5, eta_min=0.01),
     [0.1, 0.09140576474687263, 0.06890576474687263, 0.04109423525312736, 0.018594235253127367,
      0.01, 0.018594235253127367, 0.04109423525312739], None),
    (sgd, lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=10),
     [0.040000000000000036, 0.52, 1.0, 0.9504846320134737, 0.8117456539497631,
      0.6112620219362893, 0.38874197806371075, 0.18825834605023697, 0.049519367986526286,
      4e-06, 0.04951936798652623],
     [0.95, 0.8999999999999999, 0.85, 0.854951556604879, 0.8688255099070633,
      0.8888739533021842, 0.9111260466978157, 0.9311744900929366, 0.945048443395121, 0.95,
      0.945048443395121]),
    (adam, lambda o: S.OneCycleLR(o, max_lr=0.5, total_steps=8, anneal_strategy="linear",
                                   pct_start=0.25),
     [0.02, 0.5, 0.416667, 0.333334, 0.25000100000000003, 0.16666800000000004,
      0.08333499999999999, 2.000000000002e-06, -0.08333100000000004],
     [0.95, 0.85, 0.8666666666666667, 0.8833333333333333, 0.8999999999999999,
      0.9166666666666666, 0.9333333333333333, 0.95, 0.9666666666666667]),
    (sgd, lambda o: S.OneCycleLR(o, max_lr=1.0, epochs=3, steps_per_epoch=4, three_phase=True,
                                  cycle_momentum=False, div_factor=10, final_div_factor=100),
     [0.09999999999999998, 0.39042780083085904, 0.8868298366769957, 0.9484552115439444,
      0.4957584938851044, 0.11307618215827656, 0.09542498327371238, 0.07827875973543792,
      0.05317987597497816, 0.027313782185360378, 0.008085569779704344, 0.001,
      0.008085569779704326], None),
]  # fmt: skip


@pytest.mark.parametrize("make_opt, make_schedule, lrs, moms", SCHEDULE_CASES)
def test_schedules_follow_pytorchs_sequences(make_opt, make_schedule, lrs, moms):
    found_lrs, found_moms = sequences(make_opt, make_schedule, len(lrs))
    assert found_lrs == pytest.approx(lrs, rel=1e-12, abs=1e-15)
    assert found_moms == pytest.approx(moms or [found_moms[0]] * len(lrs), rel=1e-12)


METRICS = [1.0, 0.9, 0.95, 0.91, 0.92, 0.93, 0.8, 0.85, 0.86, 0.87, 0.88, 0.89]


def test_reduce_lr_on_plateau_follows_pytorch():
    lrs, _ = sequences(sgd, lambda o: S.ReduceLROnPlateau(o, patience=2), 12, METRICS)
    assert lrs == pytest.approx([0.1] * 5 + [0.01] * 5 + [0.001] * 2, rel=1e-12)
    maximize = lambda o: S.ReduceLROnPlateau(  # noqa: E731
        o, mode="max", factor=0.5, patience=1, threshold=0.05, threshold_mode="abs", cooldown=2,
        min_lr=0.02,
    )  # fmt: skip
    lrs, _ = sequences(sgd, maximize, 12, METRICS)
    assert lrs == pytest.approx([0.1] * 3 + [0.05] * 4 + [0.025] * 4 + [0.02], rel=1e-12)


def test_one_cycle_refuses_steps_past_the_end_and_optimizers_without_momentum():
    opt = optim.SGD([nn.Parameter([0.0])], lr=0.1)
    schedule = S.OneCycleLR(opt, max_lr=1.0, total_steps=2)
    schedule.step()
    schedule.step()  # step total_steps is still allowed, as in PyTorch
    with pytest.raises(ValueError, match="stepped 3 times, but total_steps is 2"):
        schedule.step()
    with pytest.raises(ValueError, match="cycle_momentum=False"):
        S.OneCycleLR(optim.Adagrad([nn.Parameter([0.0])]), max_lr=1.0, total_steps=5)


@pytest.mark.parametrize(
    "make_schedule",
    [
        lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=10),
        lambda o: S.LinearLR(o, total_iters=3),
        lambda o: S.ReduceLROnPlateau(o, patience=0, cooldown=1),
    ],
)
def test_schedule_state_round_trips_through_npz(make_schedule, tmp_path):
    def fresh():
        opt = sgd([nn.Parameter([0.0])])
        return opt, make_schedule(opt)

    def advance(opt, schedule, count, start):
        for i in range(start, start + count):
            opt.step()
            schedule.step(METRICS[i]) if isinstance(
                schedule, S.ReduceLROnPlateau
            ) else schedule.step()
        return opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"]

    opt, schedule = fresh()
    advance(opt, schedule, 4, 0)
    opt2, schedule2 = fresh()
    opt2.load_state_dict(npz_round_trip(opt.state_dict(), tmp_path / "o.npz"))
    schedule2.load_state_dict(npz_round_trip(schedule.state_dict(), tmp_path / "s.npz"))
    assert schedule2.get_last_lr() == schedule.get_last_lr()
    assert advance(opt2, schedule2, 5, 4) == advance(opt, schedule, 5, 4)


def test_schedules_act_on_every_param_group():
    a, b = nn.Parameter([0.0]), nn.Parameter([0.0])
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    schedule = S.ExponentialLR(opt, gamma=0.5)
    schedule.step()
    assert schedule.get_last_lr() == [0.05, 0.5] and schedule.base_lrs == [0.1, 1.0]


# --- from specs -----------------------------------------------------------------------------

SPEC = """
name: optim-test
seed: 3
model: {{input: [2], layers: [linear: 8, relu, linear: 2]}}
data: {{source: moons, n_samples: 120, noise: 0.1}}
loss: cross_entropy
optimizer: {optimizer}
scheduler: {scheduler}
train: {{epochs: 4, batch_size: 32}}
"""


def train_spec(tmp_path, optimizer, scheduler):
    import csv

    from tinygrad_edu import runs

    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.format(optimizer=optimizer, scheduler=scheduler))
    runs.train(path, {}, out=tmp_path / "run", quiet=True)
    with open(tmp_path / "run" / "metrics.csv") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize(
    "optimizer, scheduler, lrs",
    [
        # PyTorch's OneCycleLR(RMSprop, max_lr=0.1, total_steps=4) and LinearLR(Adagrad, ...)
        ("{name: rmsprop, momentum: 0.9}", "{name: one_cycle, max_lr: 0.1}",
         [0.0040000000000000036, 0.0811745653949763, 0.028306099820869922, 4e-07]),
        ("{name: adagrad, lr: 0.1}", "{name: linear, start_factor: 0.5, total_iters: 2}",
         [0.05, 0.07500000000000001, 0.1, 0.1]),
        ("{name: sgd, lr: 0.1, maximize: false}", "{name: exponential, gamma: 0.5}",
         [0.1, 0.05, 0.025, 0.0125]),
        ("{name: adam, amsgrad: true}", "{name: step, step_size: 2}", [1e-3, 1e-3, 1e-4, 1e-4]),
    ],
)  # fmt: skip
def test_new_optimizers_and_schedules_train_from_a_spec(tmp_path, optimizer, scheduler, lrs):
    rows = train_spec(tmp_path, optimizer, scheduler)
    assert [float(row["lr"]) for row in rows] == pytest.approx(lrs, rel=1e-12)


def test_reduce_on_plateau_in_a_spec_watches_the_held_out_loss(tmp_path):
    rows = train_spec(
        tmp_path, "{name: sgd, lr: 2.0}", "{name: reduce_on_plateau, patience: 0, factor: 0.5}"
    )
    assert float(rows[-1]["lr"]) < 2.0  # this run's held-out loss rose once: a reduction
    best, lr = math.inf, 2.0
    for row in rows:  # the rule, replayed on the recorded held-out losses
        assert float(row["lr"]) == pytest.approx(lr, rel=1e-12)
        loss = float(row["test_loss"])
        lr = lr if loss < best * (1 - 1e-4) else lr * 0.5
        best = min(best, loss)


def test_one_cycle_spec_problems_are_reported(tmp_path):
    from tinygrad_edu.spec import SpecError, load_spec

    path = tmp_path / "spec.yaml"
    path.write_text(
        SPEC.format(
            optimizer="{name: adagrad}", scheduler="{name: one_cycle, max_lr: 1, total_steps: 2}"
        )
    )
    with pytest.raises(SpecError) as info:
        load_spec(path)
    message = str(info.value)
    assert "total_steps must be at least train.epochs (4); found 2" in message
    assert "adagrad has no momentum to cycle; set cycle_momentum: false" in message


@pytest.mark.parametrize("loss", ["l1", "{name: huber, delta: 0.5}"])
def test_regression_losses_l1_and_huber_train_from_a_spec(tmp_path, loss):
    import csv

    from tinygrad_edu import runs

    path = tmp_path / "spec.yaml"
    path.write_text(
        "name: reg\nmodel: {input: [1], layers: [linear: 16, tanh, linear: 1]}\n"
        "data: {source: function, n_samples: 100}\n"
        f"loss: {loss}\noptimizer: {{name: adam, lr: 0.02}}\n"
        "train: {epochs: 5, batch_size: 20}\n"
    )
    final = runs.train(path, {}, out=tmp_path / "run", quiet=True)
    with open(tmp_path / "run" / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert float(rows[-1]["train_loss"]) < float(rows[0]["train_loss"])
    assert {"test_mae", "test_r2"} <= set(final)  # a regression task
