"""A grading's results as text for a terminal, JSON for scripts, and Gradescope's file."""

from __future__ import annotations

import json
from pathlib import Path

from ..io.atomic import atomic_write
from .runner import Result


def summary(results: list[Result]) -> dict:
    """``{"score", "max_score", "exercises": [...]}``: what ``check --json`` prints."""
    return {
        "score": sum(r.score for r in results),
        "max_score": sum(r.points for r in results),
        "exercises": [r.to_dict() for r in results],
    }


def text(results: list[Result]) -> str:
    """One line per exercise, the first failing case under a failed one, then the total."""
    lines = []
    for r in results:
        mark = "PASS" if r.passed else "FAIL"
        lines.append(f"{mark} {r.id:<20} {r.score}/{r.points}  {r.file}: {r.function}")
        if not r.passed:
            lines.append(f"     {r.message}")
    total = summary(results)
    lines.append(f"score: {total['score']}/{total['max_score']}")
    return "\n".join(lines)


def gradescope(results: list[Result]) -> dict:
    """Gradescope's ``results.json``: a score and one test per exercise."""
    return {
        "score": sum(r.score for r in results),
        "tests": [
            {
                "name": f"{r.id}: {r.function} ({r.file})",
                "score": r.score,
                "max_score": r.points,
                "output": r.message,
                "visibility": "visible",
            }
            for r in results
        ],
    }


def write_gradescope(results: list[Result], path: str | Path) -> None:

    with atomic_write(path, "w") as handle:
        json.dump(gradescope(results), handle, indent=2)
        handle.write("\n")
