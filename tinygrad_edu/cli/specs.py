"""Commands on spec files: validate, schema, summary, examples (once called specs), spec."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import UserError
from .arguments import positive_int
from .commands import Commands
from .options import add_import_option, spec_overrides
from .output import print_error

DEFAULT_SPEC = "mlp"  # the lecture's MLP, shipped with the package (specs/mlp.yaml)


def add_validate(commands: Commands) -> None:
    example = "python cli.py validate specs/*.yaml"
    p = commands.add("validate", "Check spec files and report every problem.", example)
    p.add_argument("specs", nargs="+", metavar="SPEC", help="spec files or example names")
    add_import_option(p)
    p.set_defaults(handler=cmd_validate)


def cmd_validate(args: argparse.Namespace) -> int:
    from ..spec import check_spec_file
    from ..training.runs import init_problems

    failed = 0
    for path in args.specs:
        try:
            check_spec_file(path, more_checks=[_value_engine_problems, init_problems])
        except UserError as error:
            failed += 1
            print_error(error)
        else:
            print(f"OK  {path}")
    return 2 if failed else 0


def _value_engine_problems(spec: Any) -> list[tuple[tuple[str, ...], str]]:
    """What ``train.engine: value`` cannot train (`training.scalar.check_spec`, the check
    train makes before loading data), as validate's (spec key, message). Its time estimate
    times a few training samples, which only train does; a spec whose memory estimate is
    refused is not built here (validate reports that already)."""
    from ..spec import build_model
    from ..spec.limits import memory_problem
    from ..training.objectives import loss_options
    from ..training.scalar import check_spec

    if getattr(spec.train, "engine", "tensor") != "value" or memory_problem(spec) is not None:
        return []
    name, options = loss_options(spec.loss)
    try:
        check_spec(spec, build_model(spec), name, options)
    except UserError as error:
        return [(("train", "engine"), str(error))]
    return []


def add_schema(commands: Commands) -> None:
    example = "python cli.py schema --out specs/schema.json"
    p = commands.add("schema", "Print the JSON Schema of spec files.", example)
    p.add_argument("--out", metavar="FILE", help="write it to FILE (atomically) instead")
    p.set_defaults(handler=cmd_schema)


def cmd_schema(args: argparse.Namespace) -> int:
    import json

    from ..spec import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if args.out is None:
        sys.stdout.write(text)
        return 0
    from ..training.checkpoint import write_text_atomic

    write_text_atomic(args.out, text)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def add_summary(commands: Commands) -> None:
    example = (
        "python cli.py summary specs/mlp.yaml --batch-size 32 --explain "
        "--col-names output_size num_params mult_adds --depth 2"
    )
    p = commands.add("summary", "Show a spec's model as torchinfo's table.", example)
    p.add_argument(
        "spec",
        nargs="?",
        default=DEFAULT_SPEC,
        help=f"spec file or example name (default: {DEFAULT_SPEC}, the lecture's MLP)",
    )
    p.add_argument(
        "--batch-size", type=positive_int, default=32, help="batch size of the input (default: 32)"
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

    from ..spec import build_model, load_spec
    from ..spec.limits import check_memory
    from ..summary import summary

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


def add_examples(commands: Commands) -> None:
    examples = "List the example specs shipped with the package, or copy one."
    # 'specs' is the old name, one letter from 'spec': it still works, unlisted, naming the new one
    old_name = commands.sub.add_parser(
        "specs", description=f"The old name of 'examples'. {examples}"
    )
    new_name = commands.add("examples", examples, "python cli.py examples --copy mlp my_specs")
    for p in (new_name, old_name):
        p.add_argument(
            "--copy",
            nargs=2,
            metavar=("NAME", "DIR"),
            help="copy the example NAME into the folder DIR to edit it (never overwrites)",
        )
        p.set_defaults(handler=cmd_examples)


def cmd_examples(args: argparse.Namespace) -> int:
    from ..spec.shipped import copy_spec, describe, shipped_spec, spec_names

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


def add_spec(commands: Commands) -> None:
    example = "python cli.py spec examples/extends/wide.yaml --resolved --set train.epochs=5"
    p = commands.add("spec", "Print a spec with its bases merged, or fully resolved.", example)
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
    # spec_overrides also reads train's own flags: spec has only --set
    p.set_defaults(handler=cmd_spec, epochs=None, batch_size=None, lr=None, seed=None)
    p.set_defaults(backend=None, init_from=None)


def cmd_spec(args: argparse.Namespace) -> int:
    from ..spec import find_spec, load_spec

    if args.resolved:
        from ..training.runs import resolved_spec

        sys.stdout.write(resolved_spec(args.spec, spec_overrides(args)))
        return 0
    if args.set:
        raise UserError("--set changes the resolved spec: add --resolved to see it")
    from ..spec.compose import composed_yaml

    load_spec(args.spec)  # its problems first, as validate reports them
    sys.stdout.write(composed_yaml(find_spec(args.spec)))
    return 0
