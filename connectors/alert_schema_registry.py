"""Register the alert schema with Pub/Sub and attach it to the alerts topic, idempotently.

With the schema on the topic, Pub/Sub itself refuses (400 INVALID_ARGUMENT at publish time)
any message that does not decode as an alert, whoever publishes it. The schema is the Avro
record derived from the alert JSON Schema (see `transforms.alert_schema.avro`) with JSON
encoding, so messages stay plain JSON.

`ensure_alerts_topic_with_schema` creates what is missing and fixes what differs, and
returns a description of each change so the CLI can say what it did. It works whether the
alerts topic does not exist yet, exists without a schema (e.g. created by
`ensure_topology`), or already has this schema.
"""

from __future__ import annotations

import logging
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import pubsub_v1
from google.protobuf import field_mask_pb2
from google.pubsub_v1.types import Encoding, Schema, SchemaSettings

from connectors.pubsub_setup import Topology, close_admin_client
from transforms.alert_schema import PUBSUB_SCHEMA_ID, avro_definition

log = logging.getLogger(__name__)


def schema_path(project: str, schema_id: str = PUBSUB_SCHEMA_ID) -> str:
    return f"projects/{project}/schemas/{schema_id}"


def ensure_alert_schema(client: pubsub_v1.SchemaServiceClient, project: str) -> str | None:
    """Create the Pub/Sub schema if missing; commit a new revision if its definition changed.

    Returns a description of what changed, or None when the registered schema is current.
    """
    name = schema_path(project)
    definition = avro_definition()
    try:
        existing = client.get_schema(request={"name": name, "view": "FULL"})
    except gexc.NotFound:
        try:
            client.create_schema(
                request={
                    "parent": f"projects/{project}",
                    "schema_id": PUBSUB_SCHEMA_ID,
                    "schema": Schema(type_=Schema.Type.AVRO, definition=definition),
                }
            )
        except gexc.AlreadyExists:  # created meanwhile by another process: compare it below
            existing = client.get_schema(request={"name": name, "view": "FULL"})
        else:
            log.info("created schema %s", name)
            return f"created schema {name} (Avro, derived from alert.v1.schema.json)"
    if existing.definition == definition:
        return None
    committed = client.commit_schema(
        request={"name": name, "schema": Schema(type_=Schema.Type.AVRO, definition=definition)}
    )
    log.info("committed revision %s of schema %s", committed.revision_id, name)
    return f"updated schema {name}: new revision (the alert schema changed)"


def _topic_settings(project: str, first_revision_id: str = "") -> SchemaSettings:
    """JSON encoding; `first_revision_id` stops older (looser) revisions from validating messages."""
    return SchemaSettings(schema=schema_path(project), encoding=Encoding.JSON, first_revision_id=first_revision_id)


def _current_revision(client: pubsub_v1.SchemaServiceClient, project: str) -> str:
    return client.get_schema(request={"name": schema_path(project), "view": "BASIC"}).revision_id


def ensure_alerts_topic_with_schema(topology: Topology) -> list[str]:
    """Make sure the alert schema exists and the alerts topic validates against it.

    Returns one human-readable line per resource created or changed; empty when all was
    already in place.
    """
    changes: list[str] = []
    schema_client = pubsub_v1.SchemaServiceClient()
    publisher = pubsub_v1.PublisherClient()
    topic = topology.alerts_topic_path
    try:
        change = ensure_alert_schema(schema_client, topology.project)
        if change:
            changes.append(change)
        settings = _topic_settings(
            topology.project, _current_revision(schema_client, topology.project) if change else ""
        )
        try:
            publisher.create_topic(request={"name": topic, "schema_settings": settings})
        except gexc.AlreadyExists:  # e.g. created by ensure_topology: attach the schema below
            pass
        else:
            changes.append(f"created topic {topic} (messages checked against schema {PUBSUB_SCHEMA_ID}, JSON encoding)")
            return changes
        current: Any = publisher.get_topic(request={"topic": topic}).schema_settings
        if (
            current.schema != settings.schema
            or current.encoding != settings.encoding
            or (settings.first_revision_id and current.first_revision_id != settings.first_revision_id)
        ):
            publisher.update_topic(
                request={
                    "topic": {"name": topic, "schema_settings": settings},
                    "update_mask": field_mask_pb2.FieldMask(paths=["schema_settings"]),
                }
            )
            changes.append(f"updated topic {topic}: now checks messages against schema {PUBSUB_SCHEMA_ID} (JSON encoding)")
    finally:
        close_admin_client(schema_client)
        close_admin_client(publisher)
    return changes
