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

from .errors import UserError

DEFAULT_SPEC = "specs/mlp.yaml"

EXAMPLES = {
    "validate": "python cli.py validate specs/*.yaml",
    "schema": "python cli.py schema --out specs/schema.json",
    "summary": "python cli.py summary specs/mlp.yaml --batch-size 32 --explain",
    "gradcheck": "python cli.py gradcheck specs/mlp.yaml --batch-size 4 --tol 1e-6",
    "train": "python cli.py train specs/mlp.yaml --epochs 3 --lr 0.05 --out runs/try",
    "evaluate": "python cli.py evaluate runs/mnist-mlp/20261125-120000",
    "predict": "python cli.py predict runs/mnist-mlp/20261125-120000 --input digits.csv "
    "--output preds.csv",
    "sweep": "python cli.py sweep specs/universal_approximation.yaml "
    "--path 'model.layers[0].linear.out_features' --values 1 3 6 12 48",
    "plot": "python cli.py plot runs/mnist-mlp/20261125-120000",
    "graph": "python cli.py graph specs/mlp.yaml --out graph.svg",
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
    p.add_argument("specs", nargs="+", metavar="SPEC", help="YAML spec file(s)")
    p.set_defaults(handler=cmd_validate)

    p = command("schema", "Print the JSON Schema of spec files.", EXAMPLES["schema"])
    p.add_argument("--out", metavar="FILE", help="write it to FILE (atomically) instead")
    p.set_defaults(handler=cmd_schema)

    p = command("summary", "Show a spec's model as torchinfo's table.", EXAMPLES["summary"])
    p.add_argument(
        "spec", nargs="?", default=DEFAULT_SPEC, help=f"spec file (default: {DEFAULT_SPEC})"
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
    p.set_defaults(handler=cmd_summary)

    p = command(
        "gradcheck",
        "Check a spec's model's gradients against finite differences (float64).",
        EXAMPLES["gradcheck"],
    )
    p.add_argument("spec", help="spec file")
    p.add_argument(
        "--batch-size", type=_positive_int, default=4, help="random batch size (default: 4)"
    )
    p.add_argument(
        "--tol", type=float, default=1e-6, help="largest relative error allowed (default: 1e-6)"
    )
    p.add_argument(
        "--max-elements",
        type=int,
        default=256,
        metavar="N",
        help="check N random elements of each parameter, 0 for all (default: 256)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the random batch (default: 0)")
    p.set_defaults(handler=cmd_gradcheck)

    p = command("train", "Train a spec's model and write a run folder.", EXAMPLES["train"])
    p.add_argument("spec", nargs="?", help="spec file (optional with --resume)")
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
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.add_argument("--json", action="store_true", help="print the final metrics as JSON")
    p.add_argument("--no-plots", action="store_true", help="do not write PNG plots at the end")
    p.set_defaults(handler=cmd_train)

    p = command("sweep", "Train a spec once per value of one field and compare.", EXAMPLES["sweep"])
    p.add_argument("spec", help="spec file")
    p.add_argument("--path", help="dotted key path of the field (default: the spec's sweep:)")
    p.add_argument("--values", nargs="+", metavar="VALUE", help="its values (YAML scalars)")
    p.add_argument("--out", metavar="DIR", help="sweep folder (default: runs/<name>-sweep/...)")
    p.add_argument("--quiet", action="store_true", help="print only the final table")
    p.add_argument("--no-plots", action="store_true", help="do not write PNG plots at the end")
    p.set_defaults(handler=cmd_sweep)

    p = command("plot", "Write the PNG plots of a run or sweep folder.", EXAMPLES["plot"])
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run or sweep folder")
    p.set_defaults(handler=cmd_plot)

    p = command("graph", "Draw one forward and backward pass of a spec's model.", EXAMPLES["graph"])
    p.add_argument("spec", help="spec file")
    p.add_argument("--batch-size", type=_positive_int, default=2, help="batch size (default: 2)")
    p.add_argument("--out", metavar="FILE", help="graph.dot (DOT text) or graph.svg (needs dot)")
    p.set_defaults(handler=cmd_graph)

    p = command("evaluate", "Metrics of a trained run on its test split.", EXAMPLES["evaluate"])
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written by train")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.set_defaults(handler=cmd_evaluate)

    p = command("predict", "Predict with a trained run.", EXAMPLES["predict"])
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written by train")
    p.add_argument("--input", required=True, metavar="FILE", help="features: .csv or .npz (X)")
    p.add_argument("--output", required=True, metavar="FILE", help="CSV of predictions")
    p.set_defaults(handler=cmd_predict)

    p = command("playground", "Train networks live in the browser.", EXAMPLES["playground"])
    p.add_argument("spec", nargs="?", help="open with this spec's settings (default: circles)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: 8765, or the next free one)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.set_defaults(handler=cmd_playground)
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, found {text}")
    return value


def _version() -> str:
    from . import __version__

    return f"tinygrad-edu {__version__}"


# --- commands -------------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    from .spec import load_spec

    failed = 0
    for path in args.specs:
        try:
            load_spec(path)
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
    from .training.checkpoint import write_text_atomic

    write_text_atomic(args.out, text)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    import json

    from .spec import build_model, load_spec
    from .summary import summary

    spec = load_spec(args.spec)
    result = summary(build_model(spec), input_size=(args.batch_size, *spec.model.input))
    if args.format == "json":
        data = result.to_dict()
        if args.explain:
            data["explanation"] = result.explain()
        print(json.dumps(data, indent=2))
        return 0
    result.render()
    if args.explain:
        print()
        print(result.explain())
    return 0


def cmd_gradcheck(args: argparse.Namespace) -> int:
    import math

    from rich.console import Console
    from rich.table import Table

    from .spec import gradient_check, load_spec

    spec = load_spec(args.spec)
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
    }
    overrides: dict[str, object] = {k: v for k, v in flags.items() if v is not None}
    for item in args.set:
        path, sep, value = item.partition("=")
        if not sep or not path:
            raise UserError(f"--set takes PATH=VALUE, e.g. --set train.epochs=3; got {item!r}")
        overrides[path.strip()] = value
    return overrides


def cmd_train(args: argparse.Namespace) -> int:
    from .training import runs
    from .training.loop import TrainingInterrupted

    if args.spec is None and args.resume is None:
        raise UserError("train needs a spec file, e.g. python cli.py train specs/mlp.yaml")
    try:
        final = runs.train(
            args.spec, _overrides(args), args.out, args.resume, args.quiet, args.json
        )
    except TrainingInterrupted as stop:
        spec = f"{args.spec} " if args.spec else ""
        print(
            f"interrupted at epoch {stop.epoch}, step {stop.step}: checkpoint saved in "
            f"{stop.run_dir}. Resume with:\n  python cli.py train {spec}--resume {stop.run_dir}",
            file=sys.stderr,
        )
        return stop.exit_code
    if not args.no_plots:
        _plots(final["run_dir"], quiet=args.quiet)
    if args.json:
        runs.print_json(final)
    return 0


def _plots(folder: str, quiet: bool) -> None:
    """Write the plots of a finished run; a missing matplotlib is one line, not an error."""
    from .viz.plots import try_plot_run

    message = try_plot_run(folder)
    if message and not quiet:
        print(message, file=sys.stderr)


def cmd_sweep(args: argparse.Namespace) -> int:
    from rich.console import Console

    from .training.sweep import run_sweep

    result = run_sweep(args.spec, args.path, args.values, args.out, quiet=args.quiet)
    Console().print(result.table())
    if not args.no_plots:
        _plots(str(result.folder), quiet=args.quiet)
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .training.sweep import SWEEP_CSV
    from .viz.plots import plot_run, plot_sweep

    folder = Path(args.run_dir)
    if not folder.is_dir():
        raise UserError(f"run folder not found: {folder}")
    plot = plot_sweep if (folder / SWEEP_CSV).is_file() else plot_run
    for path in plot(folder):
        print(f"wrote {path}")
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    from .spec import load_spec
    from .training.checkpoint import write_text_atomic
    from .viz.graphs import graph_dot, render_svg

    dot = graph_dot(load_spec(args.spec), batch_size=args.batch_size)
    if args.out is None:
        sys.stdout.write(dot)
    elif args.out.endswith(".svg"):
        print(f"wrote {render_svg(dot, args.out)}")
    else:
        write_text_atomic(args.out, dot)
        print(f"wrote {args.out}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .training import runs

    metrics = runs.evaluate(args.run_dir)
    if args.json:
        runs.print_json(metrics)
    else:
        print(
            "  ".join(
                f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in metrics.items()
            )
        )
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from .training import runs

    count = runs.predict(args.run_dir, args.input, args.output)
    print(f"wrote {count} predictions to {args.output}")
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
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    try:
        return int(args.handler(args) or 0)
    except UserError as error:
        _print_error(error)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
