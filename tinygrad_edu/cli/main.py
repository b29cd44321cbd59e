"""The parser, built from the command modules, and `main`, which runs one command.

The order of `COMMANDS` is the order of ``--help``'s list of commands.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from ..errors import UserError
from . import backward, playground, runs, specs, trained, training
from .commands import Commands
from .output import print_error

COMMANDS: tuple[Callable[[Commands], None], ...] = (
    specs.add_validate,
    specs.add_schema,
    specs.add_summary,
    backward.add_gradcheck,
    training.add_train,
    training.add_sweep,
    runs.add_plot,
    backward.add_graph,
    runs.add_compare,
    runs.add_runs,
    backward.add_backprop,
    trained.add_evaluate,
    trained.add_predict,
    specs.add_examples,
    specs.add_spec,
    trained.add_export,
    playground.add_playground,
)
"""Each adds one command (examples also its old name, specs); exercises come last."""


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
    commands = Commands(parser.add_subparsers(dest="command", metavar="COMMAND"), formatter)
    for add in COMMANDS:
        add(commands)
    from ..exercises.command import add_parser as add_exercises  # the exercises' own module

    add_exercises(commands.sub, formatter)
    return parser


def _version() -> str:
    from .._version import __version__

    return f"tinygrad-edu {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line `argv`; a Ctrl-C at any moment (parsing included) is exit 130."""
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "handler", None):
            parser.print_help()
            return 0
        if getattr(args, "imports", None):
            from ..spec.plugins import import_modules

            import_modules(args.imports)
        return int(args.handler(args) or 0)
    except UserError as error:
        print_error(error)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
