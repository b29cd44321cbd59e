"""GitHub Classroom's autograding for a workspace: one test per exercise, its points, its time.

A workspace pushed as an assignment's template is graded on every student push by GitHub
Actions. Classroom reads two forms, and `make` writes both, from the same list:

- ``.github/workflows/classroom.yml``: how Classroom runs autograding today (since 2024), a
  workflow of ``classroom-resources/autograding-command-grader`` steps, one per exercise
  (a test passes when its command exits 0, and then earns its ``max-score``), and the
  ``autograding-grading-reporter`` step that sends the scores to Classroom;
- ``.github/classroom/autograding.json``: the tests as Classroom's assignment form and its
  older ``education/autograding`` action read them (``tests`` with ``name``, ``setup``,
  ``run``, ``input``, ``output``, ``comparison``, ``timeout`` in minutes, ``points``).

Each test runs ``python -m tinygrad_edu exercises check . --only ID``, which exits 0 only when
that exercise passes. tinygrad_edu comes from the package index by default (`SETUP`); a
course that installs it from elsewhere names its own command (``make --classroom-setup``).
"""

from __future__ import annotations

import json
import math

import yaml

from ..extras import index_install
from .catalogue import Exercise

SETUP = f"python -m {index_install('exercises')}"  # the grader needs hypothesis: the extra
WORKFLOW = ".github/workflows/classroom.yml"
AUTOGRADING = ".github/classroom/autograding.json"


def command(exercise: Exercise) -> str:
    return f"python -m tinygrad_edu exercises check . --only {exercise.id}"


def minutes(exercise: Exercise) -> int:
    """Classroom's time limit: the grader's own, rounded up, and a minute to start Python."""
    return math.ceil(exercise.seconds / 60) + 1


def name(exercise: Exercise) -> str:
    return f"{exercise.id}: {exercise.function} ({exercise.file})"


def autograding(chosen: list[Exercise], setup: str = SETUP) -> str:
    """The text of ``.github/classroom/autograding.json``."""
    tests = [
        {
            "name": name(e),
            "setup": setup,
            "run": command(e),
            "input": "",
            "output": "",
            "comparison": "included",
            "timeout": minutes(e),
            "points": e.points,
        }
        for e in chosen
    ]
    return json.dumps({"tests": tests}, indent=2) + "\n"


def workflow(chosen: list[Exercise], setup: str = SETUP) -> str:
    """The text of ``.github/workflows/classroom.yml``: install once, then one grader step
    per exercise (its id is the step's), then the reporter that adds up the scores."""
    steps: list[dict] = [
        {"name": "Checkout code", "uses": "actions/checkout@v4"},
        {
            "name": "Set up Python",
            "uses": "actions/setup-python@v5",
            "with": {"python-version": "3.11"},
        },
        {"name": "Install tinygrad_edu", "run": setup},
    ]
    for e in chosen:
        grader = {
            "test-name": name(e),
            "setup-command": "",
            "command": command(e),
            "timeout": minutes(e),
            "max-score": e.points,
        }
        steps.append(
            {
                "name": e.id,
                "id": e.id,
                "uses": "classroom-resources/autograding-command-grader@v1",
                "with": grader,
            }
        )
    steps.append(
        {
            "name": "Autograding Reporter",
            "uses": "classroom-resources/autograding-grading-reporter@v1",
            "env": {
                f"{e.id.upper()}_RESULTS": f"${{{{steps.{e.id}.outputs.result}}}}" for e in chosen
            },
            "with": {"runners": ",".join(e.id for e in chosen)},
        }
    )
    document = {
        "name": "Autograding Tests",
        "on": ["push", "workflow_dispatch", "repository_dispatch"],
        "permissions": {"checks": "write", "actions": "read", "contents": "read"},
        "jobs": {
            "run-autograding-tests": {
                "runs-on": "ubuntu-latest",
                "if": "github.actor != 'github-classroom[bot]'",
                "steps": steps,
            }
        },
    }
    return yaml.safe_dump(document, sort_keys=False, width=1000)


def files(chosen: list[Exercise], setup: str = SETUP) -> dict[str, str]:
    """Both files, by their path in the workspace."""
    return {WORKFLOW: workflow(chosen, setup), AUTOGRADING: autograding(chosen, setup)}
