"""Commands that show and check the backward pass: gradcheck, graph, backprop."""

from __future__ import annotations

import argparse
import sys

from ..errors import UserError
from .arguments import non_negative_int, positive_int, seed, tolerance
from .commands import Commands
from .options import add_import_option


def add_gradcheck(commands: Commands) -> None:
    p = commands.add(
        "gradcheck",
        "Check a spec's model's gradients against finite differences (float64).",
        "python cli.py gradcheck specs/mlp.yaml --batch-size 4 --tol 1e-6",
    )
    p.add_argument("spec", help="spec file or example name")
    p.add_argument(
        "--batch-size", type=positive_int, default=4, help="random batch size (default: 4)"
    )
    p.add_argument(
        "--tol", type=tolerance, default=1e-6, help="largest relative error allowed (default: 1e-6)"
    )
    p.add_argument(
        "--max-elements",
        type=non_negative_int,
        default=256,
        metavar="N",
        help="check N random elements of each parameter, 0 for all (default: 256)",
    )
    p.add_argument("--seed", type=seed, default=0, help="seed of the random batch (default: 0)")
    add_import_option(p)
    p.set_defaults(handler=cmd_gradcheck)


def cmd_gradcheck(args: argparse.Namespace) -> int:
    import math

    from rich.console import Console
    from rich.table import Table

    from ..spec import gradient_check, load_spec
    from ..spec.limits import check_memory

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


def add_graph(commands: Commands) -> None:
    p = commands.add(
        "graph",
        "Draw one forward and backward pass of a spec's model.",
        "python cli.py graph specs/mlp.yaml --out graph.svg",
    )
    p.add_argument("spec", help="spec file or example name")
    p.add_argument("--batch-size", type=positive_int, default=2, help="batch size (default: 2)")
    p.add_argument(
        "--out",
        metavar="FILE",
        help="graph.dot (DOT text), or graph.svg, .png, .pdf (rendered by Graphviz's dot)",
    )
    add_import_option(p)
    p.set_defaults(handler=cmd_graph)


def cmd_graph(args: argparse.Namespace) -> int:
    from ..spec import load_spec
    from ..spec.limits import check_memory
    from ..viz.graphs import RENDERED_FORMATS, graph_dot, graph_format, require_dot, write_graph

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


def add_backprop(commands: Commands) -> None:
    p = commands.add(
        "backprop",
        "Explain the backward pass of a scalar expression.",
        "python cli.py backprop 'c = a * b; L = c + a' --set a=2 b=-3 --frames frames/",
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


def cmd_backprop(args: argparse.Namespace) -> int:
    from ..explain import backprop, check_frames_target, check_gif_target, parse
    from ..nonfinite import warn_non_finite

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
