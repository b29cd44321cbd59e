"""Shared test set-up: hypothesis profiles, the backend parametrization and the browser.

Profiles: ``ci`` (derandomized, bounded, no deadline; chosen when CI is set) and
``dev`` (more examples). Select one explicitly with HYPOTHESIS_PROFILE.

Skips are summed up by reason at the end of the run (one line per distinct reason with
its count), instead of pytest's ``-rs`` line per skipped test.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter

import pytest
from hypothesis import HealthCheck, settings

import tinygrad_edu as tg
from tinygrad_edu import backend

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile(
    "dev", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def _cuda_available() -> bool:
    try:
        backend._load_cupy()
    except backend.BackendError:
        return False
    return True


BACKENDS = [
    pytest.param("numpy", id="numpy"),
    pytest.param("array_api_strict", id="array_api_strict"),
    pytest.param(
        "cupy",
        id="cupy",
        marks=pytest.mark.skipif(not _cuda_available(), reason="no CUDA device"),
    ),
]


@pytest.fixture(params=BACKENDS)
def xp_backend(request):
    """Run the test once per backend, restoring NumPy and float32 afterwards."""
    tg.set_backend(request.param)
    try:
        yield backend.get_backend()
    finally:
        tg.set_backend("numpy")
        tg.set_default_dtype("float32")


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium driven by Playwright, for the tests that open pages (the docs site,
    the playground); one per test module. Skipped, with the reason, without Playwright or
    without a Chromium on PATH: the browser is what those tests test."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("no chromium browser installed (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(autouse=True)
def _restore_defaults():
    yield
    tg.set_backend("numpy")
    tg.set_default_dtype("float32")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """One line per distinct skip reason with its count, in place of pytest's own list.

    Without a GPU every CuPy case is skipped for the same reason: 82 lines of "no CUDA
    device" under ``-rs`` hide the one line that matters. pytest prints its short summary
    after this hook, so its own skip lines are switched off here (``-ra`` included).
    """
    skipped = terminalreporter.stats.get("skipped", [])
    reasons = Counter(_skip_reason(report) for report in skipped)
    if reasons:
        terminalreporter.section("skip reasons", sep="-")
        for reason, count in sorted(reasons.items(), key=lambda item: (-item[1], item[0])):
            terminalreporter.line(f"{count:4d} skipped: {reason}")
    terminalreporter.reportchars = terminalreporter.reportchars.replace("s", "")


def _skip_reason(report) -> str:
    """The reason of a skip report ("no CUDA device"), without pytest's "Skipped: "."""
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")
