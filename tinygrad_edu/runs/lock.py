"""Claiming a run folder: one process at a time, and no empty folder left by a failed start.

Two ``train --out SAME`` started together would otherwise both write into SAME and mix one
run's spec with the other's weights. A run (or a sweep) therefore holds its folder's lock
file ``.lock`` for its whole life. The file is locked with ``flock``, an exclusive lock that
the kernel releases when its process ends, even by SIGKILL: a lock file left behind by a
dead process is stale by construction, and the next run takes it over. The file holds the
owner's PID, for the message the second process prints; the owner removes it at the end.

`claim_new_folder` starts a new run: it creates the folder (a default timestamped folder
exclusively, so two runs started in the same second get two folders), takes the lock,
checks again that the folder holds nothing (the other process may have finished in the
meantime), and on the way out removes the folders it created if they are still empty, so
a start that fails leaves nothing behind. `check_new_folder` is the cheap early refusal
before any data is loaded. Locking needs ``fcntl`` (POSIX); on Windows runs are not locked,
and everything else here still holds.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import UserError
from ..training.layout import CHECKPOINT, LOCK, MODEL, SWEEP_CSV

try:
    import fcntl
except ImportError:  # Windows: no flock; runs there are not locked (see the README)
    fcntl = None  # type: ignore[assignment]

NAME_MAX = 255  # bytes in one file or folder name on Linux, macOS and Windows file systems


class FolderInUse(UserError):
    """Another living process holds the folder's lock."""

    def __init__(self, folder: Path, pid: int | None):
        owner = f"process {pid}" if pid else "another process"
        stop = f" or stop it (kill {pid} saves a checkpoint first)" if pid else ""
        super().__init__(
            f"{folder} is in use by {owner}, which is training in it (lock file "
            f"{folder / LOCK}); wait for it to finish{stop}; for a new run, choose another "
            "folder with --out"
        )
        self.pid = pid


class RunLock:
    """The exclusive lock of one run folder; see the module docstring."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.path = self.folder / LOCK
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        """Take the lock or raise `FolderInUse` naming the owner's PID."""
        if fcntl is None:
            return self
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as error:
                raise _unwritable(self.folder, error) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = _owner(fd)
                os.close(fd)
                raise FolderInUse(self.folder, owner) from None
            if _is_current(fd, self.path):
                break
            os.close(fd)  # its owner removed it between our open and our flock: open anew
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError as error:
            self._fd = fd
            self.release()
            raise _unwritable(self.folder, error) from None
        self._fd = fd
        return self

    def release(self) -> None:
        """Remove the lock file, then unlock (in that order, so nobody can lock the old
        file and take it for the current one)."""
        if self._fd is None:
            return
        self.path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def holder(folder: str | os.PathLike) -> int | None:
    """The PID written in a folder's lock file if that process is alive (and not this one).

    Only for messages: it reads the file without locking it, so it never disturbs the owner.
    """
    if fcntl is None:  # no lock files there (and os.kill(pid, 0) would end the process)
        return None
    try:
        text = (Path(folder) / LOCK).read_text().strip()
    except OSError:
        return None
    pid = int(text) if text.isdigit() else None
    return pid if pid and pid != os.getpid() and _alive(pid) else None


def check_new_folder(path: Path) -> None:
    """Refuse a destination that is not a new or empty folder, before any work starts.

    Any non-empty folder is refused, not only our runs: ``--out .`` in a folder holding the
    user's own ``spec.yaml`` must never overwrite it.
    """
    if path.exists() and not path.is_dir():
        raise UserError(f"{path} is a file, not a folder; give a new folder with --out DIR")
    for part in path.parts:
        if len(part.encode()) > NAME_MAX:
            raise UserError(
                f"the run folder's name {part[:40]!r}... is {len(part.encode())} bytes long, "
                f"more than a file system allows ({NAME_MAX}); give the spec a shorter 'name' "
                "or choose the folder with --out DIR"
            )
    if path.is_dir() and any(p.name != LOCK for p in path.iterdir()):
        raise _occupied(path)  # a lone lock file is decided by the lock itself, in the claim


@contextmanager
def claim_new_folder(path: Path, fresh: Callable[[], Path] | None = None) -> Iterator[Path]:
    """Create and lock a new run folder for the life of the ``with`` block.

    `fresh` makes a default folder name (``runs/<name>/<timestamp>``): the folder is then
    created exclusively, with a new name from `fresh` when another run took this one.
    Folders this call created are removed on exit if they are empty, which is only the case
    when the run failed before writing anything (the caller removes its own files first).
    """
    check_new_folder(path)
    path, created = _create(path, fresh)
    try:
        with RunLock(path):
            leftovers = [p for p in path.iterdir() if p.name != LOCK]
            if leftovers:  # another run finished here between our check and our lock
                raise _occupied(path)
            yield path
    finally:
        for folder in created:  # deepest first; a folder that holds the run stays
            try:
                folder.rmdir()
            except OSError:
                break


def _create(path: Path, fresh: Callable[[], Path] | None) -> tuple[Path, list[Path]]:
    """Make `path` and its missing parents; returns it and the folders made, deepest first."""
    for _ in range(100):
        missing = [p for p in (path, *path.parents) if not p.exists()]
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.mkdir(exist_ok=fresh is None)
        except FileExistsError as error:
            if fresh is None or not path.is_dir():  # a file is in the way
                raise _unwritable(path, error) from None
            path = fresh()  # another run started in the same second: take the next name
            continue
        except OSError as error:
            raise _unwritable(path, error) from None
        return path, missing
    raise UserError(f"cannot find a free run folder next to {path}; choose one with --out DIR")


def _occupied(path: Path) -> UserError:
    pid = holder(path)
    if pid is not None:
        return FolderInUse(path, pid)
    if (path / CHECKPOINT).exists() or (path / MODEL).exists():
        return UserError(
            f"{path} already holds a run; continue it with --resume {path}, or give a new "
            "folder with --out"
        )
    if (path / SWEEP_CSV).exists():
        return UserError(
            f"{path} already holds a sweep ({SWEEP_CSV}); a new sweep there would replace its "
            "rows, so give a new folder with --out"
        )
    names = sorted(p.name for p in path.iterdir() if p.name != LOCK)
    shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
    return UserError(
        f"{path} is not empty ({shown}) and is not a new run folder; a run writes spec.yaml, "
        "metrics.csv and more there, so it needs a new or empty folder: choose another with "
        "--out DIR"
    )


def _unwritable(folder: Path, error: OSError) -> UserError:
    return UserError(
        f"cannot write the run folder {folder}: {error.strerror or error}; choose another "
        "folder with --out DIR or fix its permissions"
    )


def _owner(fd: int, patience: float = 1.0) -> int | None:
    """The PID in a locked lock file; its owner writes it just after locking, so wait a
    moment for it rather than report an unknown owner."""
    deadline = time.monotonic() + patience
    while True:
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
        if text.isdigit() or time.monotonic() > deadline:
            return int(text) if text.isdigit() else None
        time.sleep(0.01)


def _is_current(fd: int, path: Path) -> bool:
    """Whether `fd` is still the file at `path` (not removed or replaced since opened)."""
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    return True
