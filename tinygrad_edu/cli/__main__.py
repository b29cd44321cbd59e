"""``python -m tinygrad_edu.cli COMMAND``: the command line, as ``python cli.py COMMAND``."""

import sys

from .main import main

sys.exit(main())
