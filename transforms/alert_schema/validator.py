"""A small JSON Schema (draft 2020-12) validator for the keywords allywatch's schemas use.

Why not the `jsonschema` package: it is not installed with the project, and the alert
schema needs only a dozen keywords. The validator refuses a schema that uses any keyword
it does not implement, so the schema file cannot silently ask for a check that never runs.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Mapping

# Keywords that only document; they never fail validation.
ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "$defs", "examples", "default"})
ASSERTIONS = frozenset(
    {
        "type",
        "const",
        "enum",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minLength",
        "maxLength",
        "pattern",
        "minimum",
        "maximum",
        "format",
        "$ref",
    }
)
FORMATS = frozenset({"date-time"})


class SchemaError(ValueError):
    """The schema itself uses something this validator cannot check."""


def check_schema(schema: Mapping[str, Any], path: str = "#") -> None:
    """Raise SchemaError if any (sub)schema uses an unsupported keyword or format."""
    unknown = set(schema) - ANNOTATIONS - ASSERTIONS
    if unknown:
        raise SchemaError(f"{path}: unsupported keyword(s) {sorted(unknown)}")
    if "format" in schema and schema["format"] not in FORMATS:
        raise SchemaError(f"{path}: unsupported format {schema['format']!r}")
    if "$ref" in schema and not str(schema["$ref"]).startswith("#/$defs/"):
        raise SchemaError(f"{path}: only local '#/$defs/NAME' references are supported")
    for name, sub in schema.get("properties", {}).items():
        check_schema(sub, f"{path}/properties/{name}")
    for name, sub in schema.get("$defs", {}).items():
        check_schema(sub, f"{path}/$defs/{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), Mapping):
            check_schema(schema[key], f"{path}/{key}")


JSON_TYPES = frozenset({"null", "boolean", "integer", "number", "string", "array", "object"})


def _is_type(value: Any, name: str) -> bool:
    """JSON Schema's type test. "integer" means a Python int only: Avro's long (the Pub/Sub
    schema) rejects 1.0, so a float never passes as an integer."""
    if name not in JSON_TYPES:
        raise SchemaError(f"unknown type {name!r}")
    actual = _json_type(value)
    return actual == name or (name == "number" and actual == "integer")


def _is_date_time(value: str) -> bool:
    """ISO 8601 date and time, as `datetime.fromisoformat` reads it (a trailing Z allowed)."""
    if "T" not in value and " " not in value:
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _where(path: str) -> str:
    return path or "alert"


def _same_json(a: Any, b: Any) -> bool:
    """JSON equality: True is not 1."""
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


class Validator:
    """Validates instances against one root schema; `errors` lists every problem found."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        check_schema(schema)
        self.schema = schema

    def errors(self, instance: Any) -> list[str]:
        found: list[str] = []
        self._validate(instance, self.schema, "", found)
        return found

    def _resolve(self, ref: str) -> Mapping[str, Any]:
        name = ref.removeprefix("#/$defs/")
        try:
            return self.schema["$defs"][name]
        except KeyError:
            raise SchemaError(f"unresolved reference {ref}") from None

    def _validate(self, value: Any, schema: Mapping[str, Any], path: str, found: list[str]) -> None:
        if "$ref" in schema:
            self._validate(value, self._resolve(schema["$ref"]), path, found)
        where = _where(path)
        if "type" in schema:
            names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if not any(_is_type(value, name) for name in names):
                found.append(f"{where}: expected {' or '.join(names)}, got {_json_type(value)}")
                return  # further checks would only repeat the same problem
        if "const" in schema and not _same_json(value, schema["const"]):
            found.append(f"{where}: must be {schema['const']!r}, got {value!r}")
        if "enum" in schema and not any(_same_json(value, option) for option in schema["enum"]):
            found.append(f"{where}: {value!r} is not one of {', '.join(map(str, schema['enum']))}")
        if isinstance(value, str):
            self._string(value, schema, where, found)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if "minimum" in schema and value < schema["minimum"]:
                found.append(f"{where}: {value} is below the minimum {schema['minimum']}")
            if "maximum" in schema and value > schema["maximum"]:
                found.append(f"{where}: {value} is above the maximum {schema['maximum']}")
        if isinstance(value, list):
            self._array(value, schema, path, found)
        if isinstance(value, Mapping):
            self._object(value, schema, path, found)

    def _string(self, value: str, schema: Mapping[str, Any], where: str, found: list[str]) -> None:
        if "minLength" in schema and len(value) < schema["minLength"]:
            found.append(f"{where}: must not be empty" if schema["minLength"] == 1 else f"{where}: too short")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            found.append(f"{where}: longer than {schema['maxLength']} characters")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            found.append(f"{where}: {value!r} does not match {schema['pattern']}")
        if schema.get("format") == "date-time" and not _is_date_time(value):
            found.append(f"{where}: {value!r} is not an ISO 8601 date-time")

    def _array(self, value: list[Any], schema: Mapping[str, Any], path: str, found: list[str]) -> None:
        where = _where(path)
        if "minItems" in schema and len(value) < schema["minItems"]:
            found.append(f"{where}: needs at least {schema['minItems']} item(s)")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            found.append(f"{where}: at most {schema['maxItems']} item(s)")
        if schema.get("uniqueItems"):
            seen: list[Any] = []
            for item in value:
                if any(_same_json(item, other) for other in seen):
                    found.append(f"{where}: {item!r} appears more than once")
                    break
                seen.append(item)
        if isinstance(schema.get("items"), Mapping):
            for index, item in enumerate(value):
                self._validate(item, schema["items"], f"{path}[{index}]", found)

    def _object(self, value: Mapping[str, Any], schema: Mapping[str, Any], path: str, found: list[str]) -> None:
        where = _where(path)
        for name in schema.get("required", ()):
            if name not in value:
                found.append(f"{where}: missing required property {name!r}")
        properties = schema.get("properties", {})
        for name, item in value.items():
            child = f"{path}.{name}" if path else name
            if name in properties:
                self._validate(item, properties[name], child, found)
                continue
            extra = schema.get("additionalProperties", True)
            if extra is False:
                found.append(f"{where}: unexpected property {name!r}")
            elif isinstance(extra, Mapping):
                self._validate(item, extra, child, found)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__
