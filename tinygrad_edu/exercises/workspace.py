"""Write a student's workspace: the solved source of `solution` with the exercises stubbed.

The workspace's files are the reference solution's files (`solution`), with each chosen
exercise's function body replaced by a docstring (the task and the hint, from the
`catalogue`) and ``raise NotImplementedError("exercise ID: ...")``. The replacement is
made on the source text at the line numbers Python's own parser gives, so everything
outside those bodies stays as written, and nothing of a replaced body (code or comment)
survives. ``solutions=True`` writes the same files with the bodies kept: the teacher's copy.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from ..errors import UserError
from ..io.atomic import atomic_write
from . import classroom
from .catalogue import BY_ID, EXERCISES, PACKAGE, Exercise

MODULES = ("__init__", "value", "tensor_ops", "nn", "optim", "train")


def choose(only: Iterable[str] | None) -> list[Exercise]:
    """The exercises named in `only` (all when None), in the lecture's order."""
    if only is None:
        return list(EXERCISES)
    wanted = [name.strip() for name in only if name.strip()]
    unknown = [name for name in wanted if name not in BY_ID]
    if unknown or not wanted:
        raise UserError(
            f"no exercise is called {', '.join(unknown) or '(nothing)'}; the exercises are "
            f"{', '.join(BY_ID)} (see: python cli.py exercises list)"
        )
    return [exercise for exercise in EXERCISES if exercise.id in wanted]


def reference_source(module: str) -> str:
    """The solved source of one module of the workspace's package."""
    return (
        resources.files(__package__)
        .joinpath("solution")
        .joinpath(f"{module}.py")
        .read_text("utf-8")
    )


def find_function(tree: ast.Module, qualname: str) -> ast.FunctionDef:
    """The definition of ``Class.method`` or ``function`` at the top of a module."""
    body: list[ast.stmt] = tree.body
    *owners, name = qualname.split(".")
    for owner in owners:
        body = next(n for n in body if isinstance(n, ast.ClassDef) and n.name == owner).body
    return next(n for n in body if isinstance(n, ast.FunctionDef) and n.name == name)


def docstring(exercise: Exercise) -> str:
    """What the student reads above the stub: the task and the formula to derive."""
    plural = "s" if exercise.points != 1 else ""
    paragraphs = [
        f"Exercise {exercise.id} ({exercise.points} point{plural}): {exercise.title}.",
        exercise.task,
        f"Hint: {exercise.hint}",
        f"Check it: tinygrad-edu exercises check . --only {exercise.id}",
    ]
    wrapped = "\n\n".join(textwrap.fill(p, 88) for p in paragraphs)
    return f'"""{wrapped}\n"""'


def render(module: str, chosen: Iterable[Exercise], solutions: bool) -> str:
    """The text of one workspace file: stubs for the chosen exercises of `module`."""
    source = reference_source(module)
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    edits = []
    for exercise in (e for e in chosen if e.module == module):
        node = find_function(tree, exercise.function)
        first = node.body[0]
        indent = " " * first.col_offset
        text = docstring(exercise) + "\n"
        if solutions:
            end = first.end_lineno  # the reference's one-line docstring only
        else:
            end = node.end_lineno
            text += f'raise NotImplementedError("exercise {exercise.id}: not written yet")\n'
        edits.append((first.lineno - 1, end, textwrap.indent(text, indent)))
    for start, end, text in sorted(edits, reverse=True):
        lines[start:end] = [text]
    return "".join(lines)


def workspace_files(
    chosen: list[Exercise], solutions: bool, setup: str = classroom.SETUP
) -> dict[str, str]:
    """Every file of a workspace, by its path relative to the workspace (GitHub Classroom's
    autograding of the chosen exercises among them, installing tinygrad_edu with `setup`)."""
    templates = resources.files(__package__).joinpath("templates")
    ids = ", ".join(e.id for e in chosen)
    files = {f"{PACKAGE}/{m}.py": render(m, chosen, solutions) for m in MODULES}
    readme = templates.joinpath("README.md").read_text("utf-8")
    files["README.md"] = readme.replace("{exercises}", _table(chosen)).replace("{ids}", ids)
    files["tests/test_examples.py"] = templates.joinpath("test_examples.py").read_text("utf-8")
    files.update(classroom.files(chosen, setup))
    return files


def _table(chosen: list[Exercise]) -> str:
    rows = ["| id | points | file | function | what |", "|---|---|---|---|---|"]
    rows += [f"| {e.id} | {e.points} | {e.file} | `{e.function}` | {e.title} |" for e in chosen]
    return "\n".join(rows)


def make(
    directory: str | Path,
    only: Iterable[str] | None = None,
    solutions: bool = False,
    setup: str = classroom.SETUP,
) -> list[Path]:
    """Write a workspace into `directory` (new, or empty) and return the files written;
    `setup` is the command GitHub Classroom installs tinygrad_edu with."""

    chosen = choose(only)
    root = Path(directory)
    if root.exists() and not root.is_dir():
        raise UserError(f"{root} is not a folder: name a new folder for the workspace")
    if root.is_dir() and any(root.iterdir()):
        raise UserError(
            f"{root} is not empty: the workspace goes in a new or empty folder, so that "
            "nothing already there is replaced; name another folder"
        )
    written = []
    for relative, text in workspace_files(chosen, solutions, setup).items():
        path = root / relative
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UserError(f"cannot create {path.parent}: {error.strerror}") from None
        with atomic_write(path, "w") as handle:
            handle.write(text)
        written.append(path)
    return written
