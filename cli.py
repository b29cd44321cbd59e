#!/usr/bin/env python3
"""Command-line entry point: ``python cli.py --help``. The commands live in tinygrad_edu.cli;
tinygrad_edu_entry holds Ctrl-C while the package is imported (exit 130, one line)."""

from tinygrad_edu_entry import run

run()
