"""The user's own data: a CSV table or an ``.npz`` file of arrays ``X`` and ``y``.

Every problem a user can fix in the file (missing file, missing column or array, a cell
that is not a number, a ragged row) is a `UserError` naming the file, the line and the
column, so the fix does not need a debugger. Only regular files are read (`reading`): a
CSV of at most `MAX_CSV_BYTES`, and an npz whose arrays, as its ``.npy`` headers declare
them, fit the file and the machine's available memory, checked before anything is loaded.
"""

from __future__ import annotations

import csv
import io
import math
import zipfile
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..errors import UserError
from ..io.reading import check_fits, format_bytes, open_regular, read_regular
from .dataset import Examples

MAX_CSV_BYTES = 200_000_000  # parsed into Python lists first: about 10x this in memory

# Who names a data file, for the advice when it cannot be read.
SPEC_DATA = "data.path"
PREDICT_INPUT = "predict --input"


def load_csv(path: str | Path, target: str | int, header: bool | str, delimiter: str) -> Examples:
    """Feature columns (all numeric) and one target column (numbers or class names).

    ``target`` is a column name (needs a header row) or a 0-based column index (-1 is
    the last column). ``header="auto"`` takes the first row as a header when one of its
    cells is not a number while the cell below it is one (a name above a column of
    numbers), or when ``target`` is a name found in the first row; a file of numbers
    whose target column holds text labels is therefore still read as headerless.
    """
    path = Path(path).expanduser()
    header, columns, first_line, data = _table(path, delimiter, header, target, SPEC_DATA)
    if len(columns) == 1:
        raise UserError(
            f"{path}: the file has one column only ({columns[0]!r}); a table needs feature "
            f"columns and a target column.{_delimiter_hint(data[0][1], delimiter)}"
        )
    target_index = _target_index(path, target, columns, bool(header))
    features = [i for i in range(len(columns)) if i != target_index]
    shape_of = "header" if header else f"first row (line {first_line})"
    rule = f"every column except the target ({columns[target_index]!r}) must be numeric"
    X = _feature_matrix(path, data, columns, features, shape_of, rule)
    for line, cells in data:
        if not cells[target_index].strip():
            raise UserError(
                f"{path}, line {line}, column {columns[target_index]!r}: the target is empty; "
                "every row needs a target: fill it in or remove the row"
            )
    targets = [cells[target_index].strip() for _, cells in data]
    numbers = [_number(t) for t in targets]
    y = np.array(targets) if None in numbers else np.array(numbers, dtype=np.float64)
    return Examples(X, y)


def load_npz(path: str | Path) -> Examples:
    """Arrays ``X`` (n samples, any shape per sample, flattened) and ``y`` (n targets).

    Loaded with ``allow_pickle=False``: an npz file cannot run code when it is opened.
    """
    path = Path(path).expanduser()
    X, y = _read_npz(path, ("X", "y"), SPEC_DATA)
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y) or (y.ndim == 2 and y.shape[1] != 1):
        raise UserError(
            f"{path}: X must hold one row per sample and y one target per sample, got X of "
            f"shape {X.shape} and y of shape {y.shape}"
        )
    if X.dtype.kind not in "biuf" or y.dtype.kind not in "biufUS":
        raise UserError(
            f"{path}: X must be numeric and y numeric or text, got dtypes {X.dtype} and {y.dtype}"
        )
    return Examples(_finite_features(path, X), y.reshape(-1))


def load_features(path: str | Path, delimiter: str = ",") -> np.ndarray:
    """Feature rows without targets, for predict: every column of a CSV (header optional,
    all numeric) or the array ``X`` of an ``.npz``, one flattened row per sample."""
    path = Path(path).expanduser()
    if path.suffix == ".npz":
        (X,) = _read_npz(path, ("X",), PREDICT_INPUT)
        if X.ndim == 0 or X.dtype.kind not in "biuf":
            raise UserError(f"{path}: X must be a numeric array of one row per sample")
        return _finite_features(path, X)
    _, columns, _, data = _table(path, delimiter, "auto", None, PREDICT_INPUT)
    rule = "predict needs numeric feature columns only"
    return _feature_matrix(path, data, columns, list(range(len(columns))), "first row", rule)


def _table(
    path: Path, delimiter: str, header: bool | str, target: str | int | None, setting: str
) -> tuple[bool, list[str], int, list[tuple[int, list[str]]]]:
    """(has header, column names, first line number, data rows) of a CSV file."""
    rows = _read_rows(path, delimiter, setting)
    if not rows:
        raise UserError(f"{path}: the CSV file is empty; it needs a row per sample")
    first_line, first = rows[0]
    if header == "auto":
        header = _looks_like_header(first, rows[1][1] if len(rows) > 1 else None, target)
    if header:
        columns = [cell.strip() for cell in first]
    else:
        columns = [f"column {i + 1}" for i in range(len(first))]
    data = rows[1:] if header else rows
    if not data:
        raise UserError(f"{path}: the CSV file has a header but no data rows")
    return bool(header), columns, first_line, data


def _feature_matrix(
    path: Path,
    data: list[tuple[int, list[str]]],
    columns: list[str],
    features: list[int],
    shape_of: str,
    rule: str,
) -> np.ndarray:
    """The numeric cells of the `features` columns; the first bad cell is a UserError."""
    X = np.empty((len(data), len(features)), dtype=np.float64)
    for r, (line, cells) in enumerate(data):
        if len(cells) != len(columns):
            raise UserError(
                f"{path}, line {line}: {len(cells)} cells, but the {shape_of} has "
                f"{len(columns)}; every row needs one cell per column"
            )
        for j, i in enumerate(features):
            value = _number(cells[i])
            if value is None:
                raise UserError(
                    f"{path}, line {line}, column {columns[i]!r}: {cells[i]!r} is not a number; "
                    f"{rule}: fix the cell, remove the row, or drop the column"
                )
            X[r, j] = value
    return X


def _read_npz(path: Path, names: tuple[str, ...], setting: str) -> tuple[np.ndarray, ...]:
    """The named arrays of an npz file, loaded with ``allow_pickle=False`` once their
    headers (`npz_headers`) show that they fit in memory."""
    saved = ", ".join(f"{n}={'features' if n == 'X' else 'targets'}" for n in names)
    with open_regular(path, None, "data file", _fix(path, "npz", setting)) as handle:
        try:
            headers = npz_headers(path, handle)
            missing = [name for name in names if name not in headers]
            if missing:
                raise UserError(
                    f"{path}: no array named {' or '.join(missing)}; the file holds "
                    f"{', '.join(headers) or 'no arrays'}. Save it with "
                    f"numpy.savez(path, {saved})"
                )
            declared = sum(_nbytes(*headers[name]) for name in names)
            check_fits(path, declared * 3, "its arrays as float64 (and a float32 copy)")
            handle.seek(0)
            with np.load(handle, allow_pickle=False) as archive:
                return tuple(archive[name] for name in names)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
            raise UserError(
                f"{path}: cannot read it as an npz file of plain arrays ({error}); save it with "
                f"numpy.savez(path, {saved}) from numeric (or text label) arrays"
            ) from None


def npz_headers(path: Path, handle: BinaryIO) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Each array's (shape, dtype) as its ``.npy`` header declares it, read without
    loading the data; an array that claims more bytes than the archive holds for it is
    an error (a damaged or hostile file would otherwise be allocated in full)."""
    headers = {}
    with zipfile.ZipFile(handle) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                continue
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                read_header = (
                    np.lib.format.read_array_header_1_0
                    if version == (1, 0)
                    else np.lib.format.read_array_header_2_0
                )
                shape, _, dtype = read_header(member)
                if dtype.hasobject:
                    raise ValueError(f"array {info.filename} holds Python objects")
                if _nbytes(shape, dtype) > info.file_size:
                    raise UserError(
                        f"{path}: array {info.filename[:-4]} claims shape {shape} of {dtype} "
                        f"({format_bytes(_nbytes(shape, dtype))}), but the file holds "
                        f"{format_bytes(info.file_size)} for it; the file is damaged: save it again"
                    )
            headers[info.filename[:-4]] = (tuple(shape), dtype)
    return headers


def _nbytes(shape: tuple[int, ...], dtype: np.dtype) -> int:
    return math.prod(shape) * dtype.itemsize


def _finite_features(path: Path, X: np.ndarray) -> np.ndarray:
    if len(X) == 0:
        raise UserError(f"{path}: X holds no samples (shape {X.shape}); give one row per sample")
    X = X.reshape(len(X), -1).astype(np.float64)
    if not np.all(np.isfinite(X)):
        bad = np.argwhere(~np.isfinite(X))[0]
        raise UserError(
            f"{path}: X[{bad[0]}, {bad[1]}] is {X[bad[0], bad[1]]}; features must be finite numbers"
        )
    return X


def _fix(path: Path, kind: str, setting: str) -> str:
    """What to do about a data file that cannot be read, and where its path came from."""
    relative = "" if path.is_absolute() else f" (a relative path is read from {Path.cwd()})"
    if setting == PREDICT_INPUT:
        return f"give predict --input a {kind} file of features{relative}"
    return f"set data.path to your {kind} file{relative}"


def _read_rows(path: Path, delimiter: str, setting: str) -> list[tuple[int, list[str]]]:
    """(line number, cells) for every non-blank row, line numbers 1-based as editors show."""
    raw = read_regular(path, MAX_CSV_BYTES, "data file", _fix(path, "CSV", setting))
    rows = []
    try:
        reader = csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=delimiter)
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append((reader.line_num, cells))
    except (UnicodeDecodeError, csv.Error) as error:
        raise UserError(f"{path}: cannot read it as a UTF-8 CSV file ({error})") from None
    return rows


def _delimiter_hint(cells: list[str], delimiter: str) -> str:
    """A suggestion when the one cell of a row holds another usual separator."""
    for other in (",", ";", "\t", "|"):
        if other != delimiter and other in cells[0]:
            return f" Its cells seem separated by {other!r}: set data.delimiter: {other!r}."
    return " Add the feature columns, or set data.delimiter if they are separated otherwise."


def _number(cell: str) -> float | None:
    """The cell's value if it is a finite number, else None (text, empty, nan, inf)."""
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _looks_like_header(
    first: list[str], second: list[str] | None, target: str | int | None
) -> bool:
    if isinstance(target, str) and target in (c.strip() for c in first):
        return True
    if second is None:  # one row: a header if it holds a name, as a header-only file does
        return any(_number(cell) is None for cell in first)
    return any(
        _number(above) is None and _number(below) is not None for above, below in zip(first, second)
    )


def _target_index(path: Path, target: str | int, columns: list[str], header: bool) -> int:
    """The target column's position, or an error listing the columns there are."""
    if isinstance(target, int):
        if -len(columns) <= target < len(columns):
            return target % len(columns)
        raise UserError(
            f"{path}: data.target {target} is out of range; the file has {len(columns)} "
            f"columns, so use 0..{len(columns) - 1} (or -1 for the last)"
        )
    if not header:
        raise UserError(
            f"{path}: data.target is the name {target!r}, but the file has no header row; "
            "give the target as a 0-based column index (e.g. -1 for the last column) or add "
            "a header row"
        )
    if target in columns:
        return columns.index(target)
    raise UserError(
        f"{path}: no column named {target!r}; the columns are {', '.join(map(repr, columns))}. "
        "Set data.target to one of them"
    )
