"""Fetch a file over HTTP(S) into place only once its SHA-256 sum is verified.

The bytes go to a temporary file in the destination's own folder, are hashed while they
arrive, and are renamed into place with `os.replace` only when the sum matches. The
rename is atomic on one file system, so a crash, a network error or a bad mirror can
never leave a half-written or wrong file under the real name; the temporary file is
removed on every failure.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ..errors import UserError

CHUNK = 1 << 16


def cache_dir() -> Path:
    """Where downloads go: ``$TINYGRAD_EDU_CACHE``, else ``$XDG_CACHE_HOME/tinygrad_edu``,
    else ``~/.cache/tinygrad_edu``."""
    if os.environ.get("TINYGRAD_EDU_CACHE"):
        return Path(os.environ["TINYGRAD_EDU_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tinygrad_edu"


def download(url: str, destination: Path, sha256: str, timeout: float = 60.0) -> None:
    """Download ``url`` to ``destination``, verifying its SHA-256 before it appears there."""
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=destination.parent, prefix=f".{destination.name}.", suffix=".part"
        )
    except OSError as error:
        raise UserError(
            f"cannot write to {destination.parent} ({error.strerror}); set data.path to a "
            "writable folder, or TINYGRAD_EDU_CACHE to another cache folder"
        ) from None
    try:
        with os.fdopen(handle, "wb") as out:
            got = _fetch(url, out, destination.name, timeout)
        if got != sha256.lower():
            raise UserError(
                f"checksum mismatch for {destination.name} downloaded from {url}: expected "
                f"SHA-256 {sha256.lower()}, got {got}. The download was deleted. Try again "
                "(the transfer may have been corrupted), or set data.url to another mirror; "
                f"if you trust this mirror's file, set data.sha256.{destination.name} to {got}"
            )
        os.replace(temporary, destination)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def _fetch(url: str, out: BinaryIO, label: str, timeout: float) -> str:
    """Stream ``url`` into the open file ``out``; return the SHA-256 hex digest."""
    import urllib.error  # here: urllib.request loads ssl and http (~15 ms at every start)
    import urllib.request

    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with _progress(f"downloading {label}", total) as advance:
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    advance(len(chunk))
    except urllib.error.HTTPError as error:
        raise UserError(
            f"downloading {url} failed: HTTP {error.code} {error.reason}; check data.url "
            "(the URL of the mirror's folder that holds the files)"
        ) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", None) or error
        raise UserError(
            f"cannot download {url} ({reason}); check the network connection and data.url, "
            "or download the files yourself into data.path"
        ) from None
    return digest.hexdigest()


@contextmanager
def _progress(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on a terminal, nothing when stderr is a file or a pipe.

    rich is imported here, not at the top, so importing the data package stays fast.
    """
    if not sys.stderr.isatty():
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn())
    with Progress(
        *columns,
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)
