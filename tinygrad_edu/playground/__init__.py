"""The playground: ``python cli.py playground``, train a network live in the browser.

`server` (the web app, one WebSocket per tab) → `session` (one tab's run: the project's own
`Trainer` in a thread, paused and stepped between updates) → `frames` (what the page draws)
and `state` (the page's settings ⇄ a spec, checked by the spec schema). The page itself is
``static/``: plain JavaScript and canvas, no build step, nothing from the internet.
"""

from __future__ import annotations

from typing import Any

from ..errors import UserError
from ..spec import load_spec
from .server import create_app, serve
from .state import spec_to_settings

__all__ = ["create_app", "open_spec", "serve"]


def open_spec(path: str) -> tuple[dict[str, Any] | None, list[str], Any]:
    """What ``python cli.py playground SPEC`` opens with: the page's settings for the spec
    and notes on what the page leaves out, or, for a spec the plane cannot show (MNIST), no
    settings and the spec itself (the images view)."""

    spec = load_spec(path)
    try:
        settings, notes = spec_to_settings(spec)
    except UserError as reason:
        return None, [f"images view ({reason.args[0].split(';')[0]})"], spec
    return settings, notes, None
