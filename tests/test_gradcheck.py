"""gradcheck itself: it accepts right gradients and rejects wrong ones, naming the input,
the worst element and both values."""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import GradcheckError, Tensor, Value, ops

REPORT = re.compile(
    r"input (\d+).* at index \(([\d, ]*)\): analytic (\S+), numeric (\S+) "
    r"\(allowed difference (\S+)\)"
)


def parse_report(error: GradcheckError) -> tuple[int, tuple[int, ...], float, float]:
    """(input index, worst element index, analytic value, numeric value) from the message."""
    match = REPORT.search(str(error))
    assert match, f"unexpected gradcheck message: {error}"
    k, index, analytic, numeric, _ = match.groups()
    index = tuple(int(i) for i in index.replace(" ", "").split(",") if i)
    return int(k), index, float(analytic), float(numeric)


def square_with_half_gradient(t: Tensor) -> Tensor:
    """x^2 whose backward forgets the factor 2: a deliberately wrong op."""
    return t._unary("bad_square", t.data * t.data, lambda g: g * t.data)


def test_gradcheck_returns_true_for_correct_gradients(xp_backend):
    a = Tensor([[0.5, -1.0], [2.0, 0.3]], requires_grad=True)
    b = Tensor([1.5, -0.7], requires_grad=True)
    assert tg.gradcheck(lambda x, y: (x * y).tanh().sum(axis=0) + y.exp(), [a, b]) is True


def test_gradcheck_rejects_a_wrong_gradient_and_names_the_worst_element(xp_backend):
    x = Tensor([0.5, -4.0, 1.0], requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        tg.gradcheck(square_with_half_gradient, [x])
    k, index, analytic, numeric = parse_report(info.value)
    assert "shape (3,)" in str(info.value)
    assert (k, index) == (0, (1,))  # the error |x| w is largest at x = -4
    # the check weights the output with w in [0.5, 1.5]: analytic w x, numeric 2 w x
    assert numeric == pytest.approx(2 * analytic, rel=1e-6)
    assert -12.0 <= numeric <= -4.0


def test_the_message_gives_plain_numbers(xp_backend):
    x = Tensor([2.0], requires_grad=True)
    with pytest.raises(GradcheckError, match=r"analytic -?\d[\d.e+-]*, numeric -?\d[\d.e+-]*"):
        tg.gradcheck(square_with_half_gradient, [x])


def broken_mul_second_operand() -> ops.Binary:
    """The op table's row of ``x * y`` with d(xy)/dy = 2x instead of x."""
    return dataclasses.replace(
        ops.MUL, backward=(ops.MUL.backward[0], lambda g, x, y, out: 2 * g * x)
    )


def test_gradcheck_names_the_input_with_the_wrong_gradient(xp_backend, monkeypatch):
    # break the backward of multiplication for its second operand only: d(ab)/db = 2a
    monkeypatch.setattr(ops, "MUL", broken_mul_second_operand())
    a = Tensor([[1.0, 2.0, 3.0], [0.5, -0.5, 4.0]], requires_grad=True)
    b = Tensor([[0.3], [-0.2]], requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        tg.gradcheck(lambda x, y: x * y, [a, b])
    k, index, analytic, numeric = parse_report(info.value)
    assert k == 1 and len(index) == 2 and index[1] == 0
    assert "shape (2, 1)" in str(info.value)
    assert analytic == pytest.approx(2 * numeric, rel=1e-6)


def test_inputs_without_requires_grad_are_held_fixed(xp_backend, monkeypatch):
    monkeypatch.setattr(ops, "MUL", broken_mul_second_operand())
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0])  # its (wrong) gradient is never computed or checked
    assert tg.gradcheck(lambda x, y: x * y, [a, b])


def test_a_nan_finite_difference_is_a_failure(xp_backend):
    # an op whose backward claims slope 1 where its forward is nan (sqrt of negatives)
    def bad_sqrt(t: Tensor) -> Tensor:
        return t._unary("bad_sqrt", tg.get_backend().xp.sqrt(t.data), lambda g: g)

    with pytest.raises(GradcheckError, match="numeric nan"), np.errstate(invalid="ignore"):
        tg.gradcheck(bad_sqrt, [Tensor([-1.0, -2.0], requires_grad=True)])


def test_tolerances_decide(xp_backend):
    # the backward is off by a relative 1e-4: inside rtol=1e-3, outside rtol=1e-6
    def slightly_off(t: Tensor) -> Tensor:
        return t._unary("scaled", t.data * 3.0, lambda g: g * 3.0 * (1 + 1e-4))

    x = Tensor([1.0, -2.0, 0.5], requires_grad=True)
    assert tg.gradcheck(slightly_off, [x])
    with pytest.raises(GradcheckError):
        tg.gradcheck(slightly_off, [x], rtol=1e-6, atol=1e-8)


def test_gradcheck_works_in_float64_whatever_the_input_dtype(xp_backend):
    # float32 rounding would ruin central differences with eps = 1e-6; gradcheck upcasts
    x = Tensor([0.1, 0.7, -1.3], dtype="float32", requires_grad=True)
    assert tg.gradcheck(lambda t: (t * t * t).sigmoid(), [x], rtol=1e-7, atol=1e-9)
    assert x.grad is None  # the caller's tensors are not touched


def test_a_zero_gradient_is_checked_too(xp_backend):
    # an input that does not influence the output has gradient None, i.e. zeros
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0], requires_grad=True)
    assert tg.gradcheck(lambda x, y: x * 2.0, [a, b])
    with pytest.raises(GradcheckError, match="input 1"):
        tg.gradcheck(lambda x, y: x * 2.0 + (y * 0.0) + y.detach(), [a, b])


# --- Value functions -----------------------------------------------------------------------


def test_gradcheck_for_value_functions():
    assert tg.gradcheck(
        lambda a, b: (a * b + b**3).tanh() / (1 + a.exp()), [Value(0.3), Value(-1.2)]
    )


def test_gradcheck_rejects_a_wrong_value_gradient():
    def bad_tanh(v: Value) -> Value:
        return v._unary(math.tanh(v.data), "bad_tanh", 1.0)  # slope 1 everywhere

    with pytest.raises(GradcheckError) as info:
        tg.gradcheck(lambda a, b: a * b + bad_tanh(b), [Value(0.5), Value(2.0)])
    k, _, analytic, numeric = parse_report(info.value)
    assert k == 1
    assert analytic == pytest.approx(0.5 + 1.0, rel=1e-9)
    assert numeric == pytest.approx(0.5 + 1 - math.tanh(2.0) ** 2, rel=1e-6)


def test_value_gradcheck_checks_every_input(monkeypatch):
    # double d(x^p)/dx of Value's power op: a / b = a * b**-1 goes through it for b only
    original = Value.__pow__

    def wrong_pow(self, other):
        out = original(self, other)
        backward = out._backward

        def doubled():
            before = self.grad
            backward()
            self.grad += self.grad - before

        out._backward = doubled
        return out

    monkeypatch.setattr(Value, "__pow__", wrong_pow)
    with pytest.raises(GradcheckError, match="input 1"):
        tg.gradcheck(lambda a, b: a / b, [Value(1.5), Value(2.5)])
    assert tg.gradcheck(lambda a, b: a * b, [Value(1.5), Value(2.5)])
