"""YAML with positions: a spec's text read into plain data and a node tree that keeps the
line and column of every key and value.

Loading is safe YAML only (a `yaml.SafeLoader` subclass: no tag can construct a Python
object). Duplicate keys, keys that are not names and non-data tags are recorded as
problems instead of being silently accepted. A hostile file costs neither memory nor
time: only a regular file of at most `MAX_SPEC_BYTES` is read, and composing stops at
`MAX_DEPTH` levels of nesting and at `MAX_NODES` values once aliases are expanded
(`SpecLoader`). `_locate` walks a validation error's ``loc`` down the node tree to the
position it is about.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..data.reading import read_regular
from ..errors import UserError
from .problems import Loc, Problem, SpecError, _at, _position, _show
from .schema import Spec

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


def _tree_of(data: Any) -> yaml.Node | None:
    """A node tree of plain data, to name key paths the way a file would."""
    try:
        return yaml.compose(yaml.safe_dump(data), Loader=SpecLoader)
    except yaml.YAMLError:  # not plain data (a tuple, an object): paths stay as pydantic gives them
        return None


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
