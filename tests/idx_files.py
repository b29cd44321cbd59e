"""Tiny MNIST-like IDX files for the data tests, so no test needs the real 12 MB download."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of a uint8 array: magic 0x0000080N, N big-endian sizes, the data."""
    header = bytes([0, 0, 0x08, array.ndim])
    header += b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_idx(path: Path, array: np.ndarray) -> Path:
    """Write ``array`` as IDX, gzipped when the name ends in .gz."""
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data, mtime=0) if path.suffix == ".gz" else data)
    return path


def fake_mnist(n_train: int = 40, n_test: int = 20, side: int = 4) -> dict[str, np.ndarray]:
    """Random side x side images with labels cycling through 0-9, keyed by MNIST file name."""
    rng = np.random.default_rng(123)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        arrays[f"{prefix}-images-idx3-ubyte"] = rng.integers(0, 256, (n, side, side), np.uint8)
        arrays[f"{prefix}-labels-idx1-ubyte"] = (np.arange(n) % 10).astype(np.uint8)
    return arrays


def write_fake_mnist(folder: Path, gz: bool = True, **sizes: int) -> dict[str, np.ndarray]:
    """Write the four files of `fake_mnist` into ``folder``; return the arrays."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = fake_mnist(**sizes)
    for name, array in arrays.items():
        write_idx(folder / (f"{name}.gz" if gz else name), array)
    return arrays
