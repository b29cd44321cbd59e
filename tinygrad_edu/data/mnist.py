"""MNIST digits: the 5,000-image subset shipped in the package, and the full set.

``mnist-5k`` needs nothing from the network: `mnist_5k.npz` (0.8 MB, provenance and
license in `MNIST_5K.md`) is package data. The full set (60,000 + 10,000 images) is read
from the four IDX files of the original distribution, gzipped or not, and can be
downloaded once into a cache folder with every file's SHA-256 verified.
"""

from __future__ import annotations

import gzip
import math
import os
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..errors import UserError
from ..io.reading import check_fits, open_regular
from .dataset import Examples
from .download import cache_dir, download

DIGITS = [str(d) for d in range(10)]

# PyTorch's mirror (torchvision downloads from it); TensorFlow's is
# https://storage.googleapis.com/cvdf-datasets/mnist/ and serves the same files.
DEFAULT_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"

# SHA-256 of the original gzipped files (the same on every faithful mirror).
DEFAULT_SHA256 = {
    "train-images-idx3-ubyte.gz": (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
    ),
    "train-labels-idx1-ubyte.gz": (
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
    ),
    "t10k-images-idx3-ubyte.gz": (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
    ),
}

TRAIN_IMAGES, TRAIN_LABELS = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"
TEST_IMAGES, TEST_LABELS = "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"

# IDX magic number: two zero bytes, a type code, the number of dimensions.
IDX_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions (count, rows, columns)
LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension (count)


def load_mnist5k() -> Examples:
    """The shipped 5,000 images (500 per digit) as uint8 pixels (5000, 784) and labels."""
    resource = resources.files(__package__).joinpath("mnist_5k.npz")
    try:
        with resource.open("rb") as handle, np.load(handle, allow_pickle=False) as archive:
            X, y = archive["X"], archive["y"].astype(np.int64)
    except (OSError, KeyError, ValueError) as error:
        raise UserError(
            f"the MNIST-5k file shipped with tinygrad_edu cannot be read ({error}); "
            "the installation is incomplete: reinstall it (pip install -e . in a clone)"
        ) from None
    return Examples(X, y, task="classification", num_classes=10, class_names=DIGITS, images=True)


def load_mnist(
    path: str | Path | None, download_missing: bool, url: str, sha256: dict[str, str]
) -> Examples:
    """The official 60,000 training and 10,000 test images, flattened to 784 pixels.

    Files are looked for in ``path`` (default: the ``mnist`` folder of the cache), raw or
    ``.gz``. Missing ones are downloaded from ``url`` when ``download_missing`` is set,
    each checked against ``sha256`` (the defaults, updated with the user's entries).
    """
    folder = Path(path).expanduser() if path else cache_dir() / "mnist"
    sums = _checked_sums(sha256)
    missing = missing_files(path, download_missing, url)
    for name in missing:
        download(url.rstrip("/") + "/" + name + ".gz", folder / f"{name}.gz", sums[f"{name}.gz"])
    X_train, y_train = _read_pair(folder, TRAIN_IMAGES, TRAIN_LABELS)
    X_test, y_test = _read_pair(folder, TEST_IMAGES, TEST_LABELS)
    return Examples(
        X_train,
        y_train,
        task="classification",
        num_classes=10,
        class_names=DIGITS,
        images=True,
        X_test=X_test,
        y_test=y_test,
    )


def missing_files(path: str | Path | None, download_missing: bool, url: str) -> list[str]:
    """The MNIST files not in the folder (to download); a UserError if they may not be."""
    folder = Path(path).expanduser() if path else cache_dir() / "mnist"
    names = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)
    missing = [name for name in names if _find(folder, name) is None]
    if missing and not download_missing:
        raise UserError(
            f"MNIST files missing in {folder}: {', '.join(missing)} (.gz or unpacked). "
            f"Set data.download: true to fetch them from {url} (about 12 MB), or put them there "
            "yourself, or set data.path to the folder that holds them"
        )
    return missing


def read_idx(path: str | Path, magic: int | None = None) -> np.ndarray:
    """An IDX file (gzipped when its name ends in .gz) as an array of its stored shape.

    With ``magic`` the header must match it exactly (type and number of dimensions), so
    a labels file given where images belong is caught with a clear message. The header
    is read first and bounds everything after it: the size it claims must agree with the
    file (`_check_claimed_size`), the data must fit in memory, and no more than the
    header promises is ever decompressed (a gzip bomb stops there).
    """
    path = Path(path)
    try:
        with _open_idx(path) as (handle, stream):
            shape, dtype, header = _idx_header(path, stream.read(4 + 4 * 255), magic)
            expected = math.prod(shape) * dtype.itemsize
            _check_claimed_size(path, handle, len(header[0]) + expected, shape)
            check_fits(path, expected * 5, "the images as uint8 and float32")
            raw = header[1] + stream.read(expected + 1 - len(header[1]))
    except (OSError, EOFError, zlib.error) as error:
        raise UserError(f"{path}: cannot read it ({error}); {_FIX}") from None
    if len(raw) != expected:
        raise UserError(
            f"{path}: the header promises shape {shape} ({expected} bytes of data), but the "
            f"file holds {'more' if len(raw) > expected else len(raw)}; it is truncated or "
            "corrupt: download it again"
        )
    return np.frombuffer(raw, dtype=dtype).reshape(shape)


def idx_shape(path: Path, magic: int) -> tuple[int, ...]:
    """The shape an IDX file's header claims, checked against the file's size; nothing
    else is read (so two files' counts are compared before either is decompressed)."""
    try:
        with _open_idx(path) as (handle, stream):
            shape, dtype, header = _idx_header(path, stream.read(4 + 4 * 255), magic)
            _check_claimed_size(
                path, handle, len(header[0]) + math.prod(shape) * dtype.itemsize, shape
            )
    except (OSError, EOFError, zlib.error) as error:
        raise UserError(f"{path}: cannot read it ({error}); {_FIX}") from None
    return shape


_FIX = "delete it and download it again (data.download: true) or replace it with a good copy"
MAX_DEFLATE_RATIO = 1032  # deflate cannot expand data more than this (zlib's technical note)


@contextmanager
def _open_idx(path: Path) -> Iterator[tuple[BinaryIO, BinaryIO]]:
    """(the file, the stream of its IDX bytes: decompressed for .gz)."""
    with open_regular(path, None, "MNIST file", _FIX) as handle:
        yield handle, gzip.GzipFile(fileobj=handle) if path.suffix == ".gz" else handle


def _check_claimed_size(path: Path, handle: BinaryIO, claimed: int, shape: tuple) -> None:
    """The bytes the header claims must be what the file holds: exactly, for a raw file;
    for a gzipped one, what its trailer records (the size modulo 2**32) and no more than
    deflate can expand it to. A header claiming millions of images is caught here, before
    any decompression."""
    size = os.fstat(handle.fileno()).st_size
    if path.suffix != ".gz":
        holds, found = size, f"{size:,} bytes"
    elif claimed > size * MAX_DEFLATE_RATIO:
        holds, found = None, f"at most {size * MAX_DEFLATE_RATIO:,} bytes once decompressed"
    else:
        position = handle.tell()  # the gzip stream reads on from here
        handle.seek(max(0, size - 4))
        trailer = handle.read(4)
        handle.seek(position)
        recorded = int.from_bytes(trailer, "little")
        holds = claimed if len(trailer) == 4 and recorded == claimed % 2**32 else None
        found = f"{recorded:,} bytes, its gzip trailer says"
    if holds != claimed:
        raise UserError(
            f"{path}: the header claims shape {shape} ({claimed:,} bytes), but the file holds "
            f"{found}; it is truncated or corrupt (or forged): {_FIX}"
        )


def _idx_header(
    path: Path, start: bytes, magic: int | None
) -> tuple[tuple[int, ...], np.dtype, tuple[bytes, bytes]]:
    """(shape, dtype, (header bytes, data bytes read with them)) of an IDX file's start."""
    if len(start) < 4 or start[0] != 0 or start[1] != 0 or start[2] not in IDX_TYPES:
        raise UserError(
            f"{path}: not an IDX file (bad magic number {start[:4].hex() or 'missing'}); "
            "expected one of the MNIST files train-images-idx3-ubyte and friends"
        )
    found = int.from_bytes(start[:4], "big")
    if magic is not None and found != magic:
        raise UserError(
            f"{path}: IDX magic number {found} (0x{found:08x}), expected {magic} "
            f"(0x{magic:08x}); the file is of the wrong kind: check its name and content"
        )
    ndim = start[3]
    size = 4 + 4 * ndim
    if len(start) < size:
        raise UserError(f"{path}: the IDX header is cut short; download the file again")
    shape = tuple(int.from_bytes(start[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return shape, IDX_TYPES[start[2]], (start[:size], start[size:])


def _find(folder: Path, name: str) -> Path | None:
    """The unpacked file if present, else the gzipped one, else None."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _read_pair(folder: Path, images_name: str, labels_name: str) -> tuple[np.ndarray, np.ndarray]:
    """Images flattened to (n, rows * columns) and their labels, checked to agree."""
    images_path, labels_path = _find(folder, images_name), _find(folder, labels_name)
    images_count = idx_shape(images_path, IMAGES_MAGIC)[0]  # the headers, before the data
    labels_count = idx_shape(labels_path, LABELS_MAGIC)[0]
    if images_count != labels_count:
        raise UserError(
            f"{images_path} holds {images_count} images but {labels_path} holds {labels_count} "
            "labels; the files do not belong together"
        )
    images = read_idx(images_path, IMAGES_MAGIC)
    labels = read_idx(labels_path, LABELS_MAGIC)
    if len(labels) and labels.max() > 9:
        raise UserError(f"{labels_path}: labels must be digits 0-9, found {labels.max()}")
    return images.reshape(len(images), -1), labels.astype(np.int64)


def _checked_sums(overrides: dict[str, str]) -> dict[str, str]:
    """The default SHA-256 sums updated with the user's, each a 64-digit hex string."""
    if not isinstance(overrides, dict):
        raise UserError(
            "data.sha256 must map file names to SHA-256 sums, e.g. "
            "{train-images-idx3-ubyte.gz: <64 hex digits>}"
        )
    unknown = sorted(set(overrides) - set(DEFAULT_SHA256))
    if unknown:
        raise UserError(
            f"data.sha256: unknown file {', '.join(map(repr, unknown))}; the files are "
            f"{', '.join(DEFAULT_SHA256)}"
        )
    sums = {**DEFAULT_SHA256, **overrides}
    for name, value in sums.items():
        if not isinstance(value, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", value):
            raise UserError(
                f"data.sha256.{name} must be a SHA-256 sum (64 hex digits), got {value!r}"
            )
    return sums
