"""Training a sweep's runs in parallel: ``sweep --jobs N`` runs N trainings at a time.

Each worker is a fresh Python process (multiprocessing's "spawn" context: no copy of the
parent's state, the same on Linux, macOS and Windows) that trains one run at a time with
the function it is given (`sweep.train_task`, the one ``--jobs 1`` calls in-process), so
every weight and metric is the same as with ``--jobs 1``. The parent gives each worker one
task at a time and the next when it reports back, and writes the rows. The pool knows
nothing else of sweeps: it reports a Ctrl-C as `WorkersInterrupted`, and the sweep says
what that means.

Threads: NumPy's BLAS would start one thread per core in every worker, N times too many.
The parent sets ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS`` to
cores // N (at least 1) in the environment the workers start with, so they are set before
a worker imports NumPy; the parent's own environment is restored afterwards.

Ctrl-C: the workers run in their own process group, so the terminal's SIGINT reaches only
the parent, which passes one SIGINT (for SIGTERM too) to each worker. A training worker
then stops as ``train`` does on Ctrl-C: after the current step, with a checkpoint, so
``sweep --resume`` continues that run; an idle worker just ends. A second Ctrl-C is passed
on again and stops the workers at once, as it would stop a single ``train``.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..spec.plugins import import_modules
from ..training.loop import TrainingInterrupted

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_POLL_SECONDS = 0.2


class WorkersInterrupted(Exception):
    """Ctrl-C or SIGTERM reached the workers; each saved its run's checkpoint first."""

    def __init__(self, signal_name: str, exit_code: int, runs: Sequence[Path]):
        super().__init__(f"workers interrupted ({signal_name})")
        self.signal_name, self.exit_code, self.runs = signal_name, exit_code, list(runs)


def threads_per_worker(jobs: int) -> int:
    """The BLAS threads each of `jobs` workers gets: the cores shared out, at least one."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    return max(1, cores // jobs)


def run_in_workers(
    tasks: Sequence[Mapping[str, Any]],
    jobs: int,
    finished: Callable[[int, dict], None],
    train: Callable[[Mapping[str, Any]], dict],
) -> None:
    """Train `tasks` (see `sweep._task`) in `jobs` worker processes, each task with
    `train(task)` (a module-level function: the workers import it by name);
    `finished(index, final_metrics)` is called in this process as each run ends.

    Raises `WorkersInterrupted` after Ctrl-C/SIGTERM (once the workers have saved their
    checkpoints), and a worker's `UserError` (a diverged run) once the runs that were
    training beside it have finished (their rows are written; no new run starts)."""
    context = multiprocessing.get_context("spawn")
    todo, results = context.Queue(), context.Queue()
    workers = _start_workers(context, min(jobs, len(tasks)), todo, results, train)
    stop: list[int] = []  # the signals received, in order

    def on_signal(signum: int, frame: Any) -> None:
        stop.append(signum)
        for worker in workers:
            if worker.is_alive():
                os.kill(worker.pid, signal.SIGINT)

    def stop_handing_out(error: BaseException) -> BaseException:
        """After a failure the running runs finish (no work is lost), and no new one starts."""
        for _ in workers:
            todo.put(None)
        return error

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    pending, failure, interrupted = list(range(len(tasks))), None, []
    try:
        busy = 0
        for _ in workers:
            todo.put((pending[0], dict(tasks[pending.pop(0)])))
            busy += 1
        while busy:
            try:
                kind, index, payload = results.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                died = any(w.exitcode not in (None, 0) for w in workers)
                if died and failure is None and not stop:  # its run is lost, not the others
                    failure = stop_handing_out(UserError(_died(workers)))
                if all(not w.is_alive() for w in workers):
                    break
                continue
            busy -= 1
            if kind == "done":
                finished(index, payload)
            elif kind == "interrupted":
                interrupted.append(Path(tasks[index]["run_dir"]))
            elif failure is None:  # "error" (a UserError: a diverged run) or "crash"
                error = UserError(payload) if kind == "error" else RuntimeError(payload)
                failure = stop_handing_out(error)
            if pending and not stop and failure is None:
                todo.put((pending[0], dict(tasks[pending.pop(0)])))
                busy += 1
    finally:
        for _ in workers:
            todo.put(None)
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.terminate()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if failure is not None:
        raise failure
    if stop:
        name = signal.Signals(stop[0]).name
        raise WorkersInterrupted(name, 128 + stop[0], interrupted)


def _start_workers(
    context: Any, count: int, todo: Any, results: Any, train: Callable[[Mapping[str, Any]], dict]
) -> list[Any]:
    """Start `count` workers with their share of BLAS threads in their environment."""
    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    os.environ.update({name: str(threads_per_worker(count)) for name in THREAD_VARIABLES})
    try:
        workers = [context.Process(target=_work, args=(todo, results, train)) for _ in range(count)]
        for worker in workers:
            worker.start()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return workers


def _died(workers: Sequence[Any]) -> str:
    codes = ", ".join(str(w.exitcode) for w in workers if w.exitcode not in (None, 0))
    return (
        f"a sweep worker process ended without reporting back (exit code {codes}; -9 is "
        "usually the system's out-of-memory killer); the finished runs are in sweep.csv: "
        "resume the sweep with fewer --jobs"
    )


def _work(todo: Any, results: Any, train: Callable[[Mapping[str, Any]], dict]) -> None:
    """A worker's life: train the tasks it is given until it is given None."""
    if hasattr(os, "setpgrp"):
        os.setpgrp()  # the terminal's Ctrl-C goes to the parent, which passes it on once
    imported: set[str] = set()
    try:
        while (item := todo.get()) is not None:
            index, task = item
            try:
                new = [name for name in task["imports"] if name not in imported]
                import_modules(new)
                imported.update(new)
                results.put(("done", index, train(task)))
            except TrainingInterrupted:
                results.put(("interrupted", index, None))
            except KeyboardInterrupt:  # stopped before its training started
                results.put(("interrupted", index, None))
            except UserError as error:  # named by its run: several were training at once
                results.put(("error", index, f"{task['run_dir']}: {error}"))
            except Exception:
                results.put(("crash", index, traceback.format_exc()))
    except KeyboardInterrupt:  # stopped while waiting for a task
        pass
