"""The one way a command is added to the parser: its name, its one-line help (also its
description) and an example as the epilog, all in the same help formatter."""

from __future__ import annotations

import argparse
from dataclasses import dataclass


@dataclass(frozen=True)
class Commands:
    """The parser's subcommands; each command module's ``add_<name>`` calls `add`."""

    sub: argparse._SubParsersAction
    formatter: type[argparse.HelpFormatter]

    def add(self, name: str, help: str, example: str) -> argparse.ArgumentParser:
        return self.sub.add_parser(
            name,
            help=help,
            description=help,
            epilog=f"example:\n  {example}",
            formatter_class=self.formatter,
        )
