"""Command-line interface: ``python cli.py COMMAND ...`` or the ``tinygrad-edu`` script.

This package only parses arguments and calls the library. Each command group is one
module, where each command's arguments (``add_<name>``) sit right above its function
(``cmd_<name>(args) -> int``): `specs` (validate, schema, summary, examples, spec),
`backward` (gradcheck, graph, backprop), `training` (train, sweep), `runs` (plot,
compare, runs), `trained` (evaluate, predict, export), `playground`; `main` builds the
parser from them and runs a command. `arguments` holds the number types that refuse a bad
value while the arguments are read; `options` and `output` what several commands share.
User errors (`UserError`) are printed as one paragraph on stderr with exit code 2, never
as a traceback; a spec's problems are printed one per line,
as ``file:line:column: key.path: message``.

Heavy modules (pydantic, PyYAML, rich) are imported inside the commands, so that
``--help`` and every command start fast.
"""

from .main import build_parser, main
from .options import add_import_option

__all__ = ["add_import_option", "build_parser", "main"]
