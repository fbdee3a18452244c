"""The alert schema: the JSON Schema, its pure-Python validation, and the Pub/Sub (Avro) twin."""

from __future__ import annotations

import json
import uuid

import fastavro
import pytest
from google.cloud import pubsub_v1

from connectors.alert_publisher import encode_alert
from connectors.alert_schema_registry import ensure_alerts_topic_with_schema, schema_path
from connectors.pubsub_setup import Topology, ensure_topology
from transforms.alert_schema import (
    PUBSUB_SCHEMA_ID,
    alert_json_schema,
    avro_schema,
    country_codes,
    describe_properties,
    event_types,
    validate_alert,
)
from transforms.alert_schema.avro import avro_covered_paths
from transforms.alert_schema.example import example_alert
from transforms.alert_schema.validator import SchemaError, Validator


def _without(field: str) -> dict:
    alert = example_alert()
    del alert[field]
    return alert


def _source_with(**changes) -> dict:
    alert = example_alert()
    alert["sources"][0].update(changes)
    return alert


# Alerts that break the schema, each with a fragment of the error it must produce.
INVALID = {
    "missing alert_id": (_without("alert_id"), "missing required property 'alert_id'"),
    "missing new_sources": (_without("new_sources"), "missing required property 'new_sources'"),
    "kind not new/update": (example_alert(kind="revised"), "kind: 'revised' is not one of new, update"),
    "unknown type": (example_alert(type="training"), "type: 'training' is not one of"),
    "outlet_count as string": (example_alert(outlet_count="2"), "outlet_count: expected integer, got string"),
    "outlet_count float": (example_alert(outlet_count=2.0), "outlet_count: expected integer, got number"),
    "outlet_count zero": (example_alert(outlet_count=0), "outlet_count: 0 is below the minimum 1"),
    "revision bool": (example_alert(revision=True), "revision: expected integer, got boolean"),
    "confidence above 1": (example_alert(confidence=1.5), "confidence: 1.5 is above the maximum 1"),
    "schema_version 2": (example_alert(schema_version=2), "schema_version: must be 1"),
    "lowercase partner": (example_alert(partners=["can", "JPN"]), "partners[0]: 'can' does not match"),
    "no partners": (example_alert(partners=[]), "partners: needs at least 1 item"),
    "duplicate partner": (example_alert(partners=["JPN", "JPN"]), "appears more than once"),
    "organisation as concern": (example_alert(concerns=["NATO"]), "concerns[0]: 'NATO' does not match"),
    "partners not a list": (example_alert(partners="CAN"), "partners: expected array, got string"),
    "no sources": (example_alert(sources=[]), "sources: needs at least 1 item"),
    "source without outlet": (_source_with(outlet=None), "sources[0].outlet: expected string, got null"),
    "source published number": (_source_with(published=20200421), "sources[0].published: expected string or null"),
    "bad first_seen": (_source_with(first_seen="yesterday"), "sources[0].first_seen: 'yesterday' is not an ISO 8601"),
    "date-only alerted_at": (example_alert(alerted_at="2020-04-21"), "alerted_at: '2020-04-21' is not an ISO 8601"),
    "not an object": ([], "alert: expected object, got array"),
}


def test_example_alert_conforms():
    assert validate_alert(example_alert()) == []


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_alerts_are_reported_with_a_readable_reason(name):
    alert, fragment = INVALID[name]
    errors = validate_alert(alert)
    assert any(fragment in error for error in errors), errors


def test_sources_and_top_level_may_carry_extra_properties_and_null_published():
    alert = example_alert(debug_note="added by a later stage")
    alert["sources"][0]["syndicated_of"] = None
    alert["sources"][0]["published"] = None
    alert["sources"][1]["syndicated_of"] = "afp"
    assert validate_alert(alert) == []


def test_schema_is_draft_2020_12_and_uses_only_checked_keywords():
    schema = alert_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Validator(schema)  # raises SchemaError on an unsupported keyword
    with pytest.raises(SchemaError, match="unsupported keyword"):
        Validator({"type": "object", "properties": {"a": {"type": "string", "contentEncoding": "base64"}}})
    with pytest.raises(SchemaError, match="unsupported format"):
        Validator({"type": "string", "format": "email"})


def test_schema_enums_match_the_project_record_types():
    from transforms.model import EVENT_TYPES

    assert event_types() == EVENT_TYPES


def test_organisations_agree_across_schema_and_extraction_gazetteer():
    """The tuple, the schema's `party` pattern and the extraction gazetteer name the same organisations."""
    import re
    from pathlib import Path

    from transforms.alert_schema import ORGANISATIONS, alert_json_schema

    pattern = alert_json_schema()["$defs"]["party"]["pattern"]
    assert set(re.fullmatch(r"\^\(\[A-Z\]\{3\}\|(.*)\)\$", pattern).group(1).split("|")) == set(ORGANISATIONS)
    gazetteer = Path(__file__).parents[1] / "transforms" / "extraction" / "data" / "organisations.jsonl"
    codes = {json.loads(line)["code"] for line in gazetteer.read_text().splitlines() if '"code"' in line}
    assert codes == set(ORGANISATIONS)


def test_country_codes_are_iso_alpha3():
    codes = country_codes()
    assert len(codes) == 250  # 249 ISO 3166-1 alpha-3 codes plus XKX
    assert {"JPN", "USA", "GBR", "SAU", "PRK", "TWN", "XKX"} <= codes
    assert all(len(code) == 3 and code.isupper() for code in codes)


def test_readme_table_rows_cover_every_property():
    rows = describe_properties()
    assert [row[0] for row in rows] == list(alert_json_schema()["properties"])
    assert ("kind", "new / update", True) == rows[2][:3]


# --- the Avro twin ------------------------------------------------------------------


def test_avro_schema_is_valid_avro():
    fastavro.parse_schema(avro_schema())


def test_avro_checks_exactly_the_required_closed_fields():
    covered = avro_covered_paths(avro_schema())
    # sources / new_sources hold open-ended objects (extra markers, nullable `published`),
    # which Avro's JSON decoder cannot accept robustly (see transforms/alert_schema/avro.py).
    assert covered == set(alert_json_schema()["required"]) - {"sources", "new_sources"}


def test_avro_accepts_the_example_alert():
    parsed = fastavro.parse_schema(avro_schema())
    assert fastavro.validate(example_alert(), parsed)


# --- the emulator enforces the registered schema at publish time ---------------------


AGREEMENT_CASES = {
    "valid": example_alert(),
    "valid, extra fields": {**example_alert(note="x"), "sources": [{**example_alert()["sources"][0], "m": {"a": 1}}]},
    "valid, keys sorted": json.loads(json.dumps(example_alert(), sort_keys=True)),
    "valid, nulls and markers first": example_alert(
        sources=[{"syndicated_of": "afp", "published": None, **example_alert()["sources"][0]}]
    ),
    "missing alert_id": _without("alert_id"),
    "missing sources": _without("sources"),
    "source without first_seen": {**example_alert(), "sources": [{"outlet": "a", "link": "", "title": "", "published": None}]},
    "sources not a list": example_alert(sources={"outlet": "a"}),
    "bad kind": example_alert(kind="revised"),
    "bad type": example_alert(type="training"),
    "outlet_count as string": example_alert(outlet_count="2"),
    "partners as string": example_alert(partners="CAN"),
    # stricter in the JSON Schema than Avro can be:
    "confidence above 1": example_alert(confidence=1.5),
    "lowercase partner": example_alert(partners=["can"]),
}


@pytest.fixture
def schema_topic(pubsub_emulator):
    topology = Topology(project=f"p-{uuid.uuid4().hex[:8]}")
    changes = ensure_alerts_topic_with_schema(topology)
    return topology, changes


@pytest.mark.emulator
def test_topic_set_up_is_idempotent_and_names_what_it_creates(schema_topic):
    topology, changes = schema_topic
    assert changes == [
        f"created schema {schema_path(topology.project)} (Avro, derived from alert.v1.schema.json)",
        f"created topic {topology.alerts_topic_path} (messages checked against schema {PUBSUB_SCHEMA_ID}, JSON encoding)",
    ]
    assert ensure_alerts_topic_with_schema(topology) == []
    # the rest of the topology can be created afterwards without touching the alerts topic
    assert topology.alerts_topic_path not in ensure_topology(topology)


@pytest.mark.emulator
def test_schema_is_attached_to_a_topic_created_without_it(pubsub_emulator):
    topology = Topology(project=f"p-{uuid.uuid4().hex[:8]}")
    ensure_topology(topology)
    changes = ensure_alerts_topic_with_schema(topology)
    assert changes[1].startswith(f"updated topic {topology.alerts_topic_path}: now checks messages")
    settings = pubsub_v1.PublisherClient().get_topic(request={"topic": topology.alerts_topic_path}).schema_settings
    assert settings.schema == schema_path(topology.project)
    assert ensure_alerts_topic_with_schema(topology) == []


@pytest.mark.emulator
def test_emulator_and_json_schema_agree(schema_topic):
    """What the topic's schema rejects, validate_alert rejects; what validate_alert accepts, the topic accepts."""
    topology, _ = schema_topic
    publisher = pubsub_v1.PublisherClient()
    outcomes = {}
    for name, alert in AGREEMENT_CASES.items():
        try:
            publisher.publish(topology.alerts_topic_path, encode_alert(alert)).result(timeout=30)
            outcomes[name] = "accepted"
        except Exception as exc:  # noqa: BLE001
            assert "400" in str(exc), exc
            outcomes[name] = "rejected"
    for name, alert in AGREEMENT_CASES.items():
        locally_valid = validate_alert(alert) == []
        if locally_valid:
            assert outcomes[name] == "accepted", name
        if outcomes[name] == "rejected":
            assert not locally_valid, name
    assert {outcomes[name] for name in AGREEMENT_CASES if name.startswith("valid")} == {"accepted"}
    assert outcomes["missing alert_id"] == outcomes["bad kind"] == outcomes["outlet_count as string"] == "rejected"
    with pytest.raises(Exception, match="400"):
        publisher.publish(topology.alerts_topic_path, b"not json").result(timeout=30)


@pytest.mark.emulator
def test_registered_definition_is_the_derived_avro(schema_topic):
    topology, _ = schema_topic
    registered = pubsub_v1.SchemaServiceClient().get_schema(
        request={"name": schema_path(topology.project), "view": "FULL"}
    )
    assert json.loads(registered.definition) == avro_schema()


@pytest.mark.emulator
def test_a_changed_schema_definition_is_committed_as_a_new_revision(pubsub_emulator):
    topology = Topology(project=f"p-{uuid.uuid4().hex[:8]}")
    client = pubsub_v1.SchemaServiceClient()
    older = {"type": "record", "name": "Alert", "fields": [{"name": "alert_id", "type": "string"}]}
    client.create_schema(
        request={
            "parent": f"projects/{topology.project}",
            "schema_id": PUBSUB_SCHEMA_ID,
            "schema": {"type_": "AVRO", "definition": json.dumps(older)},
        }
    )
    changes = ensure_alerts_topic_with_schema(topology)
    assert changes[0] == f"updated schema {schema_path(topology.project)}: new revision (the alert schema changed)"
    registered = client.get_schema(request={"name": schema_path(topology.project), "view": "FULL"})
    assert json.loads(registered.definition) == avro_schema()
    # the older, looser revision no longer validates messages
    settings = pubsub_v1.PublisherClient().get_topic(request={"topic": topology.alerts_topic_path}).schema_settings
    assert settings.first_revision_id == registered.revision_id
    with pytest.raises(Exception, match="400"):
        pubsub_v1.PublisherClient().publish(topology.alerts_topic_path, b'{"alert_id": "x"}').result(timeout=30)
    assert ensure_alerts_topic_with_schema(topology) == []
