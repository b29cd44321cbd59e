"""What is wrong with a spec, said once: a `Problem` is one line of ``file:line:column:
key.path: message``, a `SpecError` all of a file's problems at once (a `UserError`: one
paragraph, exit code 2). The helpers here write a key path (``model.layers[2].linear``), a
value (as YAML shows it) and a misspelled name (with its did-you-mean) the same way in
every message.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any, Union

import yaml

from ..errors import UserError

Loc = tuple[Union[str, int], ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a spec, at a position of its file (line and column from 1)."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class SpecError(UserError):
    """A spec is invalid; the message lists every problem, one per line."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# A key path as --set and ${...} write it (model.layers[1].linear), and its steps
_PATH = re.compile(r"[A-Za-z_][\w-]*(?:\[\d+\])*(?:\.(?:[A-Za-z_][\w-]*|\d+)(?:\[\d+\])*)*")
_STEP = re.compile(r"([A-Za-z_][\w-]*)|\[?(\d+)\]?")


def _unknown(noun: str, name: Any, choices: list[str], found: bool = False) -> str:
    """ "unknown layer 'lenear'; did you mean 'linear'?" or the list of choices."""
    shown = _show(name)
    head = (
        f"expected one of {', '.join(choices)}, found {shown}"
        if found
        else f"unknown {noun} {shown}"
    )
    close = (
        difflib.get_close_matches(str(name), choices, n=1, cutoff=0.6)
        if isinstance(name, str)
        else []
    )
    if close:
        return f"{head}; did you mean '{close[0]}'?"
    return head if found else f"{head}; choose one of: {', '.join(choices)}"


def _quoted(text: str) -> list[str]:
    """The values of pydantic's "'a', 'b' or 'c'"."""
    return re.findall(r"'((?:[^'\\]|\\.)*)'", text)


def _show(value: Any) -> str:
    """A value as YAML writes it, short."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return f"a mapping ({', '.join(map(str, value))})" if value else "an empty mapping"
    if isinstance(value, (list, tuple)):
        text = yaml.safe_dump(list(value), default_flow_style=True, width=1000).strip()
        return text if len(text) <= 40 else f"a list of {len(value)} items"
    return str(value)


def _dotted(path: list[str | int] | tuple[str | int, ...]) -> str:
    """model.layers[2].linear.out_features"""
    text = ""
    for element in path:
        text += (
            f"[{element}]" if isinstance(element, int) else f".{element}" if text else str(element)
        )
    return text


def _at(file: str, mark: yaml.Mark, path: str, message: str) -> Problem:
    return Problem(file, mark.line + 1, mark.column + 1, path, message)


def _position(problem: Problem) -> tuple[int, int]:
    return problem.line, problem.column


def _unique(problems: list[Problem]) -> list[Problem]:
    return sorted(dict.fromkeys(problems), key=_position)
