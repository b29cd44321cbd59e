"""Read a spec file and report every problem in it as ``file:line:column: key.path: message``.

Loading is safe YAML only (a `yaml.SafeLoader` subclass: no tag can construct a Python
object) in two steps. First the text is composed into a node tree, which keeps the line
and column of every key and value; then the nodes become plain data, with duplicate keys
and non-data tags recorded as problems instead of being silently accepted. The data is
validated by the pydantic models of `schema`, and each validation error's ``loc``
(``("model", "layers", 2, "linear", "out_features")``) is walked down the node tree to
the position it is about. All problems of a file are raised together in one `SpecError`.
A hostile file costs neither memory nor time: only a regular file of at most
`MAX_SPEC_BYTES` is read, and composing stops at `MAX_DEPTH` levels of nesting and at
`MAX_NODES` values once aliases are expanded (`SpecLoader`).

A spec file may extend base specs and refer to its own values (``extends:``, ``${path}``:
see `compose`). The bases are merged into the data and the node tree before validation,
and every mark names the file it was read from, so a problem is reported in the file
that wrote the value; references are resolved in `_validate`, just before the schema.

`apply_overrides` changes a spec by dotted paths (``train.epochs=3``) and validates the
result in the same way, so a training run or a sweep never runs an invalid spec.
"""

from __future__ import annotations

import copy
import difflib
import math
import re
import sys
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, Tag, ValidationError

from ..errors import UserError
from ..io.reading import read_regular
from . import registry
from .schema import LayerSpec, Spec

Loc = tuple[Union[str, int], ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a spec, at a position of its file (line and column from 1)."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class SpecError(UserError):
    """A spec is invalid; the message lists every problem, one per line."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# --- YAML with positions ----------------------------------------------------------------------

# Bounds on what one spec (or one --set value) may be. A spec is a few dozen lines; these
# leave room for long sweeps and keep a hostile file from costing memory or a crash.
MAX_SPEC_BYTES = 1_000_000  # the file's size, checked before it is read
MAX_DEPTH = 100  # nesting of mappings and lists, checked while composing (before recursing)
MAX_NODES = 100_000  # values after every alias is expanded ("billion laughs" bombs)

# Characters YAML 1.1 forbids in a stream (PyYAML's reader refuses them without a line).
_NOT_PRINTABLE = re.compile(r"[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# Explicit tags SafeLoader would turn into Python objects that a spec has no use for.
_REFUSED_TAGS = ("binary", "set", "omap", "pairs")


class _Refused(Exception):
    """A bound of the composer was exceeded: no positions of later nodes are worth having."""

    def __init__(self, mark: yaml.Mark, message: str):
        super().__init__(message)
        self.mark, self.message = mark, message


class SpecLoader(yaml.SafeLoader):
    """PyYAML's safe loader that records duplicate keys and unknown tags as problems.

    While composing it counts the values every alias expands to and the nesting depth,
    and stops at `MAX_NODES` and `MAX_DEPTH` (a recursive alias is refused too), so an
    alias bomb or a 20,000-deep list costs neither memory nor a RecursionError. It reads
    ``1e-3`` as a number: YAML 1.1 (PyYAML) wants ``1.0e-3`` and would otherwise hand the
    optimizer the string "1e-3"; a number that a float cannot hold (``1e400``,
    ``1e-400``) is a problem, not inf or 0.
    """

    def __init__(self, stream: str):
        super().__init__(stream)
        self.duplicates: list[tuple[yaml.Node, str]] = []
        self.refused: list[tuple[yaml.Node, str]] = []
        self._depth = 0
        self._nodes = 0  # values composed so far, aliases counted at their full size
        self._anchor_sizes: dict[str, int] = {}

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            node = super().compose_node(parent, index)  # an undefined alias is its error
            size = self._anchor_sizes.get(event.anchor)
            if size is None:
                line = node.start_mark.line + 1
                raise _Refused(
                    event.start_mark,
                    f"alias *{event.anchor} refers to its own anchor &{event.anchor} (line "
                    f"{line}): a recursive value has no end; write the value out instead",
                )
            self._count(size, event.start_mark, f"alias *{event.anchor}")
            return node
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Refused(
                event.start_mark,
                f"nested more than {MAX_DEPTH} levels deep; a spec is a few levels of "
                "mappings and lists: remove the extra brackets or indentation",
            )
        before = self._nodes
        node = super().compose_node(parent, index)
        self._depth -= 1
        self._count(1, event.start_mark, "the value here")
        if event.anchor is not None:
            self._anchor_sizes[event.anchor] = self._nodes - before
        return node

    def _count(self, size: int, mark: yaml.Mark, what: str) -> None:
        self._nodes += size
        if self._nodes > MAX_NODES:
            raise _Refused(
                mark,
                f"{what} makes the spec hold more than {MAX_NODES:,} values once its "
                "aliases (*name) are expanded; an alias this large is a YAML bomb, "
                "not a spec: write the values out",
            )

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_seen: dict[str, yaml.Node] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                continue
            if key_node.tag != "tag:yaml.org,2002:str":
                shown = key_node.value
                message = (
                    f"key {shown} is read as {_kind_of_tag(key_node.tag)}, not as a name; "
                    f"keys are names: quote it ('{shown}') or rename it"
                )
                self.refused.append((key_node, message))
                continue
            first = first_seen.setdefault(key_node.value, key_node)
            if first is not key_node:
                message = (
                    f"duplicate key '{key_node.value}' (also on line {first.start_mark.line + 1}); "
                    "keep only one"
                )
                self.duplicates.append((key_node, message))
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int | None:
        try:
            return super().construct_yaml_int(node)
        except ValueError:  # more digits than Python converts (int_max_str_digits)
            message = f"the number {node.value[:20]}... has too many digits; write a shorter one"
            self.refused.append((node, message))
            return None

    def construct_yaml_float(self, node: yaml.ScalarNode) -> float | None:
        value = super().construct_yaml_float(node)
        written = node.value.lower().lstrip("+-")
        if math.isinf(value) and written != ".inf":
            message = f"the number {node.value} is too large for a float (it would read as inf)"
        elif value == 0 and any(c in "123456789" for c in written.split("e")[0]):
            message = f"the number {node.value} is too small for a float (it would read as 0)"
        else:
            return value
        self.refused.append((node, f"{message}; write a number within +-1.8e308, or 0"))
        return value

    def construct_undefined(self, node: yaml.Node) -> None:
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        message = f"tag '{tag}' is not allowed: a spec holds plain data and never runs code"
        self.refused.append((node, message))


SpecLoader.add_constructor(None, SpecLoader.construct_undefined)
for _tag in _REFUSED_TAGS:
    SpecLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", SpecLoader.construct_undefined)
SpecLoader.add_constructor("tag:yaml.org,2002:int", SpecLoader.construct_yaml_int)
SpecLoader.add_constructor("tag:yaml.org,2002:float", SpecLoader.construct_yaml_float)
SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def _kind_of_tag(tag: str) -> str:
    kinds = {"bool": "true/false", "int": "an integer", "float": "a number", "null": "null"}
    return kinds.get(tag.rsplit(":", 1)[-1], tag)


_TOP_KEYS = ", ".join(k for k in Spec.model_fields if k != "extends")  # the sections


@dataclass
class _Document:
    data: Any
    root: yaml.Node | None
    duplicates: list[Problem]  # reported, but validation goes on with the last value
    refused: list[Problem]


def _compose(text: str, file: str) -> _Document:
    """The data and node tree of one YAML document, within the bounds above.

    Characters YAML forbids and exceeded bounds are a SpecError; syntax errors are
    yaml.MarkedYAMLError (a command-line value falls back to plain text on those).
    """
    bad = [
        _at_offset(file, text, m.start(), _control_message(m.group()))
        for m in _NOT_PRINTABLE.finditer(text)
    ]
    if bad:
        raise SpecError(bad[:5])
    loader = SpecLoader(text)
    loader.name = file  # every mark names its file: merged trees (`compose`) keep their origin
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except _Refused as refused:
        raise SpecError([_at(file, refused.mark, "", refused.message)]) from None
    finally:
        loader.dispose()
    duplicates = [_at(file, node.start_mark, "", message) for node, message in loader.duplicates]
    refused = [_at(file, node.start_mark, "", message) for node, message in loader.refused]
    return _Document(data, root, duplicates, refused)


def _read_yaml(text: str, file: str) -> _Document:
    """The data and node tree of a one-document YAML mapping; SpecError if there is none."""
    try:
        document = _compose(text, file)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        context = error.context
        if context and error.context_mark and error.problem_mark:
            context += f" (line {error.context_mark.line + 1})"  # where it began
        message = ", ".join(str(p) for p in (context, error.problem) if p)
        raise SpecError([_at(file, mark, "", f"invalid YAML: {message}")]) from None
    except yaml.YAMLError as error:  # no position (e.g. from the reader): say what it is
        raise SpecError([Problem(file, 0, 0, "", f"invalid YAML: {error}")]) from None
    root, refused = document.root, document.refused
    if root is None:
        problem = Problem(file, 1, 1, "", f"the file is empty; a spec is a mapping of {_TOP_KEYS}")
        raise SpecError([problem])
    if not isinstance(root, yaml.MappingNode):
        message = (
            f"expected a mapping of {_TOP_KEYS} at the top level, found {_show(document.data)}"
        )
        refused.append(_at(file, root.start_mark, "", message))
    if refused:
        raise SpecError(sorted(refused + document.duplicates, key=_position))
    return document


def _control_message(char: str) -> str:
    name = {"\x00": "NUL"}.get(char, "a control character")
    return (
        f"{name} (U+{ord(char):04X}) is not allowed in YAML; delete it (a file with such "
        "bytes may be binary or damaged)"
    )


def _at_offset(file: str, text: str, offset: int, message: str) -> Problem:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Problem(file, line, column, "", message)


# --- public entry points ----------------------------------------------------------------------


def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec file, with the bases its ``extends`` names merged under it;
    relative paths in it are relative to its folder.

    Only a regular file of at most `MAX_SPEC_BYTES` is read (a FIFO, a device or a huge
    file is refused before reading)."""
    from . import compose

    path = Path(path)
    document = compose.read_composed(path)
    spec = _validate(document.data, str(path), path.parent, document.root, document.duplicates)
    spec._file = path
    return spec


def check_spec_file(path: str | Path, more_checks: Sequence[Callable] = ()) -> Spec:
    """`load_spec`, then `checks.problems` and the caller's `more_checks` (init.from's, from
    the training code), all reported at once with their lines: what ``validate`` runs."""
    from . import checks, compose

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


def _read_text(path: Path) -> str:
    """The text of a spec file, read only if it is a regular file of at most MAX_SPEC_BYTES."""
    where = "" if path.is_absolute() else f" (relative to {Path.cwd()})"
    fix = "give the path of a spec file (.yaml)"
    raw = read_regular(
        path, MAX_SPEC_BYTES, "spec file", fix, f"spec file not found: {path}{where}"
    )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserError(f"{path}: not a UTF-8 text file ({error.reason})") from None


def parse_spec(text: str, file: str = "<spec>", base_dir: str | Path | None = None) -> Spec:
    """Validate a spec given as YAML text; `file` names it in messages, and relative
    paths in it (and in its ``extends``) are relative to `base_dir` (the current folder if None)."""
    from . import compose

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
    from . import compose

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


_PATH = re.compile(r"[A-Za-z_][\w-]*(?:\[\d+\])*(?:\.(?:[A-Za-z_][\w-]*|\d+)(?:\[\d+\])*)*")
_STEP = re.compile(r"([A-Za-z_][\w-]*)|\[?(\d+)\]?")


# --- validation errors -> problems --------------------------------------------------------------


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
    from . import compose

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


def _problems(error: Any, file: str, root: yaml.Node | None) -> list[Problem]:
    """One Problem per validation error; a cross-field check may carry several."""
    loc: Loc = tuple(error["loc"])
    if error["type"] == "spec_check":
        found = error["ctx"]["problems"]
        return [
            _problem(file, root, loc + tuple(path), "spec_check", message)
            for path, message in found
        ]
    return [_problem(file, root, loc, error["type"], _message(error, loc))]


def _tree_of(data: Any) -> yaml.Node | None:
    """A node tree of plain data, to name key paths the way a file would."""
    try:
        return yaml.compose(yaml.safe_dump(data), Loader=SpecLoader)
    except yaml.YAMLError:  # not plain data (a tuple, an object): paths stay as pydantic gives them
        return None


def _problem(file: str, root: yaml.Node | None, loc: Loc, kind: str, message: str) -> Problem:
    if root is None:
        return Problem(file, 0, 0, _dotted(list(loc)), message)
    mark, shown = _locate(root, loc, kind)
    return _at(mark.name, mark, _dotted(shown), message)  # the file it was written in


def _locate(root: yaml.Node, loc: Loc, kind: str) -> tuple[yaml.Mark, list[str | int]]:
    """The position a validation error is about, and its key path as the file writes it.

    ``loc`` follows the data down the node tree. Elements that are not in the file are
    either union tags pydantic adds (``data.mnist.path`` for ``data: {source: mnist}``),
    which are dropped, or a missing key / an option set by a short form, which is shown.
    """
    node, key_node = root, None
    tag_seen: yaml.Node | None = None
    shown: list[str | int] = []
    for element in loc:
        if node is not tag_seen and node is not root and _is_tag(node, element):
            tag_seen = node  # a union's tag comes first, once per node (never at the top)
            if isinstance(node, yaml.ScalarNode) and shown and isinstance(shown[-1], int):
                shown.append(element)  # a bare layer name: model.layers[2].linear
            continue
        child = _child(node, element)
        if child is not None:
            key_node, node = child
        shown.append(element)  # found, or a missing key, or an option set by a short form
    if kind == "extra_forbidden" and key_node is not None:
        return key_node.start_mark, shown
    if kind == "union_tag_invalid" and isinstance(node, yaml.MappingNode):
        for name in ("source", "name"):
            child = _child(node, name)
            if child is not None:
                return child[1].start_mark, shown + [name]
    return node.start_mark, shown


def _child(node: yaml.Node, element: str | int) -> tuple[yaml.Node | None, yaml.Node] | None:
    """(key node, value node) of a mapping's key, or (None, item) of a list's item."""
    if isinstance(node, yaml.MappingNode):
        found = None
        for key_node, value_node in node.value:  # the last one wins, as in the data
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(element):
                found = (key_node, value_node)
        return found
    if (
        isinstance(node, yaml.SequenceNode)
        and isinstance(element, int)
        and element < len(node.value)
    ):
        return None, node.value[element]
    return None


def _is_tag(node: yaml.Node, element: str | int) -> bool:
    """Whether `element` names the kind of `node`: a bare name, or its source/name value."""
    if isinstance(node, yaml.ScalarNode):
        return node.value == element
    if isinstance(node, yaml.MappingNode):
        return any(
            isinstance(value, yaml.ScalarNode) and value.value == element
            for key, value in node.value
            if key.value in ("source", "name")
        )
    return False


_EXPECTED = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}

_OWN_MESSAGES = ("layer_without_options",)

_NOUNS = {
    "layers": "layer",
    "data": "data source",
    "loss": "loss",
    "optimizer": "optimizer",
    "scheduler": "scheduler",
}


def _message(error: Any, loc: Loc) -> str:
    """'expected ..., found ...' (with a did-you-mean where a name was misspelled)."""
    kind, ctx = error["type"], error.get("ctx") or {}
    found = _show(error.get("input"))
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, found {found}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return f"expected {_bound(kind, ctx)}, found {found}"
    if kind == "missing":
        return "required, but missing"
    if kind == "extra_forbidden":
        return _unknown("key", str(loc[-1]), _allowed_keys(loc[:-1]))
    if kind == "literal_error":
        choices = _quoted(ctx.get("expected", ""))
        return _unknown("value", error.get("input"), choices, found=True)
    if kind == "union_tag_invalid":
        return _unknown(_noun(loc), ctx.get("tag"), _quoted(ctx.get("expected_tags", "")))
    if kind == "union_tag_not_found":
        return _no_tag(loc, error.get("input"))
    if kind in ("too_short", "too_long"):
        limit = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        what = "character" if isinstance(error.get("input"), str) else "item"
        bound = "at least" if kind == "too_short" else "at most"
        return f"expected {bound} {limit} {what}{'s' if limit != 1 else ''}, found {found}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "expected":
        return f"{error['msg']}, found {found}"
    if kind in _OWN_MESSAGES:
        return error["msg"]
    return f"{error['msg'][:1].lower()}{error['msg'][1:]}, found {found}"


def _bound(kind: str, ctx: dict[str, Any]) -> str:
    """'a positive integer', 'a number >= 0', ... (an int bound means an integer field)."""
    symbol, key = {
        "greater_than": (">", "gt"),
        "greater_than_equal": (">=", "ge"),
        "less_than": ("<", "lt"),
        "less_than_equal": ("<=", "le"),
    }[kind]
    value = ctx[key]
    integer = isinstance(value, int)
    if kind == "greater_than" and value == 0:
        return "a positive integer" if integer else "a number > 0"
    return f"{'an integer' if integer else 'a number'} {symbol} {value:g}"


def _unknown(noun: str, name: Any, choices: list[str], found: bool = False) -> str:
    """ "unknown layer 'lenear'; did you mean 'linear'?" or the list of choices."""
    shown = _show(name)
    head = (
        f"expected one of {', '.join(choices)}, found {shown}"
        if found
        else f"unknown {noun} {shown}"
    )
    close = (
        difflib.get_close_matches(str(name), choices, n=1, cutoff=0.6)
        if isinstance(name, str)
        else []
    )
    if close:
        return f"{head}; did you mean '{close[0]}'?"
    return head if found else f"{head}; choose one of: {', '.join(choices)}"


def _no_tag(loc: Loc, value: Any) -> str:
    noun = _noun(loc)
    if noun == "layer":
        extra = (
            f" (a mapping with keys {', '.join(map(str, value))}: is a '-' missing?)"
            if isinstance(value, dict)
            else ""
        )
        return (
            "expected a layer: a name such as relu, or a one-key mapping such as "
            f"{{linear: 128}}; found {_show(value)}{extra}"
        )
    key = "source" if noun == "data source" else "name"
    choices = ", ".join(_tags_at(loc))
    if isinstance(value, dict):
        return f"missing '{key}': the {noun}, one of {choices}"
    return f"expected a {noun} name ({choices}) or a mapping with '{key}', found {_show(value)}"


def _noun(loc: Loc) -> str:
    for element in reversed(loc):
        if isinstance(element, str):
            return _NOUNS.get(element, element)
    return "value"


def _quoted(text: str) -> list[str]:
    """The values of pydantic's "'a', 'b' or 'c'"."""
    return re.findall(r"'((?:[^'\\]|\\.)*)'", text)


def _show(value: Any) -> str:
    """A value as YAML writes it, short."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return f"a mapping ({', '.join(map(str, value))})" if value else "an empty mapping"
    if isinstance(value, (list, tuple)):
        text = yaml.safe_dump(list(value), default_flow_style=True, width=1000).strip()
        return text if len(text) <= 40 else f"a list of {len(value)} items"
    return str(value)


def _dotted(path: list[str | int] | tuple[str | int, ...]) -> str:
    """model.layers[2].linear.out_features"""
    text = ""
    for element in path:
        text += (
            f"[{element}]" if isinstance(element, int) else f".{element}" if text else str(element)
        )
    return text


def _at(file: str, mark: yaml.Mark, path: str, message: str) -> Problem:
    return Problem(file, mark.line + 1, mark.column + 1, path, message)


def _position(problem: Problem) -> tuple[int, int]:
    return problem.line, problem.column


def _unique(problems: list[Problem]) -> list[Problem]:
    return sorted(dict.fromkeys(problems), key=_position)


# --- the model at a validation error's loc, for the keys and tags it allows ----------------------


def _allowed_keys(loc: Loc) -> list[str]:
    model = _unwrap(_type_at(loc))
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _tags_at(loc: Loc) -> list[str]:
    union = _unwrap(_type_at(loc))
    return [tag for tag in map(_tag_of, get_args(union)) if tag]


def _type_at(loc: Loc) -> Any:
    """The annotation validating the data at `loc`, following fields, items and tags."""
    current: Any = Spec
    for element in loc:
        current = _unwrap(current)
        if current is LayerSpec:
            known = isinstance(element, str) and element in registry.layer_names()
            current = registry.get_layer(element).options if known else None
        elif isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(element) if isinstance(element, str) else None
            current = field.annotation if field is not None else None
        elif get_origin(current) in (list, tuple) and isinstance(element, int):
            args = get_args(current)
            current = args[0] if get_origin(current) is list else args[min(element, len(args) - 1)]
        elif _is_union(current):
            current = next((m for m in get_args(current) if _tag_of(m) == element), None)
        else:
            return None
    return current


def _unwrap(annotation: Any) -> Any:
    """Strip ``Annotated[...]`` and ``Optional[...]`` down to the type that validates."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        elif _is_union(annotation) and type(None) in get_args(annotation):
            rest = [a for a in get_args(annotation) if a is not type(None)]
            annotation = rest[0] if len(rest) == 1 else Union[tuple(rest)]
        else:
            return annotation


def _is_union(annotation: Any) -> bool:
    """``Union[A, B]`` or ``A | B`` (types.UnionType, what ``from __future__`` annotations give)."""
    return get_origin(annotation) in (Union, types.UnionType)


def _tag_of(member: Any) -> str | None:
    """The tag of a union member: its ``Tag(...)`` or its one ``source``/``name`` literal."""
    if get_origin(member) is Annotated:
        for meta in get_args(member)[1:]:
            if isinstance(meta, Tag):
                return meta.tag
        member = get_args(member)[0]
    if isinstance(member, type) and issubclass(member, BaseModel):
        for key in ("source", "name"):
            field = member.model_fields.get(key)
            if field is not None and get_origin(field.annotation) is Literal:
                return get_args(field.annotation)[0]
    return None
