"""Specs that compose: ``extends:`` merges base specs under a spec, ``${path}`` refers to a value.

``extends: base.yaml`` (or a list, ``extends: [a.yaml, b.yaml]``; paths are relative to
the spec's folder, and a bare name that is no file there is a shipped example, ``mlp``)
reads each base, with its own ``extends`` first, and merges the spec over them: mappings
key by key, while a list or a single value of the spec replaces the base's; later bases
win over earlier ones, and the spec over all. A base may be a fragment (no ``name``, no
``model``): only the merged result is validated. Each file is read by the loader's bounded
reader (a regular file, `yaml_positions.MAX_SPEC_BYTES`, `MAX_DEPTH`, aliases), and the chain
is bounded too (`MAX_EXTENDS_DEPTH` levels, `MAX_BASE_FILES` files, `MAX_NODES` values
in all), so a hostile spec costs neither memory nor time.

The node trees are merged along with the data, and every YAML mark names the file it was
read from, so a validation error points at the file and line where the offending value
was written, the base's or the spec's.

``${train.epochs}`` is resolved after merging (and after ``--set``: `loader.apply_overrides`
puts the references back before it applies the overrides) and before validation. A value
that is one reference keeps the referred value's type (``t_max: ${train.epochs}`` is an
integer); a reference inside a longer text is replaced by the value's text. References see
the values written in the spec and its bases, not the defaults.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import UserError
from .problems import _PATH, _STEP, Loc, Problem, SpecError, _at, _dotted, _show
from .shipped import shipped_spec, spec_names
from .yaml_positions import MAX_NODES, MAX_SPEC_BYTES, _child, _Document, _read_text, _read_yaml

MAX_EXTENDS_DEPTH = 8  # a spec, its base, the base's base, ...: 8 extends in a row at most
MAX_BASE_FILES = 16  # different files one spec may read through extends, in all

# References are resolved by recursion, each hop a few frames: bounded well below Python's
# recursion limit, and in the values they produce (a whole section referred to many times).
MAX_REFERENCE_NESTING = 160
MAX_RESOLVED_VALUES = 2 * MAX_NODES
# and in the text they make: "${a}${a}" refers to a text that may itself double, so a
# 1 kB spec could reach gigabytes; the pieces put into texts are counted, as values are
MAX_RESOLVED_TEXT = MAX_SPEC_BYTES

EXTENDS = "extends"
_REFERENCE = re.compile(r"\$\{([^${}]*)\}")


# --- extends -----------------------------------------------------------------------------------


def composed_yaml(path: Path) -> str:
    """The spec file at `path` as YAML with its bases merged, references as written
    (what ``python cli.py spec SPEC`` prints; ``--resolved`` gives what a run will hold)."""
    data = read_composed(path).data
    header = f"# {path} with its bases merged (extends); references as written.\n"
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def read_composed(path: Path) -> _Document:
    """The spec file at `path` with its bases merged under it (its ``extends`` removed)."""
    text = _read_text(path)
    return compose(_read_yaml(text, str(path)), str(path), path.parent, _key(path))


def compose(document: _Document, file: str, folder: Path, key: Path | None = None) -> _Document:
    """`document` (read from `file`) merged over the bases its ``extends`` names, which are
    relative to `folder`; `key` is the file's resolved path (None for a text)."""
    return _Composer().compose(document, file, folder, [_Link(key, file, None, "")])


@dataclass(frozen=True)
class _Link:
    """One file of the chain being read, and the extends value that named it."""

    key: Path | None  # the resolved path, to recognise a cycle
    file: str
    mark: yaml.Mark | None  # where the file before it names this one
    name: str


class _Composer:
    def __init__(self) -> None:
        self.read: dict[Path, _Document] = {}  # a base named twice (a diamond) is read once
        self.values = 0  # values of every file read, against MAX_NODES

    def compose(
        self, document: _Document, file: str, folder: Path, chain: list[_Link]
    ) -> _Document:
        self.values += _count_values(document.data)
        root = document.root
        found = _child(root, EXTENDS)
        if found is None:
            return document
        names = _base_names(document.data[EXTENDS], found[1], file)
        data = {k: v for k, v in document.data.items() if k != EXTENDS}
        own = yaml.MappingNode(
            root.tag,
            [(k, v) for k, v in root.value if k.value != EXTENDS],
            root.start_mark,
            root.end_mark,
        )
        merged_data: Any = None
        merged_root: yaml.Node | None = None
        duplicates: list[Problem] = []
        for name, node in names:
            base = self._base(_base_path(folder, name), name, node.start_mark, file, chain)
            merged_data, merged_root = merge(merged_data, merged_root, base.data, base.root)
            duplicates += base.duplicates
        merged_data, merged_root = merge(merged_data, merged_root, data, own)
        return _Document(merged_data, merged_root, duplicates + document.duplicates, [])

    def _base(
        self, path: Path, name: str, mark: yaml.Mark, file: str, chain: list[_Link]
    ) -> _Document:
        def refuse(message: str) -> SpecError:
            return SpecError([_at(file, mark, EXTENDS, message)])

        key = _key(path)
        link = _Link(key, str(path), mark, name)
        if any(earlier.key == key for earlier in chain):
            start = next(i for i, earlier in enumerate(chain) if earlier.key == key)
            cycle = chain[start + 1 :] + [link]
            steps = ", ".join(
                f"{before.file}:{after.mark.line + 1}:{after.mark.column + 1} extends {after.name}"
                for before, after in zip(chain[start:], cycle)
            )
            raise refuse(
                f"{name} makes a cycle ({steps}): a spec cannot be its own base; "
                "remove one of these extends"
            )
        if len(chain) > MAX_EXTENDS_DEPTH:  # the chain holds the spec and its bases so far
            shown = " -> ".join(link.file for link in chain + [link])
            raise refuse(
                f"more than {MAX_EXTENDS_DEPTH} levels of extends ({shown}); merge some "
                "of these bases into one file"
            )
        if key in self.read:
            return self.read[key]
        if len(self.read) >= MAX_BASE_FILES:
            raise refuse(f"a spec may read at most {MAX_BASE_FILES} base files through extends")
        try:
            text = _read_text(path)
        except UserError as error:
            raise refuse(
                f"cannot read the base spec {name} (a path relative to the folder of "
                f"{file}): {error}"
            ) from None
        document = self.compose(_read_yaml(text, str(path)), str(path), path.parent, chain + [link])
        if self.values > MAX_NODES:
            raise refuse(
                f"the spec and its bases hold more than {MAX_NODES:,} values together; "
                "a spec is a few dozen lines: check what these bases are"
            )
        self.read[key] = document
        return document


def _base_path(folder: Path, name: str) -> Path:
    """The file ``extends: name`` means: relative to the spec's folder, or else the shipped
    example of that name (``extends: mlp``), as the commands read their SPEC."""

    path = folder / name
    bare = Path(name).parent == Path(".")
    if not path.exists() and bare and name.removesuffix(".yaml") in spec_names():
        return shipped_spec(name)
    return path


def _key(path: Path) -> Path:
    """The file a path names, to recognise it when named again (a symlink loop names none:
    reading it reports that)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def _base_names(value: Any, node: yaml.Node, file: str) -> list[tuple[str, yaml.Node]]:
    """(path, its node) of each base ``extends`` names: a file name or a list of them."""
    if isinstance(value, str) and value.strip():
        return [(value, node)]
    if isinstance(value, list) and value and isinstance(node, yaml.SequenceNode):
        names = list(zip(value, node.value))
        wrong = [(v, n) for v, n in names if not (isinstance(v, str) and v.strip())]
        if not wrong:
            return names
        value, node = wrong[0]
    message = (
        "expected the path of a base spec (extends: base.yaml) or a list of them "
        f"(extends: [a.yaml, b.yaml]), found {_show(value)}"
    )
    raise SpecError([_at(file, node.start_mark, EXTENDS, message)])


def merge(
    base: Any, base_node: yaml.Node | None, data: Any, node: yaml.Node | None
) -> tuple[Any, yaml.Node | None]:
    """`data` over `base`, and their node trees alike: mappings are merged key by key (a key
    of `data` wins), anything else of `data` (a list, a value) replaces the base's."""
    if not (
        isinstance(base, dict)
        and isinstance(data, dict)
        and isinstance(base_node, yaml.MappingNode)
        and isinstance(node, yaml.MappingNode)
    ):
        return data, node
    merged = dict(base)
    pairs = _pairs(base_node)
    own = _pairs(node)
    for key, value in data.items():
        key_node, value_node = own[key]
        if key in merged:
            value, value_node = merge(merged[key], pairs[key][1], value, value_node)
        merged[key] = value
        pairs[key] = (key_node, value_node)
    return merged, yaml.MappingNode(node.tag, list(pairs.values()), node.start_mark, node.end_mark)


def _pairs(node: yaml.MappingNode) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """A mapping node's (key node, value node) by key; the last of a duplicate wins, as in
    the data."""
    return {k.value: (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def _count_values(data: Any) -> int:
    """Values in `data`, aliases counted at their full size (each file's is bounded)."""
    count, stack = 0, [data]
    while stack and count <= MAX_NODES:
        value = stack.pop()
        count += 1
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return count


# --- references ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """A value that holds ``${...}``: where it sits, as written, what it resolved to, and
    where it was written (so an error after ``--set`` still names the file and line)."""

    loc: Loc
    text: str
    value: Any
    file: str
    line: int
    column: int


Where = Callable[[Loc, str], tuple[str, int, int]]


def has_references(text: str) -> bool:
    return _REFERENCE.search(text) is not None


def resolve_references(data: Any, where: Where) -> tuple[Any, list[Reference], list[Problem]]:
    """(`data` with every ``${path}`` resolved, the references found, the problems).

    `where(loc, token)` is the file, line and column of the reference `token` in the
    string at `loc`. A problem leaves its string as written (validation does not run then).
    """
    resolver = _Resolver(data, where)
    try:
        resolved = resolver.tree((), data)
    except _Bounded as refused:
        return data, [], [refused.problem]
    return resolved, resolver.references, resolver.problems


class _Resolver:
    def __init__(self, data: Any, where: Where):
        self.data, self.where = data, where
        self.done: dict[Loc, Any] = {}  # resolved strings, by loc
        self.active: list[Loc] = []  # the strings being resolved, for cycles
        self.references: list[Reference] = []
        self.problems: list[Problem] = []
        self.values = 0  # values produced, a referred subtree counted at each reference
        self.characters = 0  # characters put into texts by references, against MAX_RESOLVED_TEXT
        self.nesting = 0  # levels of the data and of references being resolved

    def tree(self, loc: Loc, value: Any) -> Any:
        self.values += 1
        if self.values > MAX_RESOLVED_VALUES:
            raise self.bounded(
                f"references make the spec hold more than {MAX_RESOLVED_VALUES:,} values; "
                "refer to single values, not to whole sections many times"
            )
        self.nesting += 1
        try:
            if isinstance(value, dict):
                return {k: self.tree(loc + (k,), v) for k, v in value.items()}
            if isinstance(value, list):
                return [self.tree(loc + (i,), v) for i, v in enumerate(value)]
            if isinstance(value, str) and has_references(value):
                return self.string(loc, value)
            return value
        finally:
            self.nesting -= 1

    def bounded(self, message: str) -> _Bounded:
        return _Bounded(self.fail(self.active[-1] if self.active else (), "", message).problem)

    def string(self, loc: Loc, text: str) -> Any:
        if loc in self.done:
            return self.done[loc]
        if self.nesting > MAX_REFERENCE_NESTING:
            raise self.bounded(
                f"references refer to references more than {MAX_REFERENCE_NESTING} levels "
                "deep (with the nesting of the values); write some of them as values"
            )
        self.nesting += 1
        self.active.append(loc)
        whole = _REFERENCE.fullmatch(text.strip())
        try:
            if whole:
                result = self.target(loc, whole.group(0), whole.group(1).strip())
            else:
                result = _REFERENCE.sub(lambda m: self.text(loc, m.group(0)), text)
        except _Unresolved as failed:
            self.problems.append(failed.problem)
            result = text
        finally:
            self.active.pop()
            self.nesting -= 1
        self.done[loc] = result
        if result is not text:
            self.references.append(Reference(loc, text, result, *self.where(loc, "")))
        return result

    def text(self, loc: Loc, token: str) -> str:
        value = self.target(loc, token, token[2:-1].strip())
        if isinstance(value, (dict, list)):
            kind = "a mapping" if isinstance(value, dict) else "a list"
            raise self.fail(
                loc,
                token,
                f"{token} names {kind}, which cannot be part of a text; write the reference "
                "as the whole value, or refer to a single value",
            )
        piece = _as_text(value)
        self.characters += len(piece)
        if self.characters > MAX_RESOLVED_TEXT:
            raise self.bounded(
                f"references make the spec's texts longer than {MAX_RESOLVED_TEXT:,} "
                "characters in all (a text that refers to itself twice, level after level, "
                "doubles at each); write the text out, or refer to single values"
            )
        return piece

    def target(self, loc: Loc, token: str, path: str) -> Any:
        """The resolved value that `path` names, for the reference `token` at `loc`."""
        if not _PATH.fullmatch(path):
            raise self.fail(
                loc, token, f"{token} is not a reference to a key path; write e.g. ${{seed}}"
            )
        steps: Loc = tuple(int(i) if i else name for name, i in _STEP.findall(path))
        for start, active in enumerate(self.active):
            if active[: len(steps)] == steps:
                chain = " -> ".join(_dotted(list(a)) for a in self.active[start:])
                raise self.fail(
                    loc,
                    token,
                    f"{token} is a circular reference ({chain} -> {path}): a value cannot "
                    "be defined by itself; write one of them as a value",
                )
        value = self.data
        for depth, step in enumerate(steps):
            if isinstance(value, str) and has_references(value):  # a.b where a: ${c}
                value = self.string(steps[:depth], value)
            if isinstance(value, dict) and isinstance(step, str) and step in value:
                value = value[step]
            elif isinstance(value, list) and isinstance(step, int) and step < len(value):
                value = value[step]
            else:
                raise self.fail(loc, token, _missing(token, steps, depth, value))
        return copy.deepcopy(self.tree(steps, value))

    def fail(self, loc: Loc, token: str, message: str) -> _Unresolved:
        file, line, column = self.where(loc, token)
        return _Unresolved(Problem(file, line, column, _dotted(list(loc)), message))


class _Bounded(Exception):
    """The references exceed a bound: resolving stops (one problem, not one per value)."""

    def __init__(self, problem: Problem):
        super().__init__()
        self.problem = problem


class _Unresolved(Exception):
    """A reference that cannot be resolved: its string stays as written."""

    def __init__(self, problem: Problem):
        super().__init__()
        self.problem = problem


def _missing(token: str, steps: Loc, depth: int, container: Any) -> str:
    here = _dotted(list(steps[:depth])) or "the spec"
    path = _dotted(list(steps))
    if isinstance(container, dict):
        keys = [str(k) for k in container]
        close = difflib.get_close_matches(str(steps[depth]), keys, n=1, cutoff=0.6)
        if close:
            hint = f"; did you mean {_dotted([*steps[:depth], close[0]])}?"
        else:
            hint = f"; {here} has {', '.join(keys)}" if keys else f"; {here} is empty"
        return (
            f"{token}: {path} is not written in the spec or its bases (a reference does not "
            f"see defaults){hint}"
        )
    if isinstance(container, list):
        return f"{token}: {here} is a list of {len(container)} items, it has no {steps[depth]!r}"
    return f"{token}: {here} is {_show(container)}, it has no {steps[depth]!r}"


def _as_text(value: Any) -> str:
    """A value as YAML writes it, for a reference inside a longer text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


# --- positions --------------------------------------------------------------------------------


def node_positions(root: yaml.Node) -> Where:
    """`where` for data read from a file: the reference's own column in the string's node
    (the start of the value when the text is not on one line as written)."""

    def where(loc: Loc, token: str) -> tuple[str, int, int]:
        node = _node_at(root, loc)
        mark = node.start_mark
        column = mark.column
        if token and node.end_mark.line == mark.line and mark.buffer is not None:
            offset = mark.buffer.find(token, mark.pointer, node.end_mark.pointer)
            column += max(offset - mark.pointer, 0) if offset >= 0 else 0
        return mark.name, mark.line + 1, column + 1

    return where


def known_positions(references: list[Reference], file: str) -> Where:
    """`where` for data made from a validated spec: the positions its references had in the
    file (a reference that an override wrote names `file`, without a line)."""
    by_loc = {reference.loc: reference for reference in references}

    def where(loc: Loc, token: str) -> tuple[str, int, int]:
        found = by_loc.get(loc)
        return (found.file, found.line, found.column) if found else (file, 0, 0)

    return where


def no_positions(file: str) -> Where:
    """`where` for plain data: every reference is in `file`, without a line."""
    return known_positions([], file)


def _node_at(root: yaml.Node, loc: Loc) -> yaml.Node:
    node = root
    for element in loc:
        child = _child(node, element)
        if child is None:
            break
        node = child[1]
    return node


def restore_references(data: dict[str, Any], references: list[Reference]) -> None:
    """Put each reference of a spec back into its data (`spec_to_dict`), where the data still
    holds the value it resolved to, so that overrides applied next change what it names."""
    for reference in references:
        *parents, last = reference.loc
        container: Any = data
        for step in parents:
            container = _step(container, step)
        if _step(container, last) == reference.value:
            container[last] = reference.text


_NONE = object()


def _step(container: Any, step: Any) -> Any:
    if isinstance(container, dict) and step in container:
        return container[step]
    if isinstance(container, list) and isinstance(step, int) and step < len(container):
        return container[step]
    return _NONE
