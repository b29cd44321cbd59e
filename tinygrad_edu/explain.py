"""Backpropagation, step by step: the backward pass of a `Value` graph, written out.

`backprop(root)` runs the same backward pass as ``root.backward()`` and records, node by node
in the order the engine visits them, what the chain rule does there: the local derivative of
the node with respect to each input, as a formula and as a number, and the product that is
added to the input's gradient (``dL/da = dL/dc * dc/da = 2.0 * (-3.0) = -6.0``). When an input
feeds several nodes its gradient is the sum of one such product per use, and the listing shows
each addition and the running total.

The numbers are the engine's own: each node's local derivatives are read by running its backward
function once with an output gradient of 1 (inputs' gradients set aside and restored), so the
explanation cannot drift from what ``backward()`` computes. The formulas come from a table of
the operations `Value` has; an operation outside it (one written micrograd-style) is shown by
name with its numbers.

For a `Tensor` graph (a tiny MLP, say) the same walk shows shapes instead of numbers: each input's
gradient in matrix form with the shapes it multiplies (``dL/d1.weight = dL/dh1.T @ X: (128, 32)
@ (32, 784) -> (128, 784)``), which is how backpropagation is written for whole layers.

`parse` reads the small expression language of ``python cli.py backprop`` (``c = a * b; L = c +
a``, numbers, ``+ - * / **``, ``relu tanh exp log sigmoid``) with Python's ``ast``: nothing is
evaluated as Python.
"""

from __future__ import annotations

import ast
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import ops
from ._tensor import Tensor
from .autograd import topological_order
from .errors import UserError
from .extras import install_hint
from .graph_text import dot_output, require_dot, to_dot
from .io.atomic import atomic_write, check_writable_file
from .value import Value

MAX_EXPRESSION = 2_000
"""Longest expression `parse` accepts, in characters (a teaching tool, not a compiler)."""
MAX_NODES = 500
"""Most nodes a parsed expression may build: more would not fit on a slide either."""
GIF_SECONDS = 1.5
"""How long the GIF of the backward pass shows each step."""


@dataclass
class Term:
    """One chain-rule product: what node `output` adds to the gradient of its input `name`."""

    name: str
    output: str
    local_formula: str  # d(output)/d(name) in symbols, e.g. "b"
    local: float  # its value here
    upstream: float  # dL/d(output)
    contribution: float  # upstream * local
    total: float  # dL/d(name) after this addition
    use: int  # which of those additions this is: 1, 2, ...
    uses: int  # how many terms add into this input in all (> 1: the gradient accumulates)

    def __str__(self) -> str:
        local = f"d{self.output}/d{self.name} = {self.local_formula}"
        if not _is_number(self.local_formula, self.local):
            local += f" = {_number(self.local)}"
        product = (
            f"dL/d{self.output} * d{self.output}/d{self.name} = "
            f"{_factor(self.upstream)} * {_factor(self.local)} = {_number(self.contribution)}"
        )
        if self.uses == 1:
            return f"{local};  dL/d{self.name} = {product}"
        if self.use == 1:
            return f"{local};  dL/d{self.name} = {product}  (use 1 of {self.uses})"
        return f"{local};  dL/d{self.name} += {product}  -> dL/d{self.name} = {_number(self.total)}"


@dataclass
class Step:
    """One node of the backward pass: its gradient is complete and goes to its inputs."""

    name: str
    formula: str  # how the node was computed, e.g. "c = a * b"
    grad: float  # dL/d(name)
    terms: list[Term] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"{self.formula}    dL/d{self.name} = {_number(self.grad)}"]
        lines += [f"  {term}" for term in self.terms]
        return "\n".join(lines)


@dataclass
class Explanation:
    """The backward pass of `root`, in the engine's order, with every node's name."""

    root: Value
    steps: list[Step]
    names: dict[int, str]
    leaves: list[Value]
    snapshots: list[dict[int, float]]  # every node's gradient after each step

    def __str__(self) -> str:
        root = self.names[id(self.root)]
        called = "" if root == "L" else " (L below)"
        head = [f"backward pass of {root} = {_number(self.root.data)}{called}: dL/d{root} = 1"]
        body = [str(step) for step in self.steps]
        leaves = sorted(self.leaves, key=lambda v: self.names[id(v)])
        grads = ", ".join(f"dL/d{self.names[id(v)]} = {_number(v.grad)}" for v in leaves)
        return "\n".join(head + body + [f"gradients: {grads}"])

    def frames(self, folder: str | Path) -> list[Path]:
        """Write one SVG per step into `folder` (needs Graphviz's ``dot``): the graph with the
        nodes whose gradient is complete so far highlighted. Returns the files in order."""
        self.check_drawable("drawing the frames")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for number, dot in enumerate(self.frame_dots(), start=1):
            paths.append(folder / f"step_{number:03d}.svg")
            with atomic_write(paths[-1]) as handle:  # a failed rendering leaves no file
                handle.write(dot_output(dot, "svg"))
        return paths

    def gif(self, path: str | Path, seconds_per_frame: float = GIF_SECONDS) -> Path:
        """Write the frames as one animated GIF, for slides: each step rendered as PNG by
        ``dot`` and padded to the largest frame's size on white, so the graph stays put.
        Needs Graphviz's ``dot`` and Pillow (it comes with matplotlib)."""
        self.check_drawable("drawing the GIF", animated=True)
        Image = _pillow()
        pictures = [
            Image.open(io.BytesIO(dot_output(dot, "png"))).convert("RGB")
            for dot in self.frame_dots()
        ]
        width = max(p.width for p in pictures)
        height = max(p.height for p in pictures)
        frames = []
        for picture in pictures:
            frame = Image.new("RGB", (width, height), "white")
            frame.paste(picture, ((width - picture.width) // 2, (height - picture.height) // 2))
            frames.append(frame)
        with atomic_write(path) as handle:
            frames[0].save(
                handle,
                format="GIF",
                save_all=True,
                append_images=frames[1:],
                duration=int(seconds_per_frame * 1000),
                loop=0,
            )
        return Path(path)

    def check_drawable(self, request: str, animated: bool = False) -> None:
        """Refuse `request` (``--frames DIR``, ``--gif FILE``) before anything is printed or
        written: an input alone has no steps to draw, a GIF (`animated`) is put together by
        Pillow, and each frame is drawn by ``dot``. The request's own mistake comes first, so
        it is reported the same whether or not Pillow and ``dot`` are installed."""
        if not self.steps:
            raise UserError(
                f"{request}: {self.names[id(self.root)]} is an input, not computed from others: "
                "its backward pass has no steps to draw; give an expression such as 'a * b + a'"
            )
        if animated:
            _pillow()
        require_dot(request, "without it, leave the option out to get the steps as text")

    def frame_dots(self) -> list[str]:
        """The DOT text of each step's frame: the graph with the gradients as they were after
        that step, the nodes done so far highlighted, and the step written above it."""
        nodes = topological_order(self.root)
        unlabelled = {id(n): self.names[id(n)] for n in nodes if not n.label}
        by_name = {name: node_id for node_id, name in self.names.items()}
        final = {id(n): n.grad for n in nodes}
        done = {id(self.root)}
        dots = []
        try:
            for number, (step, grads) in enumerate(zip(self.steps, self.snapshots), start=1):
                # an input's gradient is complete once its last use has added to it
                done.update(by_name[t.name] for t in step.terms if t.use == t.uses)
                for node in nodes:  # each frame shows the gradients as they were then
                    node.grad = grads[id(node)]
                title = (
                    f"step {number} of {len(self.steps)}: {step.formula}, "
                    f"dL/d{step.name} = {_number(step.grad)}"
                )
                dots.append(to_dot(self.root, names=unlabelled, highlight=done, title=title))
        finally:
            for node in nodes:
                node.grad = final[id(node)]
        return dots


GIF_MISSING = f"--gif needs Pillow (it comes with matplotlib): {install_hint('plot')}"


def _pillow() -> Any:
    """Pillow's Image module, or a `UserError` with the one-line hint."""
    try:
        from PIL import Image
    except ImportError:
        raise UserError(GIF_MISSING) from None
    return Image


def check_frames_target(folder: str | Path) -> None:
    """Refuse, before any work, a --frames destination that cannot be a folder: an existing
    file, or a path through one."""
    path = Path(folder)
    blocking = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise UserError(
            f"--frames {folder}: {blocking} is a file, not a folder, and the frames are one SVG "
            "file per step in a folder; give a folder (it is created if missing)"
        )


def check_gif_target(path: str | Path) -> None:
    """Refuse, before any work, a GIF that cannot be written: a name not ending in .gif or a
    folder that does not exist (Pillow and ``dot`` are `Explanation.check_drawable`'s)."""
    if Path(path).suffix.lower() != ".gif":
        raise UserError(f"--gif {path}: the animation is a GIF; end the file name with .gif")
    check_writable_file(path)


def backprop(root: Any, names: Mapping[int, str] | None = None) -> Explanation | TensorExplanation:
    """Run the backward pass of `root` and explain it: see the module docstring.

    `root` is a `Value` or a one-element `Tensor`; for tensors, ``names`` maps ``id(tensor)``
    to a name (``dict((id(p), n) for n, p in model.named_parameters())``).
    """
    if isinstance(root, Tensor):
        return _tensor_backprop(root, names or {})
    if not isinstance(root, Value):
        raise TypeError(f"backprop explains Value and Tensor graphs, got {type(root).__name__}")
    order = topological_order(root)
    names = _names(order)
    for node in order:
        node.grad = 0.0
    root.grad = 1.0
    uses = _uses(order)
    seen: dict[int, int] = {}
    steps, snapshots = [], []
    for node in reversed(order):
        if not node._prev or node._grad_fn is None:
            continue
        step = Step(names[id(node)], _node_formula(node, names), node.grad)
        for parent, formula, local in _local_derivatives(node, names):
            contribution = node.grad * local
            parent.grad += contribution
            seen[id(parent)] = seen.get(id(parent), 0) + 1
            step.terms.append(
                Term(
                    names[id(parent)],
                    names[id(node)],
                    formula,
                    local,
                    node.grad,
                    contribution,
                    parent.grad,
                    seen[id(parent)],
                    uses[id(parent)],
                )
            )
        steps.append(step)
        snapshots.append({id(n): n.grad for n in order})
    leaves = [n for n in order if not n._prev and not _is_constant(n)]
    return Explanation(root, steps, names, leaves, snapshots)


def _local_derivatives(node: Value, names: Mapping[int, str]) -> list[tuple[Value, str, float]]:
    """(input, d node/d input as a formula, as a number) for each distinct input of `node`,
    the number read from the node's own backward function."""
    parents = list(dict.fromkeys(node._prev))  # a * a has one input, used twice
    saved = [p.grad for p in parents]
    upstream = node.grad
    for p in parents:
        p.grad = 0.0
    node.grad = 1.0
    try:
        node._grad_fn(node)
        locals_ = [p.grad for p in parents]
    finally:
        node.grad = upstream
        for p, g in zip(parents, saved):
            p.grad = g
    formulas = _formulas(node, names)
    return [(p, formulas.get(id(p), f"d{node._op}"), d) for p, d in zip(parents, locals_)]


_SCALAR_OPS = {"+": ops.ADD, "*": ops.MUL, "**": ops.POW, "ReLU": ops.RELU, "tanh": ops.TANH,
               "exp": ops.EXP, "log": ops.LOG, "sigmoid": ops.SIGMOID}  # fmt: skip
"""`Value`'s op names and their rows of the op table, whose ``words`` say each derivative."""


def _formulas(node: Value, names: Mapping[int, str]) -> dict[int, str]:
    """d node/d input in symbols, for the operations `Value` defines (read from `ops`)."""
    name = {id(p): _symbol(p, names) for p in node._prev}
    out, op, prev = _symbol(node, names), node._op, node._prev
    slots: list[tuple[Value, str]]
    if op.startswith("**") and len(prev) == 1:  # x ** p with a number p: the row of x ** y
        symbols = {"x": name[id(prev[0])], "y": op[2:], "out": out}
        slots = [(prev[0], ops.POW.words[0].format(**symbols))]
    elif op in _SCALAR_OPS:
        row = _SCALAR_OPS[op]
        symbols = {"x": name[id(prev[0])], "y": name[id(prev[-1])], "out": out}
        words = row.words if isinstance(row, ops.Binary) else (row.words,)
        slots = [(p, w.format(**symbols)) for p, w in zip(prev, words)]
    elif op == "dot":  # Value's fused b + w_1 x_1 + ... + w_n x_n: the rows of + and *
        n = (len(prev) - 1) // 2
        ws, xs = prev[1 : n + 1], prev[n + 1 :]
        terms = [{"x": name[id(w)], "y": name[id(x)], "out": out} for w, x in zip(ws, xs)]
        slots = [(prev[0], ops.ADD.words[0])]
        slots += [(w, ops.MUL.words[0].format(**t)) for w, t in zip(ws, terms)]
        slots += [(x, ops.MUL.words[1].format(**t)) for x, t in zip(xs, terms)]
    else:
        return {}
    formulas: dict[int, list[str]] = {}
    for parent, formula in slots:
        formulas.setdefault(id(parent), []).append(formula)
    return {k: " + ".join(v) for k, v in formulas.items()}


def _node_formula(node: Value, names: Mapping[int, str]) -> str:
    """How `node` was computed, in the symbols of its inputs: ``c = a * b``."""
    args = [_symbol(p, names) for p in node._prev]
    op = node._op
    if op in ("+", "*") and len(args) == 2:
        rhs = f"{args[0]} {op} {args[1]}"
    elif op.startswith("**") and len(args) == 1:
        rhs = f"{args[0]}^{op[2:]}"
    elif op == "**":
        rhs = f"{args[0]}^{args[1]}"
    elif op == "dot":
        n = (len(args) - 1) // 2
        rhs = " + ".join([args[0]] + [f"{w}*{x}" for w, x in zip(args[1 : n + 1], args[n + 1 :])])
    else:
        rhs = f"{op.lower()}({', '.join(args)})"
    return f"{names[id(node)]} = {rhs}"


def _symbol(node: Value, names: Mapping[int, str]) -> str:
    """A node's name, or its number when it is a constant."""
    return _number(node.data) if _is_constant(node) else names[id(node)]


def _is_constant(node: Value) -> bool:
    """A leaf without a label: a number in the formula, such as the -1 of ``a - b``."""
    return not node._prev and not node.label


def _names(order: list[Value]) -> dict[int, str]:
    """Labels where given; otherwise x1, x2, ... for leaves and n1, n2, ... for results,
    in topological order (the same names on every run)."""
    names: dict[int, str] = {}
    taken = {node.label for node in order if node.label}
    counters = {"x": 0, "n": 0}
    for node in order:
        if node.label:
            names[id(node)] = node.label
        elif _is_constant(node):
            names[id(node)] = _number(node.data)
        else:
            prefix = "n" if node._prev else "x"
            while True:
                counters[prefix] += 1
                candidate = f"{prefix}{counters[prefix]}"
                if candidate not in taken:
                    break
            names[id(node)] = candidate
    return names


def _uses(order: list[Value]) -> dict[int, int]:
    """How many times each node is an input (a * a counts once: one term for it)."""
    uses: dict[int, int] = {}
    for node in order:
        for parent in dict.fromkeys(node._prev):
            uses[id(parent)] = uses.get(id(parent), 0) + 1
    return uses


def _number(x: float) -> str:
    """Numbers as a student writes them: 2.0, -6.0, 0.5, 0.0183156 (and 0.0, never -0.0)."""
    x = x + 0.0
    if math.isfinite(x) and x == int(x) and abs(x) < 1e15:
        return f"{x:.1f}"
    return f"{x:.6g}"


def _is_number(text: str, x: float) -> bool:
    """Whether a formula is just the number `x` (then it is not written twice)."""
    try:
        return float(text) == x
    except ValueError:
        return False


def _factor(x: float) -> str:
    """A number inside a product: negative ones in parentheses."""
    text = _number(x)
    return f"({text})" if text.startswith("-") else text


# --- the matrix form, for Tensor graphs --------------------------------------------------


@dataclass
class TensorStep:
    """One node of a Tensor graph's backward pass: its inputs' gradients in matrix form."""

    name: str
    formula: str  # e.g. "h1 = linear(X, 1.weight, 1.bias)"
    shape: tuple
    grads: list[tuple[str, str, tuple]]  # (input, its gradient in matrix form, its shape)

    def __str__(self) -> str:
        lines = [f"{self.formula}    dL/d{self.name}: {self.shape}"]
        lines += [f"  dL/d{name} = {rule}" for name, rule, _ in self.grads]
        return "\n".join(lines)


@dataclass
class TensorExplanation:
    """The backward pass of a Tensor graph, in the engine's order, shapes instead of numbers."""

    steps: list[TensorStep]
    leaf_grads: dict[str, tuple]  # each leaf that requires grad: the shape of its .grad

    def __str__(self) -> str:
        grads = ", ".join(f"{name} {shape}" for name, shape in self.leaf_grads.items())
        return "\n".join([str(step) for step in self.steps] + [f"gradients: {grads}"])


def _tensor_backprop(root: Tensor, given: Mapping[int, str]) -> TensorExplanation:
    order = topological_order(root)
    names = dict(given)
    counters = {"x": 0, "h": 0}
    for node in order:
        if id(node) not in names:
            prefix = "h" if node._prev else "x"
            counters[prefix] += 1
            names[id(node)] = f"{prefix}{counters[prefix]}"
    if id(root) not in given:
        names[id(root)] = "L"
    steps = []
    for node in reversed(order):
        if not node._prev:
            continue
        name = names[id(node)]
        args = ", ".join(names[id(p)] for p in node._prev)
        grads = [
            (names[id(p)], _matrix_rule(node, i, names), tuple(p.shape))
            for i, p in enumerate(node._prev)
            if p.requires_grad
        ]
        steps.append(TensorStep(name, f"{name} = {node._op}({args})", tuple(node.shape), grads))
    leaves = [n for n in order if not n._prev and n.requires_grad]
    root.backward()
    return TensorExplanation(steps, {names[id(n)]: tuple(n.grad.shape) for n in leaves})


def _matrix_rule(node: Tensor, index: int, names: Mapping[int, str]) -> str:
    """dL/d(input number `index` of `node`), in matrix form with the shapes involved: the
    rule of the node's row in the op table (`ops`), in the names of this graph."""
    out, op = names[id(node)], node._op
    parent = node._prev[index]
    symbols = {"g": f"dL/d{out}", "gshape": tuple(node.shape), "shape": tuple(parent.shape)}
    symbols.update(out=out, gshape_T=symbols["gshape"][::-1])
    if op in ops.ARRAY:
        row = ops.ARRAY[op]
        for symbol, tensor in zip(row.inputs, node._prev):
            shape = tuple(tensor.shape)
            symbols.update({symbol: names[id(tensor)], f"{symbol}_shape": shape})
            symbols[f"{symbol}_shape_T"] = shape[::-1]
        return row.rule[index].format(**symbols)
    if op in ops.UNARY:
        rule = ops.UNARY[op].rule.format(x=names[id(parent)], **symbols)
        return ops.ELEMENTWISE.format(rule=rule, **symbols)
    if op in ops.BINARY:
        # the first input is always a tensor; the second may be a number (``x * 2``, ``2 - x``)
        x = names[id(node._prev[0])]
        y = names[id(node._prev[1])] if len(node._prev) == 2 else "the number"
        rule = ops.BINARY[op].rule[index].format(x=x, y=y, **symbols)
        form = ops.BROADCAST if symbols["shape"] != symbols["gshape"] else ops.ELEMENTWISE
        return form.format(rule=rule, **symbols)
    return f"the backward of {op}: {symbols['gshape']} -> {symbols['shape']}"  # no row yet


# --- the expression language of `python cli.py backprop` -------------------------------

_FUNCTIONS = ("relu", "tanh", "exp", "log", "sigmoid")
_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


def parse(expression: str, values: Mapping[str, float]) -> Value:
    """Build the `Value` graph of `expression` with the inputs in `values`; return its root.

    ``expression`` is one or more statements separated by ``;`` or new lines: assignments
    ``name = expr`` (the name labels that node) and a final expression (or the last
    assignment) that is the root. Inputs are labelled with their names.
    """
    if len(expression) > MAX_EXPRESSION:
        raise UserError(
            f"the expression has {len(expression):,} characters; the limit is {MAX_EXPRESSION:,}"
        )
    try:
        tree = ast.parse(expression.strip(), mode="exec")
    except SyntaxError as error:
        raise UserError(
            f"cannot read the expression {expression!r}: {error.msg} at column {error.offset}; "
            "write it as in Python, e.g. 'c = a * b; L = c + a'"
        ) from None
    env: dict[str, Value] = {name: Value(float(x), label=name) for name, x in values.items()}
    given = sorted(env)
    root: Value | None = None
    budget = [MAX_NODES]
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if not isinstance(target, ast.Name):
                raise UserError("only plain names can be assigned, e.g. 'c = a * b'")
            root = _build(statement.value, env, given, budget)
            if not root.label:  # 'b = a' only gives a second name to a
                root.label = target.id
            env[target.id] = root
        elif isinstance(statement, ast.Expr):
            root = _build(statement.value, env, given, budget)
        else:
            raise UserError(
                f"the expression language has assignments and expressions only, not "
                f"{type(statement).__name__.lower()} statements"
            )
    if root is None:
        raise UserError(
            "the expression is empty; e.g. python cli.py backprop 'a * b + a' --set a=2 b=-3"
        )
    if not root.label:
        root.label = "L"
    return root


def _build(node: ast.AST, env: dict[str, Value], given: list[str], budget: list[int]) -> Value:
    budget[0] -= 1
    if budget[0] < 0:
        raise UserError(f"the expression builds more than {MAX_NODES} nodes; write a smaller one")
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return Value(float(node.value))
    if isinstance(node, ast.Name):
        if node.id not in env:
            hint = f"the inputs given are: {', '.join(given)}" if given else "no inputs were given"
            raise UserError(
                f"the expression uses {node.id!r}, which has no value; give it one with "
                f"--set {node.id}=NUMBER ({hint})"
            )
        return env[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _build(node.operand, env, given, budget)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left = _build(node.left, env, given, budget)
        if isinstance(node.op, ast.Pow) and isinstance(node.right, ast.Constant):
            exponent = node.right.value
            if type(exponent) in (int, float):
                return left ** float(exponent)
        right = _build(node.right, env, given, budget)
        op = _BINARY[type(node.op)]
        return {
            "+": lambda: left + right,
            "-": lambda: left - right,
            "*": lambda: left * right,
            "/": lambda: left / right,
            "**": lambda: left**right,
        }[op]()
    if isinstance(node, ast.Call) and not node.keywords:
        function = node.func
        if isinstance(function, ast.Name) and function.id in _FUNCTIONS and len(node.args) == 1:
            return getattr(_build(node.args[0], env, given, budget), function.id)()
        if isinstance(function, ast.Attribute) and function.attr in _FUNCTIONS and not node.args:
            return getattr(_build(function.value, env, given, budget), function.attr)()
    raise UserError(
        f"cannot use {ast.unparse(node)!r} in an expression: write numbers, names, "
        f"+ - * / ** and the functions {', '.join(_FUNCTIONS)} (e.g. relu(a * b) or (a * b).relu())"
    )
