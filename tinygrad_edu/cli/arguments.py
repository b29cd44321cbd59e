"""The command line's number types: each refuses a value outside its range while the
arguments are read, naming the range, so a bad number never reaches a command (argparse
prints the one line and exits with code 2).

``float("nan")`` and ``float("inf")`` parse, and a NaN compares false with everything: a
tolerance of ``nan`` would let every check fail silently (``error <= nan`` is never true).
So every float here is checked to be finite first.
"""

from __future__ import annotations

import argparse
import math


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, found {text}")
    return value


def non_negative_int(text: str) -> int:
    """A count where 0 means all (``--max-elements``)."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 (all) or a positive integer, found {text}")
    return value


def seed(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(
            f"expected a seed of 0 or more (NumPy takes non-negative seeds), found {text}"
        )
    return value


def tolerance(text: str) -> float:
    """A largest error allowed: a finite number, 0 or more."""
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(
            f"expected a finite number of 0 or more (e.g. 1e-6), found {text}"
        )
    return value
