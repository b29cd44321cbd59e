"""Commands that train: train (and train --resume), sweep (and sweep --resume)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ..errors import UserError
from .arguments import positive_int
from .commands import Commands
from .options import add_import_option, spec_overrides
from .output import write_plots

if TYPE_CHECKING:
    from ..training.loop import TrainingInterrupted


def add_train(commands: Commands) -> None:
    example = "python cli.py train specs/mlp.yaml --epochs 3 --lr 0.05 --out runs/try"
    p = commands.add("train", "Train a spec's model and write a run folder.", example)
    p.add_argument("spec", nargs="?", help="spec file or example name (optional with --resume)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR")
    p.add_argument("--epochs", type=positive_int, help="override train.epochs")
    p.add_argument("--batch-size", type=positive_int, help="override train.batch_size")
    p.add_argument("--lr", type=float, help="override optimizer.lr")
    p.add_argument("--seed", type=int, help="override seed")
    p.add_argument("--backend", choices=("numpy", "cupy"), help="override backend")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override any spec field by its dotted path, e.g. --set model.layers[1].linear=64",
    )
    p.add_argument("--out", metavar="DIR", help="run folder (default: runs/<name>/<timestamp>)")
    p.add_argument("--quiet", action="store_true", help="print only the run folder (and errors)")
    p.add_argument("--json", action="store_true", help="print the final metrics as JSON")
    p.add_argument("--no-plots", action="store_true", help="do not write PNG plots at the end")
    p.add_argument("--tensorboard", action="store_true", help="also write TensorBoard event files")
    p.add_argument(
        "--engine",
        choices=("tensor", "value"),
        help="train.engine: value trains on the scalar Value engine (and sets dtype float64)",
    )
    p.add_argument(
        "--diagnostics",
        action="store_true",
        help="write diagnostics.csv (dead ReLUs, gradient and weight norms per layer)",
    )
    p.add_argument(
        "--snapshots", action="store_true", help="save the weights of every epoch (plot --animate)"
    )
    add_import_option(p)
    p.add_argument(
        "--init-from",
        metavar="PATH",
        help="start from these weights (.safetensors, e.g. a PyTorch state dict): init.from",
    )
    p.set_defaults(handler=cmd_train)


def cmd_train(args: argparse.Namespace) -> int:
    from ..training import runs
    from ..training.loop import TrainingInterrupted

    if args.spec is None and args.resume is None:
        raise UserError("train needs a spec file, e.g. python cli.py train specs/mlp.yaml")
    try:
        final = runs.train(
            args.spec, spec_overrides(args), args.out, args.resume, args.quiet, args.json
        )
    except TrainingInterrupted as stop:
        return _interrupted(stop)
    if args.quiet and not args.json:  # quiet, but a script still learns where the run is
        print(f"run folder: {final['run_dir']}")
    if not args.no_plots:
        write_plots(final["run_dir"], quiet=args.quiet)
    if args.json:
        runs.print_json(final)
    return 0


def _interrupted(stop: TrainingInterrupted) -> int:
    """The stop message with the command that continues the run; returns the exit code."""
    print(
        f"interrupted ({stop.signal_name}) at epoch {stop.epoch}, step {stop.step}: "
        f"checkpoint saved in {stop.run_dir}. Resume with:\n"
        f"  python cli.py train --resume {stop.run_dir}",
        file=sys.stderr,
    )
    return stop.exit_code


def add_sweep(commands: Commands) -> None:
    p = commands.add(
        "sweep",
        "Train a spec at every point of a grid of fields and seeds.",
        "python cli.py sweep specs/universal_approximation.yaml --jobs 2",
    )
    p.add_argument("spec", nargs="?", help="spec file or example name (--resume: optional)")
    p.add_argument("--path", help="dotted key path of the field (default: the spec's sweep:)")
    p.add_argument("--values", nargs="+", metavar="VALUE", help="its values (YAML scalars)")
    p.add_argument("--out", metavar="DIR", help="sweep folder (default: runs/<name>-sweep/...)")
    _add_sweep_options(p)
    talk = p.add_mutually_exclusive_group()
    talk.add_argument("--quiet", action="store_true", help="print only the final table")
    talk.add_argument(
        "--verbose", action="store_true", help="print every run's full log, not one line per run"
    )
    p.add_argument("--no-plots", action="store_true", help="do not write PNG plots at the end")
    add_import_option(p)
    p.set_defaults(handler=cmd_sweep)


def _add_sweep_options(parser: argparse.ArgumentParser) -> None:
    """sweep's options beyond --path/--values; each replaces its key of the sweep section."""
    for flag, key in (("--grid", "grid"), ("--zip", "zip")):
        parser.add_argument(
            flag,
            dest=key,
            action="append",
            metavar="PATH=VALUES",
            help=f"sweep: {key}: entry, e.g. 'optimizer.lr=[0.01, 0.1]' or "
            "'optimizer.lr=logspace(-3, -1, 3)' (repeatable)",
        )
    seeds = parser.add_mutually_exclusive_group()
    seeds.add_argument("--seeds", nargs="+", metavar="SEED", help="run every point per seed")
    seeds.add_argument(
        "--repeats", type=positive_int, metavar="N", help="run every point with N seeds"
    )
    parser.add_argument(
        "--jobs", type=positive_int, default=1, metavar="N", help="train N runs at a time"
    )
    parser.add_argument(
        "--resume", metavar="DIR", help="continue the sweep in DIR (or add values to it)"
    )


def cmd_sweep(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ..training.sweep import SweepInterrupted, run_sweep

    try:
        result = run_sweep(
            args.spec,
            args.path,
            args.values,
            args.out,
            quiet=args.quiet,
            verbose=args.verbose,
            grid=_sweep_entries(args.grid, "--grid"),
            zip=_sweep_entries(args.zip, "--zip"),
            seeds=args.seeds,
            repeats=args.repeats,
            jobs=args.jobs,
            resume=args.resume,
            imports=args.imports,
        )
    except SweepInterrupted as stop:
        saved = ", ".join(str(run) for run in stop.runs) or "none was training"
        print(
            f"interrupted ({stop.signal_name}): the finished runs are in {stop.folder}/"
            f"sweep.csv, checkpoints saved in the unfinished ones ({saved}). Resume with:\n"
            f"  python cli.py sweep --resume {stop.folder}",
            file=sys.stderr,
        )
        return stop.exit_code
    Console().print(result.table())
    if not args.no_plots:
        write_plots(str(result.folder), quiet=args.quiet)
    return 0


def _sweep_entries(entries: list[str] | None, flag: str) -> dict[str, str] | None:
    """``--grid PATH=VALUES`` options as {path: values text}."""
    if entries is None:
        return None
    parsed = {}
    for entry in entries:
        path, sep, values = entry.partition("=")
        if not sep or not path.strip():
            raise UserError(
                f"{flag} takes PATH=VALUES, e.g. {flag} 'optimizer.lr=[0.01, 0.1]', found {entry!r}"
            )
        parsed[path.strip()] = values
    return parsed
