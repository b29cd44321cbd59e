"""The example specs shipped inside the package, named by their file's stem (``mlp``).

The lecture's specs live in ``tinygrad_edu/specs/`` (the repository's ``specs`` folder is a
link to it), so an installed ``tinygrad-edu`` has them too and ``tinygrad-edu train mlp``
works from any folder. A name is only looked up here when the current folder has no file
of that name: a file of your own always wins. `copy_spec` copies one out to edit.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

from ..errors import UserError
from ..io.atomic import write_text_atomic

SPECS_DIR = Path(__file__).parent.parent / "specs"
SCHEMA = "schema.json"  # the specs' first line points editors to it: # ... $schema=./schema.json


def spec_names() -> list[str]:
    """The names of the shipped specs, sorted."""
    return sorted(path.stem for path in SPECS_DIR.glob("*.yaml"))


def shipped_spec(name: str) -> Path:
    """The file of the shipped spec `name` (``mlp`` or ``mlp.yaml``); UserError if none."""
    path = SPECS_DIR / f"{name.removesuffix('.yaml')}.yaml"
    if path.parent != SPECS_DIR or not path.is_file():
        raise UserError(f"no example spec is named '{name}'{_suggestion(name)}")
    return path


def find_spec(spec: str | os.PathLike[str]) -> Path:
    """The file a spec argument means: the file itself when it exists, else the shipped
    spec of that name (``mlp``, ``mlp.yaml``). A bare name that is neither is a UserError
    listing the examples; any other path is returned as it is, for the loader to report."""
    path = Path(spec)
    if path.exists():
        return path
    known = path.name.removesuffix(".yaml") in spec_names()
    if path.parent == Path(".") and known:
        return shipped_spec(path.name)
    if known:  # specs/mlp.yaml outside the repository
        raise UserError(
            f"spec file not found: {path} (relative to {Path.cwd()}); the example "
            f"'{path.stem}' ships with the package: give its name ({path.stem}), or copy it "
            f"here to edit with: python cli.py examples --copy {path.stem} ."
        )
    if path.parent == Path(".") and not path.suffix:
        raise UserError(
            f"spec file not found: {path} (relative to {Path.cwd()}), and no example spec is "
            f"named so{_suggestion(path.name)}"
        )
    return path


def describe(path: Path, width: int = 100) -> str:
    """A spec's one-line description: the first sentence of its leading comment (the
    schema line for editors skipped), cut to `width` characters, else its ``name``."""
    text = path.read_text(encoding="utf-8")
    comment = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        if "yaml-language-server" not in line:
            comment.append(line.lstrip("#").strip())
    sentence = re.split(r"(?<=\.)\s", " ".join(comment).strip(), maxsplit=1)[0]
    if len(sentence) > width:
        sentence = sentence[: width - 1].rsplit(" ", 1)[0].rstrip(",:;") + "…"
    name = re.search(r"^name:\s*(\S+)", text, re.M)
    return sentence or (name.group(1) if name else "")


def copy_spec(name: str, folder: str | os.PathLike[str]) -> list[Path]:
    """Copy the shipped spec `name` into `folder` (created if missing) to edit it, with the
    schema its first line names unless the folder has one. Never overwrites a spec:
    UserError if the folder already has a file of that name. Returns the files written."""

    source, folder = shipped_spec(name), Path(folder)
    target = folder / source.name
    if target.exists():
        raise UserError(
            f"{target} exists already and is not overwritten: edit that file, remove it first, "
            "or copy into another folder"
        )
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder} is a file, not a folder; give the folder to copy into")
    folder.mkdir(parents=True, exist_ok=True)
    written = [target]
    write_text_atomic(target, source.read_text(encoding="utf-8"))
    if not (folder / SCHEMA).exists():
        write_text_atomic(folder / SCHEMA, (SPECS_DIR / SCHEMA).read_text(encoding="utf-8"))
        written.append(folder / SCHEMA)
    return written


def _suggestion(name: str) -> str:
    names = spec_names()
    close = difflib.get_close_matches(name.removesuffix(".yaml"), names, n=1, cutoff=0.6)
    mean = f"; did you mean '{close[0]}'?" if close else "."
    return f"{mean} The examples: {', '.join(names)} (python cli.py examples describes them)"
