"""Timing machinery: interleaved repetitions, medians after warm-up, min-max spread.

Contenders of one workload are timed round-robin (one sample of each per round, the
starting contender rotating), so slow drifts of a shared, noisy machine hit all of them
alike. Each sample times enough calls to last at least ``min_sample_s``; the reported
ratio is the median over rounds of the per-round ratio to the baseline, which cancels
most of the noise that a ratio of two medians would keep. The ratio of the two fastest
samples ("min") is shown beside it: on a busy machine it is the less disturbed one. Each
sample's CPU time (`time.process_time`) is kept too: on a machine shared with other
work, wall time also counts the time the process waited for a core, CPU time does not.

The cyclic garbage collector runs (untimed) before every sample: otherwise a contender
that leaves reference cycles behind (a micrograd graph) would make the next contender's
collections slower, and each would pay for the other's garbage. But a sample that starts
on a clean heap flatters such a contender: in a training loop each step runs while the
previous step's dead graph waits for the collector (micrograd's demo step takes about
twice as long in that steady state as on a clean heap). So with ``settle`` one untimed
call follows the collection, and the timed calls run in that steady state.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Contender:
    """One way of doing a workload's step: ``make()`` builds the state, returns ``step``."""

    name: str
    make: Callable[[], Callable[[], Any]]
    note: str = ""


@dataclass
class Row:
    """One line of the results table."""

    workload: str
    contender: str
    median_s: float | None = None
    lo_s: float | None = None
    hi_s: float | None = None
    ratio: float | None = None
    ratio_of_mins: float | None = None
    note: str = ""
    unit: str = "step"
    samples: list[float] = field(default_factory=list, repr=False)
    cpu_samples: list[float] = field(default_factory=list, repr=False)


def _calibrate(step: Callable[[], Any], min_sample_s: float) -> int:
    """How many calls one sample needs to last ``min_sample_s`` (at least 1)."""
    t0 = time.perf_counter()
    step()
    once = max(time.perf_counter() - t0, 1e-7)
    return max(1, round(min_sample_s / once))


def measure(
    workload: str,
    contenders: list[Contender],
    baseline: str,
    rounds: int,
    warmup: int = 2,
    min_sample_s: float = 0.05,
    unit: str = "step",
    settle: bool = False,
) -> list[Row]:
    """Time every contender round-robin; ratios are per-round, against ``baseline``.

    ``settle``: one untimed call after each sample's collection (see the module docstring).
    """
    steps: list[Callable[[], Any]] = []
    rows: list[Row] = []
    for c in contenders:
        steps.append(c.make())
        rows.append(Row(workload, c.name, note=c.note, unit=unit))
    for step in steps:  # first call: imports, caches, allocator warm-up
        step()
    calls = [_calibrate(step, min_sample_s) for step in steps]
    times: list[list[float]] = [[] for _ in steps]
    cpu_times: list[list[float]] = [[] for _ in steps]
    for r in range(warmup + rounds):
        order = [(r + i) % len(steps) for i in range(len(steps))]
        for i in order:
            step, n = steps[i], calls[i]
            gc.collect()
            if settle:
                step()
            t0, cpu0 = time.perf_counter(), time.process_time()
            for _ in range(n):
                step()
            elapsed = (time.perf_counter() - t0) / n
            cpu = (time.process_time() - cpu0) / n
            if r >= warmup:
                times[i].append(elapsed)
                cpu_times[i].append(cpu)
    names = [c.name for c in contenders]
    base = times[names.index(baseline)] if baseline in names else None
    for row, samples, cpu_samples in zip(rows, times, cpu_times):
        row.samples, row.cpu_samples = samples, cpu_samples
        row.median_s = statistics.median(samples)
        row.lo_s, row.hi_s = min(samples), max(samples)
        if base is not None:
            row.ratio = statistics.median(s / b for s, b in zip(samples, base))
            row.ratio_of_mins = min(samples) / min(base)
    return rows


def paired_ratio(rows: list[Row], name: str, other: str, cpu: bool = False) -> float | None:
    """Median over rounds of time(name) / time(other), both from the same rows (CPU time
    with ``cpu``, else wall time)."""
    by_name = {r.contender: r for r in rows}
    if name not in by_name or other not in by_name:
        return None
    a, b = (by_name[k].cpu_samples if cpu else by_name[k].samples for k in (name, other))
    return statistics.median(x / y for x, y in zip(a, b))


# --- formatting -------------------------------------------------------------------------


def format_time(seconds: float | None) -> str:
    """Seconds with a unit chosen for 3-4 significant digits: '812 µs', '3.41 ms', '1.20 s'."""
    if seconds is None:
        return "-"
    if seconds < 1e-6:
        return f"{seconds * 1e9:.0f} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def _cells(row: Row) -> list[str]:
    spread = "-" if row.lo_s is None else f"{format_time(row.lo_s)} – {format_time(row.hi_s)}"
    ratio = "-" if row.ratio is None else f"{row.ratio:.2f}x"
    if row.ratio_of_mins is not None:
        ratio += f" (min {row.ratio_of_mins:.2f}x)"
    median = format_time(row.median_s)
    if row.median_s is not None and row.unit != "step":
        median += f" /{row.unit}"
    return [row.workload, row.contender, median, spread, ratio, row.note]


HEADERS = ["workload", "contender", "median", "spread (min – max)", "vs hand-written", "note"]


def print_table(rows: list[Row], title: str, plain: bool = False) -> None:
    """The rows as a rich table when rich is installed (and not ``plain``), else text."""
    if not plain:
        try:
            from rich.console import Console
            from rich.table import Table
        except ImportError:
            plain = True
    if not plain:
        table = Table(title=title, title_justify="left")
        for h in HEADERS:
            table.add_column(h, justify="right" if h in ("median", "vs hand-written") else "left")
        previous = None
        for row in rows:
            if previous is not None and row.workload != previous:
                table.add_section()
            table.add_row(*_cells(row))
            previous = row.workload
        Console(width=200).print(table)
        return
    print(plain_table(rows, title))


def plain_table(rows: list[Row], title: str) -> str:
    """The rows as a fixed-width Markdown table (also what README snippets use)."""
    lines = [title, ""]
    cells = [HEADERS] + [_cells(r) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADERS))]
    for n, c in enumerate(cells):
        lines.append("| " + " | ".join(v.ljust(w) for v, w in zip(c, widths)) + " |")
        if n == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
