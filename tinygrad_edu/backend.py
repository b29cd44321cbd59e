"""Which array library holds the tensors: NumPy (CPU, the default) or CuPy (CUDA GPUs).

Engine code never imports NumPy or CuPy itself: it asks `get_backend().xp` for the
active array namespace and uses only functions of the Python array API standard, which
both libraries implement. That is what lets the same op code run on a GPU, and the test
suite proves it by also running on ``array_api_strict``, a strict CPU implementation of
the standard (registered here as a test-only backend).

Choose the backend with `set_backend("cupy")`, or the environment variable
``TINYGRAD_EDU_BACKEND``. The variable is read at import but its backend is only loaded at
first use, so ``--help`` and every command that needs no tensor work even where it cannot
load; a backend that cannot run here is a `BackendError`, a `UserError` (exit code 2).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import UserError
from .extras import install_hint


class BackendError(UserError, RuntimeError):
    """A backend was asked for that cannot be used on this machine."""


@dataclass(frozen=True)
class Backend:
    """An array namespace plus the two conversions the engine needs at its edges."""

    name: str
    xp: Any

    def asarray(self, data: Any, dtype: Any = None) -> Any:
        """Put `data` (scalars, nested lists, NumPy or backend arrays) on this backend."""
        if self.name == "array_api_strict" and isinstance(data, np.ndarray):
            # np.asarray(order="C"), not np.ascontiguousarray, which turns 0-d into shape (1,)
            data = data.tolist() if data.dtype == object else np.asarray(data, order="C")
        return self.xp.asarray(data, dtype=dtype)

    def to_numpy(self, array: Any) -> np.ndarray:
        """A NumPy copy (or view, on the CPU) of a backend array."""
        if self.name == "numpy":
            return np.asarray(array)
        if self.name == "cupy":
            return self.xp.asnumpy(array)
        return np.from_dlpack(array)

    def dtype(self, spec: Any) -> Any:
        """This backend's dtype for ``"float32"``, ``"float64"``, a NumPy dtype or its own."""
        if spec is None:
            return None
        name = spec if isinstance(spec, str) else _dtype_name(spec)
        try:
            return getattr(self.xp, name)
        except AttributeError:
            raise TypeError(
                f"unknown dtype {spec!r}: use 'float32', 'float64', 'int64', 'bool' "
                "or the matching NumPy dtype"
            ) from None

    def __repr__(self) -> str:
        return f"Backend({self.name!r})"


def _dtype_name(dtype: Any) -> str:
    """'float32' for np.float32, np.dtype('float32'), xp.float32 of any backend."""
    try:
        return np.dtype(dtype).name
    except TypeError:
        return str(dtype).rsplit(".", 1)[-1]


def _load_numpy() -> Backend:
    return Backend("numpy", np)


def _load_cupy() -> Backend:
    try:
        import cupy
    except ImportError:
        raise BackendError(
            "backend 'cupy' needs CuPy, which is not installed: "
            f"{install_hint('gpu')} (CuPy for CUDA 12), or use backend numpy"
        ) from None
    try:
        devices = cupy.cuda.runtime.getDeviceCount()
    except Exception:  # CUDA driver missing or broken: CuPy raises its own error types
        devices = 0
    if devices == 0:
        raise BackendError(
            "backend 'cupy' needs a CUDA GPU, but no CUDA device was found on this machine; "
            "use backend numpy"
        )
    try:  # CuPy's main namespace predates parts of the array API; the compat layer fills them
        from array_api_compat import cupy as xp
    except ImportError:
        xp = cupy
    return Backend("cupy", xp)


def _load_array_api_strict() -> Backend:
    try:
        import array_api_strict
    except ImportError:
        raise BackendError(
            "backend 'array_api_strict' (test-only) needs the package array-api-strict: "
            f"{install_hint('test')}"
        ) from None
    return Backend("array_api_strict", array_api_strict)


_LOADERS = {
    "numpy": _load_numpy,
    "cupy": _load_cupy,
    "array_api_strict": _load_array_api_strict,
}


class _FromEnvironment:
    """Stands in for the backend ``TINYGRAD_EDU_BACKEND`` names until its first use, when
    it loads it and takes its place in `active` (so only that first access costs more)."""

    def __init__(self, name: str):
        self.requested = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(_load(self.requested), attribute)


def _load(name: str) -> Backend:
    global active
    if name not in _LOADERS:
        raise BackendError(f"unknown backend {name!r}; choose one of: numpy, cupy")
    active = _LOADERS[name]()
    return active


_env_backend = os.environ.get("TINYGRAD_EDU_BACKEND")
active: Backend = _FromEnvironment(_env_backend) if _env_backend else _load_numpy()  # type: ignore[assignment]
"""The backend every op computes with (engine code reads ``backend.active.xp``); while
tg.compile records a step, one whose ``xp`` records (`computing_through`)."""


def set_backend(name: str) -> Backend:
    """Make `name` ("numpy" or "cupy") the backend of every tensor created from now on.

    Fails at once, with the fix in the message, when the backend cannot run here.
    """
    if isinstance(active, _FromEnvironment) or name != active.name:
        return _load(name)
    return active


def get_backend() -> Backend:
    """The active backend (loading the one the environment names, at its first use)."""
    return active if isinstance(active, Backend) else _load(active.requested)


@contextmanager
def computing_through(xp: Any) -> Iterator[None]:
    """Make `active` compute through the namespace `xp` for the ``with`` block.

    tg.compile records here (see `recording` and the `jit` package): while a step is
    recorded, `active` is a backend of the same name whose ``xp`` is the recorder's
    namespace, which computes as the real one does and records each call. `active` is
    the real backend again afterwards; `_load` is the only other place that rebinds it.
    """
    global active
    real = get_backend()
    active = Backend(real.name, xp)
    try:
        yield
    finally:
        active = real
