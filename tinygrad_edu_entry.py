"""The command line's entry point, light to import: ``python cli.py`` and the
``tinygrad-edu`` console script both start here (see pyproject.toml's [project.scripts]).

It lives outside the package on purpose: importing anything under ``tinygrad_edu`` runs
the package's ``__init__`` (NumPy and the engine, a noticeable moment) before any of its
code could handle a Ctrl-C, so a console script pointing into the package prints a
traceback when Ctrl-C comes during that import. This module imports only `signal` and
`sys` before it is ready.

A Ctrl-C is exit code 130 and one line at any moment, never a traceback. While the package
is imported it is held and answered once the import is done: an import cut in the middle
ends in a traceback, or in an ImportError (NumPy turns one into that). At shutdown, when
there is nothing left to stop, it is ignored (an exit handler would print a traceback).
"""

from __future__ import annotations

import signal
import sys
from typing import NoReturn


def _run() -> int:
    pressed: list[int] = []
    signal.signal(signal.SIGINT, lambda number, frame: pressed.append(number))
    from tinygrad_edu.cli import main

    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        if not pressed:
            return main()
    except KeyboardInterrupt:
        pass
    print("interrupted", file=sys.stderr)
    return 130


def run() -> NoReturn:
    """Run the command line of ``sys.argv`` and exit with its code."""
    code = _run()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)


if __name__ == "__main__":
    run()
