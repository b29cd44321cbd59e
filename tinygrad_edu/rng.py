"""One seedable random generator for everything random: initialisation, dropout, shuffling.

Random numbers are drawn on the host with NumPy's PCG64 and then moved to the active
backend, so a seed gives the same numbers on NumPy, CuPy and every other backend.
"""

from __future__ import annotations

import numpy as np

generator: np.random.Generator = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Reset the global generator, as `torch.manual_seed`."""
    global generator
    generator = np.random.default_rng(seed)
    return generator


def get_state() -> dict:
    """The generator's state, a plain dict that checkpoints can store."""
    return generator.bit_generator.state


def set_state(state: dict) -> None:
    """Restore a state from `get_state` (for bit-identical resume)."""
    generator.bit_generator.state = state
