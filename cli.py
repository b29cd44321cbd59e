#!/usr/bin/env python3
"""Command-line entry point: ``python cli.py --help``. The commands live in tinygrad_edu.cli;
tinygrad_edu_entry holds Ctrl-C while the package is imported (exit 130, one line). The
guard matters: sweep's worker processes start by importing this module again."""

from tinygrad_edu_entry import run

if __name__ == "__main__":
    run()
