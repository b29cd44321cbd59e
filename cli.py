#!/usr/bin/env python3
"""Command-line entry point: ``python cli.py --help``. The commands live in tinygrad_edu.cli.

A Ctrl-C is exit code 130 and one line at any moment, never a traceback: while the package
is imported (NumPy takes a moment) as during a command, and at shutdown, when there is
nothing left to stop, it is ignored (an exit handler would print a traceback).
"""

import signal
import sys

if __name__ == "__main__":
    try:
        from tinygrad_edu.cli import main

        code = main()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)
