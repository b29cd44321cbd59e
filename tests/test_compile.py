"""Record and replay (`tinygrad_edu.compile`): replays are bit-identical to eager steps.

Every test runs the same steps twice from the same start, eagerly and compiled, and
compares losses and parameters bit for bit; it also checks that replays really happened
(or that the step fell back to eager, with its reason, where it must).
"""

from __future__ import annotations

import logging
import sys
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor, backend, nn, optim, rng, runs
from tinygrad_edu import functional as F
from tinygrad_edu.io import npz
from tinygrad_edu.training import layout, loop

ACTIVATIONS = {
    "relu": F.relu,
    "tanh": F.tanh,
    "sigmoid": F.sigmoid,
    "leaky_relu": F.leaky_relu,
    "gelu": F.gelu,
}
LOSSES = ("cross_entropy", "mse", "bce_with_logits", "hinge", "multiclass_hinge", "l1", "huber")
"""Every loss a spec can name (the Trainer compiles its step by default)."""
OPTIMIZERS = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.1),
    "sgd_momentum": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=1e-3),
    "sgd_nesterov": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.8, nesterov=True),
    "adam": lambda ps: optim.Adam(ps, lr=1e-2),
    "adamw": lambda ps: optim.AdamW(ps, lr=1e-2, weight_decay=0.1),
}


class Net(nn.Module):
    def __init__(self, widths: list[int], activation: str):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(a, b) for a, b in zip(widths, widths[1:])])
        self.activation = ACTIVATIONS[activation]

    def forward(self, x: Tensor) -> Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = self.activation(x)
        return x


def loss_of(name: str, outputs: Tensor, targets: Tensor) -> Tensor:
    if name == "cross_entropy":
        return F.cross_entropy(outputs, targets)
    if name in ("hinge", "multiclass_hinge"):
        return F.hinge_loss(outputs, targets)
    if name == "bce_with_logits":
        return F.binary_cross_entropy_with_logits(outputs, targets)
    return {"mse": F.mse_loss, "l1": F.l1_loss, "huber": F.huber_loss}[name](outputs, targets)


def make_run(widths, activation, loss, optimizer, seed=0):
    """A fresh model and optimizer (same seed: same weights) and its step function."""
    tg.manual_seed(seed)
    model = Net(widths, activation)
    opt = OPTIMIZERS[optimizer](model.parameters())

    def step(x: Tensor, y: Tensor) -> Tensor:
        value = loss_of(loss, model(x), y)
        opt.zero_grad()
        value.backward()
        opt.step()
        return value

    return model, opt, step


def batches(widths, loss, sizes, seed=1):
    rs = np.random.default_rng(seed)
    out = []
    for n in sizes:
        x = rs.standard_normal((n, widths[0])).astype(np.float32)
        if loss in ("cross_entropy", "multiclass_hinge"):
            y = rs.integers(0, widths[-1], n)
        elif loss in ("mse", "l1", "huber"):
            y = rs.standard_normal((n, widths[-1])).astype(np.float32)
        elif loss == "hinge":  # signs -1/+1
            y = (2 * rs.integers(0, 2, (n, widths[-1])) - 1).astype(np.float32)
        else:
            y = rs.integers(0, 2, (n, widths[-1])).astype(np.float32)
        out.append((Tensor(x), Tensor(y)))
    return out


def bits(t: Tensor) -> bytes:
    return t.numpy().tobytes()


def assert_same_parameters(a: nn.Module, b: nn.Module) -> None:
    pa, pb = list(a.parameters()), list(b.parameters())
    assert len(pa) == len(pb) and pa
    for p, q in zip(pa, pb):
        assert bits(p) == bits(q)
        assert (p.grad is None) == (q.grad is None)
        if p.grad is not None:
            assert bits(p.grad) == bits(q.grad)


def run_both(widths, activation, loss, optimizer, sizes):
    """Eager and compiled runs over the same batches; returns the compiled step."""
    eager_model, _, eager_step = make_run(widths, activation, loss, optimizer)
    model, _, step = make_run(widths, activation, loss, optimizer)
    compiled = tg.compile(step)
    for x, y in batches(widths, loss, sizes):
        expected, got = eager_step(x, y), compiled(x, y)
        assert bits(expected) == bits(got)
    assert_same_parameters(eager_model, model)
    return compiled


@settings(max_examples=25, deadline=None)
@given(
    widths=st.lists(st.integers(1, 9), min_size=2, max_size=4),
    activation=st.sampled_from(sorted(ACTIVATIONS)),
    loss=st.sampled_from(LOSSES),
    optimizer=st.sampled_from(sorted(OPTIMIZERS)),
    batch=st.integers(1, 6),
)
def test_replays_of_random_mlps_are_bit_identical_to_eager_steps(
    widths, activation, loss, optimizer, batch
):
    if loss in ("cross_entropy", "multiclass_hinge"):
        widths[-1] = max(widths[-1], 2)
    elif loss == "hinge":  # one score per sample, a sign for a target
        widths[-1] = 1
    compiled = run_both(widths, activation, loss, optimizer, [batch] * 6)
    assert compiled.fallbacks == {}
    assert compiled.counts["replayed"] >= 2  # recorded twice (three times: momentum), replayed


@pytest.mark.parametrize("loss", LOSSES)
def test_every_loss_a_spec_can_name_is_replayed_bit_for_bit(loss):
    # multi-class hinge takes ~onehot: unary operators without out= must be called afresh
    widths = [3, 5, 1 if loss == "hinge" else 4]
    compiled = run_both(widths, "relu", loss, "sgd_momentum", [8] * 6)
    assert compiled.fallbacks == {}
    assert compiled.counts == {"recorded": 3, "replayed": 3, "eager": 0}


def test_describe_shows_the_tape_and_what_a_replay_runs():
    compiled = run_both([4, 6, 3], "relu", "cross_entropy", "sgd", [5] * 4)
    (tape,) = compiled.tapes.values()
    recorded, replayed = tape.describe(), tape.describe(replayed=True)
    assert "view" in recorded and "view" not in replayed  # views are made once
    assert len(replayed.splitlines()) == len(tape.program) < len(recorded.splitlines())
    assert "matmul" in replayed and "read     int" in replayed  # the label check: a guard


def test_constants_are_made_once_unless_the_step_changes_them_in_place():
    def step(x: Tensor):
        xp = backend.active.xp  # the recording's namespace while recording
        grid = xp.arange(3.0)[None, :]  # from constants alone: the recording's array serves
        total = xp.zeros(3)  # also, but changed in place below: made again at every replay
        total += xp.sum(x.data, axis=0)
        return grid * 10.0 + total

    compiled = tg.compile(step)
    rs = np.random.default_rng(0)
    for _ in range(5):
        x = Tensor(rs.standard_normal((4, 3)))
        assert compiled(x).tobytes() == step(x).tobytes()
    assert compiled.counts == {"recorded": 2, "replayed": 3, "eager": 0}
    replayed = next(iter(compiled.tapes.values())).describe(replayed=True)
    assert "arange" not in replayed and "getitem" not in replayed
    assert "zeros" in replayed


def test_a_smaller_last_batch_records_a_second_tape():
    compiled = run_both([5, 7, 3], "relu", "cross_entropy", "sgd", [8, 8, 8, 8, 5, 5, 5, 8])
    assert len(compiled.tapes) == 2
    assert compiled.counts == {"recorded": 4, "replayed": 4, "eager": 0}


def test_a_changed_learning_rate_records_anew():
    eager_model, eager_opt, eager_step = make_run([4, 6, 2], "tanh", "mse", "sgd_momentum")
    model, opt, step = make_run([4, 6, 2], "tanh", "mse", "sgd_momentum")
    compiled = tg.compile(step)
    for i, (x, y) in enumerate(batches([4, 6, 2], "mse", [3] * 10)):
        if i == 6:  # as a schedule does between epochs
            eager_opt.lr = opt.lr = 0.01
        assert eager_step(x, y).item() == compiled(x, y).item()
    assert_same_parameters(eager_model, model)
    assert compiled.counts["recorded"] == 5 and compiled.counts["replayed"] == 5


def test_replaced_parameters_record_anew():
    widths = [3, 4, 2]
    eager_model, _, eager_step = make_run(widths, "relu", "cross_entropy", "adam")
    model, _, step = make_run(widths, "relu", "cross_entropy", "adam")
    compiled = tg.compile(step)
    for i, (x, y) in enumerate(batches(widths, "cross_entropy", [4] * 8)):
        if i == 4:  # load_state_dict / p.data = ... gives the parameters new arrays
            for p, q in zip(eager_model.parameters(), model.parameters()):
                p.data = np.full(p.shape, 0.1, dtype=np.float32)
                q.data = np.full(q.shape, 0.1, dtype=np.float32)
        assert eager_step(x, y).item() == compiled(x, y).item()
    assert_same_parameters(eager_model, model)
    assert compiled.counts["recorded"] == 4


def fallback_case(body, caplog, calls: int = 4):
    """Run a step that the recorder must refuse; returns its one logged reason."""
    tg.manual_seed(0)
    layer = nn.Linear(3, 2)
    opt = optim.SGD(layer.parameters(), lr=0.1)
    x = Tensor(np.ones((4, 3), dtype=np.float32))

    def step(x):
        loss = body(layer(x))
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    compiled = tg.compile(step)
    with caplog.at_level(logging.WARNING, logger="tinygrad_edu.compile"):
        for _ in range(calls):
            compiled(x)
    assert compiled.counts["replayed"] == 0 and not compiled.tapes
    (reason,) = compiled.fallbacks.values()
    logged = [r.getMessage() for r in caplog.records if r.name == "tinygrad_edu.compile"]
    assert len(logged) == 1 and reason in logged[0]
    return reason


def test_an_unknown_array_method_falls_back_with_its_reason(caplog):
    def body(out):
        copied = Tensor._wrap(out.data.copy())  # a NumPy method: not in the recorder
        return (out * copied).sum()

    assert "array method .copy is not recorded" in fallback_case(body, caplog)


def test_a_data_dependent_shape_falls_back(caplog):
    def body(out):
        xp = tg.get_backend().xp
        xp.nonzero(out.data)
        return out.sum()

    assert "xp.nonzero" in fallback_case(body, caplog)


def test_random_numbers_inside_the_step_fall_back(caplog):
    assert "random numbers" in fallback_case(lambda out: F.dropout(out, 0.5).sum(), caplog)


def test_a_value_read_into_python_that_changes_falls_back(caplog):
    def body(out):
        loss = (out * out).sum()
        if loss.item() > 1e9:  # data-dependent Python control flow
            return loss * 0.0
        return loss

    assert "reads a value into Python that changes" in fallback_case(body, caplog)


def test_a_failed_guard_runs_the_step_eagerly_and_raises_as_eager():
    widths = [3, 4, 3]
    _, _, step = make_run(widths, "relu", "cross_entropy", "sgd")
    compiled = tg.compile(step)
    for x, y in batches(widths, "cross_entropy", [4] * 3):
        compiled(x, y)
    assert compiled.counts["replayed"] == 1
    bad = Tensor(np.array([0, 1, 7, 2]))  # cross_entropy's label check: a guard of the tape
    with pytest.raises(ValueError, match=r"class indices must lie in \[0, 2\]"):
        compiled(x, bad)


def test_array_api_strict_replays_without_out():
    pytest.importorskip("array_api_strict", reason="array-api-strict not installed")
    tg.set_backend("array_api_strict")  # the autouse fixture restores numpy
    compiled = run_both([4, 5, 3], "relu", "cross_entropy", "sgd_momentum", [4] * 6)
    assert compiled.counts["replayed"] == 3 and compiled.fallbacks == {}


def test_training_specs_mlp_compiled_gives_every_weight_bit_for_bit(tmp_path, monkeypatch):
    made = []

    def compile_and_keep(fn, **kwargs):
        made.append(tg.compile(fn, **kwargs))
        return made[-1]

    monkeypatch.setattr(loop, "compile_step", compile_and_keep)
    overrides = {"train.epochs": 2, "train.compile": False}
    eager = runs.train("specs/mlp.yaml", overrides, out=tmp_path / "eager", quiet=True)
    assert not made
    overrides = {"train.epochs": 2, "train.compile": True}
    compiled = runs.train("specs/mlp.yaml", overrides, out=tmp_path / "compiled", quiet=True)
    timing = ("seconds", "run_dir")
    assert {k: v for k, v in eager.items() if not any(t in k for t in timing)} == {
        k: v for k, v in compiled.items() if not any(t in k for t in timing)
    }
    a = npz.load_npz(tmp_path / "eager" / layout.MODEL)
    b = npz.load_npz(tmp_path / "compiled" / layout.MODEL)
    assert a.keys() == b.keys() and any(k.startswith("model/") for k in a)
    for key in a:
        assert np.asarray(a[key]).tobytes() == np.asarray(b[key]).tobytes(), key
    (step,) = made
    assert step.fallbacks == {} and len(step.tapes) == 1  # 4,000 images: 125 full batches
    assert step.counts["replayed"] > 0.9 * (step.counts["replayed"] + step.counts["recorded"])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's overflow warnings: the point
def test_a_diverging_compiled_run_stops_before_the_bad_update(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "name: nan\nmodel: {input: [2], layers: [linear: 8, relu, linear: 2]}\n"
        "data: {source: moons, n_samples: 200}\nloss: cross_entropy\n"
        "optimizer: {name: sgd, lr: 1.0e+30}\ntrain: {epochs: 3, batch_size: 16, compile: true}\n"
    )
    with pytest.raises(loop.TrainingDiverged, match="stopped before that update"):
        runs.train(spec, {}, out=tmp_path / "run", quiet=True)


def test_a_spec_whose_step_cannot_be_replayed_trains_eagerly_and_says_so(
    tmp_path, caplog, monkeypatch
):
    compile_module = sys.modules["tinygrad_edu.jit.compiled_step"]  # where _logged lives
    monkeypatch.setattr(compile_module, "_logged", set())  # each line is logged once a process
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "name: drop\nmodel: {input: [2], layers: [linear: 8, relu, dropout: 0.2, linear: 2]}\n"
        "data: {source: moons, n_samples: 64}\nloss: cross_entropy\n"
        "optimizer: {name: sgd, lr: 0.1}\ntrain: {epochs: 2, batch_size: 16}\n"
    )
    with caplog.at_level(logging.WARNING, logger="tinygrad_edu.compile"):
        runs.train(spec, {}, out=tmp_path / "run", quiet=True)
    logged = [r.getMessage() for r in caplog.records if r.name == "tinygrad_edu.compile"]
    assert logged == [
        "train.compile: running eagerly: the step draws random numbers (rng.generator.random)"
    ]


def test_gradients_accumulated_over_steps_stay_exact():
    """Without zero_grad, .grad grows every step: each step reads a new array, so the
    recordings never agree and the step runs eagerly (correct, if not faster)."""
    widths = [3, 5, 2]
    runs_ = []
    for _ in range(2):
        tg.manual_seed(0)
        model = Net(widths, "relu")
        opt = optim.Adam(model.parameters(), lr=1e-2)

        def step(x, y, model=model, opt=opt):
            loss = F.cross_entropy(model(x), y)
            loss.backward()  # no zero_grad: gradients accumulate
            opt.step()
            return loss

        runs_.append((model, step))
    (eager_model, eager_step), (model, step) = runs_
    compiled = tg.compile(step)
    for x, y in batches(widths, "cross_entropy", [4] * 6):
        assert bits(eager_step(x, y)) == bits(compiled(x, y))
    assert_same_parameters(eager_model, model)
    assert compiled.counts["replayed"] == 0 and compiled.fallbacks


def test_a_compiled_step_inside_a_recording_is_recorded_by_the_outer_one():
    widths = [3, 4, 2]
    eager_model, _, eager_step = make_run(widths, "tanh", "mse", "sgd")
    model, _, step = make_run(widths, "tanh", "mse", "sgd")
    inner = tg.compile(step)
    outer = tg.compile(lambda x, y: inner(x, y))
    for i, (x, y) in enumerate(batches(widths, "mse", [2] * 8)):
        if i < 3:
            inner(x, y)  # the inner step gets its own tape first
            eager_step(x, y)
        else:
            assert bits(eager_step(x, y)) == bits(outer(x, y))
    assert_same_parameters(eager_model, model)
    assert inner.tapes and outer.counts["replayed"] == 3


def _train_after(start: threading.Barrier, run, compile_it: bool, results: list, i: int):
    """A thread's training: after `start`, 12 steps; (losses, weights) or the error."""
    model, _, step = run
    step = tg.compile(step) if compile_it else step
    widths = [layer.in_features for layer in model.layers] + [model.layers[-1].out_features]
    start.wait()
    try:
        losses = [bits(step(x, y)) for x, y in batches(widths, "cross_entropy", [5] * 12)]
        results[i] = (losses, [bits(p) for p in model.parameters()])
    except Exception as error:  # noqa: BLE001 - the test reports it, with its thread
        results[i] = repr(error)


@pytest.mark.parametrize("optimizer", ["sgd_momentum", "adam"])
def test_steps_recorded_and_replayed_in_threads_at_once_stay_exact(optimizer):
    # models trained in several threads: one thread's recording must not capture
    # another's array calls (one thread here runs eagerly), nor leave the engine
    # patched behind it
    widths, seeds = [6, 9, 4], range(4)
    originals = (Tensor.__dict__["data"], backend.active, optim.Optimizer.__dict__["step"])
    expected = [None] * len(seeds)
    for seed in seeds:  # one after the other, eagerly
        run = make_run(widths, "relu", "cross_entropy", optimizer, seed)
        _train_after(threading.Barrier(1), run, False, expected, seed)
    runs = [make_run(widths, "relu", "cross_entropy", optimizer, seed) for seed in seeds]
    got: list = [None] * len(runs)
    start = threading.Barrier(len(runs))
    threads = [
        threading.Thread(target=_train_after, args=(start, run, i > 0, got, i))
        for i, run in enumerate(runs)
    ]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns every few bytecodes: mid-recording
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    for i, (mine, eager) in enumerate(zip(got, expected)):
        assert mine == eager, f"thread {i}: {mine if isinstance(mine, str) else 'differs'}"
    now = (Tensor.__dict__["data"], backend.active, optim.Optimizer.__dict__["step"])
    assert now == originals
    assert type(rng.generator) is np.random.Generator  # not the recording's watched one


def test_the_recorded_optimizers_are_those_that_declare_it():
    """`tg.compile` records an optimizer's step only where its class declares
    ``recordable_step`` (SGD); a subclass must declare it again, since it may change step."""

    class MySGD(optim.SGD):  # inherits SGD's step, but declares nothing
        pass

    class DeclaredSGD(optim.SGD):
        recordable_step = True

    entries = {}
    for cls in (optim.SGD, MySGD, DeclaredSGD, optim.Adam):
        model, _, _ = make_run([3, 4, 2], "tanh", "mse", "sgd")
        opt = cls(model.parameters(), lr=0.1)

        def step(x, y, model=model, opt=opt):
            opt.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            return loss

        compiled = tg.compile(step)
        for x, y in batches([3, 4, 2], "mse", [2] * 3):
            compiled(x, y)
        (tape,) = compiled.tapes.values()
        entries[cls.__name__] = {e.name for e in tape.entries}
    assert "optimizer.step" not in entries["SGD"] and "optimizer.step" not in entries["DeclaredSGD"]
    assert "optimizer.step" in entries["MySGD"] and "optimizer.step" in entries["Adam"]
