"""Where a replayed train step spends its time: each call of the tape timed alone.

``python bench/tape_profile.py [--batch 32] [--wide] [--replays 400]`` records W1's step
(``nn.MLP`` + ``F.cross_entropy`` + ``optim.SGD``, as `bench/workloads.py` builds it) with
`tinygrad_edu.compile`, then runs the tape's calls one by one, many times, and prints the
fastest time of each beside the call it makes, then the totals: the tape's calls, a whole
replay, and the hand-written NumPy step of `bench/baselines.py`. One BLAS thread (set before
NumPy loads), as ``bench/run.py --threads 1``. A profile, not a benchmark: the numbers explain
the W1 and W2 rows of the README, they are not targets.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import timeit

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
sys.path[:0] = [
    os.path.dirname(os.path.abspath(__file__)),
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
]

from baselines import HandMLP, classification_batch, init_mlp  # noqa: E402
from workloads import LR, tg_nn_step  # noqa: E402

import tinygrad_edu as tg  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--wide", action="store_true", help="W2's 784-1024-1024-10 network")
    parser.add_argument("--replays", type=int, default=400, help="times each call is run")
    args = parser.parse_args(argv)
    sizes = [784, 1024, 1024, 10] if args.wide else [784, 128, 10]
    weights, biases = init_mlp(sizes)
    x, y = classification_batch(args.batch, 784, 10)
    step = tg.compile(tg_nn_step(weights, biases, x, y, LR))
    for _ in range(4):  # recorded twice, then replayed
        step()
    (tape,) = step.tapes.values()
    calls = tape.program
    best = [float("inf")] * len(calls)
    for _ in range(args.replays):
        for i, call in enumerate(calls):
            started = time.perf_counter_ns()
            call()
            best[i] = min(best[i], time.perf_counter_ns() - started)
    print(
        f"{'µs':>8}  call (W1 {'wide ' if args.wide else ''}batch {args.batch}, fastest of "
        f"{args.replays})"
    )
    for ns, entry in zip(best, tape.replayed):
        print(f"{ns / 1000:8.1f}  {entry.describe()}")
    hand = HandMLP(weights, biases, LR)
    repeat = max(1, 2000 // args.batch) if not args.wide else 5

    def fastest(fn) -> float:
        return min(timeit.repeat(fn, number=repeat, repeat=9)) / repeat * 1e6

    print(f"{sum(best) / 1000:8.1f}  the {len(calls)} calls of the tape, each at its fastest")
    print(f"{fastest(step):8.1f}  a whole replay (fastest of 9 x {repeat})")
    print(f"{fastest(lambda: hand.step(x, y)):8.1f}  the hand-written NumPy step")
    return 0


if __name__ == "__main__":
    sys.exit(main())
