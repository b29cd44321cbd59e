"""The parser the CLI reference is generated from: the CLI's own, with each command's
``example:`` epilog turned into a literal block, since sphinx-argparse reads epilogs as
reStructuredText (where ``specs/*.yaml`` would start emphasis)."""

from __future__ import annotations

import argparse

from tinygrad_edu.cli import build_parser


def _literal_epilogs(parser: argparse.ArgumentParser) -> None:
    if parser.epilog and parser.epilog.startswith("example:"):
        lines = parser.epilog.split("\n", 1)[1].splitlines()
        parser.epilog = "Example::\n\n" + "\n".join("  " + line.strip() for line in lines)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _literal_epilogs(sub)


def parser() -> argparse.ArgumentParser:
    built = build_parser()
    _literal_epilogs(built)
    return built
