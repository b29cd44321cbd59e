"""What each exercise must do: its checks, and the words a failure is reported in.

A check gets a `Context`: the student's function already placed into the reference engine
(`graft`), that engine's modules, and the reference function it replaced, whose answers
are the expected ones (tests/test_exercises.py checks the reference against float64
central differences on hypothesis-drawn inputs). Every element is compared; where the
math is exact (sums of integers, max, comparisons) the comparison is exact. The first
input that disagrees raises `Failed` with a message that names the input, what was
expected, what came back, and the formula.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from .formulas import OPS, OpFormula, op_formula

TOL = 1e-9  # relative, for float results computed in another order than the reference's


class Failed(AssertionError):
    """The student's function gave a wrong answer; the message says where and why."""


@dataclass
class Context:
    fn: Callable  # the student's function, as the engine now calls it
    ref: SimpleNamespace  # the engine's modules (value, tensor_ops, nn, optim, train, data)
    original: Callable  # the reference function it replaced


def show(x: Any) -> str:
    """A number or an array, short enough for a message."""
    if isinstance(x, np.ndarray):
        return np.array2string(x, precision=4, threshold=12, separator=", ")
    if isinstance(x, float):
        return f"{x:.6g}"
    return repr(x)


def same(got: Any, expected: np.ndarray, exact: bool = False) -> bool:
    got = np.asarray(got, dtype=float) if not isinstance(got, np.ndarray) else got
    if got.shape != expected.shape:
        return False
    if exact:
        return bool(np.array_equal(got, expected, equal_nan=True))
    return bool(np.allclose(got, expected, rtol=TOL, atol=1e-12, equal_nan=True))


def expect_array(call: str, got: Any, expected: np.ndarray, why: str, exact=False) -> None:
    expected = np.asarray(expected)
    got = np.asarray(got) if isinstance(got, np.generic) else got  # 0-d results are scalars
    if not isinstance(got, np.ndarray):
        raise Failed(f"{call}: got {type(got).__name__} {show(got)}, expected an array {why}")
    if got.shape != expected.shape:
        raise Failed(
            f"{call}: got shape {got.shape}, expected shape {expected.shape} "
            f"({show(expected)}) {why}"
        )
    if not same(got, expected, exact):
        bad = np.unravel_index(int(np.argmax(~np.isclose(got, expected, TOL, 1e-12))), got.shape)
        where = f" (first difference at index {tuple(int(i) for i in bad)}: "
        where += f"{show(float(got[bad]))} instead of {show(float(expected[bad]))})"
        raise Failed(f"{call}: got {show(got)}, expected {show(expected)}{where} {why}")


# --- the Value ops -----------------------------------------------------------------------
UNARY = (0.5, -1.3, 2.0, 1e-3)
BINARY = ((2.0, -3.0), (0.5, 0.25), (-1.5, 0.0))
EXPONENTS = {"pow": (3, -1, 0.5, 0, 2, 1, -0.5)}  # ops with a number argument: its values
POWER_BASES = (2.0, 0.5, 1.7, 3.0, -2.0, 1.3, 4.0)


def _cases(formula: OpFormula) -> list[tuple[tuple[float, ...], tuple]]:
    """(Value inputs, number arguments) to check an op at, its kinks among them."""
    if formula.op in EXPONENTS:
        return [((x,), (p,)) for x, p in zip(POWER_BASES, EXPONENTS[formula.op])]
    if len(formula.inputs) == 2:
        return [(pair, ()) for pair in BINARY]
    return [((x,), ()) for x in (*UNARY, *formula.kinks)]


def check_value_op(ctx: Context, op: str) -> None:
    """Each case three ways: out.grad 1 from zero, then with an upstream gradient and an
    input that already holds some gradient (the step adds), then the input used twice.
    The expected gradients come from the reference step on an identical node."""
    Value = ctx.ref.value.Value
    formula = op_formula(op)
    for values, args in _cases(formula):
        for upstream, before in ((1.0, 0.0), (1.7, 0.25)):
            (mine, out), (theirs, expected_out) = (
                _node(Value, formula, values, args, upstream, before) for _ in range(2)
            )
            ctx.fn(out)
            ctx.original(expected_out)
            at = ", ".join(f"{n} = {show(float(v))}" for n, v in zip(formula.inputs, values))
            at += "".join(f", p = {p}" for p in args)
            for name, leaf, reference in zip(formula.inputs, mine, theirs):
                if not _close(leaf.grad, reference.grad):
                    context = (
                        ""
                        if (upstream, before) == (1.0, 0.0)
                        else f" (out.grad = {upstream}, {name}.grad was {before} before: "
                        f"the step adds local derivative * out.grad to {name}.grad)"
                    )
                    tie = f"; {formula.tie}" if values[0] in formula.kinks else ""
                    raise Failed(
                        f"Value.{op} backward at {at}: got {name}.grad = {show(leaf.grad)}, "
                        f"expected {show(reference.grad)} from {formula.derivative}{tie}{context}"
                    )
    if len(formula.inputs) == 2:  # the same Value on both sides: x + x, x * x
        (x,), out = _node(Value, formula, (1.5,), (), 1.0, 0.0, twice=True)
        (y,), expected_out = _node(Value, formula, (1.5,), (), 1.0, 0.0, twice=True)
        ctx.fn(out)
        ctx.original(expected_out)
        if not _close(x.grad, y.grad):
            raise Failed(
                f"Value.{op} backward for {formula.forward} with a and b the same Value x = 1.5: "
                f"got x.grad = {show(x.grad)}, expected {show(y.grad)}: x is both inputs, so "
                f"both derivatives add up ({formula.derivative}); use += for each input"
            )


def _node(Value, formula: OpFormula, values, args, upstream, before, twice=False):
    """Fresh input leaves holding `before` as their grad, and the op's output node with
    grad `upstream`, as the walk leaves it just before this node's step."""
    leaves = [Value(v) for v in values]
    for leaf in leaves:
        leaf.grad = before
    operands = leaves * 2 if twice else leaves
    out = getattr(operands[0], formula.method)(*operands[1:], *args)
    out.grad = upstream
    return leaves, out


def _close(got: Any, expected: float) -> bool:
    try:
        return math.isclose(float(got), expected, rel_tol=TOL, abs_tol=1e-12)
    except (TypeError, ValueError):
        return False


# --- the backward walk -------------------------------------------------------------------
def _graph(Value, seed: int, size: int) -> tuple[list, list[str]]:
    """A random graph of `size` ops over three leaves, each op using earlier nodes (often
    the same one twice), and its description, one line per node."""
    rng = np.random.default_rng(seed)
    nodes = [Value(v) for v in rng.uniform(-1, 1, 3).round(2)]
    lines = [f"v{k} = {show(n.data)}" for k, n in enumerate(nodes)]
    for k in range(3, 3 + size):
        kind = ["+", "*", "tanh", "**2"][rng.integers(4)]
        i, j = (int(n) for n in rng.integers(0, len(nodes), 2))
        if rng.random() < 0.5:
            i = len(nodes) - 1  # long paths as well as wide ones
        a, b = nodes[i], nodes[j]
        node = (
            a + b if kind == "+" else a * b if kind == "*" else a.tanh() if kind == "tanh" else a**2
        )
        text = (
            f"v{i} {kind} v{j}" if kind in "+*" else f"tanh(v{i})" if kind == "tanh" else f"v{i}**2"
        )
        nodes.append(node)
        lines.append(f"v{k} = {text}")
    return nodes, lines


def check_backward_walk(ctx: Context) -> None:
    Value = ctx.ref.value.Value
    a, b = Value(2.0), Value(-3.0)
    loss = a * b + a
    ctx.fn(loss)
    if (loss.grad, a.grad, b.grad) != (1.0, -2.0, 2.0):
        raise Failed(
            f"Value.backward on L = a * b + a at a = 2, b = -3: got L.grad = {show(loss.grad)}, "
            f"a.grad = {show(a.grad)}, b.grad = {show(b.grad)}; expected L.grad = 1 (dL/dL), "
            "a.grad = b + 1 = -2 (a reaches L along two paths: their gradients add up) and "
            "b.grad = a = 2"
        )
    for seed, size in enumerate([2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 30, 40]):
        mine, lines = _graph(Value, seed, size)
        theirs, _ = _graph(Value, seed, size)
        ctx.fn(mine[-1])
        ctx.original(theirs[-1])
        for k, (m, t) in enumerate(zip(mine, theirs)):
            if not _close(m.grad, t.grad):
                raise Failed(
                    f"Value.backward on the graph {'; '.join(lines)} (L = v{len(lines) - 1}): "
                    f"got v{k}.grad = {show(m.grad)}, expected {show(t.grad)}. Each node's step "
                    "must run once, after the steps of every node that uses it"
                )
    x = leaf = Value(0.3)
    for _ in range(10_000):
        x = x.tanh() * 1.0 + 0.1
    try:
        ctx.fn(x)
    except RecursionError:
        raise Failed(
            "Value.backward on a chain of 10,000 tanh nodes raised RecursionError: Python's "
            "recursion stops near 1,000 calls; order the nodes with a loop and a stack"
        ) from None
    expected = leaf.grad
    leaf.grad = 0.0
    for node in _chain_nodes(x):
        node.grad = 0.0
    ctx.original(x)
    if not _close(expected, leaf.grad):
        raise Failed(
            f"Value.backward on a chain of 10,000 tanh nodes: got the first node's grad "
            f"{show(expected)}, expected {show(leaf.grad)}"
        )


def _chain_nodes(out) -> list:
    seen, stack, nodes = set(), [out], []
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            nodes.append(node)
            stack.extend(node._prev)
    return nodes


# --- the tensor ops ----------------------------------------------------------------------
def _shapes(seed: int, count: int = 40) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """(operand shape, broadcast shape) pairs: leading dimensions added, size-1 dimensions
    stretched (to 0 as well), empty and size-1 dimensions among them."""
    rng = np.random.default_rng(seed)
    pairs = [((3,), (4, 3)), ((1, 3), (4, 3)), ((4, 1), (4, 3)), ((), (2, 3)), ((2, 0), (5, 2, 0))]
    while len(pairs) < count:
        shape = tuple(int(n) for n in rng.integers(0, 4, rng.integers(0, 4)))
        lead = tuple(int(n) for n in rng.integers(1, 4, rng.integers(0, 3)))
        big = lead + tuple(int(rng.integers(0, 4)) if n == 1 else n for n in shape)
        pairs.append((shape, big))
    return pairs


def check_unbroadcast(ctx: Context) -> None:
    rng = np.random.default_rng(0)
    for shape, big in _shapes(0):
        grad = rng.integers(-9, 10, big).astype(float)  # integer sums: exact in any order
        expected = ctx.original(grad.copy(), shape)
        got = ctx.fn(grad.copy(), shape)
        expect_array(
            f"unbroadcast(grad of shape {big}, shape={shape})",
            got,
            expected,
            "(sum the gradient over the dimensions broadcasting added in front and over "
            "those it stretched from size 1)",
            exact=True,
        )


def _linear_inputs(seed: int):
    rng = np.random.default_rng(seed)
    for batch, n_in, n_out in [(4, 3, 2), (1, 1, 1), (0, 3, 2), (5, 1, 4), (3, 4, 1), (2, 5, 3)]:
        yield rng.normal(size=(batch, n_in)), rng.normal(size=(n_out, n_in)), rng.normal(size=n_out)


def check_linear_forward(ctx: Context) -> None:
    for X, W, b in _linear_inputs(1):
        expect_array(
            f"linear_forward(X {X.shape}, W {W.shape}, b {b.shape})",
            ctx.fn(X, W, b),
            ctx.original(X, W, b),
            "from f(X) = X W^T + b^T",
        )


def check_linear_backward(ctx: Context) -> None:
    names = ("dL/dX = G W", "dL/dW = G^T X", "dL/db = the sum of G over the batch")
    for X, W, b in _linear_inputs(2):
        G = np.random.default_rng(3).normal(size=(X.shape[0], W.shape[0]))
        got = ctx.fn(X, W, b, G)
        expected = ctx.original(X, W, b, G)
        if not isinstance(got, tuple) or len(got) != 3:
            raise Failed(f"linear_backward returned {show(got)}: return (dL/dX, dL/dW, dL/db)")
        for g, e, name in zip(got, expected, names):
            expect_array(
                f"linear_backward(X {X.shape}, W {W.shape}, b {b.shape}, G {G.shape}): "
                f"{name.split(' =')[0]}",
                g,
                e,
                f"from {name}, with G = grad_out (f = X W^T + b^T)",
            )


def _arrays_with_zeros(seed: int):
    rng = np.random.default_rng(seed)
    for shape in [(5,), (3, 4), (0,), (2, 0, 3), (1,), (), (2, 3, 4)]:
        x = rng.normal(size=shape).round(1)  # rounding makes zeros: the kink is tested
        if x.size:
            x.flat[0] = 0.0
        yield x, rng.normal(size=shape)


def check_relu(ctx: Context) -> None:
    for x, _ in _arrays_with_zeros(4):
        expect_array(
            f"relu({show(x)})", ctx.fn(x.copy()), ctx.original(x), "from max(x, 0)", exact=True
        )
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
    from ..data.synthetic import circles

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
    formula = op_formula("relu")
    for x, grad_out in _arrays_with_zeros(5):
        expect_array(
            f"relu_backward(x = {show(x)}, grad_out = {show(grad_out)})",
            ctx.fn(x.copy(), grad_out.copy()),
            ctx.original(x, grad_out),
            f"from ({formula.derivative}) * grad_out; {formula.tie}",
            exact=True,
        )


def _logits(seed: int):
    rng = np.random.default_rng(seed)
    yield np.array([[1000.0, 0.0, -5.0], [-1000.0, 0.0, 3.0]]), np.array([0, 0])
    yield np.zeros((2, 10)), np.array([3, 7])
    for batch, classes in [(1, 2), (4, 3), (6, 5), (3, 10)]:
        yield rng.normal(scale=3, size=(batch, classes)), rng.integers(0, classes, batch)


def check_softmax_ce(ctx: Context) -> None:
    for logits, targets in _logits(6):
        got = ctx.fn(logits.copy(), targets)
        expected = ctx.original(logits, targets)
        if not _close(got, expected):
            raise Failed(
                f"softmax_cross_entropy(logits = {show(logits)}, targets = {show(targets)}): "
                f"got {show(got)}, expected {show(expected)} = the mean of "
                "-(z_target - max z - log sum_j exp(z_j - max z)) (subtract the row's "
                "maximum first, so exp cannot overflow)"
            )


def check_softmax_ce_backward(ctx: Context) -> None:
    for logits, targets in _logits(7):
        expect_array(
            f"softmax_cross_entropy_backward(logits = {show(logits)}, targets = {show(targets)})",
            ctx.fn(logits.copy(), targets),
            ctx.original(logits, targets),
            "from (softmax(z) - one_hot(target)) / batch size (with the row's maximum "
            "subtracted before exp, so large logits stay finite)",
        )


def check_count_parameters(ctx: Context) -> None:
    rng = np.random.default_rng(8)
    cases = [[784, 128, 10], [2, 1], [3, 4, 5], [10, 10, 10, 10]]
    cases += [[int(n) for n in rng.integers(1, 50, rng.integers(2, 6))] for _ in range(10)]
    for sizes in cases:
        got, expected = ctx.fn(list(sizes)), ctx.original(sizes)
        if got != expected:
            terms = " + ".join(f"({a}*{b} + {b})" for a, b in zip(sizes[:-1], sizes[1:]))
            raise Failed(
                f"count_parameters({sizes}): got {show(got)}, expected {expected:,} = {terms} "
                "(each Linear(n_in, n_out) has an n_out x n_in weight and n_out biases)"
            )


def check_sgd_momentum(ctx: Context) -> None:
    rng = np.random.default_rng(9)
    for shape, lr, momentum in [
        ((3,), 0.1, 0.9),
        ((2, 3), 0.05, 0.0),
        ((0,), 0.1, 0.9),
        ((4,), 0.5, 0.5),
    ]:
        p_mine, p_ref = (np.ones(shape),) * 2
        p_mine, p_ref = p_mine.copy(), p_ref.copy()
        v_mine, v_ref = np.zeros(shape), np.zeros(shape)
        for step in range(1, 4):
            g = rng.normal(size=shape)
            before = p_mine.copy()
            ctx.fn(p_mine, g.copy(), v_mine, lr, momentum)
            ctx.original(p_ref, g, v_ref, lr, momentum)
            call = f"step {step} of sgd_momentum_step(lr = {lr}, momentum = {momentum}, "
            call += f"grad = {show(g)})"
            rule = "from v <- momentum * v + g, then p <- p - lr * v (PyTorch's SGD), in place"
            if p_mine.size and np.array_equal(before, p_mine):
                raise Failed(f"{call}: param did not change; update it in place (param -= ...)")
            expect_array(f"{call}: velocity", v_mine, v_ref, rule)
            expect_array(f"{call}: param", p_mine, p_ref, rule)


def check_train_mnist(ctx: Context) -> None:
    """Here the student's own engine runs, every function of it: nothing is supplied."""
    from ..data.dataset import split_indices
    from ..data.mnist import load_mnist5k

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


CHECKS: dict[str, Callable[[Context], None]] = {
    **{f"value-{op}": (lambda ctx, op=op: check_value_op(ctx, op)) for op in OPS},
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
