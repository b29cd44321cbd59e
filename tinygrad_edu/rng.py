"""One seedable random generator for everything random: initialisation, dropout, shuffling.

Random numbers are drawn on the host with NumPy's PCG64 and then moved to the active
backend, so a seed gives the same numbers on NumPy, CuPy and every other backend.

``rng.generator`` is made on first use (seed 0), not at import: NumPy loads its random
module (a sixth of ``import tinygrad_edu``) only when something random happens.

Model code (layers' initialisation, dropout, ``Tensor.randn``) draws through `random`,
`uniform` and `standard_normal`, which tell a recording `tg.compile` that the step draws
random numbers; code outside a training step (shuffling the batches) may use
``generator`` itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import recording

generator: np.random.Generator  # made by `__getattr__` on first use, or by `manual_seed`


def manual_seed(seed: int) -> np.random.Generator:
    """Reset the global generator, as `torch.manual_seed`."""
    global generator
    generator = np.random.default_rng(seed)
    return generator


def get_state() -> dict:
    """The generator's state, a plain dict that checkpoints can store."""
    return _current().bit_generator.state


def set_state(state: dict) -> None:
    """Restore a state from `get_state` (for bit-identical resume)."""
    _current().bit_generator.state = state


def random(size: Any) -> np.ndarray:
    """Floats drawn uniformly from [0, 1) (``generator.random``)."""
    return _drawing("random").random(size)


def uniform(low: float, high: float, size: Any) -> np.ndarray:
    """Floats drawn uniformly from [low, high) (``generator.uniform``)."""
    return _drawing("uniform").uniform(low, high, size)


def standard_normal(size: Any) -> np.ndarray:
    """Samples of the standard normal distribution (``generator.standard_normal``)."""
    return _drawing("standard_normal").standard_normal(size)


def _drawing(method: str) -> np.random.Generator:
    """The generator, about to draw with `method`.

    tg.compile records here (see `recording` and the `jit` package): a replay would reuse
    the recording's draw (one dropout mask for every step), so the recorder is told, and
    that step runs eagerly."""
    recorder = recording.active
    if recorder is not None:
        recorder.random_numbers(f"rng.generator.{method}")
    return _current()


def _current() -> np.random.Generator:
    return globals().get("generator") or manual_seed(0)


def __getattr__(name: str) -> object:
    """``rng.generator`` before anything set it: the generator of seed 0 (PEP 562)."""
    if name == "generator":
        return manual_seed(0)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
