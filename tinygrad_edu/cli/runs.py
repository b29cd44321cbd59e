"""Commands that look at finished runs: plot, compare, runs."""

from __future__ import annotations

import argparse

from ..errors import UserError
from .arguments import positive_int
from .commands import Commands
from .options import add_import_option
from .output import wide_console


def add_plot(commands: Commands) -> None:
    p = commands.add(
        "plot",
        "Write the PNG plots of a run or sweep folder.",
        "python cli.py plot runs/mnist-mlp/20261125-120000",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run or sweep folder")
    p.add_argument(
        "--units",
        type=positive_int,
        metavar="N",
        help="first-layer weight tiles: draw the first N units (default: all)",
    )
    p.add_argument(
        "--animate",
        action="store_true",
        help="write decision_boundary.gif or fit.gif, one frame per epoch (train --snapshots)",
    )
    add_import_option(p)
    p.set_defaults(handler=cmd_plot)


def cmd_plot(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..training.sweep import SWEEP_CSV
    from ..viz.plots import plot_run, plot_sweep

    folder = Path(args.run_dir)
    if not folder.is_dir():
        raise UserError(f"run folder not found: {folder}")
    if args.animate:
        from ..viz.plots import animate_run

        written = [animate_run(folder)]
    elif (folder / SWEEP_CSV).is_file():
        written = plot_sweep(folder)
    else:
        written = plot_run(folder, units=args.units)
    for path in written:
        print(f"wrote {path}")
    return 0


def add_compare(commands: Commands) -> None:
    p = commands.add(
        "compare",
        "Runs side by side: metrics, spec differences, curves.",
        "python cli.py compare runs/activation-none runs/activation-relu",
    )
    p.add_argument("runs", nargs="+", metavar="RUN_OR_SWEEP", help="run, sweep or runs folders")
    p.add_argument(
        "--out", metavar="FILE", help="curves (default: compare.png in the folder of the runs)"
    )
    p.add_argument("--no-plots", action="store_true", help="do not write the curves")
    p.set_defaults(handler=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..training import compare
    from ..training.checkpoint import check_writable_file
    from ..training.record import describe, read_record

    runs = compare.expand(args.runs)
    out = Path(args.out) if args.out else compare.default_picture(runs)
    if not args.no_plots:
        check_writable_file(out)  # before the tables, not after them
    console = wide_console()
    for table in compare.compare_tables(runs):
        console.print(table)
    for label, run in zip(compare._labels(runs), runs):
        console.print(f"{label}: {describe(read_record(run))}", soft_wrap=True)
    if not args.no_plots:
        from ..viz.plots import PlotsUnavailable

        try:
            print(f"wrote {compare.learning_curves(runs, out)}")
        except PlotsUnavailable as missing:
            print(missing)
    return 0


def add_runs(commands: Commands) -> None:
    p = commands.add(
        "runs", "List the runs in a folder, with their status.", "python cli.py runs runs/"
    )
    p.add_argument("folder", nargs="?", default="runs", help="where to look (default: runs)")
    p.set_defaults(handler=cmd_runs)


def cmd_runs(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rich.table import Table

    from ..training import compare

    found = [compare.summarize(run) for run in compare.find_runs(args.folder)]
    if not found:
        print(f"no runs in {args.folder}: train one with python cli.py train SPEC")
        return 0
    table = Table(title=f"Runs in {args.folder}")
    for column in ("run", "started", "spec", "epochs", "held-out loss", "accuracy", "status"):
        table.add_column(column, justify="left" if column in ("run", "spec") else "right")
    for s in found:
        table.add_row(
            str(s.path.relative_to(Path(args.folder))) or ".",
            s.started.replace("T", " ")[:16],
            s.name,
            s.epochs,
            _held_out(s.final, "loss"),
            _held_out(s.final, "accuracy"),
            s.status,
        )
    wide_console().print(table)
    return 0


def _held_out(final: dict[str, float], metric: str) -> str:
    """A run's final validation metric, else its test metric, formatted; '-' if neither."""
    from ..training.progress import format_metric

    key = next((k for k in (f"val_{metric}", f"test_{metric}") if k in final), None)
    return format_metric(final[key]) if key else "-"
