#!/usr/bin/env python3
"""Command-line entry point: ``python cli.py --help``. The commands live in tinygrad_edu.cli.

Importing the package takes a moment (NumPy): a Ctrl-C then is answered as one during a
command, by one line and exit code 130, never by a traceback.
"""

import sys

if __name__ == "__main__":
    try:
        from tinygrad_edu.cli import finish, main
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    finish(main())
