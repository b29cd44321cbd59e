"""``python -m tinygrad_edu COMMAND``: the command line, as ``python cli.py COMMAND`` (a Ctrl-C
while the package loads is held by the package's ``__init__``, later ones by the entry)."""

from tinygrad_edu_entry import run

run()
