"""Each elementwise differentiable op once: forward, local derivative, formula, tie rule.

A table a student can scan, one row per op (as tinygrad's gradient table, minitorch's
``ScalarFunction`` and needle's ``compute``/``gradient`` pairs). A row holds

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

`_tensor.py` calls ``forward`` and ``backward``; `explain` formats ``words`` and ``rule``;
`value.py` uses ``local`` where the scalar formula is the same. Nothing here builds
graph nodes: that is the engines' job.
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


def _pow_base(g: Any, x: Any, y: Any, out: Any) -> Any:
    # PyTorch's rule: 0 where the exponent is 0 (x^0 = 1 is flat, also at x = 0)
    xp = _xp()
    if isinstance(y, (int, float)):
        return xp.zeros_like(g) if y == 0 else g * y * x ** (y - 1)
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
