#!/usr/bin/env python3
"""Command-line entry point: ``python cli.py --help``. The commands live in tinygrad_edu.cli."""

import sys

from tinygrad_edu.cli import main

if __name__ == "__main__":
    sys.exit(main())
