"""The grader catches wrong solutions: every reference solution is mutated (an operator
swapped, a constant changed, a sign dropped, a term dropped, ``+=`` made ``=``) and each
mutant graded in this process; at least 95% must fail, and the survivors must be the
equivalent mutants listed below, each with the reason it computes the same thing.

The exercise that trains MNIST (train-mnist) is left out: it runs the student's whole
engine for seconds, and its parts are the other exercises, mutated here one by one.
"""

from __future__ import annotations

import ast
import copy
import inspect
import signal
import textwrap
from collections.abc import Iterator

import pytest

from tinygrad_edu.exercises.catalogue import EXERCISES
from tinygrad_edu.exercises.graft import reference_modules
from tinygrad_edu.exercises.runner import grade_function

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # mutants overflow, by design

SWAPS = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
    ast.Pow: ast.Mult, ast.MatMult: ast.Mult, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
}  # fmt: skip

# (exercise, mutant) -> why it computes the same as the reference on every input
EQUIVALENT = {
    ("unbroadcast", "constant True -> False in line 6"): (
        "keepdims=False drops the summed size-1 dimensions, and the reshape(shape) that "
        "follows puts them back: the same array"
    ),
}


class Hang(BaseException):
    """A mutant that loops: the runner would stop it at its time limit."""


def _sites(tree: ast.AST) -> Iterator[tuple[str, ast.AST]]:
    """Every mutant of a function's body: (what changed, the mutated tree)."""
    nodes = [n for n in ast.walk(tree)]
    for index, node in enumerate(nodes):
        if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in SWAPS:
            yield f"{type(node.op).__name__} -> {SWAPS[type(node.op)].__name__}", index, "op"
        if isinstance(node, ast.Compare) and type(node.ops[0]) in SWAPS:
            yield (
                f"{type(node.ops[0]).__name__} -> {SWAPS[type(node.ops[0])].__name__}",
                index,
                "cmp",
            )
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            yield f"constant {node.value!r} -> {_changed(node.value)!r}", index, "const"
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            yield "sign dropped", index, "neg"
        if isinstance(node, ast.BinOp):
            yield "right term dropped", index, "left"
            yield "left term dropped", index, "right"
        if isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add):
            yield "+= made =", index, "assign"
        if isinstance(node, ast.stmt) and not isinstance(node, (ast.FunctionDef, ast.Return)):
            yield "statement dropped", index, "drop"


def _changed(value: int | float | bool) -> int | float | bool:
    return not value if isinstance(value, bool) else value + 1


def mutants(fn) -> Iterator[tuple[str, ast.FunctionDef]]:
    source = textwrap.dedent(inspect.getsource(fn))
    base = ast.parse(source).body[0]
    base.decorator_list = []
    base.body = base.body[1:]  # the docstring
    for label, index, kind in list(_sites(base)):
        tree = copy.deepcopy(base)
        node = list(ast.walk(tree))[index]
        parent = next(p for p in ast.walk(tree) for c in ast.iter_child_nodes(p) if c is node)
        if kind == "op":
            node.op = SWAPS[type(node.op)]()
        elif kind == "cmp":
            node.ops = [SWAPS[type(node.ops[0])]()]
        elif kind == "const":
            node.value = _changed(node.value)
        else:
            replacement = _replacement(node, kind)
            _replace(parent, node, replacement)
        yield f"{label} in line {getattr(node, 'lineno', '?')}", ast.fix_missing_locations(tree)


def _replacement(node: ast.AST, kind: str) -> ast.AST:
    if kind == "neg":
        return node.operand
    if kind in ("left", "right"):
        return getattr(node, kind)
    if kind == "assign":
        return ast.Assign([node.target], node.value)
    return ast.Pass()


def _replace(parent: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for field, value in ast.iter_fields(parent):
        if value is old:
            setattr(parent, field, new)
        elif isinstance(value, list):
            parent.__dict__[field] = [new if v is old else v for v in value]


def compile_mutant(tree: ast.FunctionDef, module) -> object:
    namespace = dict(vars(module))
    exec(compile(ast.Module([tree], []), f"<mutant of {tree.name}>", "exec"), namespace)
    return namespace[tree.name]


def _alarm(*_):
    raise Hang


def killed(exercise, fn) -> bool:
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, 5.0)
    try:
        return not grade_function(exercise, fn).passed
    except Hang:
        return True
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_the_grader_fails_at_least_95_percent_of_mutants():
    ref = reference_modules()
    survivors, total = [], 0
    for exercise in (e for e in EXERCISES if e.id != "train-mnist"):
        holder = getattr(ref, exercise.module)
        for part in exercise.function.split("."):
            holder = getattr(holder, part)
        assert not killed(exercise, holder), f"the reference of {exercise.id} fails its checks"
    for exercise in (e for e in EXERCISES if e.id != "train-mnist"):
        holder = getattr(ref, exercise.module)
        for part in exercise.function.split("."):
            holder = getattr(holder, part)
        module = getattr(ref, exercise.module)
        for label, tree in mutants(holder):
            total += 1
            if not killed(exercise, compile_mutant(tree, module)):
                survivors.append((exercise.id, label))
    unexplained = [s for s in survivors if s not in EQUIVALENT]
    print(f"{total} mutants, {len(survivors)} survived: {survivors}")
    assert total >= 100
    assert not unexplained, f"mutants the grader does not catch: {unexplained}"
    assert 1 - len(survivors) / total >= 0.95


if __name__ == "__main__":
    pytest.main([__file__, "-q", "-s"])
