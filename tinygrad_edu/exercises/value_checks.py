"""The checks of the Value-engine exercises: each marked op's backward, and the backward walk.

An op's backward is checked three ways at every input: from ``out.grad = 1`` with the input's
grad at zero; with another ``out.grad`` and an input that already holds some gradient (the
step adds); and, for ops of two Values, with the same Value on both sides. The expected
gradient is the engine's own (`value_ops.OpFormula.gradients`), and central differences of
the op's forward confirm it wherever the op is smooth; at a kink the row's tie rule decides.
The walk is checked on random graphs against the reference walk and central differences of
the graph's output, and on a 10,000-deep chain.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from .compare import Context, Failed, close, show
from .drawn import floats, for_all
from .numeric import slopes
from .value_ops import OpFormula

FIXED_X = (0.5, -1.3, 2.0, 1e-3, 0.0)  # 0: where relu, abs and leaky_relu have their kink
FIXED_PAIRS = ((2.0, -3.0), (0.5, 0.25), (-1.5, 0.0), (1.5, 1.5))
FIXED_POWERS = ((2.0, 3), (0.5, -1), (1.7, 0.5), (3.0, 0), (-2.0, 2), (1.3, 1), (4.0, -0.5))
EXPONENTS = (3, -1, 0.5, 0, 2, 1, -0.5, 1.5, -2)  # the numbers drawn as a number argument
UPSTREAMS = ((1.0, 0.0), (1.7, 0.25))  # (out.grad, the input's grad before the step)


def check_value_op(ctx: Context, formula: OpFormula) -> None:
    for_all(_cases(formula), lambda case: _check_case(ctx, formula, case), _fixed(formula))
    if len(formula.inputs) == 2:  # the same Value on both sides: x + x, x * x
        for_all(floats(-4, 4), lambda x: _check_twice(ctx, formula, x), (1.5,))


def _fixed(formula: OpFormula) -> list:
    if formula.number:
        points = [((x,), (p,)) for x, p in FIXED_POWERS]
    elif len(formula.inputs) == 2:
        points = [(pair, ()) for pair in FIXED_PAIRS]
    else:
        points = [((x,), ()) for x in FIXED_X]
    return [(v, a, up, before) for v, a in points for up, before in UPSTREAMS]


def _cases(formula: OpFormula) -> st.SearchStrategy:
    """(Value inputs, number arguments, out.grad, the inputs' grad before) where the op and
    its gradient are defined. A number argument's base keeps off 0: x^(p - 1) has a pole
    there for p < 1, where Python's float power raises rather than giving inf."""
    x = st.one_of(floats(-4, -1e-3), floats(1e-3, 4)) if formula.number else floats(-4, 4)
    values = st.tuples(*[x] * len(formula.inputs))
    args = st.tuples(st.sampled_from(EXPONENTS)) if formula.number else st.just(())
    cases = st.tuples(values, args, floats(-2, 2), floats(-1, 1))
    return cases.filter(lambda case: _defined(formula, case))


def _defined(formula: OpFormula, case: tuple) -> bool:
    values, args, upstream, _ = case
    with np.errstate(all="ignore"):
        out = formula.output(values, args)
        grads = formula.gradients(values, args, out, upstream)
    return math.isfinite(out) and all(math.isfinite(g) for g in grads)


def _check_case(ctx: Context, formula: OpFormula, case: tuple) -> None:
    values, args, upstream, before = case
    leaves, out = _node(ctx.ref.value.Value, formula, values, args, upstream, before)
    ctx.fn(out)
    expected = formula.gradients(values, args, out.data, upstream)
    at = ", ".join(f"{n} = {show(float(v))}" for n, v in zip(formula.inputs, values))
    at += "".join(f", {formula.number} = {p}" for p in args)
    for k, (name, leaf, grad) in enumerate(zip(formula.inputs, leaves, expected)):
        numeric = slopes(
            lambda v, k=k: upstream * formula.output(_with(values, k, float(v)), args),
            np.asarray(values[k]),
        )
        kink = not numeric.smooth.item()
        context = (
            ""
            if (upstream, before) == (1.0, 0.0)
            else f" (out.grad = {show(upstream)}, {name}.grad was {show(before)} before: "
            f"the step adds local derivative * out.grad to {name}.grad)"
        )
        if not close(leaf.grad, before + grad):
            tie = f"; at the kink: {formula.tie}" if kink and formula.tie else ""
            raise Failed(
                f"Value.{formula.op} backward at {at}: got {name}.grad = {show(leaf.grad)}, "
                f"expected {show(before + grad)} from {formula.derivative}{tie}{context}"
            )
        if numeric.disagreement(np.asarray(leaf.grad - before)) is not None:
            raise Failed(
                f"Value.{formula.op} backward at {at}: got {name}.grad = {show(leaf.grad)}, "
                f"but central differences of {formula.forward} give "
                f"{show(before + numeric.central.item())} ({formula.derivative}){context}"
            )


def _with(values: tuple, k: int, v: float) -> tuple:
    return (*values[:k], v, *values[k + 1 :])


def _check_twice(ctx: Context, formula: OpFormula, x: float) -> None:
    (leaf,), out = _node(ctx.ref.value.Value, formula, (x,), (), 1.0, 0.0, twice=True)
    ctx.fn(out)
    expected = sum(formula.gradients((x, x), (), out.data, 1.0))
    if not close(leaf.grad, expected):
        raise Failed(
            f"Value.{formula.op} backward for {formula.forward} with a and b the same Value "
            f"x = {show(x)}: got x.grad = {show(leaf.grad)}, expected {show(expected)}: x is "
            f"both inputs, so both derivatives add up ({formula.derivative}); use += for each "
            "input"
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


# --- the backward walk -------------------------------------------------------------------
FIXED_GRAPHS = list(enumerate([2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 30, 40]))  # (seed, size)


def _graph(Value, seed: int, size: int, leaves=None) -> tuple[list, list[str]]:
    """A random graph of `size` ops over three leaves (drawn, or `leaves`), each op using
    earlier nodes (often the same one twice), and its description, one line per node."""
    rng = np.random.default_rng(seed)
    drawn = rng.uniform(-1, 1, 3).round(2)
    nodes = [Value(float(v)) for v in (drawn if leaves is None else leaves)]
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
    graphs = st.tuples(st.integers(0, 2**32 - 1), st.integers(1, 24))
    for_all(graphs, lambda graph: _check_graph(ctx, *graph), FIXED_GRAPHS)
    _check_deep_chain(ctx)


def _check_graph(ctx: Context, seed: int, size: int) -> None:
    Value = ctx.ref.value.Value
    mine, lines = _graph(Value, seed, size)
    theirs, _ = _graph(Value, seed, size)
    ctx.original(theirs[-1])
    assume(all(math.isfinite(n.grad) and abs(n.data) < 1e6 for n in theirs))
    ctx.fn(mine[-1])
    graph = f"the graph {'; '.join(lines)} (L = v{len(lines) - 1})"
    for k, (m, t) in enumerate(zip(mine, theirs)):
        if not close(m.grad, t.grad):
            raise Failed(
                f"Value.backward on {graph}: got v{k}.grad = {show(m.grad)}, expected "
                f"{show(t.grad)}. Each node's step must run once, after the steps of every "
                "node that uses it"
            )
    leaves = np.array([n.data for n in theirs[:3]])
    numeric = slopes(lambda v: _graph(Value, seed, size, v)[0][-1].data, leaves)
    bad = numeric.disagreement(np.array([n.grad for n in mine[:3]]))
    if bad is not None:
        k = bad[0]
        raise Failed(
            f"Value.backward on {graph}: got v{k}.grad = {show(mine[k].grad)}, but central "
            f"differences of L give {show(float(numeric.central[k]))}"
        )


def _check_deep_chain(ctx: Context) -> None:
    Value = ctx.ref.value.Value
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
    if not close(expected, leaf.grad):
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
