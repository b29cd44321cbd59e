"""Optimizers and schedules against hand-computed updates and PyTorch's formulas."""

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
    assert state["lr"] == kwargs["lr"]
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
        "betas", "eps", "lr", "state.0.exp_avg", "state.0.exp_avg_sq", "state.0.step",
        "weight_decay",
    ]  # fmt: skip
    assert state["state.0.step"] == 1 and state["state.0.exp_avg"].shape == (2, 3)
    np.testing.assert_array_equal(state["betas"], [0.9, 0.999])
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
