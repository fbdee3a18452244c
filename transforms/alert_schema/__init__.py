"""The versioned alert schema: one JSON Schema file, and everything derived from it.

`alert.v1.schema.json` (draft 2020-12, shipped as package data) is the contract between
the clustering stage that builds alerts and every consumer. `validate_alert` checks an
alert against it in pure Python; `avro_schema()` is the Pub/Sub schema registered on the
alerts topic, derived from the same file so the two cannot drift apart.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any, Mapping

from transforms.alert_schema.avro import avro_schema_from_json_schema
from transforms.alert_schema.validator import Validator

SCHEMA_VERSION = 1
SCHEMA_FILE = f"alert.v{SCHEMA_VERSION}.schema.json"
# The Pub/Sub schema id; a new major version gets a new id (and topic set-up commits it).
PUBSUB_SCHEMA_ID = f"allywatch-alert-v{SCHEMA_VERSION}"

ORGANISATIONS: tuple[str, ...] = ("NATO", "EU", "UN", "ASEAN", "AU", "QUAD", "AUKUS", "G7")


@lru_cache(maxsize=1)
def alert_json_schema() -> dict[str, Any]:
    """The alert JSON Schema as a dict (a fresh parse of the packaged file, cached)."""
    text = resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return json.loads(text)


@lru_cache(maxsize=1)
def _validator() -> Validator:
    return Validator(alert_json_schema())


def validate_alert(alert: Any) -> list[str]:
    """Every way `alert` breaks the schema, as readable messages; empty when it conforms."""
    return _validator().errors(alert)


@lru_cache(maxsize=1)
def avro_schema() -> dict[str, Any]:
    """The Avro record registered as the alerts topic's Pub/Sub schema (JSON encoding)."""
    return avro_schema_from_json_schema(alert_json_schema())


def avro_definition() -> str:
    """The Avro schema as the text Pub/Sub's schema service takes."""
    return json.dumps(avro_schema(), sort_keys=True)


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-3 codes (plus XKX), for checking codes users type."""
    text = resources.files(__package__).joinpath("country_codes.json").read_text(encoding="utf-8")
    return frozenset(json.loads(text)["codes"])


def event_types() -> tuple[str, ...]:
    """The event types the schema allows, in schema order."""
    return tuple(alert_json_schema()["properties"]["type"]["enum"])


def alert_kinds() -> tuple[str, ...]:
    return tuple(alert_json_schema()["properties"]["kind"]["enum"])


def describe_properties() -> list[tuple[str, str, bool, str]]:
    """(name, type, required, description) per top-level property: the README table."""
    schema = alert_json_schema()
    required = set(schema["required"])
    rows = []
    for name, prop in schema["properties"].items():
        rows.append((name, _type_label(prop, schema), name in required, prop.get("description", "")))
    return rows


def _type_label(prop: Mapping[str, Any], root: Mapping[str, Any]) -> str:
    if "enum" in prop:
        return " / ".join(prop["enum"])
    if prop.get("type") == "array":
        items = prop["items"]
        item_label = items["$ref"].rsplit("/", 1)[-1] if "$ref" in items else items.get("type", "?")
        return f"array of {item_label}"
    kind = prop.get("type", "?")
    return " or ".join(kind) if isinstance(kind, list) else str(kind)


__all__ = [
    "ORGANISATIONS",
    "PUBSUB_SCHEMA_ID",
    "SCHEMA_VERSION",
    "alert_json_schema",
    "alert_kinds",
    "avro_definition",
    "avro_schema",
    "country_codes",
    "describe_properties",
    "event_types",
    "validate_alert",
]
