#!/usr/bin/env python3
"""Benchmarks of tinygrad_edu against hand-written NumPy, PyTorch and micrograd.

    python bench/run.py              # every workload (a few minutes on 2 cores)
    python bench/run.py --quick      # fewer rounds, for a first look
    python bench/run.py --only W1,W3 # some workloads

Times are medians over interleaved rounds after warm-up, with the min-max spread; the
ratio column is the median per-round ratio to the hand-written NumPy step measured in
the same run (CuPy for the GPU workload W8). Each workload runs in a fresh interpreter,
so one workload's imports (PyTorch adds ~150k objects for the garbage collector to walk)
and thread pools do not slow another's. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [HERE, ROOT]  # the working tree's tinygrad_edu, and the bench modules


def _threads_from_argv(argv: list[str]) -> int:
    """--threads N, read before NumPy is imported (BLAS reads its thread count at load)."""
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
        if arg.startswith("--threads="):
            return int(arg.split("=", 1)[1])
    return DEFAULT_THREADS


DEFAULT_THREADS = 2
THREADS = _threads_from_argv(sys.argv[1:])
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(THREADS)

import numpy as np  # noqa: E402
import workloads  # noqa: E402
from harness import Row, plain_table, print_table  # noqa: E402

TARGETS = """targets (issue 14): W1 tinygrad_edu compiled <= 0.85x (b32) and <= 1.0x (b256) of
hand-written NumPy; W2 compiled <= 1.0x; W5 `python cli.py train specs/mlp.yaml` >= 1.5x faster
than the previous release (--previous); W3 >= 10x faster than micrograd with micrograd's nn.py on
our Value, >= 40x with value_nn; W4 backward through 1,000,000 nodes <= 0.5 s"""


def _versions() -> str:
    from importlib import metadata

    parts = [f"Python {platform.python_version()}", f"NumPy {np.__version__}"]
    for name in ("torch", "micrograd"):
        try:
            parts.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name} not installed")
    parts.append(f"{os.cpu_count()} CPUs, {THREADS} BLAS/torch thread(s)")
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and repetitions")
    parser.add_argument(
        "--only", default="", help="comma-separated workloads, e.g. W1,W3 (default: all)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=DEFAULT_THREADS,
        help="BLAS/OpenMP threads of NumPy and PyTorch (default 2; 1 is steadier on a busy "
        "machine)",
    )
    parser.add_argument("--plain", action="store_true", help="a Markdown table, not rich")
    parser.add_argument(
        "--previous",
        default="",
        help="a checkout of an earlier release (git worktree add ../previous REF): W5 times "
        "its `cli.py train` beside this one's",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # run one workload, print JSON
    args = parser.parse_args(argv)
    cfg = workloads.quick_config() if args.quick else workloads.Config()
    cfg.threads = THREADS
    cfg.previous = args.previous
    chosen = [w.strip().upper() for w in args.only.split(",") if w.strip()] or list(
        workloads.WORKLOADS
    )
    unknown = [w for w in chosen if w not in workloads.WORKLOADS]
    if unknown:
        parser.error(
            f"unknown workload(s) {', '.join(unknown)}; choose from "
            + ", ".join(workloads.WORKLOADS)
        )
    if args.worker:
        rows = workloads.WORKLOADS[args.worker](cfg)
        print(json.dumps([dataclasses.asdict(r) for r in rows]))
        return 0
    print(_versions(), flush=True)
    rows = []
    started = time.perf_counter()
    for name in chosen:
        t0 = time.perf_counter()
        print(
            f"running {name}: {workloads.WORKLOADS[name].__doc__.strip().splitlines()[0]}",
            file=sys.stderr,
            flush=True,
        )
        rows += _run_worker(name, args)
        print(f"  {name} took {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    title = (
        f"tinygrad_edu benchmarks ({'quick' if args.quick else 'full'}, "
        f"{time.perf_counter() - started:.0f} s): medians of {cfg.rounds} interleaved rounds "
        f"({cfg.slow_rounds} for W3)"
    )
    if args.plain:
        print(plain_table(rows, title))
    else:
        print_table(rows, title)
    print(TARGETS)
    return 0


def _run_worker(name: str, args: argparse.Namespace) -> list[Row]:
    """One workload in a fresh interpreter; its rows come back as JSON on stdout."""
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", name, "--threads", str(THREADS)]
    if args.quick:
        cmd.append("--quick")
    if args.previous:
        cmd += ["--previous", args.previous]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    try:
        return [Row(**r) for r in json.loads(proc.stdout.strip().splitlines()[-1])]
    except (IndexError, ValueError):
        return [Row(name, "-", note=f"FAILED: worker exited with {proc.returncode}")]


if __name__ == "__main__":
    sys.exit(main())
