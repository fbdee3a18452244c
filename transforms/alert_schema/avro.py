"""Derive the Pub/Sub (Avro) schema from the alert JSON Schema, so there is one source.

Pub/Sub schemas are Avro or Protocol Buffers, never JSON Schema. With JSON encoding,
Pub/Sub decodes each message with Avro's JSON decoder, which (measured on the emulator):
- rejects a message missing any field of the record, or with a value of the wrong type
  or a symbol outside an enum;
- requires a union value to be wrapped (`{"string": "2020-..."}`), which plain JSON never is;
- at the top level, ignores properties the record does not name, wherever they appear;
- inside a nested record (an element of `sources`), accepts an unknown property only if it
  comes after every known one and is not an object: `json.dumps(..., sort_keys=True)` of a
  source with a `published` or syndication-marker property is rejected.

So the Avro record holds exactly the JSON Schema's required, non-nullable top-level
properties whose values are not open-ended objects; nullable ones and arrays of objects
that allow additional properties (`sources`, `new_sources`) are checked by the JSON Schema
only. Everything Avro rejects, the JSON Schema rejects too; the JSON Schema additionally
checks patterns, ranges, formats, sources and nullable fields.
"""

from __future__ import annotations

from typing import Any, Mapping

AVRO_NAMESPACE = "allywatch.alert.v1"
_PRIMITIVES = {"string": "string", "integer": "long", "number": "double", "boolean": "boolean"}


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.replace("-", "_").split("_") if part)


def _is_nullable(schema: Mapping[str, Any]) -> bool:
    types = schema.get("type")
    return types == "null" or (isinstance(types, list) and "null" in types)


class _Converter:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.defined: set[str] = set()

    def resolve(self, schema: Mapping[str, Any]) -> tuple[Mapping[str, Any], str | None]:
        ref = schema.get("$ref")
        if ref is None:
            return schema, None
        name = ref.removeprefix("#/$defs/")
        return self.root["$defs"][name], _camel(name)

    def convert(self, schema: Mapping[str, Any], name: str) -> Any:
        schema, ref_name = self.resolve(schema)
        type_name = ref_name or name
        kind = schema.get("type")
        if isinstance(kind, list):
            raise ValueError(f"{name}: union types cannot be expressed for Pub/Sub's JSON encoding")
        if "enum" in schema and kind == "string":
            return self.named(type_name, {"type": "enum", "name": type_name, "symbols": list(schema["enum"])})
        if kind == "object":
            return self.named(type_name, self.record(schema, type_name))
        if kind == "array":
            return {"type": "array", "items": self.convert(schema["items"], _camel(name) + "Item")}
        if kind in _PRIMITIVES:
            return _PRIMITIVES[kind]
        raise ValueError(f"{name}: no Avro equivalent for {schema!r}")

    def open_ended(self, schema: Mapping[str, Any]) -> bool:
        """An object (or array of objects) that allows properties it does not name."""
        if schema.get("type") == "array":
            schema, _ = self.resolve(schema.get("items", {}))
        return schema.get("type") == "object" and schema.get("additionalProperties", True) is not False

    def named(self, name: str, definition: Mapping[str, Any]) -> Any:
        """Avro defines a named type once; later uses refer to it by name."""
        if name in self.defined:
            return name
        self.defined.add(name)
        return dict(definition)

    def record(self, schema: Mapping[str, Any], name: str) -> dict[str, Any]:
        required = schema.get("required", [])
        fields = []
        for prop in required:
            sub = schema["properties"][prop]
            target, _ = self.resolve(sub)
            if _is_nullable(target) or self.open_ended(target):
                continue
            field: dict[str, Any] = {"name": prop, "type": self.convert(sub, _camel(prop))}
            if "description" in target:
                field["doc"] = target["description"]
            fields.append(field)
        return {"type": "record", "name": name, "fields": fields}


def avro_schema_from_json_schema(json_schema: Mapping[str, Any], name: str = "Alert") -> dict[str, Any]:
    """The Avro record equivalent (as described above) to a JSON Schema object."""
    record = _Converter(json_schema).convert(json_schema, name)
    record["namespace"] = AVRO_NAMESPACE
    if "description" in json_schema:
        record["doc"] = json_schema["description"]
    return record


def avro_covered_paths(avro: Mapping[str, Any]) -> set[str]:
    """Dotted paths of every field the Avro record checks (`sources[].outlet`); for tests and docs."""
    paths: set[str] = set()
    records: dict[str, Mapping[str, Any]] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, str):
            node = records.get(node, node)
        if isinstance(node, Mapping) and node.get("type") == "record":
            records[node["name"]] = node
            for field in node["fields"]:
                path = f"{prefix}.{field['name']}" if prefix else field["name"]
                paths.add(path)
                walk(field["type"], path)
        elif isinstance(node, Mapping) and node.get("type") == "array":
            walk(node["items"], prefix + "[]")

    walk(avro, "")
    return paths
