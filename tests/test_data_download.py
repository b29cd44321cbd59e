"""Downloading MNIST: served from a local HTTP server on 127.0.0.1, never the internet.

The server hands out tiny fake IDX files; the tests check that they land in the cache
only after their SHA-256 sums match, and that every failure leaves nothing behind.
"""

from __future__ import annotations

import functools
import hashlib
import io
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from idx_files import NAMES, write_fake_mnist

from tinygrad_edu.data import load_dataset
from tinygrad_edu.data.mnist import DEFAULT_SHA256
from tinygrad_edu.errors import UserError


class Mirror:
    """A folder of gzipped fake MNIST files served over HTTP, counting the requests."""

    def __init__(self, folder: Path):
        files = folder / "mnist"  # served under /mnist/, like a real mirror's folder URL
        self.arrays = write_fake_mnist(files)
        self.sha256 = {
            f"{name}.gz": hashlib.sha256((files / f"{name}.gz").read_bytes()).hexdigest()
            for name in NAMES
        }
        self.requests: list[str] = []
        mirror = self

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self):
                mirror.requests.append(self.path)
                super().do_GET()

            def log_message(self, *args):  # keep the test output clean
                pass

        handler = functools.partial(Handler, directory=str(folder))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/mnist/"
        serve = functools.partial(self.server.serve_forever, poll_interval=0.05)
        threading.Thread(target=serve, daemon=True).start()

    def config(self) -> dict:
        return {"source": "mnist", "download": True, "url": self.url, "sha256": self.sha256}


@pytest.fixture
def mirror(tmp_path):
    served = Mirror(tmp_path / "served")
    yield served
    served.server.shutdown()
    served.server.server_close()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("TINYGRAD_EDU_CACHE", str(folder))
    return folder / "mnist"


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_lands_in_cache_verified_and_only_once(mirror, cache):
    d = load_dataset(mirror.config(), seed=0)
    assert files_in(cache) == sorted(f"{name}.gz" for name in NAMES)
    assert (len(d.X_train), len(d.X_test), d.input_shape) == (40, 20, (16,))
    np.testing.assert_array_equal(d.y_test, mirror.arrays["t10k-labels-idx1-ubyte"])
    assert sorted(mirror.requests) == sorted(f"/mnist/{name}.gz" for name in NAMES)
    load_dataset(mirror.config(), seed=0)
    assert len(mirror.requests) == 4  # the second load reads the cache


def test_download_into_path_folder(mirror, cache, tmp_path):
    folder = tmp_path / "mine"
    load_dataset({**mirror.config(), "path": str(folder)}, seed=0)
    assert files_in(folder) == sorted(f"{name}.gz" for name in NAMES)
    assert files_in(cache) == []


def test_checksum_mismatch_is_clear_and_leaves_nothing(mirror, cache):
    wrong = "0" * 64
    config = mirror.config()
    config["sha256"] = {**mirror.sha256, "train-images-idx3-ubyte.gz": wrong}
    with pytest.raises(UserError) as error:
        load_dataset(config, seed=0)
    message = str(error.value)
    assert "checksum mismatch for train-images-idx3-ubyte.gz" in message
    assert wrong in message and mirror.sha256["train-images-idx3-ubyte.gz"] in message
    assert "data.sha256.train-images-idx3-ubyte.gz" in message  # the fix, if trusted
    assert files_in(cache) == []  # no partial or temporary file


def test_files_already_in_place_are_not_touched_by_a_failed_download(mirror, cache):
    cache.mkdir(parents=True)
    kept = cache / "train-labels-idx1-ubyte"  # a user's own unpacked copy
    kept.write_bytes(b"user bytes")
    config = mirror.config()
    config["sha256"] = {**mirror.sha256, "t10k-labels-idx1-ubyte.gz": "f" * 64}
    with pytest.raises(UserError, match="checksum mismatch for t10k-labels-idx1-ubyte.gz"):
        load_dataset(config, seed=0)
    assert kept.read_bytes() == b"user bytes"
    assert files_in(cache) == sorted(
        ["train-labels-idx1-ubyte", "train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz"]
    )
    assert "/mnist/train-labels-idx1-ubyte.gz" not in mirror.requests


def test_default_sums_reject_files_that_are_not_the_real_mnist(mirror, cache):
    config = mirror.config()
    del config["sha256"]
    with pytest.raises(UserError, match=DEFAULT_SHA256["train-images-idx3-ubyte.gz"]):
        load_dataset(config, seed=0)
    assert files_in(cache) == []


def test_http_error_and_unreachable_mirror(mirror, cache):
    config = {**mirror.config(), "url": mirror.url + "missing/"}
    with pytest.raises(UserError, match="HTTP 404"):
        load_dataset(config, seed=0)
    mirror.server.shutdown()
    mirror.server.server_close()
    with pytest.raises(UserError, match="cannot download http://127.0.0.1"):
        load_dataset(mirror.config(), seed=0)
    assert files_in(cache) == []


def test_bad_sum_in_config(mirror, cache):
    config = mirror.config()
    config["sha256"] = {"t10k-labels-idx1-ubyte.gz": "abc"}
    with pytest.raises(UserError, match="must be a SHA-256 sum \\(64 hex digits\\)"):
        load_dataset(config, seed=0)


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal(mirror, cache, monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    load_dataset(mirror.config(), seed=0)
    assert "downloading" in terminal.getvalue()
    assert files_in(cache) == sorted(f"{name}.gz" for name in NAMES)
