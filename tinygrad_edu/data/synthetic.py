"""Small 2-D teaching datasets and 1-D functions to regress, generated from a seed.

The 2-D sets follow scikit-learn's ``make_moons``/``make_circles`` and the TensorFlow
Playground's XOR, spiral and Gaussian sets, written in NumPy so the project needs no
scikit-learn. Each has two classes (labels 0 and 1) and coordinates of order 1, so it
trains without normalization and plots in its own coordinates. ``noise`` means the same
everywhere: Gaussian jitter of that standard deviation added to every point.

The Playground's two 2-D regression sets (``reg_plane``, ``reg_gauss``) are on the same
square [-1, 1]^2 (theirs: [-6, 6]^2), with targets in [-1, 1]; there, as in the Playground,
the jitter moves the position a target is read at, not the point.
"""

from __future__ import annotations

import numpy as np

from .dataset import Examples


def moons(n_samples: int, noise: float, rng: np.random.Generator) -> Examples:
    """Two interleaving half circles (as scikit-learn's ``make_moons``)."""
    n_outer = n_samples // 2
    n_inner = n_samples - n_outer
    t_outer = np.linspace(0, np.pi, n_outer)
    t_inner = np.linspace(0, np.pi, n_inner)
    outer = np.stack([np.cos(t_outer), np.sin(t_outer)], axis=1)
    inner = np.stack([1 - np.cos(t_inner), 0.5 - np.sin(t_inner)], axis=1)
    return _two_classes(outer, inner, noise, rng)


def circles(n_samples: int, noise: float, factor: float, rng: np.random.Generator) -> Examples:
    """A circle of radius ``factor`` (class 1) inside one of radius 1 (as ``make_circles``)."""
    n_outer = n_samples // 2
    n_inner = n_samples - n_outer
    t_outer = np.linspace(0, 2 * np.pi, n_outer, endpoint=False)
    t_inner = np.linspace(0, 2 * np.pi, n_inner, endpoint=False)
    outer = np.stack([np.cos(t_outer), np.sin(t_outer)], axis=1)
    inner = factor * np.stack([np.cos(t_inner), np.sin(t_inner)], axis=1)
    return _two_classes(outer, inner, noise, rng)


def xor(n_samples: int, noise: float, rng: np.random.Generator) -> Examples:
    """Uniform points in [-1, 1]^2; class 1 where x * y > 0 (first and third quadrants).

    As in the Playground, labels come from the clean position, so noisy points near the
    axes can land in the other class's quadrant.
    """
    points = rng.uniform(-1.0, 1.0, size=(n_samples, 2))
    labels = (points[:, 0] * points[:, 1] > 0).astype(np.int64)
    points += rng.normal(0.0, noise, size=points.shape)
    return Examples(points, labels, task="classification", num_classes=2)


def spiral(n_samples: int, noise: float, rng: np.random.Generator) -> Examples:
    """Two interleaved spirals of 1.75 turns each, the second rotated by half a turn.

    The Playground's spiral, scaled from radius 5 to radius 1.
    """
    n_first = n_samples // 2
    arms = []
    for n, offset in ((n_first, 0.0), (n_samples - n_first, np.pi)):
        fraction = np.arange(n) / n
        angle = 1.75 * 2 * np.pi * fraction + offset
        arms.append(np.stack([fraction * np.sin(angle), fraction * np.cos(angle)], axis=1))
    return _two_classes(arms[0], arms[1], noise, rng)


def gaussian(n_samples: int, noise: float, rng: np.random.Generator) -> Examples:
    """Two round Gaussian blobs (standard deviation 0.5) centred at (-1, -1) and (1, 1)."""
    n_first = n_samples // 2
    first = rng.normal(-1.0, 0.5, size=(n_first, 2))
    second = rng.normal(1.0, 0.5, size=(n_samples - n_first, 2))
    return _two_classes(first, second, noise, rng)


FUNCTIONS = {
    "sin": np.sin,
    "cos": np.cos,
    "abs": np.abs,
    "step": lambda x: (x > 0).astype(np.float64),
    "relu": lambda x: np.maximum(x, 0.0),
    "square": np.square,
    "cubic": lambda x: x**3,
}
FUNCTION_ALIASES = {"x^2": "square", "x^3": "cubic"}


def function(
    name: str, interval: tuple[float, float], n_samples: int, noise: float, rng: np.random.Generator
) -> Examples:
    """``y = f(x) + noise`` at ``n_samples`` points drawn uniformly from ``interval``.

    ``step`` is 1 for x > 0 and 0 otherwise. Inputs are (n, 1) so a model sees one
    feature; targets are the function values (regression).
    """
    f = FUNCTIONS[FUNCTION_ALIASES.get(name, name)]
    x = rng.uniform(interval[0], interval[1], size=(n_samples, 1))
    y = f(x)[:, 0] + rng.normal(0.0, noise, size=n_samples)
    return Examples(x, y, task="regression")


# TensorFlow Playground's six bumps of reg-gauss in its units ([-6, 6]^2): centre and sign
BUMPS = np.array(
    [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]]
)
PLAYGROUND_RADIUS = 6.0  # the Playground's square is [-6, 6]^2; ours is [-1, 1]^2


def reg_plane(n_samples: int, noise: float, rng: np.random.Generator) -> Examples:
    """Targets rising along the diagonal: (x1 + x2) in the Playground's units, divided by
    10, clipped to [-1, 1] (its own reach 1.2 in two corners; a tanh or the colour scale
    cannot show more than 1)."""
    points, read_at = _uniform_square(n_samples, noise, rng)
    targets = np.clip(read_at.sum(axis=1) * PLAYGROUND_RADIUS / 10.0, -1.0, 1.0)
    return Examples(points, targets, task="regression")


def reg_gauss(n_samples: int, noise: float, rng: np.random.Generator) -> Examples:
    """Six bumps of alternating sign in two rows: each falls linearly from +-1 at its centre
    to 0 at distance 2 (the Playground's units); a point takes the bump strongest there."""
    points, read_at = _uniform_square(n_samples, noise, rng)
    centres = BUMPS[:, :2] / PLAYGROUND_RADIUS
    distance = np.linalg.norm(read_at[:, None, :] - centres[None], axis=2) * PLAYGROUND_RADIUS
    bumps = BUMPS[:, 2] * np.clip(1.0 - distance / 2.0, 0.0, 1.0)
    strongest = np.argmax(np.abs(bumps), axis=1)
    return Examples(points, bumps[np.arange(n_samples), strongest], task="regression")


def _uniform_square(
    n_samples: int, noise: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Uniform points in [-1, 1]^2, and where their targets are read: the point moved by
    Gaussian jitter of standard deviation ``noise``."""
    points = rng.uniform(-1.0, 1.0, size=(n_samples, 2))
    return points, points + rng.normal(0.0, noise, size=points.shape)


def _two_classes(
    first: np.ndarray, second: np.ndarray, noise: float, rng: np.random.Generator
) -> Examples:
    """Stack class 0 and class 1 points and jitter them with Gaussian noise."""
    points = np.concatenate([first, second])
    labels = np.concatenate([np.zeros(len(first), np.int64), np.ones(len(second), np.int64)])
    points = points + rng.normal(0.0, noise, size=points.shape)
    return Examples(points, labels, task="classification", num_classes=2)
