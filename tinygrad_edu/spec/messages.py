"""Validation errors become problems: each pydantic error's ``loc`` (``("model", "layers",
2, "linear", "out_features")``) is found in the file's node tree (`yaml_positions`) and its
type turned into a message that says what was expected and what was found, with the keys,
kinds and names the spec allows at that place (read from the models of `schema`).
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, Tag

from . import registry
from .model_section import LayerSpec
from .problems import Loc, Problem, _at, _dotted, _quoted, _show, _unknown
from .schema import Spec
from .yaml_positions import _locate


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


def _problem(file: str, root: yaml.Node | None, loc: Loc, kind: str, message: str) -> Problem:
    if root is None:
        return Problem(file, 0, 0, _dotted(list(loc)), message)
    mark, shown = _locate(root, loc, kind)
    return _at(mark.name, mark, _dotted(shown), message)  # the file it was written in


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
