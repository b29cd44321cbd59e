"""Write ``examples/digits.csv``, the input of the README's ``predict`` example.

    python tools/make_example_digits.py

The file holds the first ten digits of the test split that ``specs/mlp.yaml`` trains with
(its seed, its split), one image a row: 784 pixel values 0-255, no header, no label column,
as ``predict --input`` takes them (it normalizes them the way the run was trained). The
trained model never saw these digits; the script prints their labels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "examples" / "digits.csv"
COUNT = 10


def example_digits() -> tuple[np.ndarray, np.ndarray]:
    """The first `COUNT` test digits of specs/mlp.yaml's split, raw pixels, and their labels."""
    from tinygrad_edu.data import load_dataset
    from tinygrad_edu.spec import load_spec

    spec = load_spec(ROOT / "specs" / "mlp.yaml")
    config = {**spec.data.model_dump(), "normalize": "none"}  # the pixels as they are stored
    data = load_dataset(config, seed=spec.seed)
    return data.X_test[:COUNT].astype(np.uint8), data.y_test[:COUNT]


def digits_csv() -> str:
    """The text of examples/digits.csv."""
    pixels, _ = example_digits()
    return "".join(",".join(str(int(v)) for v in row) + "\n" for row in pixels)


def main() -> None:
    OUT.write_text(digits_csv(), encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)} (labels {' '.join(map(str, example_digits()[1]))})")


if __name__ == "__main__":
    main()
