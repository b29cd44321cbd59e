"""Open the files a user names (specs, data, weights): regular files only, sizes bounded first.

A path may name anything: a FIFO (reading it would wait forever), ``/dev/zero`` or
``/dev/urandom`` (endless), a folder, a file without read permission, or a file far too
large for what it claims to be. Every one of these is refused with a `UserError` before a
byte is read: the file is opened with ``O_NONBLOCK`` (so opening a FIFO cannot hang) and
checked with ``fstat`` on the open descriptor (so it cannot be swapped after the check).

`check_fits` compares what a file needs in memory with `available_memory` (``MemAvailable``
of ``/proc/meminfo`` on Linux, free physical pages elsewhere).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from ..errors import UserError

# What a file that is not a regular one is, for the message.
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def open_regular(
    path: str | Path, max_bytes: int | None, what: str, fix: str, missing: str | None = None
) -> BinaryIO:
    """`path` opened for binary reading, if it is a readable regular file of at most
    `max_bytes` bytes (None: any size); otherwise a UserError "`what` PATH is ...; `fix`"
    (`missing`, if given, is the whole message for a path that does not exist)."""
    try:
        path = Path(path).expanduser()
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (RuntimeError, ValueError) as error:  # ~user unknown; a NUL in the path
        raise UserError(f"{what} {str(path)!r} is not a usable path ({error}); {fix}") from None
    except FileNotFoundError:
        raise UserError(missing or f"{what} {path} does not exist; {fix}") from None
    except IsADirectoryError:
        raise UserError(f"{what} {path} is a folder; {fix}") from None
    except PermissionError:
        raise UserError(
            f"{what} {path} cannot be read: permission denied; make it readable "
            f"(chmod u+r {path}) or use a copy you can read"
        ) from None
    except OSError as error:
        raise UserError(f"{what} {path} cannot be opened ({error.strerror}); {fix}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a file")
            raise UserError(
                f"{what} {path} is {kind}, not a regular file (only those are read); {fix}"
            )
        if max_bytes is not None and info.st_size > max_bytes:
            raise UserError(
                f"{what} {path} is {format_bytes(info.st_size)}, more than the "
                f"{format_bytes(max_bytes)} such a file may have; check that it is the right file"
            )
        if hasattr(os, "O_NONBLOCK"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(
    path: str | Path, max_bytes: int, what: str, fix: str, missing: str | None = None
) -> bytes:
    """The bytes of a regular file of at most `max_bytes` (see `open_regular`); a file that
    grows past the bound while it is read is refused too."""
    with open_regular(path, max_bytes, what, fix, missing) as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UserError(
            f"{what} {path} grew past {format_bytes(max_bytes)} while it was read; "
            "check that it is the right file"
        )
    return data


def available_memory() -> int:
    """Bytes of memory the system can give a new allocation without swapping (best effort)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return 2**63 - 1  # unknown: let the allocation itself decide


def check_fits(path: Path | str, needed: int, what: str) -> None:
    """A UserError when `needed` bytes exceed the memory the machine has available."""
    available = available_memory()
    if needed > available:
        raise UserError(
            f"{path}: {what} need about {format_bytes(needed)} of memory, but this machine "
            f"has {format_bytes(available)} available; use a smaller file or more memory"
        )


def format_bytes(count: float) -> str:
    """Decimal units, as torchinfo and disk makers use: 1.5 MB, 800.0 GB."""
    count = float(min(count, 10**300))  # an estimate from a hostile spec may exceed a float
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB"):
        if abs(count) < 1000 or unit == "PB":
            break
        count /= 1000
    if unit == "bytes":
        return f"{int(count)} bytes"
    return f"{count:.1f} {unit}" if count < 1e6 else f"{count:.3g} {unit}"
