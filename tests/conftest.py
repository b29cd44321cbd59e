"""Shared test set-up: hypothesis profiles and the backend parametrization.

Profiles: ``ci`` (derandomized, bounded, no deadline; chosen when CI is set) and
``dev`` (more examples). Select one explicitly with HYPOTHESIS_PROFILE.
"""

from __future__ import annotations

import os

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


@pytest.fixture(autouse=True)
def _restore_defaults():
    yield
    tg.set_backend("numpy")
    tg.set_default_dtype("float32")
