"""Safe writes: atomic replacement, and the rules for what a destination may be.

Everything the package writes goes through `atomic_write`: the bytes go to a temporary
file in the same folder, are flushed to disk, and only then replace the target with
``os.replace`` (atomic on POSIX and Windows). A crash or a kill at any moment leaves
either the old file or the new one, never a torn one; a failed write (full disk, read-only
folder, missing folder) is a `UserError` naming the file and the reason, and the old file
is untouched. A kill can still leave the temporary file itself behind, so a run folder's
stale temporary files are removed when a run starts or resumes
(`remove_stale_temp_files`). What is not a regular file is never replaced: ``-`` means
standard output, and a character device or a FIFO is written in place (`destination`).
"""

from __future__ import annotations

import errno
import io
import os
import re
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from ..errors import UserError


@contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open `path` for writing, the safe way for what the destination is (`destination`).

    A regular file or a new path: a temporary file next to it, moved over it atomically on
    success. Standard output (``-``), a character device or a FIFO: written directly,
    never replaced. An `OSError` at any stage (creating, writing, flushing, replacing)
    becomes a `UserError` that names `path`, after the temporary file is removed.
    """
    kind, target = destination(path)
    if kind != "file":
        with _direct(kind, target, mode) as handle:
            yield handle
        return
    try:
        handle = tempfile.NamedTemporaryFile(
            mode=mode,
            dir=target.parent,
            prefix=f".{target.name}.",
            suffix=TEMP_SUFFIX,
            delete=False,
        )
    except OSError as error:
        raise write_error(target, error) from None
    try:
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, 0o666 & ~_umask())  # temp files are 0600; give the usual mode
        os.replace(handle.name, target)
    except BaseException as error:
        Path(handle.name).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise write_error(target, error) from None
        raise


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """`atomic_write` for writers that take a file name rather than an open file (matplotlib's
    PillowWriter picks the format by the name): a temporary path next to `path`, with its
    extension, moved over `path` once the writer is done; removed if it fails. For a
    destination written directly (stdout, a device, a FIFO) the finished temporary file
    is copied into it, in a temporary folder since the destination's folder may be /dev."""
    kind, target = destination(path)
    folder = target.parent if kind == "file" else Path(tempfile.gettempdir())
    try:
        handle, name = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=target.suffix)
        os.close(handle)
    except OSError as error:
        raise write_error(target, error) from None
    temporary = Path(name)
    try:
        yield temporary
        if kind != "file":
            with _direct(kind, target, "wb") as out:
                out.write(temporary.read_bytes())
            return
        with open(temporary, "rb+") as written:
            os.fsync(written.fileno())
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    except OSError as error:
        raise write_error(target, error) from None
    finally:
        temporary.unlink(missing_ok=True)


STDOUT = "-"  # the destination name that means standard output


def destination(path: str | os.PathLike) -> tuple[str, Path]:
    """(how to write `path`, the path to write): decided once for every writer.

    ``"stdout"`` for ``-``; ``"direct"`` for a character device (``/dev/null``, a terminal)
    or a FIFO (a pipe), which a rename would replace with a regular file; ``"file"``, with
    a symlink followed to its target, for a regular file or a path that does not exist
    yet. A folder, a block device or a socket is refused: there is no safe way to write it.
    """
    if str(path) == STDOUT:
        return "stdout", Path(STDOUT)
    try:
        mode = os.stat(path).st_mode  # follows symlinks: /dev/stdout is its target's kind
    except FileNotFoundError:
        mode = None
    except OSError as error:
        raise write_error(Path(path), error) from None
    if mode is not None and (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        return "direct", Path(path)
    if mode is not None and stat.S_ISDIR(mode):
        raise write_error(Path(path), OSError(errno.EISDIR, os.strerror(errno.EISDIR)))
    if mode is not None and not stat.S_ISREG(mode):
        raise UserError(
            f"cannot write {path}: it is a block device or a socket, not a file, and writing "
            "it could damage a disk; give a regular file's name, or - for standard output."
        )
    return "file", Path(os.path.realpath(path)) if Path(path).is_symlink() else Path(path)


@contextmanager
def _direct(kind: str, target: Path, mode: str) -> Iterator[IO]:
    """Standard output, a device or a FIFO, written in place once the writer is done: the
    bytes are gathered in memory first, since writers such as ``np.savez`` seek, and a
    writer that fails then sends nothing. Opening a FIFO waits for a reader, as ``>`` does."""
    buffer: IO = io.BytesIO() if "b" in mode else io.StringIO()
    yield buffer
    if kind == "stdout":
        sys.stdout.flush()
        out = sys.stdout.buffer if "b" in mode else sys.stdout
        out.write(buffer.getvalue())
        out.flush()
        return
    try:
        with open(target, mode) as handle:
            handle.write(buffer.getvalue())
    except OSError as error:
        raise write_error(target, error) from None


@contextmanager
def removed_when_terminated() -> Iterator[None]:
    """Within the block, SIGTERM raises `SystemExit` (exit code 143, as the signal gives)
    instead of ending the process at once, so `atomic_write` and the other ``finally``
    blocks remove their temporary files; SIGINT already raises KeyboardInterrupt. Only
    the main thread may set handlers: elsewhere, and where a handler is already set (the
    trainer's), the block runs as it is."""
    in_main = threading.current_thread() is threading.main_thread()
    if not in_main or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def terminate(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends it at once
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def write_error(path: Path, error: OSError) -> UserError:
    """One paragraph for a file that could not be written: which, why, what to do."""
    reason = error.strerror or str(error)
    if error.errno == errno.ENOSPC:
        advice = "the disk is full: free some space and run the command again"
    elif Path(path).is_dir():
        advice = "that is a folder: give a file name"
    elif not Path(path).parent.is_dir():
        advice = f"the folder {Path(path).parent} does not exist: create it or choose another"
    else:
        advice = "check that its folder exists and is writable, or choose another place"
    kept = f" The earlier {path} is unchanged." if Path(path).is_file() else ""
    return UserError(f"cannot write {path}: {reason}; {advice}.{kept}")


def check_writable_file(path: str | os.PathLike) -> None:
    """Refuse, before any work, a destination `atomic_write` could not write to: a folder,
    a block device, or a file in a folder that does not exist (the same message as the
    write would give)."""
    kind, target = destination(path)  # a folder, block device or socket is refused here
    if kind == "file" and not target.parent.is_dir():
        raise write_error(target, OSError(errno.ENOENT, os.strerror(errno.ENOENT)))


TEMP_SUFFIX = ".tmp"
# `atomic_write`'s temporary files: ".<target name>.<8 random characters>.tmp"
_TEMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}" + re.escape(TEMP_SUFFIX) + "$")


def remove_stale_temp_files(folder: str | os.PathLike) -> list[Path]:
    """Delete the temporary files that a killed `atomic_write` left in `folder`.

    Only call this while holding the folder's lock (`lock.RunLock`): a running writer's
    temporary file looks the same. Returns the files removed.
    """
    removed = []
    for path in Path(folder).iterdir():
        if _TEMP_NAME.match(path.name) and path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    with atomic_write(path, "w") as handle:
        handle.write(text)
