"""The emulator manager starts the real emulator on loopback and leaves nothing behind."""

from __future__ import annotations

import os
import uuid

import pytest
from google.cloud import pubsub_v1

from connectors.emulator import PubSubEmulator
from connectors.pubsub_setup import Topology, ensure_topology


@pytest.mark.emulator
def test_topology_is_created_once_and_reused(pubsub_emulator):
    topology = Topology(project=f"p-{uuid.uuid4().hex[:8]}")
    created = ensure_topology(topology)
    assert set(created) == {
        topology.items_topic_path,
        topology.alerts_topic_path,
        topology.items_subscription_path,
        topology.console_subscription_path,
    }
    assert ensure_topology(topology) == []


@pytest.mark.emulator
def test_stop_kills_the_whole_process_group(pubsub_emulator):
    emulator = PubSubEmulator().start()
    pid = emulator._process.pid
    emulator.stop()
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)


def test_refuses_non_loopback_hosts():
    with pytest.raises(ValueError):
        PubSubEmulator(host="10.0.0.1")


@pytest.mark.emulator
def test_messages_round_trip_with_attributes(pubsub_emulator):
    topology = Topology(project=f"p-{uuid.uuid4().hex[:8]}")
    ensure_topology(topology)
    publisher = pubsub_v1.PublisherClient()
    publisher.publish(topology.alerts_topic_path, b"{}", kind="new").result(timeout=30)
    subscriber = pubsub_v1.SubscriberClient()
    response = subscriber.pull(
        request={"subscription": topology.console_subscription_path, "max_messages": 10}, timeout=30
    )
    assert [m.message.attributes["kind"] for m in response.received_messages] == ["new"]
