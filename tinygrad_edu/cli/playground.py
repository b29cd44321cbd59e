"""The playground command: train networks live in the browser."""

from __future__ import annotations

import argparse

from .commands import Commands
from .options import add_import_option


def add_playground(commands: Commands) -> None:
    p = commands.add(
        "playground",
        "Train networks live in the browser.",
        "python cli.py playground specs/activation_relu.yaml --no-browser",
    )
    p.add_argument("spec", nargs="?", help="open with this spec's settings (default: circles)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: 8765, or the next free one)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    add_import_option(p)
    p.set_defaults(handler=cmd_playground)


def cmd_playground(args: argparse.Namespace) -> int:
    from ..playground import open_spec, serve

    settings, notes, spec = open_spec(args.spec) if args.spec else (None, [], None)
    browser = not args.no_browser
    return serve(settings, notes, args.host, args.port, open_browser=browser, spec=spec)
