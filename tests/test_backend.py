"""Backend selection: the switch, the environment variable, the errors that name the fix,
and a cheap guard that op code does not reach around the backend to NumPy."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.backend import BackendError
from tinygrad_edu.extras import install_hint

PACKAGE = Path(tg.__file__).parent


def test_set_backend_and_get_backend():
    assert tg.get_backend().name == "numpy"
    assert tg.get_backend().xp is np
    strict = tg.set_backend("array_api_strict")
    assert strict is tg.get_backend() and strict.name == "array_api_strict"
    t = Tensor([1.0, 2.0])
    assert type(t.data).__module__.startswith("array_api_strict")
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0])
    assert tg.set_backend("array_api_strict") is strict  # already active: kept
    assert tg.set_backend("numpy").name == "numpy"
    assert isinstance(Tensor([1.0]).data, np.ndarray)


def test_unknown_backend_name():
    with pytest.raises(BackendError, match="unknown backend 'jax'.*numpy, cupy"):
        tg.set_backend("jax")
    assert tg.get_backend().name == "numpy"


def _run_python(code: str, backend_name: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TINYGRAD_EDU_BACKEND": backend_name}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )


def test_environment_variable_picks_the_backend_at_import():
    done = _run_python(
        "import tinygrad_edu as tg; print(tg.get_backend().name, type(tg.Tensor([1.0]).data))",
        "array_api_strict",
    )
    assert done.returncode == 0, done.stderr
    name, array_type = done.stdout.split(" ", 1)
    assert name == "array_api_strict" and "array_api_strict" in array_type


def test_environment_variable_with_an_unknown_backend_fails_at_first_use():
    done = _run_python("import tinygrad_edu as tg; print('imported'); tg.Tensor([1.0])", "nosuch")
    assert done.stdout == "imported\n"  # the import itself works (so does --help)
    assert done.returncode != 0
    assert "BackendError" in done.stderr and "unknown backend 'nosuch'" in done.stderr


def test_cupy_not_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # makes `import cupy` raise ImportError
    with pytest.raises(BackendError) as info:
        tg.set_backend("cupy")
    assert install_hint("gpu") in str(info.value)  # the command that fits this installation
    assert "not installed" in str(info.value)
    assert tg.get_backend().name == "numpy"  # a failed switch leaves the backend as it was


def _fake_cupy(device_count) -> types.ModuleType:
    """A stand-in CuPy module whose runtime reports `device_count` (or raises it)."""

    def get_device_count():
        if isinstance(device_count, Exception):
            raise device_count
        return device_count

    cupy = types.ModuleType("cupy")
    cupy.cuda = types.SimpleNamespace(
        runtime=types.SimpleNamespace(getDeviceCount=get_device_count)
    )
    return cupy


@pytest.mark.parametrize("devices", [0, RuntimeError("cudaErrorNoDevice")], ids=["zero", "error"])
def test_cupy_without_a_cuda_device(monkeypatch, devices):
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(devices))
    with pytest.raises(BackendError, match="no CUDA device was found"):
        tg.set_backend("cupy")
    assert tg.get_backend().name == "numpy"


def test_cupy_with_a_device_becomes_the_backend(monkeypatch):
    fake = _fake_cupy(1)
    monkeypatch.setitem(sys.modules, "cupy", fake)
    monkeypatch.setitem(sys.modules, "array_api_compat", None)  # use CuPy's own namespace
    chosen = tg.set_backend("cupy")
    assert chosen.name == "cupy" and chosen.xp is fake
    tg.set_backend("numpy")


def test_dtype_names(xp_backend):
    for spec in ("float32", np.float32, np.dtype("float32"), xp_backend.xp.float32):
        assert xp_backend.dtype(spec) == xp_backend.xp.float32
    assert xp_backend.dtype(None) is None
    with pytest.raises(TypeError, match="unknown dtype 'float16x'"):
        xp_backend.dtype("float16x")


# --- op code stays on the array API ------------------------------------------------------------


def _numpy_names(path: Path) -> list[str]:
    """Every use of the name `np` or `numpy`, and every import of numpy, in a module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Name) and node.id in ("np", "numpy"):
            found.append(f"line {node.lineno}: {node.id}")
        elif isinstance(node, ast.Import):
            found += [
                f"line {node.lineno}: import {a.name}" for a in node.names if "numpy" in a.name
            ]
        elif isinstance(node, ast.ImportFrom) and "numpy" in (node.module or ""):
            found.append(f"line {node.lineno}: from {node.module} import ...")
    return found


@pytest.mark.parametrize("module", ["functional.py", "autograd.py", "value.py"])
def test_op_modules_do_not_use_numpy(module):
    # the proof that op code uses only the array API is the array_api_strict
    # parametrization of the op tests; this catches the easy slip early and cheaply
    assert _numpy_names(PACKAGE / module) == []


def test_the_numpy_check_would_see_a_use():
    found = _numpy_names(Path(__file__))  # this file imports and uses NumPy
    assert any(f.endswith("import numpy") for f in found)
    assert any(f.endswith(": np") for f in found)
