"""The exercise set and its grader: handing out, grading, isolation, and that wrong is caught.

The reference solutions are checked against float64 central differences on hypothesis-
drawn inputs and against PyTorch's numbers (written in); the grader is checked on the
untouched workspace (0 points, no traceback), the solved one (full marks), hostile
workspaces (a hang, sys.exit, os._exit, a huge allocation each cost one exercise) and on
mutants of every reference solution (tests/test_exercises_mutants.py).
"""

from __future__ import annotations

import ast
import dataclasses
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import ops
from tinygrad_edu.exercises import checks, drawn, value_checks, workspace
from tinygrad_edu.exercises.catalogue import BY_ID, EXERCISES, exercise_set
from tinygrad_edu.exercises.checks import value_op_checks
from tinygrad_edu.exercises.compare import Context, Failed
from tinygrad_edu.exercises.graft import reference_modules
from tinygrad_edu.exercises.runner import grade_function, grade_isolated
from tinygrad_edu.exercises.value_ops import OPS, formulas

ROOT = Path(__file__).resolve().parents[1]
REF = reference_modules()


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "exercises", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
    )


# --- list and make -----------------------------------------------------------------------
def test_list_json_gives_the_fields_in_the_lectures_order():
    result = cli("list", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["exercises"]
    assert [r["id"] for r in rows] == [e.id for e in EXERCISES]
    assert rows[0]["id"] == "value-add" and rows[-1]["id"] == "train-mnist"
    for row in rows:
        assert set(row) == {"id", "title", "points", "file", "function", "section"}
        assert row["file"].startswith("minigrad/") and row["points"] > 0
    assert {"function": "Value.tanh_backward", "file": "minigrad/value.py"}.items() <= next(
        r for r in rows if r["id"] == "value-tanh"
    ).items()


def _exercise_statements(module: str) -> list[str]:
    """The statements of the reference's exercise bodies (docstrings left out)."""
    tree = ast.parse(workspace.reference_source(module))
    found = []
    for exercise in (e for e in EXERCISES if e.module == module):
        node = workspace.find_function(tree, exercise.function)
        for statement in node.body[1:]:
            found += [ast.unparse(s) for s in ast.walk(statement) if isinstance(s, ast.stmt)]
    return found


def _code_only(text: str) -> str:
    """The module's code with its docstrings left out (they state tasks, not solutions)."""
    tree = ast.parse(text)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            if isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return ast.unparse(tree)


def test_make_writes_stubs_that_reveal_no_solution(tmp_path):
    result = cli("make", str(tmp_path / "hw"))
    assert result.returncode == 0, result.stderr
    hw = tmp_path / "hw"
    assert {p.name for p in hw.iterdir()} == {"minigrad", "README.md", "tests", ".github"}
    for module in ("value", "tensor_ops", "nn", "optim", "train"):
        text = (hw / "minigrad" / f"{module}.py").read_text()
        written = _code_only(text)
        for statement in _exercise_statements(module):
            assert statement not in written, f"{module}.py reveals: {statement}"
    value = (hw / "minigrad" / "value.py").read_text()
    assert 'raise NotImplementedError("exercise value-tanh: not written yet")' in value
    assert "1 - tanh(x)^2" in value  # the hint: the formula, not its code
    assert not list(hw.rglob("__pycache__")) and not list(hw.rglob("*.pyc"))
    assert "exercises check" in (hw / "README.md").read_text()


def test_make_writes_github_classrooms_autograding_one_test_per_exercise(tmp_path):
    only = ["value-tanh", "count-parameters"]
    hw, key = tmp_path / "hw", tmp_path / "key"
    workspace.make(hw, only=only)
    workspace.make(key, only=only, solutions=True)
    tests = json.loads((hw / ".github/classroom/autograding.json").read_text())["tests"]
    assert [t["run"] for t in tests] == [
        f"python -m tinygrad_edu exercises check . --only {i}" for i in only
    ]
    for test, exercise_id in zip(tests, only):
        assert set(test) == {
            "name", "setup", "run", "input", "output", "comparison", "timeout", "points"
        }  # fmt: skip
        assert test["name"].startswith(exercise_id) and test["points"] == BY_ID[exercise_id].points
        assert test["comparison"] in ("exact", "included", "regex") and test["output"] == ""
        assert (
            isinstance(test["timeout"], int) and test["timeout"] * 60 > BY_ID[exercise_id].seconds
        )
        assert test["setup"] == 'python -m pip install "tinygrad-edu[exercises]"'
    workflow = yaml.safe_load((hw / ".github/workflows/classroom.yml").read_text())
    assert workflow["on"] == ["push", "workflow_dispatch", "repository_dispatch"]
    steps = workflow["jobs"]["run-autograding-tests"]["steps"]
    assert {"name": "Install tinygrad_edu", "run": tests[0]["setup"]} in steps
    graders = [s for s in steps if "autograding-command-grader" in s.get("uses", "")]
    assert [s["id"] for s in graders] == only
    assert [s["with"]["command"] for s in graders] == [t["run"] for t in tests]
    assert [s["with"]["max-score"] for s in graders] == [t["points"] for t in tests]
    reporter = steps[-1]
    assert reporter["uses"] == "classroom-resources/autograding-grading-reporter@v1"
    assert reporter["with"]["runners"] == "value-tanh,count-parameters"
    assert reporter["env"] == {
        "VALUE-TANH_RESULTS": "${{steps.value-tanh.outputs.result}}",
        "COUNT-PARAMETERS_RESULTS": "${{steps.count-parameters.outputs.result}}",
    }
    # one of its tests run as Classroom runs it: the command through a shell, in the workspace
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    graded = {
        folder.name: subprocess.run(
            tests[1]["run"], shell=True, cwd=folder, env=env, capture_output=True, text=True
        )
        for folder in (key, hw)
    }
    assert graded["key"].returncode == 0 and "PASS count-parameters" in graded["key"].stdout
    assert graded["hw"].returncode == 1 and "not implemented yet" in graded["hw"].stdout
    assert "Traceback" not in graded["hw"].stdout + graded["hw"].stderr


def test_a_course_names_its_own_classroom_install_command(tmp_path):
    setup = "python -m pip install git+https://git.example.org/course/tinygrad_edu"
    result = cli("make", str(tmp_path / "hw"), "--only", "relu", "--classroom-setup", setup)
    assert result.returncode == 0, result.stderr
    assert ".github/workflows/classroom.yml" in result.stdout
    tests = json.loads((tmp_path / "hw/.github/classroom/autograding.json").read_text())["tests"]
    assert [t["setup"] for t in tests] == [setup]
    assert f"run: {setup}" in (tmp_path / "hw/.github/workflows/classroom.yml").read_text()
    empty = cli("make", str(tmp_path / "other"), "--classroom-setup", " ")
    assert empty.returncode == 2 and "--classroom-setup is empty" in empty.stderr
    assert not (tmp_path / "other").exists()


def test_make_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = cli("make", str(tmp_path))
    assert result.returncode == 2 and "not empty" in result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_an_unknown_exercise_is_one_clear_error(tmp_path):
    result = cli("make", str(tmp_path / "hw"), "--only", "value-tan")
    assert result.returncode == 2 and "no exercise is called value-tan" in result.stderr
    assert "value-tanh" in result.stderr and not (tmp_path / "hw").exists()


def test_every_op_marked_in_the_engines_table_is_an_exercise_of_the_reference_engine():
    value_ops = [
        e.id for e in EXERCISES if e.function.endswith("_backward") and e.module == "value"
    ]
    assert value_ops == [f"value-{op}" for op in ops.EXERCISES]
    for op, formula in OPS.items():
        assert formula.row is {**ops.UNARY, **ops.BINARY}[op]
        assert callable(getattr(REF.value.Value, formula.method))
        assert callable(getattr(REF.value.Value, f"{op}_backward"))
        assert formula.derivative in BY_ID[f"value-{op}"].hint
        assert formula.tie in BY_ID[f"value-{op}"].hint
        # minigrad's forward is the engine's: the exercise cannot drift from it
        for values, args in [((0.5,), ()), ((-1.3,), ()), ((2.0,), ())]:
            values = (*values, 0.75)[: len(formula.inputs)]
            args = (3,) if formula.number else args
            out = getattr(REF.value.Value(values[0]), formula.method)(
                *[REF.value.Value(v) for v in values[1:]], *args
            )
            assert out.data == pytest.approx(formula.output(values, args), rel=1e-15)


def test_the_formulas_a_student_reads_are_the_engines_rows():
    assert OPS["tanh"].derivative == "d tanh(x)/dx = " + ops.TANH.words.format(out="tanh(x)")
    assert OPS["tanh"].derivative == "d tanh(x)/dx = 1 - tanh(x)^2"
    assert OPS["exp"].derivative == "d exp(x)/dx = exp(x)"
    assert OPS["relu"].derivative == "d relu(x)/dx = 1 if x > 0 else 0"
    assert OPS["add"].derivative == "d(a + b)/da = 1, d(a + b)/db = 1"
    assert OPS["mul"].derivative == "d(a * b)/da = b, d(a * b)/db = a"
    assert OPS["pow"].derivative == "d(x^p)/dx = p * x^(p - 1)"
    assert OPS["relu"].tie == ops.RELU.tie
    assert "d/dy" not in BY_ID["value-pow"].hint  # p is a number here, not an input with a grad
    assert ops.RELU.tie in BY_ID["value-relu"].hint and ops.RELU.tie in BY_ID["relu-backward"].hint
    # the expected gradient is the row's backward: the tie rule at x = 0 included
    assert OPS["relu"].gradients((0.0,), (), 0.0, 1.0) == (0.0,)
    assert OPS["pow"].gradients((2.0,), (3,), 8.0, 0.5) == (6.0,)
    assert OPS["mul"].gradients((2.0, -3.0), (), -6.0, 1.0) == (-3.0, 2.0)


class _WithSigmoid(REF.value.Value):
    """minigrad's Value with the forward of one more op, as its reference would add it."""

    def sigmoid(self):
        return _WithSigmoid(1 / (1 + math.exp(-self.data)), (self,), "sigmoid", None)


def test_marking_one_more_op_in_the_engines_table_makes_it_an_exercise():
    marked = (*ops.EXERCISES, "sigmoid")
    exercises = exercise_set(marked)
    assert [e.id for e in exercises][: len(marked)] == [f"value-{op}" for op in marked]
    assert [e.id for e in exercises][len(marked) :] == [e.id for e in EXERCISES][len(OPS) :]
    sigmoid = next(e for e in exercises if e.id == "value-sigmoid")
    assert (sigmoid.file, sigmoid.function) == ("minigrad/value.py", "Value.sigmoid_backward")
    words = ops.SIGMOID.words.format(out="sigmoid(x)")
    assert f"d sigmoid(x)/dx = {words}." in sigmoid.hint
    assert words == "sigmoid(x) * (1 - sigmoid(x))"

    def right(out):
        (x,) = out._prev
        x.grad += out.data * (1 - out.data) * out.grad

    def wrong(out):
        (x,) = out._prev
        x.grad += out.data * out.grad

    check = value_op_checks(formulas(marked))["value-sigmoid"]
    ref = SimpleNamespace(value=SimpleNamespace(Value=_WithSigmoid))
    check(Context(fn=right, ref=ref, original=None))  # graded by the row: no reference needed
    with pytest.raises(Failed) as failure:
        check(Context(fn=wrong, ref=ref, original=None))
    assert str(failure.value).startswith("Value.sigmoid backward at x = 0.5: got x.grad = 0.622")
    assert f"from d sigmoid(x)/dx = {words}" in str(failure.value)


def test_the_workspaces_example_tests_pass_when_solved_and_fail_when_not(tmp_path):
    def pytest_in(folder: Path) -> subprocess.CompletedProcess:
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
        return subprocess.run(command, cwd=folder, capture_output=True, text=True, env=env)

    workspace.make(tmp_path / "key", solutions=True)
    workspace.make(tmp_path / "hw")
    solved, untouched = pytest_in(tmp_path / "key"), pytest_in(tmp_path / "hw")
    assert solved.returncode == 0, solved.stdout
    assert untouched.returncode == 1 and "8 failed" in untouched.stdout


# --- grading the whole workspace ---------------------------------------------------------
def test_untouched_workspace_scores_zero_with_not_implemented_and_no_traceback(tmp_path):
    workspace.make(tmp_path / "hw")
    result = cli("check", str(tmp_path / "hw"), "--json")
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["score"] == 0 and report["max_score"] == sum(e.points for e in EXERCISES)
    for row in report["exercises"]:
        assert row["message"].startswith("not implemented yet"), row
    assert not list((tmp_path / "hw").rglob("__pycache__"))


def test_solved_workspace_scores_full_marks_and_writes_gradescope(tmp_path):
    workspace.make(tmp_path / "hw", solutions=True)
    out = tmp_path / "results.json"
    result = cli("check", str(tmp_path / "hw"), "--json", "--gradescope", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["score"] == report["max_score"] == sum(e.points for e in EXERCISES)
    assert all(row["passed"] for row in report["exercises"])
    assert set(report["exercises"][0]) == {
        "id", "file", "function", "points", "score", "passed", "message"
    }  # fmt: skip
    gradescope = json.loads(out.read_text())
    assert gradescope["score"] == report["score"]
    assert len(gradescope["tests"]) == len(EXERCISES)
    for test in gradescope["tests"]:
        assert set(test) == {"name", "score", "max_score", "output", "visibility"}
        assert test["score"] == test["max_score"] and test["visibility"] == "visible"


def _replace_body(path: Path, exercise_id: str, body: str) -> None:
    """Put `body` where the stub of `exercise_id` raises."""
    stub = f'raise NotImplementedError("exercise {exercise_id}: not written yet")'
    text = path.read_text()
    indent = text[: text.index(stub)].rsplit("\n", 1)[1]
    lines = body.strip("\n").splitlines()
    text = text.replace(stub, ("\n" + indent).join(lines))
    path.write_text(text)


def test_gradescope_destination_that_is_a_folder_is_refused_before_grading(tmp_path):
    workspace.make(tmp_path / "hw")
    (tmp_path / "out").mkdir()
    result = cli("check", str(tmp_path / "hw"), "--gradescope", str(tmp_path / "out"))
    assert result.returncode == 2 and "not a regular file" in result.stderr
    assert result.stdout == "" and (tmp_path / "out").is_dir()


def test_workspaces_are_written_byte_for_byte_the_same(tmp_path):
    workspace.make(tmp_path / "a", only=["relu", "value-exp"])
    workspace.make(tmp_path / "b", only=["relu", "value-exp"])
    files = sorted(
        p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.*") if p.is_file()
    )
    assert Path(".github/classroom/autograding.json") in files
    assert files and all(
        (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files
    )


def test_a_file_that_does_not_parse_costs_only_its_own_exercises(tmp_path):
    hw = tmp_path / "hw"
    workspace.make(hw, solutions=True)
    (hw / "minigrad/nn.py").write_text((hw / "minigrad/nn.py").read_text() + "\ndef broken(:\n")
    result = grade_isolated(BY_ID["count-parameters"], hw)
    assert not result.passed and result.message.startswith("minigrad/nn.py does not parse")
    assert grade_isolated(BY_ID["value-add"], hw).passed


def test_hostile_functions_cost_only_their_own_exercise(tmp_path):
    hw = tmp_path / "hw"
    hostile = ["value-tanh", "relu", "count-parameters", "unbroadcast", "relu-backward"]
    workspace.make(hw, only=hostile)
    _replace_body(hw / "minigrad/value.py", "value-tanh", "while True:\n    pass")
    _replace_body(hw / "minigrad/tensor_ops.py", "relu", "import sys\nsys.exit(3)")
    _replace_body(hw / "minigrad/nn.py", "count-parameters", "import os\nos._exit(1)")
    _replace_body(hw / "minigrad/tensor_ops.py", "unbroadcast", "return np.ones(10**10)  # 80 GB")
    hang = grade_isolated(BY_ID["value-tanh"], hw, seconds=3)
    assert not hang.passed and "took longer than 3 s" in hang.message
    stop = grade_isolated(BY_ID["relu"], hw)
    assert not stop.passed and "sys.exit(3)" in stop.message
    crash = grade_isolated(BY_ID["count-parameters"], hw)
    assert not crash.passed and "exited with code 1" in crash.message
    huge = grade_isolated(BY_ID["unbroadcast"], hw)
    assert not huge.passed and "memory" in huge.message
    for result in (hang, stop, crash, huge):
        assert "Traceback" not in result.message and "tinygrad_edu" not in result.message
    _replace_body(  # a flood of output (at the first of its many calls), then the right answer
        hw / "minigrad/tensor_ops.py", "relu-backward",
        "global flooded\nif 'flooded' not in globals():\n    flooded = print('x' * 100_000_000)\n"
        "return np.where(x > 0, grad_out, 0.0)",
    )  # fmt: skip
    assert grade_isolated(BY_ID["relu-backward"], hw).passed
    # the exercises around them, in the same files, are graded as usual
    for exercise_id in ("value-add", "backward-walk", "linear-forward", "sgd-momentum"):
        assert grade_isolated(BY_ID[exercise_id], hw).passed


def test_an_exercise_is_graded_when_the_ones_it_builds_on_are_stubs(tmp_path):
    hw = tmp_path / "hw"
    workspace.make(hw, only=["backward-walk", "value-tanh", "unbroadcast", "linear-backward"])
    _replace_body(
        hw / "minigrad/value.py",
        "value-tanh",
        "(x,) = out._prev\nx.grad += (1 - out.data**2) * out.grad",
    )
    _replace_body(
        hw / "minigrad/tensor_ops.py",
        "linear-backward",
        "return grad_out @ W, grad_out.T @ X, unbroadcast(grad_out, b.shape)",
    )
    assert grade_isolated(BY_ID["value-tanh"], hw).passed
    assert grade_isolated(BY_ID["linear-backward"], hw).passed
    assert not grade_isolated(BY_ID["backward-walk"], hw).passed


def test_a_students_exception_is_named_with_its_line_not_a_traceback(tmp_path):
    hw = tmp_path / "hw"
    workspace.make(hw, only=["relu-backward"])
    _replace_body(hw / "minigrad/tensor_ops.py", "relu-backward", "return x / undefined_name")
    result = grade_isolated(BY_ID["relu-backward"], hw)
    assert result.message.startswith("relu_backward raised NameError: name 'undefined_name'")
    assert "(minigrad/tensor_ops.py:" in result.message


def test_tg_exercises_checks_from_a_notebook_cell(tmp_path):
    import tinygrad_edu as tg

    tg.exercises.make(tmp_path / "hw", only=["count-parameters"])
    result = tg.exercises.check("count-parameters", tmp_path / "hw")
    assert (result.passed, result.score, result.points) == (False, 0, 1)
    assert result.message.startswith("not implemented yet")


# --- messages that teach -----------------------------------------------------------------
def test_a_wrong_tanh_is_reported_with_input_expected_got_and_formula():
    def tanh_backward(out):
        (x,) = out._prev
        x.grad += out.data * out.grad  # the derivative of exp, not of tanh

    result = grade_function(BY_ID["value-tanh"], tanh_backward)
    assert not result.passed
    assert result.message.startswith("Value.tanh backward at x = 0.5: got x.grad = 0.462117")
    assert "expected 0.786448 from d tanh(x)/dx = 1 - tanh(x)^2" in result.message


def test_relu_backward_at_the_kink_names_the_tie_rule():
    result = grade_function(BY_ID["relu-backward"], lambda x, g: np.where(x >= 0, g, 0.0))
    assert not result.passed and f"at the kink: {ops.RELU.tie}" in result.message


def test_assignment_instead_of_accumulation_is_explained():
    def add_backward(out):
        a, b = out._prev
        a.grad = out.grad
        b.grad = out.grad

    message = grade_function(BY_ID["value-add"], add_backward).message
    assert "a.grad was 0.25 before: the step adds local derivative * out.grad" in message


def test_a_recursive_walk_is_told_to_use_a_loop():
    def backward(self):
        def visit(node, order, seen):
            if id(node) not in seen:
                seen.add(id(node))
                for child in node._prev:
                    visit(child, order, seen)
                order.append(node)

        order = []
        visit(self, order, set())
        self.grad = 1.0
        for node in reversed(order):
            if node._backward_step is not None:
                node._backward_step(node)

    message = grade_function(BY_ID["backward-walk"], backward).message
    assert "RecursionError" in message and "a loop and a stack" in message


# --- correct is checked, not sampled -------------------------------------------------------
def test_the_grader_checks_gradients_by_central_differences_not_only_the_reference():
    """A wrong reference cannot make a wrong answer pass: the grader differentiates the
    forward itself, on every element."""

    def wrong(X, W, b, grad_out):
        return grad_out @ W, 2 * grad_out.T @ X, grad_out.sum(axis=0)

    with pytest.raises(Failed) as failure:
        checks.check_linear_backward(Context(fn=wrong, ref=REF, original=wrong))
    assert "dL/dW: at index (0, 0) got" in str(failure.value)
    assert "but central differences of L = sum(f(X) * G) give" in str(failure.value)


def test_a_value_op_is_checked_against_central_differences_of_its_forward():
    row = dataclasses.replace(ops.TANH, backward=lambda g, x, out: g * (1 - out))  # wrong
    formula = dataclasses.replace(OPS["tanh"], row=row)

    def the_same_mistake(out):
        (x,) = out._prev
        x.grad += (1 - out.data) * out.grad

    with pytest.raises(Failed) as failure:
        value_checks.check_value_op(Context(fn=the_same_mistake, ref=REF, original=None), formula)
    assert str(failure.value).startswith("Value.tanh backward at x = 0.5: got x.grad = 0.537883")
    assert "but central differences of out = tanh(x) give 0.786448" in str(failure.value)


def _unbroadcast_keeping_size_1_after_leading(grad, shape):
    """Right on the fixed cases; forgets the size-1 dimensions when leading ones were added."""
    lead = grad.ndim - len(shape)
    grad = grad.sum(axis=tuple(range(lead)))
    if lead:
        return grad
    return grad.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)


def test_a_mistake_only_a_drawn_shape_shows_is_caught_and_reported_at_its_simplest():
    exercise = BY_ID["unbroadcast"]
    for shape, big in checks.FIXED_BROADCASTS:  # the fixed cases do not show it
        grad = np.ones(big)
        assert np.array_equal(
            _unbroadcast_keeping_size_1_after_leading(grad, shape),
            REF.tensor_ops.unbroadcast(grad, shape),
        )
    result = grade_function(exercise, _unbroadcast_keeping_size_1_after_leading)
    assert not result.passed
    assert result.message.startswith(
        "unbroadcast(grad of shape (1, 0), shape=(1,)): got shape (0,), expected shape (1,)"
    )
    again = grade_function(exercise, _unbroadcast_keeping_size_1_after_leading)
    assert again.message == result.message  # derandomized: the same grade every time


def test_value_relu_at_the_kink_follows_the_engines_tie_rule():
    def relu_backward(out):
        (x,) = out._prev
        x.grad += (1.0 if x.data >= 0 else 0.0) * out.grad

    message = grade_function(BY_ID["value-relu"], relu_backward).message
    assert message.startswith(
        "Value.relu backward at x = 0: got x.grad = 1, expected 0 from "
        f"d relu(x)/dx = 1 if x > 0 else 0; at the kink: {ops.RELU.tie}"
    )


def test_without_hypothesis_check_says_how_to_install_it_and_list_and_make_still_work(tmp_path):
    blocked = tmp_path / "blocked"  # first on the path: "import hypothesis" fails there
    blocked.mkdir()
    (blocked / "hypothesis.py").write_text("raise ImportError('hypothesis is not installed')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(blocked), str(ROOT)]))

    def run(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, str(ROOT / "cli.py"), "exercises", *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)

    assert run("list").returncode == 0
    made = run("make", str(tmp_path / "hw"), "--only", "value-add")
    assert made.returncode == 0, made.stderr
    graded = run("check", str(tmp_path / "hw"))
    assert graded.returncode == 2 and graded.stdout == ""
    assert "needs hypothesis" in graded.stderr and 'pip install -e ".[exercises]"' in graded.stderr
    assert "Traceback" not in graded.stderr


# --- the reference solutions are right ---------------------------------------------------
def numeric_gradient(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar f at every element of x, in float64."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        keep = x[idx]
        x[idx] = keep + eps
        plus = f(x)
        x[idx] = keep - eps
        minus = f(x)
        x[idx] = keep
        grad[idx] = (plus - minus) / (2 * eps)
    return grad


finite = st.floats(-3, 3, allow_nan=False).filter(lambda v: abs(v) > 1e-3)


@given(st.integers(0, 4), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**31))
def test_reference_linear_backward_matches_central_differences(batch, n_in, n_out, seed):
    rng = np.random.default_rng(seed)
    X, W, b = rng.normal(size=(batch, n_in)), rng.normal(size=(n_out, n_in)), rng.normal(size=n_out)
    G = rng.normal(size=(batch, n_out))
    gX, gW, gb = REF.tensor_ops.linear_backward(X, W, b, G)
    loss = lambda X, W, b: float((REF.tensor_ops.linear_forward(X, W, b) * G).sum())  # noqa: E731
    assert np.allclose(gX, numeric_gradient(lambda v: loss(v, W, b), X.copy()), atol=1e-6)
    assert np.allclose(gW, numeric_gradient(lambda v: loss(X, v, b), W.copy()), atol=1e-6)
    assert np.allclose(gb, numeric_gradient(lambda v: loss(X, W, v), b.copy()), atol=1e-6)


@given(st.integers(1, 5), st.integers(2, 5), st.integers(0, 2**31))
def test_reference_softmax_ce_backward_matches_central_differences(batch, classes, seed):
    rng = np.random.default_rng(seed)
    logits, targets = rng.normal(scale=3, size=(batch, classes)), rng.integers(0, classes, batch)
    analytic = REF.tensor_ops.softmax_cross_entropy_backward(logits, targets)
    numeric = numeric_gradient(
        lambda z: REF.tensor_ops.softmax_cross_entropy(z, targets), logits.copy()
    )
    assert np.allclose(analytic, numeric, atol=1e-7)


@given(st.lists(st.integers(0, 3), max_size=3), st.integers(0, 2**31))
def test_reference_relu_backward_matches_central_differences_away_from_the_kink(shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=tuple(shape))
    x[np.abs(x) < 1e-3] = 0.5  # at 0 the tie rule decides: tested by the grader's own cases
    G = rng.normal(size=x.shape)
    numeric = numeric_gradient(lambda v: float((REF.tensor_ops.relu(v) * G).sum()), x.copy())
    assert np.allclose(REF.tensor_ops.relu_backward(x, G), numeric, atol=1e-7)
    assert REF.tensor_ops.relu_backward(np.zeros(3), np.ones(3)).tolist() == [0.0, 0.0, 0.0]


@given(drawn.broadcast_pairs())
def test_reference_unbroadcast_is_the_gradient_of_broadcasting(pair):
    shape, big = pair
    G = np.random.default_rng(0).normal(size=big)
    x = np.random.default_rng(1).normal(size=shape)
    numeric = numeric_gradient(lambda v: float((np.broadcast_to(v, big) * G).sum()), x.copy())
    assert np.allclose(REF.tensor_ops.unbroadcast(G, shape), numeric, atol=1e-7)


@given(finite, st.sampled_from(["tanh", "relu", "exp", "pow2", "pow-1", "mul", "add"]), finite)
def test_reference_value_ops_match_central_differences(x, op, y):
    Value = REF.value.Value

    def f(v: float, w: float):
        a, b = Value(v), Value(w)
        out = {"pow2": lambda: a**2, "pow-1": lambda: a**-1, "mul": lambda: a * b,
               "add": lambda: a + b}.get(op, lambda: getattr(a, op)())()  # fmt: skip
        return a, b, out

    a, b, out = f(x, y)
    out.backward()
    eps = 1e-6
    numeric = (f(x + eps, y)[2].data - f(x - eps, y)[2].data) / (2 * eps)
    assert math.isclose(a.grad, numeric, rel_tol=1e-5, abs_tol=1e-6)


def test_reference_softmax_ce_matches_pytorchs_numbers():
    # torch.nn.functional.cross_entropy in float64, torch 2.13
    logits = np.array([[2.0, -1.0, 0.5], [1000.0, 0.0, -5.0], [0.1, 0.2, 0.3]])
    targets = np.array([0, 2, 1])
    assert REF.tensor_ops.softmax_cross_entropy(logits, targets) == pytest.approx(
        335.4477513816288, rel=1e-12
    )
    expected = [
        [-0.07146765513690803, 0.013037524423562482, 0.05843013071334556],
        [0.3333333333333333, 0.0, -0.3333333333333333],
        [0.10020320178524245, -0.22259166882221754, 0.12238846703697516],
    ]
    got = REF.tensor_ops.softmax_cross_entropy_backward(logits, targets)
    assert np.allclose(got, expected, rtol=1e-12, atol=1e-15)


def test_reference_sgd_momentum_matches_pytorchs_numbers():
    # torch.optim.SGD([p], lr=0.1, momentum=0.9), three steps, float64, torch 2.13
    param, velocity = np.array([1.0, -2.0]), np.zeros(2)
    expected = [([0.95, -1.9], [0.5, -1.0]), ([0.88, -2.01], [0.7, 1.1]),
                ([0.917, -2.109], [-0.37, 0.99])]  # fmt: skip
    for grad, (p, v) in zip(([0.5, -1.0], [0.25, 2.0], [-1.0, 0.0]), expected):
        REF.optim.sgd_momentum_step(param, np.array(grad), velocity, 0.1, 0.9)
        assert np.allclose(param, p, rtol=1e-12) and np.allclose(velocity, v, rtol=1e-12)


def test_the_lectures_mlp_has_101770_parameters():
    assert REF.nn.count_parameters([784, 128, 10]) == 101_770
    assert REF.nn.count_parameters([784, 128, 10]) == sum(
        p.size for p in REF.nn.MLP([784, 128, 10]).parameters()
    )


def test_without_relu_the_network_cannot_separate_the_circles():
    assert checks.circles_accuracy(REF, "relu") >= 0.95
    assert checks.circles_accuracy(REF, "identity") <= 0.6  # one linear map: a straight line


def test_a_relu_that_is_linear_on_a_network_fails_the_circles_check():
    def relu(x):  # right on the small arrays, the identity on a layer's activations
        return np.maximum(x, 0.0) if x.size < 100 else x.copy()

    message = grade_function(BY_ID["relu"], relu).message
    assert "classifies 50% of the circles data" in message and "one linear map" in message


def test_python_dash_m_tinygrad_edu_runs_the_command_line(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "tinygrad_edu", "exercises", "list", "--json"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["exercises"]) == len(EXERCISES)


# --- right answers written differently pass ----------------------------------------------
def _tanh_backward(out):
    (x,) = out._prev
    x.grad = x.grad + out.grad / math.cosh(x.data) ** 2


def _kahn_backward(self):
    """Kahn's algorithm: a node's step runs once every node that uses it has run."""
    users, stack, seen = {}, [self], {id(self)}
    while stack:
        node = stack.pop()
        for child in node._prev:
            users[id(child)] = users.get(id(child), 0) + 1
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    self.grad = 1.0
    ready = [self]
    while ready:
        node = ready.pop()
        if node._backward_step is not None:
            node._backward_step(node)
        for child in node._prev:
            users[id(child)] -= 1
            if users[id(child)] == 0:
                ready.append(child)


def _unbroadcast_loop(grad, shape):
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


def _linear_backward_einsum(X, W, b, grad_out):
    return (
        np.einsum("bo,oi->bi", grad_out, W),
        np.einsum("bo,bi->oi", grad_out, X),
        grad_out.sum(axis=0),
    )


def _softmax_ce_logsumexp(logits, targets):
    top = logits.max(axis=1)
    lse = top + np.log(np.exp(logits - top[:, None]).sum(axis=1))
    return float(np.mean(lse - logits[np.arange(len(targets)), targets]))


def _sgd_assigning(param, grad, velocity, lr, momentum):
    velocity[...] = momentum * velocity + grad
    param[...] = param - lr * velocity


def _count_with_a_loop(sizes):
    total = 0
    for k in range(1, len(sizes)):
        total += (sizes[k - 1] + 1) * sizes[k]
    return total


@pytest.mark.parametrize(
    "exercise_id, fn",
    [
        ("value-tanh", _tanh_backward),
        ("backward-walk", _kahn_backward),
        ("unbroadcast", _unbroadcast_loop),
        ("linear-backward", _linear_backward_einsum),
        ("relu", lambda x: x * (x > 0)),
        ("relu-backward", lambda x, g: g * (x > 0)),
        ("softmax-ce", _softmax_ce_logsumexp),
        ("sgd-momentum", _sgd_assigning),
        ("count-parameters", _count_with_a_loop),
    ],
)
def test_a_right_answer_written_differently_passes(exercise_id, fn):
    result = grade_function(BY_ID[exercise_id], fn)
    assert result.passed, result.message
