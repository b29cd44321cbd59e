"""Each differentiable op once: forward, local derivative, formula, tie rule.

A table a student can scan, one row per op (as tinygrad's gradient table, minitorch's
``ScalarFunction`` and needle's ``compute``/``gradient`` pairs). It has three parts: the
elementwise ops of one input (`UNARY`) and of two (`BINARY`), then the ops on whole arrays
(`ARRAY`: matmul, linear, reductions, changes of shape, softmax), whose gradient changes
shape. An elementwise row holds

- ``forward``: the op on the backend's arrays (``xp``), after the Tensor engine has chosen
  the result dtype;
- ``local``: the local derivative d out/d x from the input and output values; written
  with operators only, so the same function serves a float (`Value`) and an array;
- ``backward``: the gradient passed to the input, given the output's gradient ``g``
  (``g * local`` unless a faster or PyTorch-exact form is needed);
- ``words``: the local derivative in the symbols of its input ``{x}`` (``{y}`` the second
  input) and output ``{out}``, as `explain` prints it for a scalar graph;
- ``rule``: the same chain rule for whole arrays, with the output's gradient ``{g}``;
- ``latex``: the formula for the docs and exercises;
- ``tie``: the derivative chosen where the op has a kink, PyTorch's choice.

An array row (`ArrayOp`) holds the same per input, its ``rule`` in matrix form with the
shapes the gradient moves between (see the section's header below).

`_tensor.py`, the ``tensor_*`` mixins and `functional` call ``forward`` and ``backward``;
`explain` formats ``words`` and ``rule``; `value.py` uses ``local`` where the scalar formula
is the same. Nothing here builds graph nodes: that is the engines' job.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import backend


@dataclass(frozen=True)
class Unary:
    """One-input elementwise op; extra arguments (a slope, bounds) follow ``x``."""

    name: str
    forward: Callable[..., Any]
    backward: Callable[..., Any]  # (g, x, out, *args) -> gradient of x
    words: str
    rule: str
    latex: str
    local: Callable[[Any, Any], Any] | None = None  # (x, out) -> d out/d x
    tie: str = ""


@dataclass(frozen=True)
class Binary:
    """Two-input elementwise op; one backward, words and rule per input (x, then y)."""

    name: str
    forward: Callable[[Any, Any], Any] | None  # None: bound per call (`WHERE`'s condition)
    backward: tuple[Callable[..., Any] | None, Callable[..., Any] | None]  # (g, x, y, out)
    words: tuple[str, str]
    rule: tuple[str, str]
    latex: tuple[str, str]
    tie: str = ""
    local: tuple[Callable[..., Any] | None, Callable[..., Any] | None] | None = None  # (x, y, out)


def _xp() -> Any:
    return backend.active.xp


def _times_local(local: Callable[[Any, Any], Any]) -> Callable[..., Any]:
    """The usual backward: the output's gradient times the local derivative."""
    return lambda g, x, out: g * local(x, out)


# --- unary ops ----------------------------------------------------------------------------------


def _exp_local(x: Any, out: Any) -> Any:
    return out  # d e^x/dx = e^x


def _log_local(x: Any, out: Any) -> Any:
    return 1.0 / x  # d ln(x)/dx = 1/x


def _tanh_local(x: Any, out: Any) -> Any:
    return 1.0 - out * out  # d tanh(x)/dx = 1 - tanh(x)^2


def _sigmoid_local(x: Any, out: Any) -> Any:
    return out * (1.0 - out)  # d sigma(x)/dx = sigma(x) (1 - sigma(x))


def _relu_backward(g: Any, x: Any, out: Any) -> Any:
    # 1 where relu(x) != 0, else 0 (so 1 at NaN, as PyTorch's mask); a 0/1 mask times g is
    # ~4x faster than where(...) on NumPy
    mask = _xp().astype(out != 0, g.dtype)
    mask *= g
    return mask


def _abs_backward(g: Any, x: Any, out: Any) -> Any:
    xp = _xp()
    return xp.where(x > 0, g, xp.where(x < 0, -g, 0.0))  # sign(x): 0 at 0 and at NaN


def _leaky_relu_forward(x: Any, slope: float) -> Any:
    return _xp().where(x > 0, x, x * slope)


def _leaky_relu_backward(g: Any, x: Any, out: Any, slope: float) -> Any:
    return _xp().where(x > 0, g, g * slope)


_GELU_C = math.sqrt(2.0 / math.pi)


def _gelu_tanh_inner(x: Any) -> Any:
    return _xp().tanh(_GELU_C * (x + 0.044715 * x**3))


def _gelu_tanh_backward(g: Any, x: Any, out: Any) -> Any:
    t = _gelu_tanh_inner(x)
    c = _GELU_C
    return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x))


def _clip_inside(x: Any, lo: Any, hi: Any) -> Any:
    xp = _xp()
    inside = xp.ones(x.shape, dtype=xp.bool)
    if lo is not None:
        inside = inside & (x >= lo)
    if hi is not None:
        inside = inside & (x <= hi)
    return inside


def _stable_sigmoid(x: Any) -> Any:
    """1 / (1 + e^-x) computed without overflow for large |x|."""
    xp = _xp()
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


EXP = Unary(
    "exp", lambda x: _xp().exp(x), _times_local(_exp_local),
    words="{out}", rule="{g} * {out}", latex=r"\frac{d}{dx} e^x = e^x", local=_exp_local,
)  # fmt: skip
LOG = Unary(
    "log", lambda x: _xp().log(x), lambda g, x, out: g / x,
    words="1 / {x}", rule="{g} / {x}", latex=r"\frac{d}{dx} \ln x = \frac{1}{x}", local=_log_local,
)  # fmt: skip
LOG1P = Unary(
    "log1p", lambda x: _xp().log1p(x), lambda g, x, out: g / (1 + x),
    words="1 / (1 + {x})", rule="{g} / (1 + {x})",
    latex=r"\frac{d}{dx} \ln(1 + x) = \frac{1}{1 + x}",
)  # fmt: skip
SQRT = Unary(
    "sqrt", lambda x: _xp().sqrt(x), lambda g, x, out: g / (2 * out),
    words="1 / (2 {out})", rule="{g} / (2 * {out})",
    latex=r"\frac{d}{dx} \sqrt{x} = \frac{1}{2\sqrt{x}}",
)  # fmt: skip
SIN = Unary(
    "sin", lambda x: _xp().sin(x), lambda g, x, out: g * _xp().cos(x),
    words="cos({x})", rule="{g} * cos({x})", latex=r"\frac{d}{dx} \sin x = \cos x",
)  # fmt: skip
COS = Unary(
    "cos", lambda x: _xp().cos(x), lambda g, x, out: -g * _xp().sin(x),
    words="-sin({x})", rule="-{g} * sin({x})", latex=r"\frac{d}{dx} \cos x = -\sin x",
)  # fmt: skip
TANH = Unary(
    "tanh", lambda x: _xp().tanh(x), _times_local(_tanh_local),
    words="1 - {out}^2", rule="{g} * (1 - {out}^2)",
    latex=r"\frac{d}{dx} \tanh x = 1 - \tanh^2 x", local=_tanh_local,
)  # fmt: skip
SIGMOID = Unary(
    "sigmoid", _stable_sigmoid, _times_local(_sigmoid_local),
    words="{out} * (1 - {out})", rule="{g} * {out} * (1 - {out})",
    latex=r"\frac{d}{dx} \sigma(x) = \sigma(x)\,(1 - \sigma(x))", local=_sigmoid_local,
)  # fmt: skip
RELU = Unary(
    # maximum(x, 0) with a Python int keeps the dtype, keeps NaN (as PyTorch) and is ~3x
    # faster than where(x > 0, x, 0)
    "relu", lambda x: _xp().maximum(x, 0), _relu_backward,
    words="1 if {x} > 0 else 0", rule="{g} * ({x} > 0)",
    latex=r"\frac{d}{dx} \max(x, 0) = [x > 0]",
    tie="0 at x = 0; 1 at NaN (the mask is relu(x) != 0)",
)  # fmt: skip
LEAKY_RELU = Unary(
    "leaky_relu", _leaky_relu_forward, _leaky_relu_backward,
    words="1 if {x} > 0 else slope", rule="{g} * (1 if {x} > 0 else slope)",
    latex=r"\frac{d}{dx} \mathrm{leaky}(x) = 1 \text{ if } x > 0 \text{ else } \alpha",
    tie="the slope at x = 0 and at NaN",
)  # fmt: skip
GELU_TANH = Unary(
    "gelu", lambda x: 0.5 * x * (1 + _gelu_tanh_inner(x)), _gelu_tanh_backward,
    words="0.5 (1 + t) + 0.5 {x} (1 - t^2) c (1 + 3 * 0.044715 {x}^2)",
    rule="{g} * (0.5 (1 + t) + 0.5 {x} (1 - t^2) c (1 + 3 * 0.044715 {x}^2))",
    latex=r"t = \tanh(c (x + 0.044715 x^3)),\ c = \sqrt{2/\pi}:\ "
    r"\frac{d}{dx} = \tfrac12 (1 + t) + \tfrac12 x (1 - t^2)\, c\, (1 + 3 \cdot 0.044715 x^2)",
)  # fmt: skip
ABS = Unary(
    "abs", lambda x: _xp().abs(x), _abs_backward,
    words="sign({x})", rule="{g} * sign({x})", latex=r"\frac{d}{dx} |x| = \operatorname{sign} x",
    tie="0 at x = 0 and at NaN",
)  # fmt: skip
NEG = Unary(
    "neg", lambda x: -x, lambda g, x, out: -g,
    words="-1", rule="-{g}", latex=r"\frac{d}{dx} (-x) = -1",
)  # fmt: skip
CLIP = Unary(
    "clip", lambda x, lo, hi: _xp().clip(x, lo, hi),
    lambda g, x, out, lo, hi: _xp().where(_clip_inside(x, lo, hi), g, 0.0),
    words="1 if min <= {x} <= max else 0", rule="{g} * (min <= {x} <= max)",
    latex=r"\frac{d}{dx} \mathrm{clip}(x) = [\min \le x \le \max]",
    tie="1 at the bounds (min <= x <= max included), 0 at NaN",
)  # fmt: skip


# --- binary ops ---------------------------------------------------------------------------------


def _pass(g: Any, x: Any, y: Any, out: Any) -> Any:
    return g


def _negated(g: Any, x: Any, y: Any, out: Any) -> Any:
    return -g


def _pow_base_local(x: Any, y: Any, out: Any) -> Any:
    return y * x ** (y - 1)  # d x^y/dx = y x^(y-1)


def _pow_base(g: Any, x: Any, y: Any, out: Any) -> Any:
    # PyTorch's rule: 0 where the exponent is 0 (x^0 = 1 is flat, also at x = 0)
    xp = _xp()
    if isinstance(y, (int, float)):
        return xp.zeros_like(g) if y == 0 else g * _pow_base_local(x, y, out)
    return xp.where(y == 0, 0.0, g * y * x ** xp.where(y == 0, 1.0, y - 1))


def _pow_exponent(g: Any, x: Any, y: Any, out: Any) -> Any:
    # PyTorch's rule: 0 where x == 0 and p >= 0; ln(0) = -inf for p < 0, nan for x < 0
    xp = _xp()
    flat = (x == 0) & (y >= 0)
    log_x = xp.where(
        x > 0,
        xp.log(xp.where(x > 0, x, 1.0)),
        xp.where(x == 0, xp.full_like(x, -math.inf), math.nan),
    )
    return xp.where(flat, 0.0, g * out * xp.where(flat, 0.0, log_x))


def _pow(x: Any, y: Any) -> Any:
    """``x ** y``; a bool array to a Python bool stays bool, as PyTorch (NumPy gives int8)."""
    if isinstance(y, bool) and x.dtype == _xp().bool:
        return x if y else _xp().ones_like(x)
    return x**y


def _pow_exponent_of_number(g: Any, x: Any, c: Any, out: Any) -> Any:
    # c ** x with a number c: 0 where c == 0 and x >= 0, as PyTorch (and -inf for x < 0)
    if c == 0:
        return _xp().where(x >= 0, 0.0, g * -math.inf)
    return g * out * (math.log(c) if c > 0 else math.nan)


def _tie_split(g: Any, loses: Any, ties: Any) -> Any:
    """The gradient for one input of maximum/minimum, PyTorch's formula: 0 where it lost,
    half where tied, all elsewhere (so both inputs get all of it where one is NaN)."""
    xp = _xp()
    return xp.where(loses, 0.0, xp.where(ties, g * 0.5, g))


_TIE = "half of the gradient to each input where x == y; all of it to both at NaN"

ADD = Binary(
    "add", operator.add, (_pass, _pass),
    words=("1", "1"), rule=("{g}", "{g}"),
    latex=(r"\partial_x (x + y) = 1", r"\partial_y (x + y) = 1"),
    local=(lambda x, y, out: 1.0, lambda x, y, out: 1.0),
)  # fmt: skip
SUB = Binary(
    "sub", operator.sub, (_pass, _negated),
    words=("1", "-1"), rule=("{g}", "-{g}"),
    latex=(r"\partial_x (x - y) = 1", r"\partial_y (x - y) = -1"),
)  # fmt: skip
MUL = Binary(
    "mul", operator.mul, (lambda g, x, y, out: g * y, lambda g, x, y, out: g * x),
    words=("{y}", "{x}"), rule=("{g} * {y}", "{g} * {x}"),
    latex=(r"\partial_x (x y) = y", r"\partial_y (x y) = x"),
    local=(lambda x, y, out: y, lambda x, y, out: x),
)  # fmt: skip
DIV = Binary(
    "div", operator.truediv, (lambda g, x, y, out: g / y, lambda g, x, y, out: -g * out / y),
    words=("1 / {y}", "-{out} / {y}"), rule=("{g} / {y}", "-{g} * {out} / {y}"),
    latex=(r"\partial_x \frac{x}{y} = \frac{1}{y}", r"\partial_y \frac{x}{y} = -\frac{x}{y^2}"),
)  # fmt: skip
POW = Binary(
    "pow", _pow, (_pow_base, _pow_exponent),
    words=("{y} * {x}^({y} - 1)", "{x}^{y} * ln({x})"),
    rule=("{g} * {y} * {x}^({y} - 1)", "{g} * {out} * ln({x})"),
    latex=(r"\partial_x x^y = y\,x^{y-1}", r"\partial_y x^y = x^y \ln x"),
    local=(_pow_base_local, None),  # d/dy needs a log: math's for a float, xp's for an array
    tie="d/dx = 0 where y = 0; d/dy = 0 where x = 0 and y >= 0, -inf where x = 0 and y < 0, "
    "nan where x < 0",
)  # fmt: skip
MAXIMUM = Binary(
    "maximum", lambda x, y: _xp().maximum(x, y),
    (lambda g, x, y, out: _tie_split(g, x < y, x == y),
     lambda g, x, y, out: _tie_split(g, x > y, x == y)),
    words=("1 if {x} > {y} else 0", "1 if {y} > {x} else 0"),
    rule=("{g} * ({x} > {y})", "{g} * ({y} > {x})"),
    latex=(r"\partial_x \max(x, y) = [x > y]", r"\partial_y \max(x, y) = [y > x]"), tie=_TIE,
)  # fmt: skip
MINIMUM = Binary(
    "minimum", lambda x, y: _xp().minimum(x, y),
    (lambda g, x, y, out: _tie_split(g, x > y, x == y),
     lambda g, x, y, out: _tie_split(g, x < y, x == y)),
    words=("1 if {x} < {y} else 0", "1 if {y} < {x} else 0"),
    rule=("{g} * ({x} < {y})", "{g} * ({y} < {x})"),
    latex=(r"\partial_x \min(x, y) = [x < y]", r"\partial_y \min(x, y) = [y < x]"), tie=_TIE,
)  # fmt: skip

# A number on the left (``2 - t``, ``2 / t``, ``2 ** t``): the op with its inputs swapped; the
# tensor is ``x`` and the number ``y``, so only the first backward is ever needed.
RSUB = Binary(
    "rsub", lambda x, y: y - x, (_negated, None),
    words=("-1", ""), rule=("-{g}", ""), latex=(r"\partial_x (c - x) = -1", ""),
)  # fmt: skip
RDIV = Binary(
    "rdiv", lambda x, y: y / x, (lambda g, x, y, out: -g * out / x, None),
    words=("-{out} / {x}", ""), rule=("-{g} * {out} / {x}", ""),
    latex=(r"\partial_x \frac{c}{x} = -\frac{c}{x^2}", ""),
)  # fmt: skip
RPOW = Binary(
    "rpow", lambda x, y: y**x, (_pow_exponent_of_number, None),
    words=("{out} * ln({y})", ""), rule=("{g} * {out} * ln({y})", ""),
    latex=(r"\partial_x c^x = c^x \ln c", ""),
    tie="0 where c = 0 and x >= 0, -inf where c = 0 and x < 0, nan where c < 0",
)  # fmt: skip

WHERE = Binary(
    # where(c, x, y): the condition c is data, not an input; the engine binds it per call
    "where", None, (None, None),
    words=("1 if c else 0", "0 if c else 1"),
    rule=("{g} where c, else 0", "{g} where not c, else 0"),
    latex=(r"\partial_x \mathrm{where}(c, x, y) = [c]",
           r"\partial_y \mathrm{where}(c, x, y) = [\lnot c]"),
)  # fmt: skip

UNARY: dict[str, Unary] = {op.name: op for op in (
    EXP, LOG, LOG1P, SQRT, SIN, COS, TANH, SIGMOID, RELU, LEAKY_RELU, GELU_TANH, ABS, NEG, CLIP,
)}  # fmt: skip
BINARY: dict[str, Binary] = {op.name: op for op in (
    ADD, SUB, MUL, DIV, POW, MAXIMUM, MINIMUM, RSUB, RDIV, RPOW, WHERE,
)}  # fmt: skip
"""The tables by name (a Tensor node's ``_op``), for `explain`, the docs and the exercises."""

EXERCISES: tuple[str, ...] = ("add", "mul", "pow", "tanh", "relu", "exp")
"""The ops whose backward students write (``python cli.py exercises``), in the lecture's order:
marking an op here makes it an exercise whose hint, messages and expected gradients are read
from its row (its reference ``<op>_backward`` goes in exercises/solution/value.py)."""

# --- ops on whole arrays ------------------------------------------------------------------------
# A matrix product, a reduction, a change of shape: the output has another shape than the
# inputs, so the chain rule is a matrix formula that moves the gradient between shapes. A row
# holds one backward per input and its ``rule`` in those shapes, with the symbols
#   {g} the output's gradient, {gshape} its shape, {shape} the input's shape, {out} the output,
#   {<input>} each input by its symbol in ``inputs``, {<input>_shape} its shape; a ``_T``
#   suffix on a shape reverses it (the shape of a transpose).


@dataclass(frozen=True)
class ArrayOp:
    """An op whose gradient changes shape; one backward, rule and formula per input."""

    name: str
    inputs: tuple[str, ...]  # the inputs' symbols in `rule`: ("x", "w", "b") for linear
    forward: Callable[..., Any] | None  # None: fused with its backward (see the row)
    backward: tuple[Callable[..., Any] | None, ...]
    rule: tuple[str, ...]
    latex: tuple[str, ...]
    tie: str = ""


ELEMENTWISE = "{rule}, element by element: {shape}"
"""How an elementwise row's ``rule`` reads for an array whose shape is the output's."""
BROADCAST = "{rule}, summed over the broadcast axes: {gshape} -> {shape}"
"""The same for an input that was broadcast: its gradient is summed back to its shape."""


def _matmul_backward_a(g: Any, a: Any, b: Any) -> Any:
    return g @ _xp().matrix_transpose(b)  # d(AB)/dA = G B^T


def _matmul_backward_b(g: Any, a: Any, b: Any) -> Any:
    return _xp().matrix_transpose(a) @ g  # d(AB)/dB = A^T G


def _extreme_backward(g: Any, x: Any, kept: Any, axes: tuple) -> Any:
    """d max(x)/dx_i = 1/k for each of the k tied maxima, 0 elsewhere (PyTorch's amax)."""
    xp = _xp()
    winners = xp.astype(x == kept, g.dtype)
    return winners * (g / xp.sum(winners, axis=axes, keepdims=True))


def _softmax_backward(g: Any, s: Any, axis: int) -> Any:
    xp = _xp()
    return s * (g - xp.sum(g * s, axis=axis, keepdims=True))


def _log_softmax_backward(g: Any, out: Any, axis: int) -> Any:
    xp = _xp()
    return g - xp.exp(out) * xp.sum(g, axis=axis, keepdims=True)


_TIED = "1/k of the gradient to each of k tied extremes (PyTorch's amax and amin)"

MATMUL = ArrayOp(
    "matmul", ("a", "b"), lambda a, b: a @ b, (_matmul_backward_a, _matmul_backward_b),
    rule=("{g} @ {b}.T: {gshape} @ {b_shape_T} -> {shape}",
          "{a}.T @ {g}: {a_shape_T} @ {gshape} -> {shape}"),
    latex=(r"\frac{\partial L}{\partial A} = G B^\top",
           r"\frac{\partial L}{\partial B} = A^\top G"),
)  # fmt: skip
LINEAR = ArrayOp(
    # x @ w.T + b on a 2-D x (the engine folds leading batch axes into one); its backward gets
    # the output's gradient and x as 2-D arrays and the weight w, shaped (out, in)
    "linear", ("x", "w", "b"), lambda x, w: x @ w.T,
    (lambda g, x, w: g @ w, lambda g, x, w: g.T @ x, lambda g, x, w: _xp().sum(g, axis=0)),
    rule=("{g} @ {w}: {gshape} @ {w_shape} -> {shape}",
          "{g}.T @ {x}: {gshape_T} @ {x_shape} -> {shape}",
          "{g} summed over the batch: {gshape} -> {shape}"),
    latex=(r"\frac{\partial L}{\partial X} = G W", r"\frac{\partial L}{\partial W} = G^\top X",
           r"\frac{\partial L}{\partial b} = \textstyle\sum_i G_{i,:}"),
)  # fmt: skip
SUM = ArrayOp(
    # the backward gets the gradient with the reduced axes kept as size 1
    "sum", ("x",), lambda x, axes, keepdims: _xp().sum(x, axis=axes, keepdims=keepdims),
    (lambda g, shape: _xp().broadcast_to(g, shape),),
    rule=("{g} copied over the reduced axes: {gshape} -> {shape}",),
    latex=(r"\frac{\partial}{\partial x_i} \sum_j x_j = 1",),
)  # fmt: skip
MEAN = ArrayOp(
    "mean", ("x",), lambda x, axes, keepdims: _xp().mean(x, axis=axes, keepdims=keepdims),
    (lambda g, shape, count: _xp().broadcast_to(g / count, shape),),
    rule=("{g} copied and divided by the count over the reduced axes: {gshape} -> {shape}",),
    latex=(r"\frac{\partial}{\partial x_i} \frac{1}{n} \sum_j x_j = \frac{1}{n}",),
)  # fmt: skip
MAX = ArrayOp(
    # the forward keeps the reduced axes (the backward compares x with it)
    "max", ("x",), lambda x, axes: _xp().max(x, axis=axes, keepdims=True), (_extreme_backward,),
    rule=("{g} to the largest entries of {x}, 0 elsewhere: {gshape} -> {shape}",),
    latex=(r"\frac{\partial}{\partial x_i} \max_j x_j = [x_i = \max_j x_j] / k",), tie=_TIED,
)  # fmt: skip
MIN = ArrayOp(
    "min", ("x",), lambda x, axes: _xp().min(x, axis=axes, keepdims=True), (_extreme_backward,),
    rule=("{g} to the smallest entries of {x}, 0 elsewhere: {gshape} -> {shape}",),
    latex=(r"\frac{\partial}{\partial x_i} \min_j x_j = [x_i = \min_j x_j] / k",), tie=_TIED,
)  # fmt: skip
RESHAPE = ArrayOp(
    "reshape", ("x",), lambda x, shape: _xp().reshape(x, shape),
    (lambda g, old_shape: _xp().reshape(g, old_shape),),
    rule=("{g} reshaped back: {gshape} -> {shape}",),
    latex=(r"\frac{\partial L}{\partial x} = \mathrm{reshape}(G, \mathrm{shape}(x))",),
)  # fmt: skip
PERMUTE = ArrayOp(
    "permute", ("x",), lambda x, order: _xp().permute_dims(x, order),
    (lambda g, inverse: _xp().permute_dims(g, inverse),),
    rule=("{g} with its axes put back in order: {gshape} -> {shape}",),
    latex=(r"\frac{\partial L}{\partial x} = \mathrm{permute}(G, \pi^{-1})",),
)  # fmt: skip
BROADCAST_TO = ArrayOp(
    # the backward passes the gradient on; the engine sums any gradient back to its input's
    # shape (`Tensor._accumulate`), the same rule as a broadcast input of `BINARY`
    "broadcast_to", ("x",), lambda x, shape: _xp().broadcast_to(x, shape), (lambda g: g,),
    rule=("{g} summed over the broadcast axes: {gshape} -> {shape}",),
    latex=(r"\frac{\partial L}{\partial x} = \textstyle\sum_{\text{broadcast axes}} G",),
)  # fmt: skip
SOFTMAX = ArrayOp(
    "softmax", ("x",), None, (_softmax_backward,),  # forward: exp of the stable log-softmax
    rule=("{out} * ({g} - sum of {g} * {out} over the axis): {shape}",),
    latex=(r"\frac{\partial s_i}{\partial x_j} = s_i ([i = j] - s_j)",),
)  # fmt: skip
LOG_SOFTMAX = ArrayOp(
    "log_softmax", ("x",), None, (_log_softmax_backward,),  # forward: x - logsumexp(x), stable
    rule=("{g} - softmax({x}) * sum of {g} over the axis: {shape}",),
    latex=(r"\frac{\partial \log s_i}{\partial x_j} = [i = j] - s_j",),
)  # fmt: skip
CROSS_ENTROPY = ArrayOp(
    # forward and backward fused in `functional` (class weights, ignored targets, label
    # smoothing, probability targets); the rule is the plain case's, mean over the batch
    "cross_entropy", ("x", "t"), None, (None, None),
    rule=("(softmax({x}) - one_hot(targets)) / batch size: {shape}",
          "-log_softmax({x}) / batch size: {shape}"),
    latex=(r"\frac{\partial L}{\partial x} = (\mathrm{softmax}(x) - \mathrm{onehot}(y)) / N",
           r"\frac{\partial L}{\partial t} = -\log \mathrm{softmax}(x) / N"),
)  # fmt: skip

ARRAY: dict[str, ArrayOp] = {op.name: op for op in (
    MATMUL, LINEAR, SUM, MEAN, MAX, MIN, RESHAPE, PERMUTE, BROADCAST_TO, SOFTMAX, LOG_SOFTMAX,
    CROSS_ENTROPY,
)}  # fmt: skip
"""The ops on whole arrays by name (a Tensor node's ``_op``)."""
