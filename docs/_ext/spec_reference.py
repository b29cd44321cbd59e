"""``spec-reference``: the spec format's reference, generated from ``specs/schema.json``.

Every section of a spec, every field with its type, default and description, every option
of each kind (loss, optimizer, scheduler, data source) and every layer type, read from the
JSON Schema that ``python cli.py schema`` writes, so the page cannot fall behind the code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

SCHEMA = Path(__file__).resolve().parents[2] / "tinygrad_edu" / "specs" / "schema.json"


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _type(schema: dict[str, Any], node: dict[str, Any]) -> str:
    """A short human reading of a JSON Schema type: ``integer > 0``, ``list of number``."""
    node = _resolve(schema, node)
    if "const" in node:
        return f"``{node['const']}``"
    if "enum" in node:
        return " | ".join(f"``{v}``" for v in node["enum"])
    for key in ("anyOf", "oneOf"):
        if key in node:
            kinds = list(
                dict.fromkeys(_type(schema, n) for n in node[key] if n.get("type") != "null")
            )
            if len(kinds) > 3:  # loss, optimizer, ...: a name, or a mapping with options
                return "a name or a mapping (each kind below)"
            return " or ".join(kinds)
    kind = node.get("type", "any")
    if kind == "array":
        text = f"list of {_type(schema, node.get('items', {}))}"
    elif kind == "object" and "properties" in node:
        text = "mapping"
    else:
        text = str(kind)
    bounds = [
        (op, node[key])
        for key, op in (
            ("exclusiveMinimum", ">"),
            ("minimum", ">="),
            ("exclusiveMaximum", "<"),
            ("maximum", "<="),
        )
        if key in node
    ]
    return text + "".join(f" {op} {value}" for op, value in bounds)


def _cell(text: str) -> str:
    return " ".join(str(text).split()) or " "


def _fields_table(schema: dict[str, Any], node: dict[str, Any], skip: set[str]) -> list[str]:
    node = _resolve(schema, node)
    required = set(node.get("required", []))
    rows = [
        ".. list-table::",
        "   :header-rows: 1",
        "",
        "   * - field",
        "     - type",
        "     - default",
        "     - meaning",
    ]
    for name, field in node.get("properties", {}).items():
        if name in skip:
            continue
        resolved = _resolve(schema, field)
        default = "required" if name in required else f"``{json.dumps(field.get('default'))}``"
        if name not in required and "default" not in field:
            default = "none"
        meaning = field.get("description") or resolved.get("description") or ""
        rows += [
            f"   * - ``{name}``",
            f"     - {_cell(_type(schema, field))}",
            f"     - {_cell(default)}",
            f"     - {_cell(meaning)}",
        ]
    return rows if len(rows) > 7 else ["(no options)"]


def _kinds(schema: dict[str, Any], section: dict[str, Any]) -> list[dict[str, Any]]:
    """The mappings a section may be (one per loss, optimizer, ...), nulls and strings left out."""
    section = _resolve(schema, section)
    options = section.get("oneOf") or section.get("anyOf")
    if options is None:
        return [section] if "properties" in section else []
    return [kind for option in options for kind in _kinds(schema, option)]


Block = tuple[int, str, list[str]]  # heading level (1 or 2), title, reStructuredText body


def _layers(schema: dict[str, Any]) -> list[Block]:
    blocks: list[Block] = []
    layers = _resolve(schema, schema["$defs"]["ModelSection"]["properties"]["layers"])
    items = next(o for o in layers["anyOf"] if o.get("type") == "array")["items"]["anyOf"]
    for entry in items:
        if "properties" not in entry:
            continue
        ((name, form),) = entry["properties"].items()
        options = [o for o in form.get("anyOf", [form]) if o.get("type") == "object"]
        if not options or not options[0].get("properties"):
            body = [f"No options: write just the name (``- {name}``)."]
        else:
            body = _fields_table(schema, options[0], set())
        blocks.append((2, name, body))
    return blocks


def reference_blocks(schema: dict[str, Any]) -> list[Block]:
    """The whole reference: headings, each with its text and tables."""
    blocks: list[Block] = [
        (
            1,
            "Top level",
            [_cell(schema.get("description", "")), ""] + _fields_table(schema, schema, set()),
        )
    ]
    for section in ("model", "train", "sweep", "init"):
        node = _kinds(schema, schema["properties"][section])[0]
        body = [_cell(node.get("description", "")), ""] + _fields_table(schema, node, set())
        blocks.append((1, section, body))
    for section, key in (("loss", "name"), ("optimizer", "name"), ("scheduler", "name"),
                         ("data", "source")):  # fmt: skip
        blocks.append((1, f"{section}: each {key}", []))
        for kind in _kinds(schema, schema["properties"][section]):
            name = _resolve(schema, kind["properties"][key]).get("const", kind.get("title"))
            body = [_cell(kind.get("description", "")), ""] + _fields_table(schema, kind, {key})
            blocks.append((2, f"{key}: {name}", body))
    blocks.append((1, "Layer types (model.layers)", []))
    return blocks + _layers(schema)


class SpecReference(SphinxDirective):
    """Insert the generated reference of every spec field and layer type, as sections."""

    def run(self) -> list[nodes.Node]:
        self.env.note_dependency(str(SCHEMA))
        schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
        top: list[nodes.Node] = []
        parent: nodes.section | None = None
        for level, title, body in reference_blocks(schema):
            section = nodes.section()
            section += nodes.title(text=title)
            section["ids"].append(nodes.make_id(f"spec-{title}"))
            section["names"].append(nodes.fully_normalize_name(f"spec {title}"))
            self.state.nested_parse(StringList(body, str(SCHEMA)), 0, section)
            if level == 1 or parent is None:
                top.append(section)
                parent = section
            else:
                parent += section
        return top


def setup(app) -> dict[str, Any]:
    app.add_directive("spec-reference", SpecReference)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
