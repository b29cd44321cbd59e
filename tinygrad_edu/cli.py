"""Command-line interface: ``python cli.py COMMAND ...`` or the ``tinygrad-edu`` script.

This module only parses arguments and calls the library; each command is a function
``cmd_<name>(args) -> int`` registered in `build_parser`. User errors (`UserError`) are
printed as one paragraph on stderr with exit code 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .errors import UserError

EXAMPLES = {
    # command: example shown at the bottom of its --help
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

    # Commands are added below, one block each.
    del command
    return parser


def _version() -> str:
    from . import __version__

    return f"tinygrad-edu {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    try:
        return int(args.handler(args) or 0)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
