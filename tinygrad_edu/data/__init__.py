"""Datasets for training: MNIST, small synthetic sets, and the user's CSV or npz files.

`load_dataset(config, seed, task)` turns a spec's ``data:`` section into a `Dataset` of
train/validation/test arrays, split with the seed (stratified for classification) and
normalized with statistics of the training split only. `iterate_batches` draws
mini-batches with a generator the caller owns, so training stays reproducible.
`SOURCES` lists every source's options and defaults.

Reading order: `dataset` (container, splits, normalization, batching) → `sources` (the
option table and `load_dataset`) → `synthetic`, `mnist` (+ `download`), `files`.
"""

from .dataset import Dataset, apply_normalization, iterate_batches
from .sources import REQUIRED, SOURCES, load_dataset

__all__ = [
    "REQUIRED",
    "SOURCES",
    "Dataset",
    "apply_normalization",
    "iterate_batches",
    "load_dataset",
]
