"""The workloads W1-W8: each builds its contenders, times them and returns table rows.

Every contender starts from the same weights and data, and its first step's loss is
checked against the hand-written baseline's before anything is timed.
"""

from __future__ import annotations

import functools
import gc
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from baselines import (
    HandMLP,
    HandMoonsNet,
    classification_batch,
    init_mlp,
    make_moons,
)
from harness import Contender, Row, measure, paired_ratio

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LR = 0.01


@dataclass
class Config:
    rounds: int = 41
    warmup: int = 3
    min_sample_s: float = 0.02
    slow_rounds: int = 11  # for workloads whose slowest contender takes ~1 s a step (W3)
    chain_sizes: tuple[int, ...] = (250_000, 500_000, 1_000_000)
    chain_reps: int = 3
    startup_reps: int = 11
    quick: bool = False
    threads: int = 2
    previous: str = ""  # a checkout of an earlier release, for W5


def quick_config() -> Config:
    return Config(
        rounds=11,
        warmup=1,
        min_sample_s=0.01,
        slow_rounds=5,
        chain_reps=1,
        startup_reps=5,
        quick=True,
    )


# --- optional contenders -----------------------------------------------------------------


def has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def micrograd_version() -> str | None:
    """The installed micrograd's version (W3's and W4's optional contender), or None."""
    from importlib import metadata

    try:
        return metadata.version("micrograd")
    except metadata.PackageNotFoundError:
        return None


def torch_or_none(threads: int = 2) -> Any:
    if not has_module("torch"):
        return None
    import torch

    torch.set_num_threads(threads)
    return torch


def cli_commands() -> set[str]:
    """The sub-commands that ``python cli.py --help`` lists (empty if it fails)."""
    try:
        out = subprocess.run(
            [sys.executable, "cli.py", "--help"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return set()
    return set(re.findall(r"^\s{2,}([a-z][a-z-]*)\s{2,}", out, flags=re.M))


def to_float(value: Any) -> float:
    """A step's returned loss (0-d array, Tensor, torch tensor, Value, float) as a float."""
    if hasattr(value, "item"):
        return float(value.item())
    data = getattr(value, "data", value)
    return float(data)


def check_losses(rows: list[Row], firsts: dict[str, float], baseline: str, rtol: float) -> None:
    """Note on each row whether its first-step loss matches the baseline's."""
    ref = firsts[baseline]
    for row in rows:
        got = firsts.get(row.contender)
        if got is None or row.contender == baseline:
            continue
        if not abs(got - ref) <= rtol * abs(ref) + 1e-12:
            row.note = (
                row.note + "; " if row.note else ""
            ) + f"LOSS MISMATCH {got:.6g} vs {ref:.6g}"


def recording(contender: Contender, firsts: dict[str, float]) -> Contender:
    """The contender, recording its first step's loss in ``firsts``."""

    def make():
        step = contender.make()
        firsts[contender.name] = to_float(step())
        return step

    return Contender(contender.name, make, contender.note)


# --- W1 / W2: MLP train steps --------------------------------------------------------------


def tg_mlp_step(weights, biases, x, y, lr, backend: str = "numpy") -> Callable[[], Any]:
    """tinygrad_edu's Tensor engine: F.linear + relu + F.cross_entropy + SGD on leaves."""
    import tinygrad_edu as tg
    from tinygrad_edu import Tensor
    from tinygrad_edu import functional as F

    tg.set_backend(backend)
    b = tg.get_backend()
    Ws = [Tensor(b.asarray(w.copy()), requires_grad=True) for w in weights]
    bs = [Tensor(b.asarray(c.copy()), requires_grad=True) for c in biases]
    params = Ws + bs
    xt, yt = Tensor(b.asarray(x)), Tensor(b.asarray(y))
    last = len(Ws) - 1

    def step():
        h = xt
        for i in range(last + 1):
            h = F.linear(h, Ws[i], bs[i])
            if i < last:
                h = h.relu()
        loss = F.cross_entropy(h, yt)
        for p in params:
            p.grad = None
        loss.backward()
        for p in params:
            p.data -= lr * p.grad.data
        return loss

    return step


def tg_nn_step(weights, biases, x, y, lr, backend: str = "numpy") -> Callable[[], Any]:
    """tinygrad_edu as a user writes it: nn.MLP, F.cross_entropy, optim.SGD."""
    import tinygrad_edu as tg
    from tinygrad_edu import Tensor, nn, optim
    from tinygrad_edu import functional as F

    tg.set_backend(backend)
    b = tg.get_backend()
    sizes = [weights[0].shape[1]] + [w.shape[0] for w in weights]
    model = nn.MLP(sizes[0], sizes[1:-1], sizes[-1])
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    for layer, w, c in zip(linears, weights, biases):
        layer.weight.data = b.asarray(w.copy())
        layer.bias.data = b.asarray(c.copy())
    opt = optim.SGD(model.parameters(), lr=lr)
    xt, yt = Tensor(b.asarray(x)), Tensor(b.asarray(y))

    def step():
        loss = F.cross_entropy(model(xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step


def tg_compiled_step(weights, biases, x, y, lr, backend: str = "numpy") -> Callable[[], Any]:
    """tg_nn_step under tinygrad_edu.compile: recorded twice, then replayed from its tape."""
    import tinygrad_edu as tg

    return tg.compile(tg_nn_step(weights, biases, x, y, lr, backend))


def torch_mlp_step(weights, biases, x, y, lr, device: str = "cpu") -> Callable[[], Any]:
    """PyTorch eager: F.linear + relu + F.cross_entropy + torch.optim.SGD."""
    import torch
    import torch.nn.functional as TF

    Ws = [torch.tensor(w, device=device, requires_grad=True) for w in weights]
    bs = [torch.tensor(c, device=device, requires_grad=True) for c in biases]
    opt = torch.optim.SGD(Ws + bs, lr=lr)
    xt, yt = torch.tensor(x, device=device), torch.tensor(y, device=device)
    last = len(Ws) - 1
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def step():
        h = xt
        for i in range(last + 1):
            h = TF.linear(h, Ws[i], bs[i])
            if i < last:
                h = torch.relu(h)
        loss = TF.cross_entropy(h, yt)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sync()
        return loss

    return step


def torch_threads_step(torch, threads: int, weights, biases, x, y) -> Callable[[], Any]:
    """torch_mlp_step run with `threads` threads (set before each call: contenders alternate)."""
    step = torch_mlp_step(weights, biases, x, y, LR)

    def run():
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        return step()

    return run


def hand_mlp_step(weights, biases, x, y, lr, xp: Any = np) -> Callable[[], Any]:
    net = HandMLP(weights, biases, lr, xp)
    xd, yd = xp.asarray(x), xp.asarray(y)
    if xp is np:
        return lambda: net.step(xd, yd)

    def step():
        loss = net.step(xd, yd)
        xp.cuda.get_current_stream().synchronize()
        return loss

    return step


def mlp_workload(name: str, sizes: list[int], batch: int, cfg: Config) -> list[Row]:
    weights, biases = init_mlp(sizes)
    x, y = classification_batch(batch, sizes[0], sizes[-1])
    contenders = [
        Contender("NumPy, hand-written", lambda: hand_mlp_step(weights, biases, x, y, LR)),
    ]
    if has_module("tinygrad_edu.nn") and has_module("tinygrad_edu.optim"):
        contenders.append(
            Contender(
                "tinygrad_edu nn.MLP + SGD",
                lambda: tg_nn_step(weights, biases, x, y, LR),
                note="nn.MLP, F.cross_entropy, optim.SGD",
            )
        )
    if has_module("tinygrad_edu.jit") or has_module("tinygrad_edu.compile"):  # new, old name
        contenders.append(
            Contender(
                "tinygrad_edu compiled",
                lambda: tg_compiled_step(weights, biases, x, y, LR),
                note="tg.compile(nn.MLP + SGD step): record and replay",
            )
        )
    contenders.append(
        Contender(
            "tinygrad_edu functional",
            lambda: tg_mlp_step(weights, biases, x, y, LR),
            note="F.linear, relu, F.cross_entropy, SGD on leaves",
        )
    )
    torch = torch_or_none(cfg.threads)
    if torch is not None:
        # PyTorch's default (one thread a core) and the run's --threads: a contender each
        for threads in sorted({cfg.threads, os.cpu_count() or 1}):
            contenders.append(
                Contender(
                    f"PyTorch eager CPU, {threads} thread(s)",
                    functools.partial(torch_threads_step, torch, threads, weights, biases, x, y),
                    note=f"torch {torch.__version__}"
                    + (", its default" if threads == os.cpu_count() else ""),
                )
            )
    firsts: dict[str, float] = {}
    rows = measure(
        f"{name} {'-'.join(map(str, sizes))} b{batch}",
        [recording(c, firsts) for c in contenders],
        baseline="NumPy, hand-written",
        rounds=cfg.rounds,
        warmup=cfg.warmup,
        min_sample_s=cfg.min_sample_s,
    )
    check_losses(rows, firsts, "NumPy, hand-written", rtol=1e-4)
    if torch is None:
        rows.append(Row(rows[0].workload, "PyTorch eager CPU", note="not installed"))
    return rows


def w1(cfg: Config) -> list[Row]:
    """MLP 784-128-10 train step, batch 32 and 256."""
    return mlp_workload("W1", [784, 128, 10], 32, cfg) + mlp_workload(
        "W1", [784, 128, 10], 256, cfg
    )


def w2(cfg: Config) -> list[Row]:
    """MLP 784-1024-1024-10 train step, batch 512 (BLAS-bound)."""
    return mlp_workload("W2", [784, 1024, 1024, 10], 512, cfg)


# --- W3: micrograd's demo on the Value engine ---------------------------------------------


ALPHA = 1e-4
W3_LR = 0.1


def _value_step(Value, model, Xl, yl):
    """micrograd's demo loss (max-margin + L2), zero_grad, backward and SGD update."""
    params = model.parameters()

    def step():
        inputs = [list(map(Value, row)) for row in Xl]
        scores = [model(x) for x in inputs]
        losses = [(1 + -yi * si).relu() for yi, si in zip(yl, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = ALPHA * sum(p * p for p in params)
        total = data_loss + reg_loss
        model.zero_grad()
        total.backward()
        for p in params:
            p.data -= W3_LR * p.grad
        return total

    return step


def _load_weights(model, weights: list[np.ndarray], biases: list[np.ndarray]):
    """Copy the demo's starting weights into a micrograd-shaped MLP (layers of neurons)."""
    for layer, W, c in zip(model.layers, weights, biases):
        for n, row, bias in zip(layer.neurons, W.tolist(), c.tolist()):
            for w, v in zip(n.w, row):
                w.data = v
            n.b.data = bias
    return model


def _demo_model():
    import tinygrad_edu as tg
    from tinygrad_edu import value_nn

    tg.manual_seed(1337)
    return value_nn.MLP(2, [16, 16, 1])


def _model_arrays(model) -> tuple[list[np.ndarray], list[np.ndarray]]:
    weights = [np.array([[w.data for w in n.w] for n in layer.neurons]) for layer in model.layers]
    biases = [np.array([n.b.data for n in layer.neurons]) for layer in model.layers]
    return weights, biases


def w3(cfg: Config) -> list[Row]:
    """micrograd's demo: MLP(2, [16, 16, 1]) on 100 moons, full-batch step."""
    import micrograd_nn

    from tinygrad_edu import Value

    X, y = make_moons(100)
    Xl, yl = X.tolist(), y.tolist()
    weights, biases = _model_arrays(_demo_model())

    def numpy_make():
        net = HandMoonsNet(weights, biases, W3_LR, ALPHA)
        return lambda: net.step(X, y)

    def tg_make():
        model = _demo_model()
        return _value_step(Value, model, Xl, yl)

    def tg_micrograd_code_make():
        model = _load_weights(micrograd_nn.MLP(2, [16, 16, 1]), weights, biases)
        return _value_step(Value, model, Xl, yl)

    contenders = [
        Contender("NumPy, hand-written", numpy_make, note="float64, same network"),
        Contender("tinygrad_edu Value + value_nn", tg_make),
        Contender(
            "tinygrad_edu Value, micrograd's nn.py",
            tg_micrograd_code_make,
            note="micrograd's Neuron/Layer/MLP verbatim (bench/micrograd_nn.py): its 2n nodes",
        ),
    ]
    micrograd = f"micrograd {micrograd_version()}"
    if micrograd_version():

        def micrograd_make():
            from micrograd import nn
            from micrograd.engine import Value as MValue

            model = _load_weights(nn.MLP(2, [16, 16, 1]), weights, biases)
            return _value_step(MValue, model, Xl, yl)

        contenders.append(
            Contender(
                micrograd,
                micrograd_make,
                note="its own engine and nn.py; inputs as Python floats (its fast case)",
            )
        )
    firsts: dict[str, float] = {}
    rows = measure(
        "W3 moons MLP(2,[16,16,1]) n100",
        [recording(c, firsts) for c in contenders],
        baseline="NumPy, hand-written",
        rounds=cfg.slow_rounds,
        warmup=cfg.warmup,
        min_sample_s=cfg.min_sample_s,
        settle=True,  # micrograd timed in a training loop's steady state, not on a clean heap
    )
    check_losses(rows, firsts, "NumPy, hand-written", rtol=1e-9)
    if micrograd_version():
        for row in rows:
            if row.contender.startswith("tinygrad_edu"):
                wall = 1.0 / paired_ratio(rows, row.contender, micrograd)
                cpu = 1.0 / paired_ratio(rows, row.contender, micrograd, cpu=True)
                row.note = (row.note + "; " if row.note else "") + (
                    f"{wall:.1f}x faster than micrograd (CPU time: {cpu:.1f}x)"
                )
    else:
        rows.append(Row(rows[0].workload, "micrograd", note="not installed"))
    return rows


# --- W4: backward through long Value chains -------------------------------------------------


def _chain(n: int):
    from tinygrad_edu import Value

    leaf = Value(1.0)
    x = leaf
    for _ in range(n - 1):
        x = x.relu()  # one node per op: the chain has exactly n nodes
    return leaf, x


def w4(cfg: Config) -> list[Row]:
    """backward() through chains of 250k, 500k and 1M Value nodes (time per node)."""
    rows = []
    for n in cfg.chain_sizes:
        times, cpu_times, builds = [], [], []
        ok = True
        for _ in range(cfg.chain_reps):
            t0 = time.perf_counter()
            leaf, root = _chain(n)
            builds.append(time.perf_counter() - t0)
            t0, cpu0 = time.perf_counter(), time.process_time()
            root.backward()
            times.append(time.perf_counter() - t0)
            cpu_times.append(time.process_time() - cpu0)
            ok = ok and leaf.grad == 1.0
            del leaf, root
            gc.collect()
        med = statistics.median(times)
        rows.append(
            Row(
                "W4 Value chain backward",
                f"tinygrad_edu, {n:,} nodes",
                med,
                min(times),
                max(times),
                note=(
                    f"{med / n * 1e9:.0f} ns/node; CPU time {statistics.median(cpu_times):.2f} s; "
                    f"build {statistics.median(builds):.2f} s; "
                    + ("grad correct" if ok else "WRONG GRADIENT")
                ),
                unit="backward",
            )
        )
    if has_module("micrograd"):
        from micrograd.engine import Value as MValue

        x = MValue(1.0)
        for _ in range(2000):
            x = x.relu()
        try:
            x.backward()
            status = "works at 2,000 nodes"
        except RecursionError:
            status = "RecursionError at 2,000 nodes (recursive topological sort)"
        rows.append(Row("W4 Value chain backward", "micrograd", note=status))
    return rows


# --- W6: start-up ---------------------------------------------------------------------------


def w6(cfg: Config) -> list[Row]:
    """Wall time of fresh interpreters: import tinygrad_edu, import numpy, cli summary."""
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "import numpy": [sys.executable, "-c", "import numpy"],
        "import tinygrad_edu": [sys.executable, "-c", "import tinygrad_edu"],
    }
    missing = []
    if "summary" in cli_commands():
        spec = os.path.join("specs", "mlp.yaml")
        args = [spec] if os.path.exists(os.path.join(ROOT, spec)) else []
        commands["python cli.py summary " + " ".join(args)] = [
            sys.executable,
            "cli.py",
            "summary",
            *args,
        ]
    else:
        missing.append("not available yet: needs `python cli.py summary`")
    times: dict[str, list[float]] = {k: [] for k in commands}
    failed: dict[str, str] = {}
    for r in range(cfg.startup_reps + 1):
        for name, cmd in commands.items():
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=_user_env())
            elapsed = time.perf_counter() - t0
            if proc.returncode != 0:
                failed[name] = (proc.stderr.strip().splitlines() or ["?"])[-1][:80]
            if r > 0:  # the first round warms the file cache
                times[name].append(elapsed)
    base = times["import numpy"]
    rows = []
    for name, samples in times.items():
        note = f"FAILED: {failed[name]}" if name in failed else ""
        rows.append(
            Row(
                "W6 start-up (fresh process)",
                name,
                statistics.median(samples),
                min(samples),
                max(samples),
                ratio=statistics.median(s / b for s, b in zip(samples, base)),
                note=note or ("ratio: vs import numpy" if name == "import numpy" else ""),
                unit="run",
            )
        )
    rows += [Row("W6 start-up (fresh process)", "python cli.py summary", note=m) for m in missing]
    return rows


# --- W5 / W7 / W8: slots that need pieces still being built ---------------------------------


def w5(cfg: Config) -> list[Row]:
    """End-to-end ``python cli.py train specs/mlp.yaml``: wall time, samples/s, peak RSS.

    Timed as a user types it (the plots included, when matplotlib is installed) and with
    ``--no-plots`` (the training alone); each both compiled (the default) and eager, and
    the same command from ``--previous`` (a checkout of an earlier release), if given."""
    spec = os.path.join("specs", "mlp.yaml")
    if "train" not in cli_commands():
        return [Row("W5 cli train", "-", note="not available yet: needs `python cli.py train`")]
    if not os.path.exists(os.path.join(ROOT, spec)):
        return [Row("W5 cli train", "-", note=f"not available yet: needs {spec}")]
    extra = ["--epochs", "2"] if cfg.quick else []
    contenders = {  # label: (checkout, flags); this checkout's both explicit
        "compiled": (ROOT, ["--set", "train.compile=true"]),
        "eager": (ROOT, ["--set", "train.compile=false"]),
    }
    if cfg.previous:
        contenders = {"previous release": (os.path.abspath(cfg.previous), []), **contenders}
    modes = {"with plots": []} if has_module("matplotlib") else {}
    modes["--no-plots"] = ["--no-plots"]
    base = next(iter(contenders))
    for checkout in {checkout for checkout, _ in contenders.values()}:  # writes its bytecode
        with tempfile.TemporaryDirectory() as out_dir:
            _timed_run(["cli.py", "train", spec, "--out", out_dir, "--epochs", "1"], checkout)
    rows = []
    for mode, mode_flags in modes.items():
        runs_of: dict[str, dict[str, Any]] = {
            c: {"walls": [], "rates": [], "rss": 0} for c in contenders
        }
        for _ in range(1 if cfg.quick else 3):
            for label, (checkout, flags) in contenders.items():  # interleaved: drifts hit all
                with tempfile.TemporaryDirectory() as out_dir:
                    cmd = ["cli.py", "train", spec, "--out", out_dir, *mode_flags, *extra, *flags]
                    result = _timed_run(cmd, checkout)
                if isinstance(result, str):
                    return [Row("W5 cli train", f"{label} {mode}", note=f"FAILED: {result}")]
                wall, rss, stdout = result
                record = runs_of[label]
                record["walls"].append(wall)
                record["rss"] = max(record["rss"], rss)
                printed = re.findall(r"([\d][\d,]*)\s*samples/s", stdout)
                if printed:
                    record["rates"].append(int(printed[-1].replace(",", "")))
                record["accuracy"] = re.findall(r"test[_ ]accuracy\D*([\d.]+)", stdout)[-1:]
        for label, (_, flags) in contenders.items():
            record = runs_of[label]
            note = f"peak RSS {record['rss'] / 1024:.0f} MiB"
            if record["rates"]:
                note += f"; last epoch {statistics.median(record['rates']):,.0f} samples/s"
            if record.get("accuracy"):
                note += f"; test accuracy {record['accuracy'][0]}"
            walls = record["walls"]
            ratio = statistics.median(w / b for w, b in zip(walls, runs_of[base]["walls"]))
            command = f"python cli.py train {spec} {' '.join(mode_flags + extra + flags)}"
            rows.append(
                Row(
                    f"W5 cli train, {mode}",
                    f"{label}: {command.strip()}",
                    statistics.median(walls),
                    min(walls),
                    max(walls),
                    ratio=ratio,
                    note=note + (f"; ratio: vs {base}" if label == base else ""),
                    unit="run",
                )
            )
    return rows


_W5_PROBE = (  # a fresh parent per run, so RUSAGE_CHILDREN sees that training process alone
    "import json, resource, subprocess, sys, time\n"
    "t0 = time.perf_counter()\n"
    "p = subprocess.run(json.loads(sys.argv[1]), capture_output=True, text=True)\n"
    "wall = time.perf_counter() - t0\n"
    "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "sys.stdout.write(p.stdout + p.stderr)\n"
    "print(f'@@ rc={p.returncode} wall={wall} maxrss_kib={rss}')\n"
)


def _user_env() -> dict[str, str]:
    """This environment, with bytecode cached as after ``pip install``: a
    PYTHONDONTWRITEBYTECODE would time compiling every module at each start (W5, W6)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _timed_run(cmd: list[str], cwd: str) -> tuple[float, int, str] | str:
    """(wall seconds, peak RSS in KiB, output) of ``python *cmd`` in `cwd`, or why it failed."""
    proc = subprocess.run(
        [sys.executable, "-c", _W5_PROBE, json.dumps([sys.executable, *cmd])],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=_user_env(),
    )
    m = re.search(r"@@ rc=(-?\d+) wall=([\d.e-]+) maxrss_kib=(\d+)", proc.stdout)
    if not m or int(m.group(1)) != 0:
        return (proc.stdout.split("@@")[0] + proc.stderr).strip()[-120:]
    return float(m.group(2)), int(m.group(3)), proc.stdout


_W7_CHILD = r"""
import sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import workloads
from baselines import classification_batch, init_mlp

def rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * __import__("os").sysconf("SC_PAGE_SIZE") / 2**20

weights, biases = init_mlp([784, 128, 10])
x, y = classification_batch(32, 784, 10)
make = workloads.tg_nn_step if workloads.has_module("tinygrad_edu.optim") else workloads.tg_mlp_step
step = make(weights, biases, x, y, workloads.LR)
for i in range(1, 2001):
    step()
    if i in (200, 2000):
        print(f"@@ {i} {rss_mib():.2f}", flush=True)
"""


def w7(cfg: Config) -> list[Row]:
    """Resident memory after 200 and 2000 train steps of W1 (b32) in a fresh process."""
    if not os.path.exists("/proc/self/statm"):
        return [Row("W7 memory growth", "-", note="skipped: needs /proc/self/statm (Linux)")]
    bench_dir = os.path.dirname(os.path.abspath(__file__))
    proc = subprocess.run(
        [sys.executable, "-c", _W7_CHILD, bench_dir, ROOT], capture_output=True, text=True
    )
    found = dict(re.findall(r"@@ (\d+) ([\d.]+)", proc.stdout))
    if "200" not in found or "2000" not in found:
        return [Row("W7 memory growth", "-", note=f"FAILED: {proc.stderr.strip()[-100:]}")]
    a, b = float(found["200"]), float(found["2000"])
    note = (
        f"RSS {a:.1f} MiB after 200 steps, {b:.1f} MiB after 2000 "
        f"({b - a:+.1f} MiB); engine loop, not `python cli.py train`"
    )
    return [Row("W7 memory growth", "tinygrad_edu, W1 b32 train loop", note=note)]


def w8(cfg: Config) -> list[Row]:
    """W2's network at batch 4096 on a CUDA GPU: CuPy backend vs hand-written CuPy vs torch."""
    import tinygrad_edu as tg
    from tinygrad_edu.backend import BackendError

    workload = "W8 GPU 784-1024-1024-10 b4096"
    try:
        tg.set_backend("cupy")
    except BackendError as error:
        reason = "no CUDA device" if "CUDA" in str(error) else str(error)
        return [Row(workload, "-", note=f"skipped: {reason}")]
    finally:
        tg.set_backend("numpy")
    import cupy

    sizes, batch = [784, 1024, 1024, 10], 4096
    weights, biases = init_mlp(sizes)
    x, y = classification_batch(batch, sizes[0], sizes[-1])

    def tg_on(backend_name):
        def make():
            build = tg_nn_step if has_module("tinygrad_edu.optim") else tg_mlp_step
            step = build(weights, biases, x, y, LR, backend=backend_name)
            b = tg.get_backend()
            if backend_name == "cupy":

                def synced():
                    loss = step()
                    cupy.cuda.get_current_stream().synchronize()
                    return loss

                return _with_backend(b, synced)
            return _with_backend(b, step)

        return make

    contenders = [
        Contender("CuPy, hand-written", lambda: hand_mlp_step(weights, biases, x, y, LR, xp=cupy)),
        Contender("tinygrad_edu Tensor, cupy", tg_on("cupy")),
        Contender("NumPy, hand-written (CPU)", lambda: hand_mlp_step(weights, biases, x, y, LR)),
        Contender("tinygrad_edu Tensor, numpy (CPU)", tg_on("numpy")),
    ]
    torch = torch_or_none(cfg.threads)
    if torch is not None and torch.cuda.is_available():
        contenders.append(
            Contender(
                "PyTorch eager CUDA",
                lambda: torch_mlp_step(weights, biases, x, y, LR, device="cuda"),
                note=f"torch {torch.__version__}",
            )
        )
    firsts: dict[str, float] = {}
    rows = measure(
        workload,
        [recording(c, firsts) for c in contenders],
        baseline="CuPy, hand-written",
        rounds=cfg.rounds,
        warmup=cfg.warmup,
        min_sample_s=cfg.min_sample_s,
    )
    tg.set_backend("numpy")
    check_losses(rows, firsts, "CuPy, hand-written", rtol=1e-3)
    rows[0].note = (rows[0].note + "; " if rows[0].note else "") + "ratio baseline (GPU)"
    return rows


def _with_backend(b, step):
    """Run ``step`` with tinygrad_edu's backend ``b`` active (contenders are interleaved)."""
    from tinygrad_edu import backend

    def run():
        backend.active = b
        return step()

    return run


WORKLOADS: dict[str, Callable[[Config], list[Row]]] = {
    "W1": w1,
    "W2": w2,
    "W3": w3,
    "W4": w4,
    "W5": w5,
    "W6": w6,
    "W7": w7,
    "W8": w8,
}
