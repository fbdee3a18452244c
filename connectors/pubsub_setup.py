"""Idempotent creation of the topics and subscriptions allywatch needs.

Running `allywatch run` twice, or against a project where an operator already created the
topics, must not fail: each `ensure_*` creates what is missing, leaves what exists, and
reports which it did so the CLI can name what it created.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from google.api_core import exceptions as gexc
from google.cloud import pubsub_v1

log = logging.getLogger(__name__)

DEFAULT_PROJECT = "allywatch-local"


@dataclass(frozen=True)
class Topology:
    """Names of allywatch's Pub/Sub resources in one project."""

    project: str = DEFAULT_PROJECT
    items_topic: str = "allywatch-items"
    items_subscription: str = "allywatch-items-pipeline"
    alerts_topic: str = "allywatch-alerts"
    console_subscription: str = "allywatch-alerts-console"

    def topic_path(self, name: str) -> str:
        return name if name.startswith("projects/") else f"projects/{self.project}/topics/{name}"

    def subscription_path(self, name: str) -> str:
        return name if name.startswith("projects/") else f"projects/{self.project}/subscriptions/{name}"

    @property
    def items_topic_path(self) -> str:
        return self.topic_path(self.items_topic)

    @property
    def items_subscription_path(self) -> str:
        return self.subscription_path(self.items_subscription)

    @property
    def alerts_topic_path(self) -> str:
        return self.topic_path(self.alerts_topic)

    @property
    def console_subscription_path(self) -> str:
        return self.subscription_path(self.console_subscription)


def ensure_topic(publisher: pubsub_v1.PublisherClient, topic_path: str) -> bool:
    """Create the topic if missing. Returns True when it was created now."""
    try:
        publisher.create_topic(request={"name": topic_path})
    except gexc.AlreadyExists:
        return False
    log.info("created topic %s", topic_path)
    return True


def ensure_subscription(
    subscriber: pubsub_v1.SubscriberClient,
    subscription_path: str,
    topic_path: str,
    *,
    ordering: bool = False,
    ack_deadline_seconds: int = 60,
) -> bool:
    """Create a pull subscription if missing. Returns True when it was created now."""
    try:
        subscriber.create_subscription(
            request={
                "name": subscription_path,
                "topic": topic_path,
                "enable_message_ordering": ordering,
                "ack_deadline_seconds": ack_deadline_seconds,
            }
        )
    except gexc.AlreadyExists:
        return False
    log.info("created subscription %s on %s", subscription_path, topic_path)
    return True


def close_admin_client(client: pubsub_v1.PublisherClient | pubsub_v1.SchemaServiceClient) -> None:
    """Close a client used only for admin calls (topics, schemas): its channel, not a batch."""
    transport = getattr(client, "transport", None)
    if transport is not None:
        transport.close()


def ensure_topology(topology: Topology, *, console: bool = True) -> list[str]:
    """Create every resource the monitor needs; returns the paths created now (empty if all existed)."""
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    created: list[str] = []
    try:
        for topic in (topology.items_topic_path, topology.alerts_topic_path):
            if ensure_topic(publisher, topic):
                created.append(topic)
        if ensure_subscription(subscriber, topology.items_subscription_path, topology.items_topic_path):
            created.append(topology.items_subscription_path)
        if console and ensure_subscription(
            subscriber, topology.console_subscription_path, topology.alerts_topic_path, ordering=True
        ):
            created.append(topology.console_subscription_path)
    finally:
        subscriber.close()
        close_admin_client(publisher)
    return created
