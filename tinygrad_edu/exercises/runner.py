"""Grade one exercise in a process of its own, so that nothing a student writes can harm
the grading of another exercise or the grader itself.

The child process (``python -m tinygrad_edu.exercises.runner ID WORKSPACE RESULT``) gets a
memory limit (``RLIMIT_AS``), a wall-clock limit (the parent kills its process group),
no bytecode written into the workspace, and one BLAS thread. It writes its verdict as JSON
to RESULT; if it writes none (``sys.exit`` before the end, ``os._exit``, a crash, a kill),
the parent says in words what happened. Neither prints a traceback: a student's exception
is reported as its type, its message and the line of the student's file it came from.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import UserError
from ..extras import install_hint
from .catalogue import BY_ID, PACKAGE, Exercise
from .compare import Failed

MEMORY_LIMIT = 2 * 1024**3  # bytes of address space for one exercise's process
OWN_ENGINE = {"train-mnist"}  # exercises that run the student's whole engine
MISSING_HYPOTHESIS = (
    f"grading the exercises needs hypothesis (it draws the inputs): {install_hint('exercises')}"
)


def require_hypothesis() -> None:
    """Before any grading starts: the checks draw their inputs with hypothesis, an optional
    dependency (the ``exercises`` extra; listing and making workspaces work without it)."""
    try:
        import hypothesis  # noqa: F401
    except ImportError:
        raise UserError(MISSING_HYPOTHESIS) from None


@dataclass
class Result:
    id: str
    file: str
    function: str
    points: int
    score: int
    passed: bool
    message: str

    def to_dict(self) -> dict:
        return asdict(self)


def verdict(exercise: Exercise, passed: bool, message: str) -> Result:
    score = exercise.points if passed else 0
    return Result(
        exercise.id, exercise.file, exercise.function, exercise.points, score, passed, message
    )


def grade_function(exercise: Exercise, fn) -> Result:
    """Run `exercise`'s checks on `fn` in this process (the child's work; the mutation test
    calls it directly)."""
    # imported here, not above: the checks draw inputs with hypothesis, an optional
    # dependency that `list` and `make` (which import this module) do without
    from .checks import CHECKS
    from .graft import grafted

    try:
        with grafted(exercise, fn, own_engine=exercise.id in OWN_ENGINE) as context:
            CHECKS[exercise.id](context)
    except Failed as failure:
        return verdict(exercise, False, str(failure))
    except NotImplementedError:
        return verdict(
            exercise,
            False,
            f"not implemented yet: {exercise.function} still raises NotImplementedError",
        )
    except MemoryError:
        return verdict(exercise, False, f"{exercise.function} ran out of memory")
    except SystemExit as stop:
        return verdict(
            exercise, False, f"{exercise.function} called sys.exit({stop.code!r}): return instead"
        )
    except Exception as error:  # the student's bug, reported as theirs
        return verdict(exercise, False, f"{exercise.function} raised {_describe(error)}")
    return verdict(exercise, True, "passed")


def _describe(error: BaseException) -> str:
    """``TypeError: ... (minigrad/value.py:42)``: the student's last line in the traceback."""
    where = ""
    for frame in traceback.extract_tb(error.__traceback__):
        parts = Path(frame.filename).parts
        if PACKAGE in parts:
            where = f" ({'/'.join(parts[parts.index(PACKAGE) :])}:{frame.lineno})"
    return f"{type(error).__name__}: {error}{where}"


def grade_in_child(exercise_id: str, workspace: str) -> Result:
    exercise = BY_ID[exercise_id]
    from .graft import import_student

    try:
        fn = import_student(workspace, exercise)
    except SyntaxError as error:
        return verdict(
            exercise, False, f"{exercise.file} does not parse: {error.msg} at line {error.lineno}"
        )
    except (Exception, SystemExit) as error:
        return verdict(exercise, False, f"importing {exercise.file} raised {_describe(error)}")
    return grade_function(exercise, fn)


POSIX = os.name == "posix"  # elsewhere: no memory limit, and the child alone is killed


def _limit_memory() -> None:
    import resource

    os.setsid()  # its own process group: a timeout kills what it started too
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def grade_isolated(
    exercise: Exercise, workspace: str | Path, seconds: float | None = None
) -> Result:
    """Grade `exercise` of `workspace` in a child process, within its time (`seconds`, by
    default the exercise's own limit) and memory. What the student's code prints goes to a
    file in a scratch folder (a flood of output cannot fill the grader's memory)."""
    seconds = exercise.seconds if seconds is None else seconds
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", OPENBLAS_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory(prefix="tg-exercise-") as scratch:
        out, log = Path(scratch) / "result.json", Path(scratch) / "output.txt"
        command = [sys.executable, "-m", __name__, exercise.id, str(workspace), str(out)]
        with open(log, "wb") as output:
            child = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                env=env,
                cwd=scratch,
                preexec_fn=_limit_memory if POSIX else None,
            )
            try:
                child.wait(timeout=seconds)
            except subprocess.TimeoutExpired:
                if POSIX:
                    os.killpg(child.pid, signal.SIGKILL)
                else:
                    child.kill()
                child.wait()
                return verdict(
                    exercise,
                    False,
                    f"{exercise.function} took longer than {seconds:g} s and was "
                    "stopped (an endless loop?)",
                )
        try:
            return Result(**json.loads(out.read_text("utf-8")))
        except (OSError, ValueError, TypeError):  # none written, or not the child's own
            pass
        code = child.returncode
        how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
        with open(log, "rb") as output:
            output.seek(max(0, log.stat().st_size - 4096))
            tail = output.read()
        hint = " (out of memory?)" if code < 0 or b"MemoryError" in tail else ""
        return verdict(
            exercise,
            False,
            f"the process grading {exercise.function} {how}{hint} before its checks "
            "finished: does your code call os._exit, exit or crash the interpreter?",
        )


def main(argv: list[str]) -> int:
    exercise_id, workspace, out = argv
    result = grade_in_child(exercise_id, workspace)
    Path(out).write_text(json.dumps(result.to_dict()), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
