"""What each exercise must do: its checks, by exercise id (`CHECKS`).

The Value-engine exercises are checked in `value_checks`; the tensor exercises here. Each
check runs a few fixed cases (a first mistake meets them at once, with round numbers in its
message) and then inputs drawn by hypothesis (`drawn`: shapes with size-1 and empty
dimensions, broadcast pairs, large logits). The student's answer is compared with the
reference on every element, exactly where the math is exact, and every gradient also with
float64 central differences of its forward (`numeric`), wherever that forward is smooth;
at a kink the engine's tie rule decides (``ops.RELU``).
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import numpy as np
from hypothesis import strategies as st

from .. import ops
from ..data.dataset import split_indices
from ..data.mnist import load_mnist5k
from ..data.synthetic import circles
from .compare import Context, Failed, close, expect_array, expect_slopes, show
from .drawn import broadcast_pairs, floats, for_all, seeds, shapes
from .numeric import slopes
from .value_checks import check_backward_walk, check_value_op
from .value_ops import OPS, describe

FIXED_BROADCASTS = [((3,), (4, 3)), ((1, 3), (4, 3)), ((4, 1), (4, 3)), ((), (2, 3)),
                    ((2, 0), (5, 2, 0))]  # fmt: skip


def check_unbroadcast(ctx: Context) -> None:
    fixed = [(pair, 0) for pair in FIXED_BROADCASTS]
    for_all(st.tuples(broadcast_pairs(), seeds), lambda case: _unbroadcast(ctx, *case), fixed)


def _unbroadcast(ctx: Context, pair: tuple, seed: int) -> None:
    shape, big = pair
    grad = np.random.default_rng(seed).integers(-9, 10, big).astype(float)  # exact sums
    call = f"unbroadcast(grad of shape {big}, shape={shape})"
    got = ctx.fn(grad.copy(), shape)
    expect_array(
        call,
        got,
        ctx.original(grad.copy(), shape),
        "(sum the gradient over the dimensions broadcasting added in front and over "
        "those it stretched from size 1)",
        exact=True,
    )
    numeric = slopes(lambda v: float((np.broadcast_to(v, big) * grad).sum()), np.zeros(shape))
    expect_slopes(call, got, numeric, "sum(broadcast(x) * grad)")


FIXED_LINEAR = [(4, 3, 2), (1, 1, 1), (0, 3, 2), (5, 1, 4), (3, 4, 1), (2, 5, 3)]


def _linear_case(sizes: tuple[int, int, int], seed: int):
    batch, n_in, n_out = sizes
    rng = np.random.default_rng(seed)
    X, W, b = rng.normal(size=(batch, n_in)), rng.normal(size=(n_out, n_in)), rng.normal(size=n_out)
    return X, W, b, rng.normal(size=(batch, n_out))


_LINEAR_SIZES = st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, 4))


def check_linear_forward(ctx: Context) -> None:
    def one(case):
        X, W, b, _ = _linear_case(*case)
        call = f"linear_forward(X {X.shape}, W {W.shape}, b {b.shape})"
        expect_array(call, ctx.fn(X, W, b), ctx.original(X, W, b), "from f(X) = X W^T + b^T")

    for_all(st.tuples(_LINEAR_SIZES, seeds), one, [(s, k) for k, s in enumerate(FIXED_LINEAR)])


def check_linear_backward(ctx: Context) -> None:
    names = ("dL/dX = G W", "dL/dW = G^T X", "dL/db = the sum of G over the batch")
    forward = ctx.ref.tensor_ops.linear_forward

    def one(case):
        X, W, b, G = _linear_case(*case)
        got = ctx.fn(X.copy(), W.copy(), b.copy(), G.copy())
        expected = ctx.original(X, W, b, G)
        if not isinstance(got, tuple) or len(got) != 3:
            raise Failed(f"linear_backward returned {show(got)}: return (dL/dX, dL/dW, dL/db)")
        inputs = (X, W, b)
        for k, (g, e, name) in enumerate(zip(got, expected, names)):
            call = f"linear_backward(X {X.shape}, W {W.shape}, b {b.shape}, G {G.shape}): "
            call += name.split(" =")[0]
            expect_array(call, g, e, f"from {name}, with G = grad_out (f = X W^T + b^T)")

            def loss(v, k=k):
                args = [*inputs[:k], v, *inputs[k + 1 :]]
                return float((forward(*args) * G).sum())

            expect_slopes(call, g, slopes(loss, inputs[k]), "L = sum(f(X) * G)")

    fixed = [(s, k + 100) for k, s in enumerate(FIXED_LINEAR)]
    for_all(st.tuples(_LINEAR_SIZES, seeds), one, fixed)


def _with_zeros(shape: tuple[int, ...], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """x with zeros among its values (rounding makes them; the first is one) and a grad_out."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape).round(1)
    if x.size:
        x.flat[0] = 0.0
    return x, rng.normal(size=shape)


FIXED_ARRAYS = [((5,), 4), ((3, 4), 4), ((0,), 4), ((2, 0, 3), 4), ((1,), 4), ((), 4),
                ((2, 3, 4), 4)]  # fmt: skip


def check_relu(ctx: Context) -> None:
    def one(case):
        x, _ = _with_zeros(*case)
        got = ctx.fn(x.copy())
        expect_array(f"relu({show(x)})", got, ops.RELU.forward(x), "from max(x, 0)", exact=True)

    for_all(st.tuples(shapes(), seeds), one, FIXED_ARRAYS)
    with_relu = circles_accuracy(ctx.ref, "relu")
    if with_relu < 0.95:
        raise Failed(
            f"a 2-16-16-2 network with your relu between its layers classifies "
            f"{with_relu:.0%} of the circles data correctly after 300 steps; with ReLU it "
            "separates the two circles (95% or more; without an activation it is one linear "
            "map, a straight line, about 50%)"
        )


def circles_accuracy(ref: SimpleNamespace, activation: str) -> float:
    """Accuracy on the circles data after 300 full-batch steps of a 2-16-16-2 MLP: ReLU
    separates the circles; without an activation the network is one linear map and cannot."""

    data = circles(200, 0.05, 0.5, np.random.default_rng(0))
    X, y = data.X.astype(float), data.y.astype(int)
    model = ref.nn.MLP([2, 16, 16, 2], seed=0, activation=activation)
    velocities = [np.zeros_like(p) for p in model.parameters()]
    for _ in range(300):
        grads = model.backward(ref.tensor_ops.softmax_cross_entropy_backward(model.forward(X), y))
        for p, g, v in zip(model.parameters(), grads, velocities):
            ref.optim.sgd_momentum_step(p, g, v, 0.1, 0.9)
    return float((model.forward(X).argmax(axis=1) == y).mean())


def check_relu_backward(ctx: Context) -> None:
    """Against the engine's own ReLU backward (its tie rule at 0), and central differences
    of sum(relu(x) * grad_out) away from 0."""
    relu = describe("relu")

    def one(case):
        x, grad_out = _with_zeros(*case)
        call = f"relu_backward(x = {show(x)}, grad_out = {show(grad_out)})"
        got = ctx.fn(x.copy(), grad_out.copy())
        expected = ops.RELU.backward(grad_out, x, ops.RELU.forward(x))
        why = f"from ({relu.derivative}) * grad_out; at the kink: {relu.tie}"
        expect_array(call, got, expected, why, exact=True)
        numeric = slopes(lambda v: float((ops.RELU.forward(v) * grad_out).sum()), x)
        expect_slopes(call, got, numeric, "sum(relu(x) * grad_out)")

    for_all(st.tuples(shapes(), seeds), one, [(shape, 5) for shape, _ in FIXED_ARRAYS])


_FIXED_LOGITS = [
    (np.array([[1000.0, 0.0, -5.0], [-1000.0, 0.0, 3.0]]), np.array([0, 0])),
    (np.zeros((2, 10)), np.array([3, 7])),
]
_LOGITS = st.tuples(
    st.integers(1, 5), st.integers(1, 6), st.sampled_from((0.1, 3.0, 30.0, 1000.0)), seeds
)


def _logits(case) -> tuple[np.ndarray, np.ndarray]:
    """Fixed logits and targets, or (batch, classes, scale, seed) drawn."""
    if len(case) == 2:
        return case
    batch, classes, scale, seed = case
    rng = np.random.default_rng(seed)
    return rng.normal(scale=scale, size=(batch, classes)), rng.integers(0, classes, batch)


def check_softmax_ce(ctx: Context) -> None:
    def one(case):
        logits, targets = _logits(case)
        got = ctx.fn(logits.copy(), targets)
        expected = ctx.original(logits, targets)
        if not close(got, expected):
            raise Failed(
                f"softmax_cross_entropy(logits = {show(logits)}, targets = {show(targets)}): "
                f"got {show(got)}, expected {show(expected)} = the mean of "
                "-(z_target - max z - log sum_j exp(z_j - max z)) (subtract the row's "
                "maximum first, so exp cannot overflow)"
            )

    for_all(_LOGITS, one, _FIXED_LOGITS)


def check_softmax_ce_backward(ctx: Context) -> None:
    loss = ctx.ref.tensor_ops.softmax_cross_entropy

    def one(case):
        logits, targets = _logits(case)
        call = f"softmax_cross_entropy_backward(logits = {show(logits)}, targets = {show(targets)})"
        got = ctx.fn(logits.copy(), targets)
        expect_array(
            call,
            got,
            ctx.original(logits, targets),
            "from (softmax(z) - one_hot(target)) / batch size (with the row's maximum "
            "subtracted before exp, so large logits stay finite)",
        )
        numeric = slopes(lambda z: loss(z, targets), logits)
        expect_slopes(call, got, numeric, "the mean cross-entropy")

    for_all(_LOGITS, one, _FIXED_LOGITS)


def check_count_parameters(ctx: Context) -> None:
    def one(sizes):
        got, expected = ctx.fn(list(sizes)), ctx.original(sizes)
        if got != expected:
            terms = " + ".join(f"({a}*{b} + {b})" for a, b in zip(sizes[:-1], sizes[1:]))
            raise Failed(
                f"count_parameters({sizes}): got {show(got)}, expected {expected:,} = {terms} "
                "(each Linear(n_in, n_out) has an n_out x n_in weight and n_out biases)"
            )

    fixed = [[784, 128, 10], [2, 1], [3, 4, 5], [10, 10, 10, 10]]
    for_all(st.lists(st.integers(1, 1000), min_size=2, max_size=6), one, fixed)


FIXED_SGD = [((3,), 0.1, 0.9, 9), ((2, 3), 0.05, 0.0, 9), ((0,), 0.1, 0.9, 9), ((4,), 0.5, 0.5, 9)]


def check_sgd_momentum(ctx: Context) -> None:
    def one(case):
        shape, lr, momentum, seed = case
        rng = np.random.default_rng(seed)
        p_mine, p_ref = np.ones(shape), np.ones(shape)
        v_mine, v_ref = np.zeros(shape), np.zeros(shape)
        for step in range(1, 4):
            g = rng.normal(size=shape)
            before = p_mine.copy()
            ctx.fn(p_mine, g.copy(), v_mine, lr, momentum)
            ctx.original(p_ref, g, v_ref, lr, momentum)
            call = f"step {step} of sgd_momentum_step(lr = {show(lr)}, momentum = "
            call += f"{show(momentum)}, grad = {show(g)})"
            rule = "from v <- momentum * v + g, then p <- p - lr * v (PyTorch's SGD), in place"
            if p_mine.size and np.array_equal(before, p_mine) and not np.array_equal(before, p_ref):
                raise Failed(f"{call}: param did not change; update it in place (param -= ...)")
            expect_array(f"{call}: velocity", v_mine, v_ref, rule)
            expect_array(f"{call}: param", p_mine, p_ref, rule)

    drawn = st.tuples(shapes(max_dims=2), floats(0.001, 1), floats(0, 0.99), seeds)
    for_all(drawn, one, FIXED_SGD)


def check_train_mnist(ctx: Context) -> None:
    """Here the student's own engine runs, every function of it: nothing is supplied."""

    examples = load_mnist5k()
    train, test = split_indices(len(examples.y), 0.2, np.random.default_rng(0), examples.y)
    X = examples.X / 255.0
    model = ctx.fn(X[train], examples.y[train], epochs=3, lr=0.05, momentum=0.9, batch_size=32)
    predicted = np.asarray(model.forward(X[test])).argmax(axis=1)
    accuracy = float((predicted == examples.y[test]).mean())
    if accuracy < 0.9:
        raise Failed(
            f"after train(epochs=3, lr=0.05, momentum=0.9, batch_size=32) the MLP classifies "
            f"{accuracy:.1%} of the 1,000 test digits correctly; it needs 90%"
        )


def value_op_checks(formulas: dict) -> dict[str, Callable[[Context], None]]:
    """One check per marked op (``value-<op>``), from its formula."""
    return {
        f"value-{op}": (lambda ctx, f=formula: check_value_op(ctx, f))
        for op, formula in formulas.items()
    }


CHECKS: dict[str, Callable[[Context], None]] = {
    **value_op_checks(OPS),
    "backward-walk": check_backward_walk,
    "unbroadcast": check_unbroadcast,
    "linear-forward": check_linear_forward,
    "linear-backward": check_linear_backward,
    "relu": check_relu,
    "relu-backward": check_relu_backward,
    "softmax-ce": check_softmax_ce,
    "softmax-ce-backward": check_softmax_ce_backward,
    "count-parameters": check_count_parameters,
    "sgd-momentum": check_sgd_momentum,
    "train-mnist": check_train_mnist,
}
