"""Exercises for the course: students write the backward passes, the project grades them.

Reading order: `value_ops` (the ops marked in the engine's table ``ops.EXERCISES``, as
exercises: their formulas, tie rules and gradients read from the rows), `catalogue` (the
exercises), `solution` (the reference: the solved source of the student's package),
`workspace` (writing a student's copy with the exercises stubbed), `classroom` (its GitHub
Classroom autograding, one test per exercise), `compare`, `numeric` and `drawn` (how an
answer is compared, central differences, inputs drawn by hypothesis), `value_checks` and
`checks` (what each exercise must do), `graft` (only the student's function goes into the
reference engine), `runner` (one process per exercise, with limits), `report` (text, JSON,
Gradescope) and `command` (``python cli.py exercises ...``).

From a notebook::

    import tinygrad_edu as tg
    tg.exercises.make("my_workspace")
    tg.exercises.check("value-tanh", "my_workspace")
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..errors import UserError
from .catalogue import BY_ID, EXERCISES, PACKAGE, Exercise
from .runner import Result, grade_isolated, require_hypothesis
from .workspace import choose, make

__all__ = ["EXERCISES", "Exercise", "Result", "check", "check_all", "make"]


def check(exercise_id: str, workspace: str | Path = ".") -> Result:
    """Grade one exercise of `workspace` in a process of its own; never raises for the
    student's bugs (the result says what went wrong)."""
    choose([exercise_id])  # an unknown id is a UserError that lists the known ones
    require_hypothesis()
    return grade_isolated(BY_ID[exercise_id], _workspace(workspace))


def check_all(workspace: str | Path = ".", only: Iterable[str] | None = None) -> list[Result]:
    """Grade every exercise (or those in `only`) of `workspace`, in the lecture's order."""
    root = _workspace(workspace)
    chosen = choose(only)
    require_hypothesis()
    return [grade_isolated(exercise, root) for exercise in chosen]


def _workspace(workspace: str | Path) -> Path:

    root = Path(workspace).resolve()
    if not (root / PACKAGE).is_dir():
        raise UserError(
            f"{workspace} is not an exercise workspace (it has no {PACKAGE}/ folder); make "
            f"one with: python cli.py exercises make {workspace}"
        )
    return root
