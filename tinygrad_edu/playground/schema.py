"""What the page may send: the shape of each message and the range of each setting.

One table serves both sides. The server checks every message from a socket with it
(`check_message`, then `check_settings` before the spec schema sees the settings), and
the page receives the same ranges (`for_page`) to set its inputs' bounds and to disable
the add-layer and add-unit buttons at the cap. So a message typed by hand into a socket
meets exactly the limits of the controls: no list entry becomes a layer unless it is one
of the page's activations, and no number leaves the range a control offers.

Values of the wrong type (``lr: "fast"``) are left to the spec schema, so they get the
message ``python cli.py validate`` gives; values of the right type outside the range get
the range, and for the learning rate what usually trains.
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import UserError
from ..spec.loader import _unknown

ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "gelu", "identity")
MAX_LAYERS = 6
MAX_UNITS = 64
MAX_SAMPLES = 2000
MAX_SPEED = 10_000  # steps a second the page may ask for (0: as fast as possible)
MAX_DROPOUT = 0.9

# setting: (lowest, highest, integer?, the spec's path, what to add after the range)
RANGES: dict[str, tuple[float, float, bool, str, str]] = {
    "n": (2, MAX_SAMPLES, True, "data.n_samples", ""),
    "noise": (0.0, 1.0, False, "data.noise", ""),
    "test": (0.05, 0.95, False, "data.test_fraction", ""),
    "seed": (0, 2**31 - 1, True, "seed", ""),
    "lr": (
        1e-5,
        10.0,
        False,
        "optimizer.lr",
        " (TensorFlow Playground's list); 0.001 to 0.1 usually trains these sets, and a "
        "larger rate makes the loss jump or diverge",
    ),
    "momentum": (0.0, 0.99, False, "optimizer.momentum", ""),
    "batch": (1, MAX_SAMPLES, True, "train.batch_size", ""),
    "l2": (0.0, 10.0, False, "optimizer.weight_decay", ""),
    "l1": (0.0, 10.0, False, "train.l1", ""),
}

# each message type and the keys it may carry besides "type"
MESSAGES: dict[str, frozenset[str]] = {
    "open": frozenset({"session", "settings", "address"}),
    "settings": frozenset({"settings"}),
    "upload": frozenset({"name", "text"}),
    "speed": frozenset({"value"}),
    **{kind: frozenset() for kind in ("reset", "spec", "play", "pause", "step", "ready")},
}
MAX_KEY = 64  # characters of a session id or an address key
MAX_NAME = 256  # characters of an uploaded file's name


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _whole(value: Any) -> bool:
    return _number(value) and math.isfinite(value) and value == int(value)


def check_message(message: dict[str, Any]) -> None:
    """Refuse a message whose type is unknown or whose fields have the wrong shape."""
    kind = message["type"]
    if kind not in MESSAGES:
        raise UserError(_unknown("message type", kind, sorted(MESSAGES)))
    extra = sorted(set(message) - MESSAGES[kind] - {"type"})
    if extra:
        allowed = ", ".join(sorted(MESSAGES[kind])) or "nothing"
        raise UserError(f"a '{kind}' message carries {allowed} besides its type; found {extra}")
    session = message.get("session")
    if session is not None and not (isinstance(session, str) and len(session) <= MAX_KEY):
        raise UserError(f"open: session is the id the server gave (at most {MAX_KEY} characters)")
    for key in ("settings",):
        if message.get(key) is not None and not isinstance(message[key], dict):
            raise UserError(f"{kind}: settings is a mapping of playground settings")
    if "address" in message and not isinstance(message["address"], str):
        raise UserError("open: address is the text after # in the page's address")
    if kind == "upload":
        if not isinstance(message.get("name", ""), str) or len(message.get("name", "")) > MAX_NAME:
            raise UserError(f"upload: name is the file's name (at most {MAX_NAME} characters)")
        if not isinstance(message.get("text"), str):
            raise UserError("upload: text is the CSV file's text")
    if kind == "speed":
        value = message.get("value")
        if not (_number(value) and 0 <= value <= MAX_SPEED):
            raise UserError(
                f"speed: expected steps per second from 0 (fastest) to {MAX_SPEED}, found {value!r}"
            )


def check_settings(settings: dict[str, Any]) -> None:
    """Refuse what the page's controls could not have sent: hidden layers beyond the caps,
    list entries that are not the page's choices, numbers outside a control's range."""
    layers = settings["layers"]
    if not isinstance(layers, list) or not all(_whole(u) for u in layers):
        raise UserError(f"model.layers: expected a list of hidden widths, found {layers!r}")
    if len(layers) > MAX_LAYERS:
        raise UserError(f"model.layers: at most {MAX_LAYERS} hidden layers, found {len(layers)}")
    for index, units in enumerate(layers):
        if not 1 <= units <= MAX_UNITS:
            raise UserError(
                f"model.layers: hidden layer {index + 1} has {units} units; give 1 to {MAX_UNITS}"
            )
    for index, name in enumerate(settings["act"]):
        if not isinstance(name, str) or name not in ACTIVATIONS:
            raise UserError(
                f"model.layers: hidden layer {index + 1}'s activation: "
                + _unknown("activation", name, list(ACTIVATIONS), found=True)
            )
    for index, p in enumerate(settings["dropout"]):
        if not (_number(p) and 0 <= p <= MAX_DROPOUT):
            raise UserError(
                f"model.layers: hidden layer {index + 1}'s dropout: expected a number from 0 "
                f"to {MAX_DROPOUT}, found {p!r}"
            )
    for key, (low, high, integer, path, advice) in RANGES.items():
        value = settings.get(key)
        if not _number(value) or (integer and math.isfinite(value) and value != int(value)):
            continue  # the spec schema names the type it expects
        if not (math.isfinite(value) and low <= value <= high):
            raise UserError(
                f"{path}: {value:g} is outside the playground's range: give {_shown(low)} "
                f"to {_shown(high)}{advice}"
            )


def _shown(bound: float) -> str:
    """0.00001 rather than 1e-05: the bound as a person types it."""
    return f"{bound:.6f}".rstrip("0").rstrip(".") if bound != int(bound) else str(int(bound))


def for_page() -> dict[str, Any]:
    """The ranges as the page sets them on its controls."""
    return {
        "max_layers": MAX_LAYERS,
        "max_units": MAX_UNITS,
        "ranges": {key: [low, high] for key, (low, high, *_rest) in RANGES.items()},
    }
