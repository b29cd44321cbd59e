"""Commands that use a trained run: evaluate, predict, export."""

from __future__ import annotations

import argparse

from .commands import Commands
from .options import add_import_option
from .output import wrote


def add_evaluate(commands: Commands) -> None:
    p = commands.add(
        "evaluate",
        "Metrics of a trained run on its test split.",
        "python cli.py evaluate runs/mnist-mlp/20261125-120000",
    )
    p.add_argument(
        "run_dir",
        metavar="RUN_DIR",
        help="a run folder written by train, a sweep folder, an exported .safetensors, or a spec "
        "with init.from",
    )
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    add_import_option(p)
    p.set_defaults(handler=cmd_evaluate)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ..training import runs
    from ..training.record import describe, read_record
    from ..training.sweep import is_sweep_folder

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

    from ..training import runs
    from ..training.sweep import evaluate_sweep

    result = evaluate_sweep(args.run_dir)
    if args.json:
        runs.print_json({"sweep": str(result.folder), "path": result.path, "runs": result.rows})
    else:
        Console().print(result.table())
    return 0


def add_predict(commands: Commands) -> None:
    p = commands.add(
        "predict",
        "Predict with a trained run.",
        "python cli.py predict runs/mnist-mlp/20261125-120000 --input examples/digits.csv "
        "--output preds.csv",
    )
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


def cmd_predict(args: argparse.Namespace) -> int:
    from ..training import runs

    count = runs.predict(args.run_dir, args.input, args.output)
    wrote(f"{count} predictions to ", args.output)
    return 0


def add_export(commands: Commands) -> None:
    p = commands.add(
        "export",
        "Export a trained run's model for other tools.",
        "python cli.py export runs/mnist-mlp/20261125-120000 --format onnx",
    )
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


def cmd_export(args: argparse.Namespace) -> int:
    from ..export import export_run

    options = (args.include_preprocessing, args.probabilities, args.force)
    written = export_run(args.run_dir, args.format, args.out, *options)
    wrote("", written)
    return 0
