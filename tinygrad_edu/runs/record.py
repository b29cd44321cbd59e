"""How a run was made: ``run.json`` in each run folder.

A number in a table is only worth as much as what is known about how it was produced. The
record holds the command line (None for a run made in a notebook or an interactive session,
where the process's own is the kernel's or empty), start and end time, how the run ended
(finished, interrupted, diverged, failed) with its exit code, the versions of Python, NumPy
and tinygrad_edu, the git commit of the working tree the command ran in (when it is a git
checkout, and whether it had uncommitted changes), the backend and its device, the BLAS
library and its thread count, the CPU, the seed, and the peak memory of the process.

`RunRecord.start` writes the record with status ``running`` before the first step, and
`finish` rewrites it (atomically) at the end, so a run killed with SIGKILL still says it
started and never finished. Reading it is `read_record`.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._version import __version__
from ..io.atomic import write_text_atomic
from ..training import progress
from ..training.layout import RECORD

STATUSES = ("running", "finished", "interrupted", "diverged", "failed")
FROM_PYTHON = "from Python in a notebook or an interactive session, no command line"
"""What `describe` says of a run made where the process's command line is not how it was made."""


def environment() -> dict[str, Any]:
    """What the machine and the software were: versions, BLAS, CPU, git commit."""
    import numpy as np

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "tinygrad_edu": __version__,
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "blas": _blas(),
        "git": _git(Path.cwd()),
    }


def _cpu_model() -> str:
    """The CPU's marketing name (/proc/cpuinfo on Linux), else what `platform` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas() -> dict[str, Any]:
    """NumPy's BLAS library and the number of threads it will use."""
    import numpy as np

    name = "unknown"
    try:
        config = np.show_config(mode="dicts")
        name = config["Build Dependencies"]["blas"]["name"]
    except Exception:  # the layout of show_config is NumPy's, not ours to rely on
        pass
    threads: Any = None
    try:  # threadpoolctl (when installed) asks the library itself
        from threadpoolctl import threadpool_info

        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            threads = pools[0]["num_threads"]
    except ImportError:
        pass
    if threads is None:
        for variable in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
            if os.environ.get(variable):
                threads = f"{os.environ[variable]} ({variable})"
                break
    return {"library": name, "threads": threads if threads is not None else "default"}


def _git(folder: Path) -> dict[str, Any] | None:
    """The commit checked out in `folder`'s repository and whether it has local changes."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
        )
        if commit.returncode != 0:
            return None
        status = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return {"commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip())}


def _command_line() -> list[str] | None:
    """This process's command line, or None where it does not say how the run was made: in a
    Jupyter kernel it is the kernel's launch command, in an interactive interpreter empty."""
    if progress.in_jupyter() or not sys.argv or sys.argv[0] in ("", "-c"):
        return None
    return list(sys.argv)


def _peak_memory_mib() -> float | None:
    """The process's peak resident memory so far, in MiB (None where unknown)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def _device(backend_name: str) -> str:
    if backend_name != "cupy":
        return "cpu"
    try:
        import cupy

        device = cupy.cuda.Device()
        return cupy.cuda.runtime.getDeviceProperties(device.id)["name"].decode()
    except Exception:
        return "cuda"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


@dataclass
class RunRecord:
    """The record of one run folder, written at its start and rewritten at its end."""

    run_dir: Path
    data: dict[str, Any] = field(default_factory=dict)

    def start(
        self,
        spec: Any,
        argv: list[str] | None = None,
        resumed: bool = False,
        sweep: dict[str, Any] | None = None,
    ) -> None:
        previous = read_record(self.run_dir) if resumed else None
        self.data = {
            "command": list(argv) if argv is not None else _command_line(),
            "status": "running",
            "exit_code": None,
            "started": _now(),
            "finished": None,
            "seed": spec.seed,
            "backend": spec.backend,
            "device": _device(spec.backend),
            "dtype": spec.dtype,
            **environment(),
            "peak_memory_mib": None,
        }
        if sweep is not None:  # a run of a sweep: its folder, point (full key paths), seed
            self.data["sweep"] = dict(sweep)
        if previous:  # a resumed run keeps the story of its earlier sessions
            self.data["sessions"] = [*previous.pop("sessions", []), previous]
        self._write()

    def finish(self, status: str, exit_code: int, message: str | None = None) -> None:
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        self.data.update(
            status=status,
            exit_code=exit_code,
            finished=_now(),
            peak_memory_mib=_peak_memory_mib(),
        )
        if message:
            self.data["message"] = message
        self._write()

    def _write(self) -> None:
        write_text_atomic(self.run_dir / RECORD, json.dumps(self.data, indent=2) + "\n")


def read_record(run_dir: str | Path) -> dict[str, Any] | None:
    """The run's record, or None for a run made before records existed (or a damaged one)."""
    try:
        data = json.loads((Path(run_dir) / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def describe(record: dict[str, Any] | None) -> str:
    """One line about how a run was made, for `evaluate` and `compare`."""
    if record is None:
        return "how it was made: unknown (no run.json; the run is older than run records)"
    git = record.get("git")
    commit = f", git {git['commit'][:10]}{' (modified)' if git['dirty'] else ''}" if git else ""
    blas = record.get("blas", {})
    return (
        f"{record['status']} {record.get('finished') or record['started']}: "
        f"{' '.join(record['command']) if record['command'] else FROM_PYTHON} "
        f"(seed {record['seed']}, {record['backend']} on "
        f"{record['device']}, tinygrad_edu {record['tinygrad_edu']}, NumPy {record['numpy']}, "
        f"BLAS {blas.get('library')} (threads: {blas.get('threads')}), Python {record['python']}"
        f"{commit})"
    )
