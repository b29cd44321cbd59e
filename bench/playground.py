#!/usr/bin/env python3
"""The playground's speed in a real browser: page updates and training steps per second.

    python bench/playground.py              # 3 rounds of 10 s each
    python bench/playground.py --seconds 5 --rounds 1
    python bench/playground.py --layers 64,64,64,64,64,64   # the issue's big network

The workload is the issue's: a 2-[8, 8]-2 network (``--layers``: another, such as 6 x 64)
on 500 points (250 to train) at batch 10, playing at full speed in headless Chromium.
Each page update is the full view: the 100 x 100 output heatmap with the points, every
unit's heatmap (at the resolution its tile has on screen), the edges and the loss curve.
The server and the browser share the machine's cores, as they do for a user.
"Alone" is the same session trained with no page attached (no frames asked for).
The server runs NumPy's BLAS on one thread, as `python cli.py playground` does.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tinygrad_edu.playground.server import ServerThread, one_blas_thread  # noqa: E402
from tinygrad_edu.playground.session import Session  # noqa: E402

SETTINGS = {"dataset": "circles", "n": 500, "test": 0.5, "layers": [8, 8], "batch": 10}


def address(layers: list[int]) -> str:
    acts = ",".join(["tanh"] * len(layers))
    widths = ",".join(map(str, layers))
    zeros = ",".join(["0"] * len(layers))
    return f"dataset=circles&n=500&test=0.5&layers={widths}&act={acts}&dropout={zeros}&batch=10"


ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip


def in_browser(
    seconds: float, rounds: int, chromium: str, layers: list[int]
) -> list[tuple[float, float]]:
    from playwright.sync_api import sync_playwright

    results = []
    with ServerThread() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        for _ in range(rounds):
            page.goto(f"{url}#{address(layers)}")
            page.wait_for_function("window.playground.drawn > 0")
            page.click("[data-testid=play]")
            page.wait_for_timeout(1000)  # warm-up
            counts = "[window.playground.drawn, window.playground.frame.step, performance.now()]"
            drawn0, step0, t0 = page.evaluate(counts)
            page.wait_for_timeout(seconds * 1000)
            drawn1, step1, t1 = page.evaluate(counts)
            page.click("[data-testid=play]")
            elapsed = (t1 - t0) / 1000
            results.append(((drawn1 - drawn0) / elapsed, (step1 - step0) / elapsed))
        browser.close()
    return results


def alone(seconds: float, layers: list[int]) -> float:
    with one_blas_thread():
        return _alone(seconds, layers)


def _alone(seconds: float, layers: list[int]) -> float:
    session = Session({**SETTINGS, "layers": layers}, lambda text: None)
    try:
        session.control("play")
        time.sleep(1.0)
        start, t0 = session.trainer.progress.global_step, time.perf_counter()
        time.sleep(seconds)
        steps, t1 = session.trainer.progress.global_step, time.perf_counter()
    finally:
        session.stop()
    return (steps - start) / (t1 - t0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of a round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--layers", default="8,8", help="hidden widths, e.g. 64,64,64")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    layers = [int(v) for v in args.layers.split(",")]
    results = in_browser(args.seconds, args.rounds, args.chromium, layers)
    fps = statistics.median(r[0] for r in results)
    sps = statistics.median(r[1] for r in results)
    print(f"2-{layers}-2 on 500 points, batch 10, {args.rounds} rounds of {args.seconds:g} s")
    for i, (f, s) in enumerate(results, 1):
        print(f"  round {i}: {f:6.1f} page updates/s  {s:7.0f} training steps/s")
    print(f"median: {fps:.1f} page updates/s while training {sps:,.0f} steps/s")
    print(f"training alone (no page): {alone(args.seconds, layers):,.0f} steps/s")
    print(f"(os.cpu_count() = {os.cpu_count()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
