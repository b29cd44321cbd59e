"""Exports written whole or not at all: an export folder (``export --format torch``),
never over files the export did not write, and one-file exports (`staged_file`).

The files are written into a temporary folder (a stage) beside the destination and moved
into it only once all of them are done, so a refusal, an error or a kill (SIGINT, SIGTERM)
leaves nothing behind. A manifest records each file's SHA-256: exporting again into the same
folder replaces the export's own files, unchanged since; a folder that holds anything
else (the user's own ``model.py``, an edited export) is refused unless ``--force`` is
given, which replaces the export's files and leaves every other file alone. What the
exported scripts themselves make (``__pycache__``, ``trained.safetensors``) is allowed.

Only SIGKILL (or a power cut) can leave the stage, ``.NAME.<8 characters>.tmp``,
behind: no ``finally`` block runs. So the export locks it (`lock.RunLock`: its ``.lock``
file, with ``flock``, which the kernel releases when the process dies) before writing
anything into it, and the next export into the same place removes every such folder whose
lock it can take: named as an export names its stage, holding its lock file and regular
files only, and written by no living process (a concurrent export holds its lock, and its
folder is left alone). Without ``flock`` (Windows) nothing is removed.

A refused or failed export leaves no folder either: `removed_if_failed` takes back the
folders an export created for its destination (``--out a/b/c`` where only ``a`` existed).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import UserError
from ..io.atomic import TEMP_SUFFIX, destination, write_error, write_text_atomic
from ..runs import lock

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
    """A temporary folder to write the files into; moved into `folder`, with the manifest
    last, when the block ends without error, and removed in every case."""

    with removed_if_failed(folder), _stage(folder) as stage:
        yield stage
        files = sorted(path for path in stage.iterdir() if path.name != lock.LOCK)
        manifest = {path.name: _digest(path) for path in files}
        # written in the stage too: nothing temporary is ever made inside `folder`
        write_text_atomic(stage / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        try:
            folder.mkdir(exist_ok=True)
            for path in [*files, stage / MANIFEST]:
                os.replace(path, folder / path.name)
        except OSError as error:
            raise write_error(folder, error) from None


@contextmanager
def staged_file(target: Path) -> Iterator[Path]:
    """Where a one-file export (safetensors, ONNX) writes `target`: a path in a stage beside
    it, moved over `target` when the block ends without error, so that a SIGKILL leaves a
    stage the next export removes rather than a stray temporary file. Standard output, a
    device or a FIFO is written directly, as `io.atomic.destination` decides."""

    kind, real = destination(target)
    if kind != "file":
        yield target
        return
    with _stage(real) as stage:
        yield stage / real.name
        try:
            os.replace(stage / real.name, real)
        except OSError as error:
            raise write_error(real, error) from None


@contextmanager
def _stage(target: Path) -> Iterator[Path]:
    """A new temporary folder beside `target`, locked before anything is written into it
    (after the stale ones a SIGKILL left there are removed), and removed with all it holds
    when the block ends."""

    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_stages(target)
    try:
        stage = Path(
            tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=TEMP_SUFFIX)
        )
    except OSError as error:
        raise write_error(target, error) from None
    claim = lock.RunLock(stage)
    try:
        claim.acquire()  # first: a stage without its lock is never taken for a stale one
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        claim.release()  # after the removal: the folder is never unlocked while it exists


@contextmanager
def removed_if_failed(path: Path) -> Iterator[None]:
    """Within the block an export may create `path` and the folders above it; if the block
    fails (a refusal, an error, Ctrl-C, SIGTERM), those that did not exist before it and
    are still empty are removed, deepest first. A folder that holds anything (another
    process's files) stays, and so do the folders above it."""
    path = Path(os.path.abspath(path))
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    try:
        yield
    except BaseException:
        for folder in missing:
            try:
                folder.rmdir()
            except FileNotFoundError:
                continue  # never made: the failure came before it
            except OSError:
                break  # not empty (or not ours to remove): it and the folders above stay
        raise


def remove_stale_stages(target: Path) -> list[Path]:
    """Remove the temporary folders that killed exports to `target` left beside it (see
    the module docstring for how one is recognised); returns those removed."""
    if lock.fcntl is None:  # no flock: a living export's stage could not be told apart
        return []
    name = re.compile(re.escape(f".{target.name}.") + r"[a-z0-9_]{8}" + re.escape(TEMP_SUFFIX))
    try:
        candidates = [p for p in target.parent.iterdir() if name.fullmatch(p.name)]
    except OSError:
        return []  # no parent folder yet, or not readable: nothing of ours can be there
    removed = []
    for stage in candidates:
        if stage.is_symlink() or not stage.is_dir() or not _holds_only_files(stage):
            continue
        if not (stage / lock.LOCK).is_file():
            continue  # not made by an export (each locks its stage before writing into it)
        try:
            with lock.RunLock(stage):  # FolderInUse while its export is still running
                shutil.rmtree(stage)
        except (UserError, OSError):
            continue  # a living export's, or gone, or not ours to remove: left alone
        removed.append(stage)
    return removed


def _holds_only_files(stage: Path) -> bool:
    try:
        return all(p.is_file() and not p.is_symlink() for p in stage.iterdir())
    except OSError:
        return False


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
