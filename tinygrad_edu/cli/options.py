"""Options several commands share: ``--import MODULE``, and train's flags as spec fields
(``train`` applies them to the run; ``spec --resolved`` shows the spec they make)."""

from __future__ import annotations

import argparse

from ..errors import UserError


def add_import_option(parser: argparse.ArgumentParser) -> None:
    """Give a command ``--import MODULE`` (repeatable), for specs that name layer types
    registered by the user's own code; `main` imports the modules before the command runs."""
    parser.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE first, so the layer types it registers can be named in specs "
        "(repeatable; the current folder is searched first)",
    )


def spec_overrides(args: argparse.Namespace) -> dict[str, object]:
    """The spec fields that train's flags change, by dotted path."""
    flags = {
        "train.epochs": args.epochs,
        "train.batch_size": args.batch_size,
        "optimizer.lr": args.lr,
        "seed": args.seed,
        "backend": args.backend,
        "train.tensorboard": True if getattr(args, "tensorboard", False) else None,
    }
    overrides: dict[str, object] = {k: v for k, v in flags.items() if v is not None}
    for item in args.set:
        path, sep, value = item.partition("=")
        if not sep or not path:
            raise UserError(f"--set takes PATH=VALUE, e.g. --set train.epochs=3; got {item!r}")
        overrides[path.strip()] = value
    overrides.update(_train_switches(args, overrides))
    if getattr(args, "init_from", None):
        from pathlib import Path

        overrides["init.from"] = str(Path(args.init_from).resolve())
    return overrides


def _train_switches(args: argparse.Namespace, overrides: dict[str, object]) -> dict[str, object]:
    """--engine, --diagnostics, --snapshots as spec fields; --engine value also sets dtype
    float64 (what the scalar engine computes in) unless --set gives a dtype."""
    switches: dict[str, object] = {}
    if getattr(args, "engine", None):
        switches["train.engine"] = args.engine
        if args.engine == "value" and "dtype" not in overrides:
            switches["dtype"] = "float64"
    for name in ("diagnostics", "snapshots"):
        if getattr(args, name, False):
            switches[f"train.{name}"] = True
    return switches
