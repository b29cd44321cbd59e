"""Read a spec file and report every problem in it as ``file:line:column: key.path: message``.

The steps, one module each: the text is read into data and a node tree with the line and
column of every value (`yaml_positions`, safe YAML within bounds); bases are merged and
references resolved (`compose`); the data is validated by the pydantic models of
`schema`, and each validation error becomes a `Problem` at the position it is about
(`messages`, `problems`). All problems of a file are raised together in one `SpecError`.

A spec file may extend base specs and refer to its own values (``extends:``, ``${path}``:
see `compose`). The bases are merged into the data and the node tree before validation,
and every mark names the file it was read from, so a problem is reported in the file
that wrote the value; references are resolved in `_validate`, just before the schema.

`apply_overrides` changes a spec by dotted paths (``train.epochs=3``) and validates the
result in the same way, so a training run or a sweep never runs an invalid spec.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from . import checks, compose
from .messages import _problem, _problems, _tag_of, _type_at, _unwrap
from .problems import _PATH, _STEP, Loc, Problem, SpecError, _dotted, _show, _unique
from .problems import _unknown as _unknown  # re-exported: the playground imports it here
from .schema import Spec
from .yaml_positions import SpecLoader as SpecLoader  # re-exported: tests patch it here
from .yaml_positions import _compose, _read_yaml, _tree_of


def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec file, with the bases its ``extends`` names merged under it;
    relative paths in it are relative to its folder.

    Only a regular file of at most `yaml_positions.MAX_SPEC_BYTES` is read (a FIFO, a
    device or a huge file is refused before reading)."""
    path = Path(path)
    document = compose.read_composed(path)
    spec = _validate(document.data, str(path), path.parent, document.root, document.duplicates)
    spec._file = path
    return spec


def check_spec_file(path: str | Path, more_checks: Sequence[Callable] = ()) -> Spec:
    """`load_spec`, then `checks.problems` and the caller's `more_checks` (init.from's, from
    the training code), all reported at once with their lines: what ``validate`` runs."""
    path = Path(path)
    file = str(path)
    document = compose.read_composed(path)
    spec = _validate(document.data, file, path.parent, document.root, document.duplicates)
    spec._file = path
    problems = checks.problems(spec) + [p for check in more_checks for p in check(spec)]
    found = [_problem(file, document.root, loc, "spec_check", m) for loc, m in problems]
    if found:
        raise SpecError(_unique(found))
    return spec


def parse_spec(text: str, file: str = "<spec>", base_dir: str | Path | None = None) -> Spec:
    """Validate a spec given as YAML text; `file` names it in messages, and relative
    paths in it (and in its ``extends``) are relative to `base_dir` (the current folder if None)."""
    document = compose.compose(_read_yaml(text, file), file, Path(base_dir or "."))
    return _validate(document.data, file, base_dir, document.root, document.duplicates)


def validate_spec(
    data: Mapping[str, Any], file: str = "<spec>", base_dir: str | Path | None = None
) -> Spec:
    """Validate a spec given as plain data (a sweep's variant, a run folder's copy); errors
    name `file` and the key path, without line numbers."""
    return _validate(dict(data), file, base_dir, None, [])


def spec_to_dict(spec: Spec) -> dict[str, Any]:
    """The spec as plain YAML/JSON data, every default written out (for run folders)."""
    return spec.model_dump(mode="json", exclude_none=True)


def apply_overrides(
    spec: Spec | Mapping[str, Any],
    overrides: Mapping[str, Any],
    base_dir: str | Path | None = None,
    notify: Callable[[str], None] | None = None,
) -> Spec:
    """The spec with values replaced by dotted path, validated like a spec file.

    Keys are paths such as ``"train.epochs"``, ``"optimizer.lr"``, ``"model.mlp.hidden"``
    or ``"model.layers[1].linear.out_features"``. String values are read as YAML
    scalars, as on a command line: ``"3"`` is 3, ``"1e-3"`` is 0.001, ``"[64, 32]"`` a
    list. A misspelled key is reported with a did-you-mean suggestion.

    Changing the kind of a section (``optimizer.name=adam``, also ``loss.name`` and
    ``scheduler.name``) starts from the new kind's defaults and keeps the options given
    so far that it also has (``lr``, ``weight_decay``), see `switch_kind`; the options it
    drops are named in one line passed to `notify` (default: printed on stderr).

    The spec's ``${path}`` references are put back before the overrides and resolved
    after them, so ``train.epochs=5`` also changes ``t_max: ${train.epochs}`` (`compose`).
    """
    file: Path | None = None
    references: list[compose.Reference] = []
    if isinstance(spec, Spec):
        file = spec.file
        data = spec_to_dict(spec)
        references = list(spec._references)
        compose.restore_references(data, references)
        if base_dir is None and file is not None:
            base_dir = file.parent
    else:
        data = copy.deepcopy(dict(spec))
    label = f"{file or '<spec>'} with overrides"
    given = _given_options(spec)
    for key, value in overrides.items():
        value = parse_value(value, f"--set {key}") if isinstance(value, str) else value
        note = switch_kind(data, key, value, given)
        if note:
            (notify or _print_note)(note)
        _set_path(data, key, value, label)
    where = compose.known_positions(references, label)
    result = _validate(data, label, base_dir, None, [], where)
    result._file = file
    return result


KIND_SECTIONS = ("loss", "optimizer", "scheduler")
"""The sections whose ``name`` picks a kind with its own options."""


def switch_kind(
    data: dict[str, Any], key: str, value: Any, given: dict[str, set[str]]
) -> str | None:
    """Prepare `data` for the override ``key=value`` when it changes a section's kind.

    A spec's copy has every default of its kind written out (SGD's ``momentum``,
    ``dampening``, ``nesterov``): renaming the kind alone would leave them behind as
    unknown keys of the new one. So the section becomes the new kind with only the options
    that were given (in the spec, or by an earlier override: `given`, by section) and that
    the new kind also has; every other option takes the new kind's default. Returns the
    line that names the given options it dropped (None: none dropped, or no change of
    kind). An unknown kind is left to validation, which suggests the closest name.
    """
    section, _, rest = key.partition(".")
    if section not in KIND_SECTIONS or not rest:
        return None
    if isinstance(data.get(section), str):  # a bare name is short for {name: ...}
        data[section] = {"name": data[section]}
    if rest != "name":
        given.setdefault(section, set()).add(rest.split(".")[0].split("[")[0])
        return None
    current = data.get(section)
    if not isinstance(current, dict) or current.get("name") == value:
        return None
    kind = _kind_model(section, value)
    if kind is None:
        return None
    options = set(kind.model_fields) - {"name"}
    explicit = given.get(section, set())
    kept = [k for k in current if k in options and k in explicit]
    dropped = [k for k in current if k != "name" and k not in options and k in explicit]
    data[section] = {"name": value, **{k: current[k] for k in kept}}
    if not dropped:
        return None
    old = current.get("name")
    kept_text = f"; kept {', '.join(kept)}" if kept else ""
    return (
        f"{section} {old} -> {value}: dropped {', '.join(dropped)} (not options of "
        f"{value}){kept_text}"
    )


def _given_options(spec: Spec | Mapping[str, Any]) -> dict[str, set[str]]:
    """The options each kind section of `spec` sets itself, not left to their defaults."""
    given: dict[str, set[str]] = {}
    for section in KIND_SECTIONS:
        value = getattr(spec, section) if isinstance(spec, Spec) else spec.get(section)
        if isinstance(value, BaseModel):
            given[section] = set(value.model_fields_set)
        elif isinstance(value, Mapping):
            given[section] = set(value)
    return given


def _kind_model(section: str, name: Any) -> type[BaseModel] | None:
    """The model of kind `name` of a section (``Adam`` for optimizer adam), if it exists."""
    union = _unwrap(_type_at((section,)))
    return next((m for m in get_args(union) if _tag_of(m) == name), None)


def _print_note(note: str) -> None:
    print(note, file=sys.stderr)


def parse_value(text: str, file: str = "a command-line value") -> Any:
    """A command-line value read as YAML (numbers, booleans, lists); plain text where it is
    not valid YAML. The bounds and refused tags of a spec file hold here too (SpecError)."""
    try:
        document = _compose(text, file)
    except yaml.YAMLError:
        return text
    if document.refused or document.duplicates:
        raise SpecError(_unique(document.refused + document.duplicates))
    return document.data


def _set_path(data: dict[str, Any], key: str, value: Any, label: str) -> None:
    """Set data[key] for a dotted key, creating missing mappings on the way."""
    if not _PATH.fullmatch(key):
        example = "write e.g. train.epochs or model.layers[1].linear"
        raise SpecError([Problem(label, 0, 0, key, f"not a key path; {example}")])
    steps: list[str | int] = [int(index) if index else name for name, index in _STEP.findall(key)]
    node: Any = data
    for depth, step in enumerate(steps):
        here = _dotted(steps[:depth]) or "the spec"
        last = depth == len(steps) - 1
        if isinstance(node, dict) and isinstance(step, str):
            if last:
                node[step] = value
            else:
                node = node.setdefault(step, {})
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            if last:
                node[step] = value
            else:
                node = node[step]
        else:
            found = f"a list of {len(node)} items" if isinstance(node, list) else _show(node)
            wanted = f"index [{step}]" if isinstance(step, int) else f"key '{step}'"
            message = f"cannot set it: {here} is {found}, it has no {wanted}"
            raise SpecError([Problem(label, 0, 0, key, message)])


def _validate(
    data: Any,
    file: str,
    base_dir: str | Path | None,
    root: yaml.Node | None,
    problems: list[Problem],
    where: Callable[[Loc, str], tuple[str, int, int]] | None = None,
) -> Spec:
    """Resolve the ``${path}`` references of `data` (`compose`), then validate it; `root` is
    its node tree from the file (None: no positions to give, but `where` may still tell
    where each reference was written)."""
    if where is None:
        where = compose.node_positions(root) if root is not None else compose.no_positions(file)
    data, references, unresolved = compose.resolve_references(data, where)
    if unresolved:
        raise SpecError(_unique(problems + unresolved))
    try:
        spec = Spec.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as error:
        tree = root if root is not None else _tree_of(data)
        located = [p for details in error.errors() for p in _problems(details, file, tree)]
        if root is None:  # positions in a YAML text made up from the data mean nothing
            located = [Problem(file, 0, 0, p.path, p.message) for p in located]
        raise SpecError(_unique(problems + located)) from None
    if problems:
        raise SpecError(_unique(problems))
    spec._references = tuple(references)
    return spec
