"""An export folder (``export --format torch``): written whole or not at all, and never
over files the export did not write.

The files are written into a temporary folder beside the destination and moved into it
only once all of them are done, so a refusal, an error or a kill (SIGINT, SIGTERM) leaves
nothing behind. A manifest records each file's SHA-256: exporting again into the same
folder replaces the export's own files, unchanged since; a folder that holds anything
else (the user's own ``model.py``, an edited export) is refused unless ``--force`` is
given, which replaces the export's files and leaves every other file alone. What the
exported scripts themselves make (``__pycache__``, ``trained.safetensors``) is allowed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import UserError

MANIFEST = ".tinygrad_edu_export.json"
SCRIPT_OUTPUTS = ("__pycache__", "trained.safetensors")  # made by running the export


def check_folder(folder: Path, force: bool = False) -> None:
    """Refuse, before any work, a destination that is not a folder, or a folder holding
    files this export did not write (unless `force`)."""
    if folder.exists() and not folder.is_dir():
        raise UserError(
            f"cannot export into {folder}: it is a file, and --format torch writes a folder "
            "(model.py, weights.safetensors, data.npz, train_torch.py); give a folder with --out"
        )
    if force or not folder.is_dir():
        return
    written = _manifest(folder)
    foreign = [
        entry.name
        for entry in sorted(folder.iterdir())
        if entry.name not in (MANIFEST, *SCRIPT_OUTPUTS)
        and written.get(entry.name) != _digest(entry)
    ]
    if foreign:
        shown = ", ".join(foreign[:5]) + (
            f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        )
        raise UserError(
            f"cannot export into {folder}: it holds files this export did not write ({shown}), "
            "and export would replace model.py, weights.safetensors, data.npz and "
            "train_torch.py; give an empty or new folder with --out, or add --force to "
            "replace those four files (other files are left alone)"
        )


@contextmanager
def staged(folder: Path) -> Iterator[Path]:
    """A temporary folder to write the files into; moved into `folder`, with the manifest,
    when the block ends without error, and removed in every case."""
    from ..io.atomic import TEMP_SUFFIX, write_error, write_text_atomic

    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        stage = Path(
            tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=TEMP_SUFFIX)
        )
    except OSError as error:
        raise write_error(folder, error) from None
    try:
        yield stage
        files = sorted(stage.iterdir())
        manifest = {path.name: _digest(path) for path in files}
        folder.mkdir(exist_ok=True)
        for path in files:
            os.replace(path, folder / path.name)
        write_text_atomic(folder / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    except OSError as error:
        raise write_error(folder, error) from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _manifest(folder: Path) -> dict[str, str]:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # no manifest (or a damaged one): nothing counts as the export's
    return data if isinstance(data, dict) else {}


def _digest(path: Path) -> str | None:
    """The file's SHA-256, or None for what is not a regular file."""
    if not path.is_file() or path.is_symlink():
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
