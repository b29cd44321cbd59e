"""The ``.safetensors`` format, read and written here: a header first, checked before
any tensor is read.

A file is 8 bytes (the header's length, little-endian), a JSON header and the tensors'
bytes. The header maps each name to its dtype, shape and byte range, plus an optional
``__metadata__`` string map. Written here rather than by the safetensors library so that
the same arrays and metadata always give the same bytes (the library writes the metadata
in a random order: a checksum of an export would change at each export); read here so
that names, shapes, dtypes and byte ranges are checked against the file and against what
the caller expects before a byte of data is read (a 2 GiB tensor of the wrong shape is
refused from its header). Arrays only, never pickled code.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserError

# the format's dtype names, and NumPy's little-endian dtypes for them
DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
    "U16": np.dtype("<u2"),
    "U32": np.dtype("<u4"),
    "U64": np.dtype("<u8"),
    "BOOL": np.dtype("?"),
}
NAMES = {dtype: name for name, dtype in DTYPES.items()}
MAX_HEADER_BYTES = 100_000_000  # the safetensors library's own limit
METADATA = "__metadata__"


@dataclass(frozen=True)
class Entry:
    """One tensor as the header describes it: where its bytes lie in the file."""

    dtype: np.dtype
    shape: tuple[int, ...]
    start: int  # absolute offset in the file
    nbytes: int


def encode(arrays: Mapping[str, np.ndarray], metadata: Mapping[str, str]) -> bytes:
    """The file's bytes: tensors in name order, metadata keys sorted, so equal inputs
    give equal bytes."""
    header: dict[str, Any] = {METADATA: dict(sorted(metadata.items()))} if metadata else {}
    blobs, offset = [], 0
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        little = array.astype(array.dtype.newbyteorder("<"), copy=False)
        if little.dtype not in NAMES:
            raise UserError(f"cannot write '{name}' as safetensors: dtype {array.dtype}")
        blob = little.tobytes()
        header[name] = {
            "dtype": NAMES[little.dtype],
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(blob)],
        }
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the tensors start 8-byte aligned, as the library writes
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def read_header(path: Path) -> tuple[dict[str, Entry], dict[str, str]]:
    """(the tensors' entries by name, the string metadata) from the header alone, every
    field checked against the format and the file's size; a `UserError` says what is
    wrong with the file."""
    size = path.stat().st_size

    def damaged(reason: str) -> UserError:
        return UserError(
            f"{path}: not a readable .safetensors file ({reason}); export it again, or check "
            "that it was copied whole"
        )

    with open(path, "rb") as handle:
        start = handle.read(8)
        if len(start) < 8:
            raise damaged("shorter than the 8 bytes that give the header's length")
        length = struct.unpack("<Q", start)[0]
        if length > min(MAX_HEADER_BYTES, size - 8):
            raise damaged(f"its header claims {length:,} bytes, the file holds {size:,}")
        try:
            header = json.loads(handle.read(length).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            raise damaged(f"the header is not JSON: {error}") from None
    if not isinstance(header, dict):
        raise damaged("the header is not a JSON object")
    metadata = header.pop(METADATA, None) or {}
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise damaged("__metadata__ must map strings to strings")
    entries, data_start = {}, 8 + length
    for name, info in header.items():
        entries[name] = _entry(name, info, data_start, size, damaged)
    return entries, metadata


def _entry(name: str, info: Any, data_start: int, size: int, damaged: Any) -> Entry:
    if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= set(info):
        raise damaged(f"'{name}' needs dtype, shape and data_offsets")
    dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if not isinstance(dtype, str):
        raise damaged(f"'{name}' has dtype {dtype!r}, not a dtype's name")
    if dtype not in DTYPES:
        readable = ", ".join(DTYPES)
        raise UserError(
            f"'{name}' is stored as {dtype}, which tinygrad_edu cannot read (NumPy has no "
            f"{dtype}); save the weights as one of {readable}, e.g. in PyTorch with "
            "{k: v.float() for k, v in state_dict.items()} before safetensors.torch.save_file"
        )
    if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
        raise damaged(f"'{name}' has shape {shape!r}, not a list of sizes")
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(type(n) is int for n in offsets)
        or not 0 <= offsets[0] <= offsets[1] <= size - data_start
    ):
        raise damaged(f"'{name}' has byte range {offsets!r}, outside the file")
    nbytes = math.prod(shape) * DTYPES[dtype].itemsize
    if offsets[1] - offsets[0] != nbytes:
        raise damaged(f"'{name}' of shape {tuple(shape)} needs {nbytes:,} bytes, not the range's")
    return Entry(DTYPES[dtype], tuple(shape), data_start + offsets[0], nbytes)


def read_tensors(path: Path, entries: Mapping[str, Entry]) -> dict[str, np.ndarray]:
    """The tensors' arrays, in native byte order, read only once their entries are checked."""
    arrays = {}
    with open(path, "rb") as handle:
        for name, entry in entries.items():
            handle.seek(entry.start)
            data = handle.read(entry.nbytes)
            array = np.frombuffer(data, dtype=entry.dtype).reshape(entry.shape)
            arrays[name] = array.astype(entry.dtype.newbyteorder("="))
    return arrays
