"""What several commands print the same way: errors, wide tables, 'wrote PATH', a run's plots."""

from __future__ import annotations

import sys
from typing import Any

from ..errors import UserError


def print_error(error: UserError) -> None:
    """A spec's problems one per line, as compilers print them; anything else as 'error: ...'."""
    from ..spec.loader import SpecError

    print(error if isinstance(error, SpecError) else f"error: {error}", file=sys.stderr)


def wide_console() -> Any:
    """A rich console that does not cut tables at 80 columns when output is not a terminal."""
    from rich.console import Console

    return Console(highlight=False, width=None if sys.stdout.isatty() else 200)


def wrote(what: str, path: object) -> None:
    """Print 'wrote WHAT PATH' on stdout, or on stderr when PATH is '-' (stdout holds the file)."""
    if str(path) == "-":
        print(f"wrote {what}standard output", file=sys.stderr)
    else:
        print(f"wrote {what}{path}")


def write_plots(folder: str, quiet: bool) -> None:
    """Write the plots of a finished run; a missing matplotlib is one line, not an error."""
    from ..viz.plots import try_plot_run

    message = try_plot_run(folder)
    if message and not quiet:
        print(message, file=sys.stderr)
