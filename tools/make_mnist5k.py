"""Convert the MNIST-5k CSV into the compressed array file shipped inside the package.

Run once, from the repository root, when the shipped file has to be rebuilt:

    python tools/make_mnist5k.py /work/shared/data/mnist_5k.csv.gz

It writes ``tinygrad_edu/data/mnist_5k.npz`` with ``X`` (uint8, 5000 x 784, row-major
28 x 28 images) and ``y`` (uint8 labels 0-9). The CSV is not shipped: users' machines
only get the npz (provenance and license in ``tinygrad_edu/data/MNIST_5K.md``).
The checks below are the ones the source's README promises, so a wrong input fails
here instead of producing a silently different dataset.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

OUTPUT = Path(__file__).resolve().parent.parent / "tinygrad_edu" / "data" / "mnist_5k.npz"


def convert(source: Path, output: Path = OUTPUT) -> None:
    """Read the CSV (784 pixels then the label per row), check it and save the npz."""
    table = np.loadtxt(source, delimiter=",", dtype=np.int64)
    if table.shape != (5000, 785):
        raise SystemExit(f"{source}: expected 5000 rows x 785 columns, got {table.shape}")
    pixels, labels = table[:, :784], table[:, 784]
    if pixels.min() < 0 or pixels.max() > 255:
        raise SystemExit(f"{source}: pixels must lie in 0..255")
    if not np.array_equal(np.bincount(labels, minlength=10), np.full(10, 500)):
        raise SystemExit(f"{source}: expected exactly 500 images of each digit 0-9")
    np.savez_compressed(output, X=pixels.astype(np.uint8), y=labels.astype(np.uint8))
    print(f"wrote {output} ({output.stat().st_size / 1e6:.2f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="mnist_5k.csv.gz (or the unpacked .csv)")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to write the npz")
    args = parser.parse_args()
    convert(args.source, args.output)


if __name__ == "__main__":
    main()
