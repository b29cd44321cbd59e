"""The values of a swept field, as a spec writes them: a list, or a range/logspace string.

A sweep's field takes a YAML list (``[1, 3, 6, 12, 48]``) or one of two generators, written
as a string so that it stays one YAML scalar with its own line number::

    range(start, stop, step)     start, start + step, ... up to but not including stop
                                 (Python's range, also for floats; step defaults to 1)
    logspace(start, stop, num)   num values from 10**start to 10**stop, evenly spaced on a
                                 log scale (NumPy's logspace: logspace(-3, -1, 3) is 0.001,
                                 0.01, 0.1)

Generated floats are rounded to 12 significant digits, so ``range(0.1, 0.4, 0.1)`` is 0.1,
0.2, 0.3 and not 0.30000000000000004, and the run folders' names stay short.

A sweep is bounded: `MAX_SWEEP_RUNS` runs at most (points times seeds). The count is
checked here, from the lengths alone, before any list of a generator is made, so
``range(0, 1e12)`` is refused at once instead of filling the memory.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

MAX_SWEEP_RUNS = 1000
"""The most runs one sweep may train (points times seeds); split a larger one in parts."""

_GENERATOR = re.compile(r"^\s*(range|logspace)\s*\((.*)\)\s*$", re.DOTALL)
_INTEGER = re.compile(r"^[+-]?\d+$")
FORMS = "a list of values, 'range(start, stop, step)' or 'logspace(start, stop, num)'"


def expand_values(value: Any) -> list[Any]:
    """The list of values that `value` (a list, or a generator string) stands for.

    Raises ValueError with the reason (the spec loader adds the file and line)."""
    if isinstance(value, list):
        if not value:
            raise ValueError("expected at least 1 value, found an empty list")
        if len(value) > MAX_SWEEP_RUNS:
            raise ValueError(f"{len(value)} values, more than a sweep allows ({MAX_SWEEP_RUNS})")
        return value
    match = _GENERATOR.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"expected {FORMS}, found {value!r}")
    kind, arguments = match.group(1), [a.strip() for a in match.group(2).split(",")]
    numbers = [_number(kind, a) for a in arguments]
    return _range(*_arity(kind, numbers, 2, 3)) if kind == "range" else _logspace(numbers)


def _number(kind: str, text: str) -> int | float:
    try:
        number = int(text) if _INTEGER.match(text) else float(text)
    except ValueError:
        raise ValueError(f"{kind}(...) takes numbers, found {text!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{kind}(...) takes finite numbers, found {text!r}")
    return number


def _arity(kind: str, numbers: list, low: int, high: int) -> list:
    if not low <= len(numbers) <= high:
        shape = "range(start, stop, step)" if kind == "range" else "logspace(start, stop, num)"
        raise ValueError(f"{kind} takes {shape}, found {len(numbers)} numbers")
    return numbers


def _range(start: float, stop: float, step: float = 1) -> list[int | float]:
    if step == 0:
        raise ValueError("range(start, stop, step): step must not be 0")
    count = max(0, math.ceil(round((stop - start) / step, 9)))
    if count == 0:
        raise ValueError(
            f"range({start}, {stop}, {step}) is empty; for a falling range use a negative step"
        )
    _check_count(count, f"range({start}, {stop}, {step})")
    if all(isinstance(n, int) for n in (start, stop, step)):
        return list(range(start, stop, step))
    return [_round(start + i * step) for i in range(count)]


def _logspace(numbers: list) -> list[float]:
    start, stop, num = _arity("logspace", numbers, 3, 3)
    if not isinstance(num, int) or num < 1:
        raise ValueError(f"logspace(start, stop, num): num must be a positive integer, found {num}")
    _check_count(num, f"logspace({start}, {stop}, {num})")
    if num == 1:
        return [_round(10.0**start)]
    return [_round(10.0 ** (start + (stop - start) * i / (num - 1))) for i in range(num)]


def _round(number: float) -> float:
    return float(f"{number:.12g}")


def _check_count(count: int, what: str) -> None:
    if count > MAX_SWEEP_RUNS:
        raise ValueError(f"{what} has {count} values, more than a sweep allows ({MAX_SWEEP_RUNS})")


def check_run_count(lengths: Sequence[int], seeds: int) -> int:
    """The number of runs of a sweep whose axes have `lengths` values, each run with
    `seeds` seeds; ValueError above `MAX_SWEEP_RUNS`."""
    runs = math.prod(lengths) * seeds
    if runs > MAX_SWEEP_RUNS:
        shape = " x ".join(map(str, [*lengths, seeds]))
        raise ValueError(
            f"the sweep has {runs} runs ({shape} values x seeds), more than one sweep allows "
            f"({MAX_SWEEP_RUNS}); sweep fewer values, or split it into several sweeps"
        )
    return runs
