"""``python -m tinygrad_edu COMMAND``: the command line, as ``python cli.py COMMAND``."""

import sys

from .cli import main

sys.exit(main())
