#!/usr/bin/env python3
"""Command-line entry point: ``python cli.py --help``. The commands live in tinygrad_edu.cli.

A Ctrl-C is exit code 130 and one line at any moment, never a traceback. While the package
is imported (NumPy takes a moment) it is held and answered once the import is done: an
import cut in the middle ends in a traceback, or in an ImportError (NumPy turns one into
that). At shutdown, when there is nothing left to stop, it is ignored (an exit handler
would print a traceback).
"""

import signal
import sys


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


if __name__ == "__main__":
    code = _run()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)
