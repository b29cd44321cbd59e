"""Central differences in float64: the grader's own evidence that a gradient is right.

Every element of an input is moved by +-`EPS` and the slope ``(f(x + h) - f(x - h)) / 2h``
of a scalar function f compared with the gradient the student returned, so a grade never
rests on the reference solution alone. The same evaluations give the one-sided slopes; where
they differ by more than the comparison's tolerance, f has a kink within `EPS` of that element
(relu at 0) or leaves its domain, the derivative there is a convention rather than a slope,
and that element is left to the op's tie rule (the comparison with the engine's own backward,
which every check also makes). Where the one-sided slopes agree to within the tolerance, the
central slope lies within half their gap of either, so a kink too small to see cannot fail a
right answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

EPS = 1e-6
RTOL, ATOL = 1e-5, 1e-6  # central differences in float64 are good to ~1e-9 here


@dataclass(frozen=True)
class Slopes:
    central: np.ndarray  # the central-difference slope of every element
    smooth: np.ndarray  # where that slope is the derivative (no kink, inside the domain)

    def disagreement(self, got: np.ndarray) -> tuple[int, ...] | None:
        """The first element where `got` differs from the slope beyond the tolerance, among
        the smooth ones; None when all agree."""
        wrong = self.smooth & ~(np.abs(got - self.central) <= tolerance(self.central))
        return tuple(int(i) for i in np.argwhere(wrong)[0]) if wrong.any() else None


def tolerance(slope: np.ndarray) -> np.ndarray:
    return ATOL + RTOL * np.abs(slope)


def slopes(f: Callable[[np.ndarray], float], x: np.ndarray) -> Slopes:
    """The central-difference slopes of the scalar `f` at every element of `x` (float64)."""
    x = np.array(x, dtype=np.float64)
    base = f(x.copy())
    central, smooth = np.zeros_like(x), np.zeros(x.shape, dtype=bool)
    for index in np.ndindex(x.shape):
        keep = x[index]
        x[index] = keep + EPS
        plus = f(x.copy())
        x[index] = keep - EPS
        minus = f(x.copy())
        x[index] = keep
        central[index] = (plus - minus) / (2 * EPS)
        gap = ((plus - base) - (base - minus)) / EPS  # right slope - left slope; nan off-domain
        smooth[index] = bool(abs(gap) / 2 <= tolerance(central[index]))
    return Slopes(central, smooth)
