"""Command-line interface: ``python cli.py COMMAND ...`` or the ``tinygrad-edu`` script.

This module only parses arguments and calls the library; each command is a function
``cmd_<name>(args) -> int`` registered in `build_parser`. User errors (`UserError`) are
printed as one paragraph on stderr with exit code 2, never as a traceback; a spec's
problems are printed one per line, as ``file:line:column: key.path: message``.

Heavy modules (pydantic, PyYAML, rich) are imported inside the commands, so that
``--help`` and every command start fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .arguments import non_negative_int as _non_negative_int
from .arguments import positive_int as _positive_int
from .arguments import seed, tolerance
from .errors import UserError

if TYPE_CHECKING:
    from .training.loop import TrainingInterrupted

DEFAULT_SPEC = "mlp"  # the lecture's MLP, shipped with the package (specs/mlp.yaml)

EXAMPLES = {
    "validate": "python cli.py validate specs/*.yaml",
    "schema": "python cli.py schema --out specs/schema.json",
    "summary": "python cli.py summary specs/mlp.yaml --batch-size 32 --explain "
    "--col-names output_size num_params mult_adds --depth 2",
    "gradcheck": "python cli.py gradcheck specs/mlp.yaml --batch-size 4 --tol 1e-6",
    "train": "python cli.py train specs/mlp.yaml --epochs 3 --lr 0.05 --out runs/try",
    "evaluate": "python cli.py evaluate runs/mnist-mlp/20261125-120000",
    "predict": "python cli.py predict runs/mnist-mlp/20261125-120000 --input examples/digits.csv "
    "--output preds.csv",
    "sweep": "python cli.py sweep specs/universal_approximation.yaml --jobs 2",
    "plot": "python cli.py plot runs/mnist-mlp/20261125-120000",
    "graph": "python cli.py graph specs/mlp.yaml --out graph.svg",
    "compare": "python cli.py compare runs/activation-none runs/activation-relu",
    "runs": "python cli.py runs runs/",
    "backprop": "python cli.py backprop 'c = a * b; L = c + a' --set a=2 b=-3 --frames frames/",
    "examples": "python cli.py examples --copy mlp my_specs",
    "spec": "python cli.py spec examples/extends/wide.yaml --resolved --set train.epochs=5",
    "export": "python cli.py export runs/mnist-mlp/20261125-120000 --format onnx",
    "playground": "python cli.py playground specs/activation_relu.yaml --no-browser",
}


def _formatter() -> type[argparse.HelpFormatter]:
    try:
        from rich_argparse import RawDescriptionRichHelpFormatter

        return RawDescriptionRichHelpFormatter
    except ImportError:  # rich-argparse is a core dependency; this is only a safety net
        return argparse.RawDescriptionHelpFormatter


def build_parser() -> argparse.ArgumentParser:
    formatter = _formatter()
    parser = argparse.ArgumentParser(
        prog="tinygrad-edu",
        description="Train and inspect small neural networks declared in YAML specs.",
        epilog="Run 'python cli.py COMMAND --help' for the options and an example of each command.",
        formatter_class=formatter,
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help: str, example: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=help,
            description=help,
            epilog=f"example:\n  {example}",
            formatter_class=formatter,
        )

    p = command("validate", "Check spec files and report every problem.", EXAMPLES["validate"])
    p.add_argument("specs", nargs="+", metavar="SPEC", help="spec files or example names")
    add_import_option(p)
    p.set_defaults(handler=cmd_validate)

    p = command("schema", "Print the JSON Schema of spec files.", EXAMPLES["schema"])
    p.add_argument("--out", metavar="FILE", help="write it to FILE (atomically) instead")
    p.set_defaults(handler=cmd_schema)

    p = command("summary", "Show a spec's model as torchinfo's table.", EXAMPLES["summary"])
    p.add_argument(
        "spec",
        nargs="?",
        default=DEFAULT_SPEC,
        help=f"spec file or example name (default: {DEFAULT_SPEC}, the lecture's MLP)",
    )
    p.add_argument(
        "--batch-size", type=_positive_int, default=32, help="batch size of the input (default: 32)"
    )
    p.add_argument(
        "--explain", action="store_true", help="also explain each layer's parameter count"
    )
    p.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="output format (default: table)",
    )
    _add_torchinfo_options(p)
    add_import_option(p)
    p.set_defaults(handler=cmd_summary)

    p = command(
        "gradcheck",
        "Check a spec's model's gradients against finite differences (float64).",
        EXAMPLES["gradcheck"],
    )
    p.add_argument("spec", help="spec file or example name")
    p.add_argument(
        "--batch-size", type=_positive_int, default=4, help="random batch size (default: 4)"
    )
    p.add_argument(
        "--tol", type=tolerance, default=1e-6, help="largest relative error allowed (default: 1e-6)"
    )
    p.add_argument(
        "--max-elements",
        type=_non_negative_int,
        default=256,
        metavar="N",
        help="check N random elements of each parameter, 0 for all (default: 256)",
    )
    p.add_argument("--seed", type=seed, default=0, help="seed of the random batch (default: 0)")
    add_import_option(p)
    p.set_defaults(handler=cmd_gradcheck)

    p = command("train", "Train a spec's model and write a run folder.", EXAMPLES["train"])
    p.add_argument("spec", nargs="?", help="spec file or example name (optional with --resume)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR")
    p.add_argument("--epochs", type=_positive_int, help="override train.epochs")
    p.add_argument("--batch-size", type=_positive_int, help="override train.batch_size")
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

    p = command(
        "sweep", "Train a spec at every point of a grid of fields and seeds.", EXAMPLES["sweep"]
    )
    p.add_argument("spec", nargs="?", help="spec file or example name (--resume: optional)")
    p.add_argument("--path", help="dotted key path of the field (default: the spec's sweep:)")
    p.add_argument("--values", nargs="+", metavar="VALUE", help="its values (YAML scalars)")
    p.add_argument("--out", metavar="DIR", help="sweep folder (default: runs/<name>-sweep/...)")
    add_sweep_options(p)
    talk = p.add_mutually_exclusive_group()
    talk.add_argument("--quiet", action="store_true", help="print only the final table")
    talk.add_argument(
        "--verbose", action="store_true", help="print every run's full log, not one line per run"
    )
    p.add_argument("--no-plots", action="store_true", help="do not write PNG plots at the end")
    add_import_option(p)
    p.set_defaults(handler=cmd_sweep)

    p = command("plot", "Write the PNG plots of a run or sweep folder.", EXAMPLES["plot"])
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run or sweep folder")
    p.add_argument(
        "--units",
        type=_positive_int,
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

    p = command("graph", "Draw one forward and backward pass of a spec's model.", EXAMPLES["graph"])
    p.add_argument("spec", help="spec file or example name")
    p.add_argument("--batch-size", type=_positive_int, default=2, help="batch size (default: 2)")
    p.add_argument(
        "--out",
        metavar="FILE",
        help="graph.dot (DOT text), or graph.svg, .png, .pdf (rendered by Graphviz's dot)",
    )
    add_import_option(p)
    p.set_defaults(handler=cmd_graph)

    p = command(
        "compare", "Runs side by side: metrics, spec differences, curves.", EXAMPLES["compare"]
    )
    p.add_argument("runs", nargs="+", metavar="RUN_OR_SWEEP", help="run, sweep or runs folders")
    p.add_argument(
        "--out", metavar="FILE", help="curves (default: compare.png in the folder of the runs)"
    )
    p.add_argument("--no-plots", action="store_true", help="do not write the curves")
    p.set_defaults(handler=cmd_compare)

    p = command("runs", "List the runs in a folder, with their status.", EXAMPLES["runs"])
    p.add_argument("folder", nargs="?", default="runs", help="where to look (default: runs)")
    p.set_defaults(handler=cmd_runs)

    p = command(
        "backprop", "Explain the backward pass of a scalar expression.", EXAMPLES["backprop"]
    )
    p.add_argument("expression", metavar="EXPR", help="e.g. 'c = a * b; L = relu(c) + a'")
    p.add_argument(
        "--set",
        nargs="+",
        default=[],
        metavar="NAME=NUMBER",
        dest="values",
        help="the inputs' values, e.g. --set a=2 b=-3",
    )
    p.add_argument("--frames", metavar="DIR", help="write one SVG per step into DIR (needs dot)")
    p.add_argument(
        "--gif",
        metavar="FILE",
        help="write the steps as one animated GIF, for slides (needs dot and Pillow)",
    )
    p.set_defaults(handler=cmd_backprop)

    p = command("evaluate", "Metrics of a trained run on its test split.", EXAMPLES["evaluate"])
    p.add_argument(
        "run_dir",
        metavar="RUN_DIR",
        help="a run folder written by train, a sweep folder, an exported .safetensors, or a spec "
        "with init.from",
    )
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    add_import_option(p)
    p.set_defaults(handler=cmd_evaluate)

    p = command("predict", "Predict with a trained run.", EXAMPLES["predict"])
    p.add_argument(
        "run_dir",
        metavar="RUN_DIR",
        help="a run folder written by train, an exported .safetensors, or a spec with init.from",
    )
    p.add_argument("--input", required=True, metavar="FILE", help="features: .csv or .npz (X)")
    p.add_argument(
        "--output", required=True, metavar="FILE", help="CSV of predictions (- for stdout)"
    )
    add_import_option(p)
    p.set_defaults(handler=cmd_predict)

    examples = "List the example specs shipped with the package, or copy one."
    # 'specs' is the old name, one letter from 'spec': it still works, unlisted, naming the new one
    old_name = sub.add_parser("specs", description=f"The old name of 'examples'. {examples}")
    for p in (command("examples", examples, EXAMPLES["examples"]), old_name):
        p.add_argument(
            "--copy",
            nargs=2,
            metavar=("NAME", "DIR"),
            help="copy the example NAME into the folder DIR to edit it (never overwrites)",
        )
        p.set_defaults(handler=cmd_examples)

    p = command("spec", "Print a spec with its bases merged, or fully resolved.", EXAMPLES["spec"])
    p.add_argument("spec", help="spec file or example name")
    p.add_argument(
        "--resolved",
        action="store_true",
        help="with --set applied, references resolved and every default: the run's spec.yaml",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override any spec field by its dotted path (with --resolved), as train does",
    )
    add_import_option(p)
    # _overrides also reads train's own flags: spec has only --set
    p.set_defaults(handler=cmd_spec, epochs=None, batch_size=None, lr=None, seed=None)
    p.set_defaults(backend=None, init_from=None)

    p = command("export", "Export a trained run's model for other tools.", EXAMPLES["export"])
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written by train")
    p.add_argument(
        "--format", required=True, choices=("safetensors", "onnx", "torch"), help="what to write"
    )
    p.add_argument(
        "--out",
        metavar="PATH",
        help="file or folder (default: RUN_DIR/model.<format>, RUN_DIR/torch)",
    )
    p.add_argument(
        "--include-preprocessing",
        action="store_true",
        help="onnx: normalize raw inputs inside the graph (raw pixels in, logits out)",
    )
    p.add_argument(
        "--probabilities", action="store_true", help="onnx: end with Softmax (probabilities out)"
    )
    p.add_argument("--force", action="store_true", help="torch: write into a non-empty folder")
    add_import_option(p)
    p.set_defaults(handler=cmd_export)

    p = command("playground", "Train networks live in the browser.", EXAMPLES["playground"])
    p.add_argument("spec", nargs="?", help="open with this spec's settings (default: circles)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: 8765, or the next free one)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    add_import_option(p)
    p.set_defaults(handler=cmd_playground)
    from .exercises.command import add_parser as add_exercises  # its own module: cli.py is full

    add_exercises(sub, formatter)
    return parser


def add_import_option(parser: argparse.ArgumentParser) -> None:
    """Give a command ``--import MODULE`` (repeatable), for specs that name layer types
    registered by the user's own code; `main` imports the modules before the command runs."""
    parser.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE first, so the layer types it registers can be named in specs "
        "(repeatable; the current folder is searched first)",
    )


def add_sweep_options(parser: argparse.ArgumentParser) -> None:
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
        "--repeats", type=_positive_int, metavar="N", help="run every point with N seeds"
    )
    parser.add_argument(
        "--jobs", type=_positive_int, default=1, metavar="N", help="train N runs at a time"
    )
    parser.add_argument(
        "--resume", metavar="DIR", help="continue the sweep in DIR (or add values to it)"
    )


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


def _version() -> str:
    from . import __version__

    return f"tinygrad-edu {__version__}"


# --- commands -------------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    from .runs import init_problems
    from .spec import check_spec_file

    failed = 0
    for path in args.specs:
        try:
            check_spec_file(path, more_checks=[init_problems])
        except UserError as error:
            failed += 1
            _print_error(error)
        else:
            print(f"OK  {path}")
    return 2 if failed else 0


def cmd_schema(args: argparse.Namespace) -> int:
    import json

    from .spec import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if args.out is None:
        sys.stdout.write(text)
        return 0
    from .io.atomic import write_text_atomic

    write_text_atomic(args.out, text)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def _add_torchinfo_options(p: argparse.ArgumentParser) -> None:
    """torchinfo's summary options, with its names (the lists of summary.COLUMNS and
    ROW_SETTINGS, repeated so that parsing does not import the engine)."""
    columns = ("input_size", "output_size", "num_params", "params_percent", "kernel_size")
    columns += ("mult_adds", "trainable")
    p.add_argument(
        "--col-names",
        nargs="+",
        choices=columns,
        metavar="COLUMN",
        help=f"columns, in order: {' '.join(columns)} (default: output_size num_params)",
    )
    p.add_argument(
        "--depth", type=int, default=3, help="show layers down to this depth (default: 3)"
    )
    p.add_argument(
        "--verbose",
        type=int,
        choices=(0, 1, 2),
        default=1,
        help="0: no table, 1: the table, 2: also one row per parameter tensor (default: 1)",
    )
    settings = ("depth", "var_names", "ascii_only", "hide_recursive_layers")
    p.add_argument(
        "--row-settings",
        nargs="+",
        choices=settings,
        metavar="SETTING",
        help=f"row labels: {' '.join(settings)} (default: depth)",
    )
    p.add_argument(
        "--mode",
        choices=("eval", "train"),
        default="eval",
        help="the model's mode during the forward pass (default: eval)",
    )


def cmd_summary(args: argparse.Namespace) -> int:
    import json

    from .spec import build_model, load_spec
    from .spec.limits import check_memory
    from .summary import summary

    spec = load_spec(args.spec)
    check_memory(spec, args.batch_size, training=False)
    result = summary(
        build_model(spec),
        input_size=(args.batch_size, *spec.model.input),
        col_names=args.col_names,
        depth=args.depth,
        verbose=args.verbose if args.format == "table" else 0,  # verbose > 0 prints the table
        row_settings=args.row_settings,
        mode=args.mode,
    )
    if args.format == "json":
        data = result.to_dict()
        if args.explain:
            data["explanation"] = result.explain()
        print(json.dumps(data, indent=2))
        return 0
    if args.explain:
        if args.verbose:
            print()
        print(result.explain())
    return 0


def cmd_gradcheck(args: argparse.Namespace) -> int:
    import math

    from rich.console import Console
    from rich.table import Table

    from .spec import gradient_check, load_spec
    from .spec.limits import check_memory

    spec = load_spec(args.spec)
    check_memory(spec, args.batch_size, training=False)
    checks = gradient_check(
        spec, batch_size=args.batch_size, max_elements=args.max_elements or None, seed=args.seed
    )
    table = Table(title=f"gradient check of {args.spec} (float64, batch {args.batch_size})")
    for column in ("parameter", "shape", "checked", "max abs error", "max rel error", ""):
        table.add_column(column, justify="left" if column in ("parameter", "") else "right")
    failed = 0
    for check in checks:
        ok = check.max_rel_error <= args.tol
        failed += not ok
        table.add_row(
            check.name,
            "x".join(map(str, check.shape)),
            f"{check.checked:,} of {math.prod(check.shape):,}",
            f"{check.max_abs_error:.2e}",
            f"{check.max_rel_error:.2e}",
            "ok" if ok else f"FAIL at {list(check.worst_index)}",
        )
    console = Console()
    console.print(table, soft_wrap=True)
    verdict = f"{failed} of {len(checks)} parameters exceed" if failed else "all parameters within"
    console.print(f"{verdict} the tolerance {args.tol:g} (relative error)")
    return 1 if failed else 0


def _overrides(args: argparse.Namespace) -> dict[str, object]:
    """The spec fields that train's flags change, by dotted path."""
    flags = {
        "train.epochs": args.epochs,
        "train.batch_size": args.batch_size,
        "optimizer.lr": args.lr,
        "seed": args.seed,
        "backend": args.backend,
        "train.tensorboard": True if getattr(args, "tensorboard", False) else None,
    }
    overrides: dict[str, object] = {k: v for k, v in flags.items() if v is not None}
    for item in args.set:
        path, sep, value = item.partition("=")
        if not sep or not path:
            raise UserError(f"--set takes PATH=VALUE, e.g. --set train.epochs=3; got {item!r}")
        overrides[path.strip()] = value
    overrides.update(_train_switches(args, overrides))
    if getattr(args, "init_from", None):
        from pathlib import Path

        overrides["init.from"] = str(Path(args.init_from).resolve())
    return overrides


def _train_switches(args: argparse.Namespace, overrides: dict[str, object]) -> dict[str, object]:
    """--engine, --diagnostics, --snapshots as spec fields; --engine value also sets dtype
    float64 (what the scalar engine computes in) unless --set gives a dtype."""
    switches: dict[str, object] = {}
    if getattr(args, "engine", None):
        switches["train.engine"] = args.engine
        if args.engine == "value" and "dtype" not in overrides:
            switches["dtype"] = "float64"
    for name in ("diagnostics", "snapshots"):
        if getattr(args, name, False):
            switches[f"train.{name}"] = True
    return switches


def cmd_train(args: argparse.Namespace) -> int:
    from . import runs
    from .training.loop import TrainingInterrupted

    if args.spec is None and args.resume is None:
        raise UserError("train needs a spec file, e.g. python cli.py train specs/mlp.yaml")
    try:
        final = runs.train(
            args.spec, _overrides(args), args.out, args.resume, args.quiet, args.json
        )
    except TrainingInterrupted as stop:
        return _interrupted(stop)
    if args.quiet and not args.json:  # quiet, but a script still learns where the run is
        print(f"run folder: {final['run_dir']}")
    if not args.no_plots:
        _plots(final["run_dir"], quiet=args.quiet)
    if args.json:
        runs.print_json(final)
    return 0


def _interrupted(stop: TrainingInterrupted, note: str = "") -> int:
    """The stop message with the command that continues the run; returns the exit code."""
    print(
        f"interrupted ({stop.signal_name}) at epoch {stop.epoch}, step {stop.step}: "
        f"checkpoint saved in {stop.run_dir}.{note} Resume with:\n"
        f"  python cli.py train --resume {stop.run_dir}",
        file=sys.stderr,
    )
    return stop.exit_code


def _plots(folder: str, quiet: bool) -> None:
    """Write the plots of a finished run; a missing matplotlib is one line, not an error."""
    from .viz.plots import try_plot_run

    message = try_plot_run(folder)
    if message and not quiet:
        print(message, file=sys.stderr)


def cmd_sweep(args: argparse.Namespace) -> int:
    from rich.console import Console

    from .runs.sweep import SweepInterrupted, run_sweep

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
        _plots(str(result.folder), quiet=args.quiet)
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .training.layout import SWEEP_CSV
    from .viz.plots import plot_run, plot_sweep

    folder = Path(args.run_dir)
    if not folder.is_dir():
        raise UserError(f"run folder not found: {folder}")
    if args.animate:
        from .viz.plots import animate_run

        written = [animate_run(folder)]
    elif (folder / SWEEP_CSV).is_file():
        written = plot_sweep(folder)
    else:
        written = plot_run(folder, units=args.units)
    for path in written:
        print(f"wrote {path}")
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    from .spec import load_spec
    from .spec.limits import check_memory
    from .viz.graphs import RENDERED_FORMATS, graph_dot, graph_format, require_dot, write_graph

    # an unknown extension is refused before any work, a missing dot once the spec is read
    fmt = graph_format(args.out) if args.out is not None else "dot"
    spec = load_spec(args.spec)
    check_memory(spec, args.batch_size, training=False)
    if fmt in RENDERED_FORMATS:
        require_dot(f"--out {args.out}", "--out graph.dot writes the DOT text without it")
    dot = graph_dot(spec, batch_size=args.batch_size)
    if args.out is None:
        sys.stdout.write(dot)
    else:
        print(f"wrote {write_graph(dot, args.out)}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .io.atomic import check_writable_file
    from .runs import compare
    from .runs.record import describe, read_record
    from .viz.compare import learning_curves

    runs = compare.expand(args.runs)
    out = Path(args.out) if args.out else compare.default_picture(runs)
    if not args.no_plots:
        check_writable_file(out)  # before the tables, not after them
    console = _wide_console()
    for table in compare.compare_tables(runs):
        console.print(table)
    for label, run in zip(compare.run_labels(runs), runs):
        console.print(f"{label}: {describe(read_record(run))}", soft_wrap=True)
    if not args.no_plots:
        from .viz.figures import PlotsUnavailable

        try:
            print(f"wrote {learning_curves(runs, out)}")
        except PlotsUnavailable as missing:
            print(missing)
    return 0


def _wide_console() -> Any:
    """A rich console that does not cut tables at 80 columns when output is not a terminal."""
    from rich.console import Console

    return Console(highlight=False, width=None if sys.stdout.isatty() else 200)


def _held_out(final: dict[str, float], metric: str) -> str:
    """A run's final validation metric, else its test metric, formatted; '-' if neither."""
    from .training.progress import format_metric

    key = next((k for k in (f"val_{metric}", f"test_{metric}") if k in final), None)
    return format_metric(final[key]) if key else "-"


def cmd_runs(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rich.table import Table

    from .runs import compare

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
    _wide_console().print(table)
    return 0


def cmd_backprop(args: argparse.Namespace) -> int:
    from .explain import backprop, check_frames_target, check_gif_target, parse
    from .nonfinite import warn_non_finite

    values = {}
    for item in args.values:
        name, sep, number = item.partition("=")
        try:
            if not sep or not name.isidentifier():
                raise ValueError
            values[name] = float(number)
        except ValueError:
            raise UserError(
                f"--set {item}: expected NAME=NUMBER with a Python-style name, e.g. --set a=2 b=-3"
            ) from None
    if args.frames:
        check_frames_target(args.frames)
    if args.gif:
        check_gif_target(args.gif)
    explanation = backprop(parse(args.expression, values))
    for option, target in (("--frames", args.frames), ("--gif", args.gif)):
        if target:  # checked before the explanation is printed: a refusal prints nothing
            explanation.check_drawable(f"{option} {target}", animated=option == "--gif")
    print(explanation)
    warn_non_finite(explanation)
    if args.frames:
        paths = explanation.frames(args.frames)
        print(f"wrote {len(paths)} frames to {args.frames}")
    if args.gif:
        explanation.gif(args.gif)
        count = len(explanation.steps)
        print(f"wrote {args.gif} ({count} frame{'s' * (count != 1)})")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from . import runs
    from .runs.record import describe, read_record
    from .runs.sweep import is_sweep_folder

    if is_sweep_folder(args.run_dir):
        return _evaluate_sweep(args)
    metrics = runs.evaluate(args.run_dir)
    record = read_record(args.run_dir)
    if args.json:
        runs.print_json({**metrics, "record": record})
    else:
        print(
            "  ".join(
                f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in metrics.items()
            )
        )
        print(describe(record))
    return 0


def _evaluate_sweep(args: argparse.Namespace) -> int:
    """evaluate on a sweep folder: every run of the sweep, in the table sweep prints."""
    from rich.console import Console

    from . import runs
    from .runs.sweep import evaluate_sweep

    result = evaluate_sweep(args.run_dir)
    if args.json:
        runs.print_json({"sweep": str(result.folder), "path": result.path, "runs": result.rows})
    else:
        Console().print(result.table())
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from . import runs

    count = runs.predict(args.run_dir, args.input, args.output)
    _wrote(f"{count} predictions to ", args.output)
    return 0


def _wrote(what: str, path: object) -> None:
    """Print 'wrote WHAT PATH' on stdout, or on stderr when PATH is '-' (stdout holds the file)."""
    if str(path) == "-":
        print(f"wrote {what}standard output", file=sys.stderr)
    else:
        print(f"wrote {what}{path}")


def cmd_examples(args: argparse.Namespace) -> int:
    from .spec.shipped import copy_spec, describe, shipped_spec, spec_names

    if args.command == "specs":
        print("note: 'specs' is now called 'examples': python cli.py examples", file=sys.stderr)
    if args.copy:
        for path in copy_spec(*args.copy):
            print(f"wrote {path}")
        return 0
    names = spec_names()
    width = max(map(len, names))
    for name in names:
        print(f"{name:<{width}}  {describe(shipped_spec(name))}")
    return 0


def cmd_spec(args: argparse.Namespace) -> int:
    from .spec import find_spec, load_spec

    if args.resolved:
        from .runs import resolved_spec

        sys.stdout.write(resolved_spec(args.spec, _overrides(args)))
        return 0
    if args.set:
        raise UserError("--set changes the resolved spec: add --resolved to see it")
    from .spec.compose import composed_yaml

    load_spec(args.spec)  # its problems first, as validate reports them
    sys.stdout.write(composed_yaml(find_spec(args.spec)))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .export import export_run

    options = (args.include_preprocessing, args.probabilities, args.force)
    written = export_run(args.run_dir, args.format, args.out, *options)
    _wrote("", written)
    return 0


def cmd_playground(args: argparse.Namespace) -> int:
    from .playground import open_spec, serve

    settings, notes, spec = open_spec(args.spec) if args.spec else (None, [], None)
    browser = not args.no_browser
    return serve(settings, notes, args.host, args.port, open_browser=browser, spec=spec)


# --- entry point ------------------------------------------------------------------------------


def _print_error(error: UserError) -> None:
    """A spec's problems one per line, as compilers print them; anything else as 'error: ...'."""
    from .spec.loader import SpecError

    print(error if isinstance(error, SpecError) else f"error: {error}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line `argv`; a Ctrl-C at any moment (parsing included) is exit 130."""
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "handler", None):
            parser.print_help()
            return 0
        if getattr(args, "imports", None):
            from .spec.plugins import import_modules

            import_modules(args.imports)
        return int(args.handler(args) or 0)
    except UserError as error:
        _print_error(error)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
