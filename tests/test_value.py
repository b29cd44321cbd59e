"""The scalar engine: micrograd's conformance tests, every operator against finite
differences, gradient accumulation, a deep graph, and the DOT output."""

from __future__ import annotations

import gc
import math
import re
import warnings

import docs_pages
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Value, autograd, draw_dot, to_dot
from tinygrad_edu import value as value_module


def floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def away_from_zero(limit: float = 3.0, gap: float = 0.1) -> st.SearchStrategy[float]:
    """Values in [-limit, -gap] or [gap, limit]: clear of kinks and poles at 0."""
    return st.one_of(floats(-limit, -gap), floats(gap, limit))


# --- micrograd's own engine tests (expected values computed by PyTorch) -------------------


def test_sanity_check():
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    # PyTorch: y = -20.0, dy/dx = 46.0
    assert y.data == -20.0
    assert x.grad == 46.0


def test_more_ops():
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    tol = 1e-6
    # PyTorch reference values
    assert abs(g.data - 24.70408163265306) < tol
    assert abs(a.grad - 138.83381924198250) < tol
    assert abs(b.grad - 645.57725947521880) < tol


# --- every operator: forward against math, gradient against central differences ----------

# name -> (function of Values, same function of floats, strategy for its inputs)
UNARY_OPS = {
    "add_number": (lambda a: a + 2.5, lambda a: a + 2.5, floats(-3, 3)),
    "radd": (lambda a: 2.5 + a, lambda a: 2.5 + a, floats(-3, 3)),
    "sub_number": (lambda a: a - 1.5, lambda a: a - 1.5, floats(-3, 3)),
    "rsub": (lambda a: 1 - a, lambda a: 1 - a, floats(-3, 3)),
    "mul_number": (lambda a: a * 3, lambda a: a * 3, floats(-3, 3)),
    "rmul": (lambda a: 2 * a, lambda a: 2 * a, floats(-3, 3)),
    "div_number": (lambda a: a / 4.0, lambda a: a / 4.0, floats(-3, 3)),
    "rdiv": (lambda a: 10 / a, lambda a: 10 / a, away_from_zero(gap=0.5)),
    "neg": (lambda a: -a, lambda a: -a, floats(-3, 3)),
    "pow_int": (lambda a: a**3, lambda a: a**3, floats(-3, 3)),
    "pow_negative": (lambda a: a**-2, lambda a: a**-2, away_from_zero(gap=0.5)),
    "pow_fraction": (lambda a: a**2.5, lambda a: a**2.5, floats(0.1, 3)),
    "rpow": (lambda a: 2**a, lambda a: 2**a, floats(-3, 3)),
    "relu": (lambda a: a.relu(), lambda a: max(a, 0.0), away_from_zero()),
    "tanh": (lambda a: a.tanh(), math.tanh, floats(-4, 4)),
    "exp": (lambda a: a.exp(), math.exp, floats(-4, 4)),
    "log": (lambda a: a.log(), math.log, floats(0.1, 10)),
    "sigmoid": (lambda a: a.sigmoid(), lambda a: 1 / (1 + math.exp(-a)), floats(-6, 6)),
}


def _iadd(a, b):
    c = a
    c += b
    return c


def _isub(a, b):
    c = a
    c -= b
    return c


def _imul(a, b):
    c = a
    c *= b
    return c


def _itruediv(a, b):
    c = a
    c /= b
    return c


BINARY_OPS = {
    "add": (lambda a, b: a + b, floats(-3, 3), floats(-3, 3)),
    "sub": (lambda a, b: a - b, floats(-3, 3), floats(-3, 3)),
    "mul": (lambda a, b: a * b, floats(-3, 3), floats(-3, 3)),
    "div": (lambda a, b: a / b, floats(-3, 3), away_from_zero(gap=0.5)),
    "pow_value": (lambda a, b: a**b, floats(0.1, 3), floats(-2, 2)),
    "iadd": (_iadd, floats(-3, 3), floats(-3, 3)),
    "isub": (_isub, floats(-3, 3), floats(-3, 3)),
    "imul": (_imul, floats(-3, 3), floats(-3, 3)),
    "itruediv": (_itruediv, floats(-3, 3), away_from_zero(gap=0.5)),
}


@pytest.mark.parametrize("name", UNARY_OPS)
@given(data=st.data())
def test_unary_op_value_and_gradient(name, data):
    fn, reference, inputs = UNARY_OPS[name]
    x = data.draw(inputs, label="x")
    out = fn(Value(x))
    assert isinstance(out, Value)
    assert out.data == pytest.approx(reference(x), rel=1e-12, abs=1e-12)
    assert tg.gradcheck(fn, [Value(x)])


@pytest.mark.parametrize("name", BINARY_OPS)
@given(data=st.data())
def test_binary_op_value_and_gradient(name, data):
    fn, first, second = BINARY_OPS[name]
    x, y = data.draw(first, label="x"), data.draw(second, label="y")
    out = fn(Value(x), Value(y))
    assert out.data == pytest.approx(fn(x, y), rel=1e-12, abs=1e-12)
    assert tg.gradcheck(fn, [Value(x), Value(y)])


def test_inplace_add_builds_a_new_node_and_keeps_the_operand():
    a, b = Value(2.0), Value(5.0)
    c = a
    c += b
    assert c is not a and a.data == 2.0 and c.data == 7.0
    c.backward()
    assert (a.grad, b.grad) == (1.0, 1.0)


def test_relu_gradient_is_zero_at_the_kink():
    x = Value(0.0)
    y = x.relu()
    y.backward()
    assert y.data == 0.0
    assert x.grad == 0.0


def test_pow_value_exponent_of_negative_base_has_nan_gradient_as_pytorch():
    # (-2)^3 = -8 is real, but d/dp x^p = x^p ln(x) is not for x < 0: PyTorch gives nan
    x, p = Value(-2.0), Value(3.0)
    y = x**p
    y.backward()
    assert y.data == -8.0
    assert x.grad == pytest.approx(12.0)
    assert math.isnan(p.grad)


nan, inf = math.nan, math.inf

# Where Python raises (ZeroDivisionError, OverflowError, ValueError) or turns complex,
# IEEE results: (inputs, function, value, gradients), each computed by PyTorch 2.13 in
# float64 (torch.tensor(v, dtype=torch.float64, requires_grad=True), same expression).
IEEE_EDGE_CASES = {
    "x**0 at 0": ((0,), lambda x: x**0, 1.0, (0.0,)),
    "x**0.5 at 0": ((0,), lambda x: x**0.5, 0.0, (inf,)),
    "x**-1 at 0": ((0,), lambda x: x**-1, inf, (-inf,)),
    "x**0.5 at -2": ((-2,), lambda x: x**0.5, nan, (nan,)),
    "x**400 at 10": ((10,), lambda x: x**400, inf, (inf,)),
    "x**-2 at 1e-200": ((1e-200,), lambda x: x**-2, inf, (-inf,)),
    "0**p at p=0": ((0,), lambda p: 0**p, 1.0, (0.0,)),
    "0**p at p=-1": ((-1,), lambda p: 0**p, inf, (-inf,)),
    "x**p at 0, 0": ((0, 0), lambda x, p: x**p, 1.0, (0.0, 0.0)),
    "x**p at 0, -1": ((0, -1), lambda x, p: x**p, inf, (-inf, -inf)),
    "x**p at 0, 0.5": ((0, 0.5), lambda x, p: x**p, 0.0, (inf, 0.0)),
    "x**p at -2, 0.5": ((-2, 0.5), lambda x, p: x**p, nan, (nan, nan)),
    "x**p at 2, 2000": ((2, 2000), lambda x, p: x**p, inf, (inf, inf)),
    "a/b at 1, 0": ((1, 0), lambda a, b: a / b, inf, (inf, -inf)),
    "a/b at 0, 0": ((0, 0), lambda a, b: a / b, nan, (inf, nan)),
    "a/0 at 1": ((1,), lambda a: a / 0, inf, (inf,)),
    "1/b at 0": ((0,), lambda b: 1 / b, inf, (-inf,)),
    "log at 0": ((0,), lambda x: x.log(), -inf, (inf,)),
    "log at -2": ((-2,), lambda x: x.log(), nan, (-0.5,)),
    "exp at 1000": ((1000,), lambda x: x.exp(), inf, (inf,)),
    "exp at -1000": ((-1000,), lambda x: x.exp(), 0.0, (0.0,)),
}


def same_float(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.mark.parametrize("case", IEEE_EDGE_CASES.values(), ids=IEEE_EDGE_CASES.keys())
def test_edge_cases_give_pytorchs_ieee_results_not_exceptions(case):
    inputs, fn, value, grads = case
    leaves = [Value(v) for v in inputs]
    out = fn(*leaves)
    out.backward()
    assert isinstance(out.data, float) and same_float(out.data, value), out.data
    for leaf, grad in zip(leaves, grads):
        assert isinstance(leaf.grad, float) and same_float(leaf.grad, grad), leaf.grad


def test_ordinary_powers_and_divisions_keep_python_floats_exactly():
    x = Value(3.0)
    y = x**2.5 / Value(7.0) + (2 ** (x - 1)).log() - x.exp()
    y.backward()
    assert y.data == 3.0**2.5 * 7.0**-1 + math.log(2.0**2.0) - math.exp(3.0)
    assert x.grad == pytest.approx(2.5 * 3.0**1.5 / 7 + math.log(2.0) - math.exp(3.0))


def test_values_are_ordinary_python_numbers_inside():
    assert isinstance(Value(3).data, float)
    assert Value(3).grad == 0.0


# --- accumulation and resetting -----------------------------------------------------------


@given(x=floats(-3, 3))
def test_a_node_used_several_times_accumulates_its_gradient(x):
    a = Value(x)
    b = a * a + a + a.tanh() * a  # a appears five times
    b.backward()
    expected = 2 * x + 1 + (1 - math.tanh(x) ** 2) * x + math.tanh(x)
    assert a.grad == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_the_same_node_twice_as_both_operands():
    a = Value(3.0)
    (a + a).backward()
    assert a.grad == 2.0
    b = Value(3.0)
    (b * b).backward()
    assert b.grad == 6.0


def test_a_shared_intermediate_passes_its_gradient_once_complete():
    x = Value(1.5)
    h = x * 2
    y = h * h + h  # dy/dh = 2h + 1, dh/dx = 2
    y.backward()
    assert h.grad == 2 * 3.0 + 1
    assert x.grad == 2 * (2 * 3.0 + 1)


def test_gradients_accumulate_until_zero_grad_then_start_clean():
    x = Value(2.0)
    y = x * x
    y.backward()
    assert x.grad == 4.0
    z = x * 3  # a new graph on the same leaf: micrograd and PyTorch accumulate
    z.backward()
    assert x.grad == 7.0

    z.zero_grad()
    assert x.grad == 0.0 and z.grad == 0.0
    w = x.tanh() * 5
    w.backward()
    assert x.grad == pytest.approx(5 * (1 - math.tanh(2.0) ** 2), rel=1e-12)


def test_a_second_backward_over_one_graph_keeps_micrograds_sums_and_warns_once(monkeypatch):
    """Issue 20 item 7 (karpathy/micrograd #25, #53): PyTorch raises, micrograd silently
    doubles; here the arithmetic stays micrograd's and one warning says why."""
    monkeypatch.setattr(value_module, "_warned_backward_again", False)
    x = Value(2.0)
    y = x * x
    y.backward()
    with pytest.warns(UserWarning, match=r"backward\(\) ran again.*zero_grad\(\)"):
        y.backward()
    assert x.grad == 8.0  # 4 + 4, micrograd's sum
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y.backward()  # once per process: no second warning
        y.zero_grad()
        y.backward()  # after zero_grad nothing is repeated
    assert x.grad == 4.0


def test_backward_through_a_chain_of_a_million_operations():
    """The graph walk is iterative: no RecursionError (its speed is benchmark W4, not a test)."""
    n = 1_000_000
    gc.disable()  # a million new objects would otherwise trigger hundreds of gc passes
    try:
        x = Value(0.5)
        y = x
        for _ in range(n):
            y = y + x
        y.backward()
    finally:
        gc.enable()
    assert y.data == 0.5 * (n + 1)
    assert x.grad == n + 1
    del x, y
    gc.collect()


# --- the node's anatomy ------------------------------------------------------------------


def test_values_use_slots_not_a_dict():
    v = Value(1.0)
    assert "__slots__" in vars(Value)
    assert not hasattr(v, "__dict__")
    with pytest.raises(AttributeError):
        v.some_new_attribute = 1


def test_each_node_knows_its_parents_and_its_op():
    a, b = Value(2.0), Value(-3.0)
    assert a._prev == () and a._op == "" and a._backward is None
    cases = {
        "+": a + b,
        "*": a * b,
        "ReLU": a.relu(),
        "tanh": a.tanh(),
        "exp": a.exp(),
        "log": a.log(),
        "sigmoid": a.sigmoid(),
        "**3": a**3,
    }
    for op, node in cases.items():
        assert node._op == op
        assert set(node._prev) <= {a, b} and a in node._prev
    assert set((a + b)._prev) == {a, b}
    assert set((a * b)._prev) == {a, b}
    assert set((a**b)._prev) == {a, b}


# --- the fast paths: the same graph and gradients as the plain ones -------------------------

# name -> (arity, operation): the operations a random graph is drawn from
GRAPH_OPS = {
    "+": (2, lambda a, b: a + b),
    "*": (2, lambda a, b: a * b),
    "-": (2, lambda a, b: a - b),
    "/": (2, lambda a, b: a / (b * b + 1)),
    "relu": (1, lambda a: a.relu()),
    "tanh": (1, lambda a: a.tanh()),
    "square": (1, lambda a: a**2),
    "number + ": (1, lambda a: 1.5 + a),
    "sum": (3, lambda a, b, c: sum((a, b, c))),  # 0 + a: micrograd's sum(...) pattern
    "dot": (3, lambda a, b, c: Value.dot([a, b], [c, a], b)),
}


@st.composite
def value_graphs(draw) -> Value:
    """A random DAG of Values: leaves, then operations on any earlier nodes (so nodes are
    shared and reached along several paths); the root uses the last node."""
    nodes = [Value(x) for x in draw(st.lists(floats(-2, 2), min_size=1, max_size=5))]
    for _ in range(draw(st.integers(1, 40))):
        arity, op = GRAPH_OPS[draw(st.sampled_from(sorted(GRAPH_OPS)))]
        nodes.append(op(*(nodes[draw(st.integers(0, len(nodes) - 1))] for _ in range(arity))))
    return nodes[-1] * 1.0


def reachable(root: Value) -> set[int]:
    seen, todo = set(), [root]
    while todo:
        node = todo.pop()
        if id(node) not in seen:
            seen.add(id(node))
            todo.extend(node._prev)
    return seen


@given(root=value_graphs())
def test_backward_order_puts_every_reachable_node_once_after_its_parents(root):
    order = autograd.topological_order(root)
    assert len(order) == len({id(n) for n in order}) == len(reachable(root))
    assert {id(n) for n in order} == reachable(root)
    position = {id(n): i for i, n in enumerate(order)}
    assert all(position[id(p)] < position[id(n)] for n in order for p in n._prev)
    assert order[-1] is root


@given(root=value_graphs())
def test_backward_gives_the_shared_cores_gradients_bit_for_bit(root):
    """Value.backward (the shared walk's speed tail `autograd.backpropagate_scalars`, calling
    each `_grad_fn` directly) against `autograd.backpropagate` (the walk the Tensor engine
    uses, through ``_backward``): the same order, so the same sums in the same order."""
    nodes = autograd.topological_order(root)
    root.backward()
    fast = [n.grad.hex() for n in nodes]
    for n in nodes:
        n.grad = 0.0
    root.grad = 1.0
    autograd.backpropagate(root)
    assert [n.grad.hex() for n in nodes] == fast


@given(root=value_graphs())
def test_zero_grad_resets_every_node_of_the_graph(root):
    root.backward()
    root.zero_grad()
    assert all(n.grad == 0.0 for n in autograd.topological_order(root))


def test_operations_build_the_same_node_as_the_constructor():
    """The hot operations skip ``__init__`` (`_node`); their nodes must not differ from
    ``Value(data, parents, op)``: floats inside, a zero gradient, no label."""
    a, b = Value(2), Value(-3)
    for node in (a + b, a * b, a.relu(), a.tanh(), Value.dot([a], [b], 1), 0 + a):
        plain = Value(node.data, node._prev, node._op)
        for slot in ("data", "grad", "label", "_prev", "_op"):
            assert getattr(node, slot) == getattr(plain, slot), slot
            assert type(getattr(node, slot)) is type(getattr(plain, slot)), slot
        assert node._grad_fn is not None


# --- DOT output ----------------------------------------------------------------------------

_NODE = re.compile(r"^\s*(\w+)\s*\[(.*)\];$")
_EDGE = re.compile(r"^\s*(\w+)\s*->\s*(\w+);$")
_LABEL = re.compile(r'label="(.*)"')


def parse_dot(text: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Node ids with their labels, and the edges, of the simple DOT text `to_dot` writes."""
    lines = text.strip().splitlines()
    assert lines[0].startswith("digraph") and lines[0].rstrip().endswith("{")
    assert lines[-1].strip() == "}"
    nodes: dict[str, str] = {}
    edges: list[tuple[str, str]] = []
    for line in lines[1:-1]:
        if edge := _EDGE.match(line):
            edges.append(edge.groups())
        elif node := _NODE.match(line):
            label = _LABEL.search(node.group(2))
            if node.group(1) not in ("node", "edge", "graph"):
                nodes[node.group(1)] = label.group(1) if label else ""
    for src, dst in edges:
        assert src in nodes and dst in nodes, f"edge {src} -> {dst} names an undeclared node"
    return nodes, edges


def test_draw_dot_describes_a_small_graph():
    a = Value(-4.0, label="a")
    b = Value(2.0, label="b")
    c = a * b
    r = b.relu()
    d = c + r
    for node, label in ((c, "c"), (r, "r"), (d, "d")):
        node.label = label
    d.backward()
    text = draw_dot(d)
    assert text.startswith("digraph")
    nodes, edges = parse_dot(text)

    # one record per Value, found by its label, showing its data and grad
    record_of = {}
    for value in (a, b, c, r, d):
        ids = [i for i, text in nodes.items() if text.strip("{} ").startswith(value.label + " |")]
        assert len(ids) == 1, f"expected one DOT node labelled {value.label!r}"
        record_of[value.label] = ids[0]
        assert f"data {value.data:.4f}" in nodes[ids[0]]
        assert f"grad {value.grad:.4f}" in nodes[ids[0]]
    op_ids = set(nodes) - set(record_of.values())
    assert sorted(nodes[i] for i in op_ids) == ["*", "+", "ReLU"]

    # each computed value: its op node points at it, and every parent points at the op
    for value in (c, r, d):
        into = [src for src, dst in edges if dst == record_of[value.label]]
        assert len(into) == 1 and nodes[into[0]] == value._op
        parents = sorted(src for src, dst in edges if dst == into[0])
        assert parents == sorted(record_of[p.label] for p in value._prev)
    assert len(edges) == sum(1 + len(v._prev) for v in (c, r, d))


def test_to_dot_handles_tensors_and_escapes_labels():
    assert draw_dot is to_dot
    x = tg.Tensor([[1.0, 2.0]], requires_grad=True)
    y = (x * 2).sum()
    nodes, edges = parse_dot(to_dot(y))
    assert sorted(label for label in nodes.values() if "shape" not in label) == ["mul", "sum"]
    assert any("shape (1, 2)" in label for label in nodes.values())
    assert len(edges) == 4  # x -> mul, mul -> x*2, x*2 -> sum, sum -> y

    v = Value(1.0, label='quote" {brace}')
    text = to_dot(v.tanh())
    nodes, _ = parse_dot(text)
    assert any(r"quote\" \{brace\}" in label for label in nodes.values())


def test_dot_labels_with_record_syntax_are_escaped():
    from tinygrad_edu.viz.graphviz import to_dot

    text = to_dot(Value(1.0, label="a|b<c>{d}") * 2)
    assert "a\\|b\\<c\\>\\{d\\}" in text


def test_the_docs_first_value_example_prints_what_it_says(capsys):
    block, shown = next((b, s) for _, b, s in docs_pages.python_examples() if "Value(-3.0" in b)
    exec(compile(block, "docs/tutorials/value_engine.md", "exec"), {})
    printed = capsys.readouterr().out.split("\n")[0]
    claimed = shown.split("\n")[0]  # the output the page shows after the block
    assert printed == claimed == "0.9950669814172799 4.5"  # PyTorch float64: the same
