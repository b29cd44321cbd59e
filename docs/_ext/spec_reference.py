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


def _layers(schema: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    layers = _resolve(schema, schema["$defs"]["ModelSection"]["properties"]["layers"])
    items = next(o for o in layers["anyOf"] if o.get("type") == "array")["items"]["anyOf"]
    for entry in items:
        if "properties" not in entry:
            continue
        ((name, form),) = entry["properties"].items()
        options = [o for o in form.get("anyOf", [form]) if o.get("type") == "object"]
        lines += [f"``{name}``", "~" * (len(name) + 4), ""]
        if not options or not options[0].get("properties"):
            lines += [f"No options: write just the name (``- {name}``).", ""]
            continue
        lines += _fields_table(schema, options[0], set())
        lines.append("")
    return lines


def reference_lines(schema: dict[str, Any]) -> list[str]:
    """The whole reference as reStructuredText lines."""
    lines = ["Top level", "---------", "", _cell(schema.get("description", "")), ""]
    lines += _fields_table(schema, schema, set()) + [""]
    for section in ("model", "train", "sweep", "init"):
        node = _resolve(schema, schema["properties"][section])
        node = _kinds(schema, node)[0]
        title = f"``{section}``"
        lines += [title, "-" * len(title), "", _cell(node.get("description", "")), ""]
        lines += _fields_table(schema, node, set()) + [""]
    for section, key in (
        ("loss", "name"),
        ("optimizer", "name"),
        ("scheduler", "name"),
        ("data", "source"),
    ):
        title = f"``{section}``: each ``{key}``"
        lines += [title, "-" * len(title), ""]
        for kind in _kinds(schema, _resolve(schema, schema["properties"][section])):
            name = _resolve(schema, kind["properties"][key]).get("const", kind.get("title"))
            heading = f"``{key}: {name}``"
            lines += [heading, "~" * len(heading), "", _cell(kind.get("description", "")), ""]
            lines += _fields_table(schema, kind, {key}) + [""]
    lines += ["Layer types (``model.layers``)", "-------------------------------", ""]
    return lines + _layers(schema)


class SpecReference(SphinxDirective):
    """Insert the generated reference of every spec field and layer type."""

    def run(self) -> list[nodes.Node]:
        self.env.note_dependency(str(SCHEMA))
        schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
        container = nodes.section()
        container.document = self.state.document
        self.state.nested_parse(
            StringList(reference_lines(schema), str(SCHEMA)), 0, container, match_titles=True
        )
        return container.children


def setup(app) -> dict[str, Any]:
    app.add_directive("spec-reference", SpecReference)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
