"""AlertPublisher: validated alerts go out with filter attributes and event ordering; bad ones are counted."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from google.cloud import pubsub_v1

from connectors.alert_publisher import REJECTED_BY_SERVER, REJECTED_LOCALLY, AlertPublisher
from connectors.alert_schema_registry import ensure_alerts_topic_with_schema
from connectors.pubsub_setup import Topology, ensure_subscription
from transforms.alert_attributes import alert_attributes
from transforms.alert_schema.example import example_alert

pytestmark = pytest.mark.emulator


@pytest.fixture
def alerts_topic(pubsub_emulator):
    topology = Topology(project=f"p-{uuid.uuid4().hex[:8]}")
    ensure_alerts_topic_with_schema(topology)
    subscriber = pubsub_v1.SubscriberClient()
    subscription = topology.subscription_path("test-ordered")
    ensure_subscription(subscriber, subscription, topology.alerts_topic_path, ordering=True)
    yield topology, subscriber, subscription
    subscriber.close()


def pull_all(subscriber, subscription, expected: int, deadline_seconds: float = 30.0):
    """Pull (and ack) until `expected` messages arrived or the bounded wait ends."""
    received = []
    deadline = time.monotonic() + deadline_seconds
    while len(received) < expected and time.monotonic() < deadline:
        response = subscriber.pull(request={"subscription": subscription, "max_messages": 50}, timeout=10)
        if response.received_messages:
            subscriber.acknowledge(
                request={"subscription": subscription, "ack_ids": [m.ack_id for m in response.received_messages]}
            )
        received.extend(m.message for m in response.received_messages)
    return received


def test_valid_alert_is_published_with_attributes_and_ordering_key(alerts_topic):
    topology, subscriber, subscription = alerts_topic
    alert = example_alert()
    with AlertPublisher(topology.alerts_topic_path) as publisher:
        assert publisher.publish(alert) is True
        assert (publisher.stats.published, sum(publisher.stats.rejected.values())) == (1, 0)
    [message] = pull_all(subscriber, subscription, 1)
    assert json.loads(message.data) == alert
    ours = {k: v for k, v in message.attributes.items() if not k.startswith("googclient_")}
    assert ours == alert_attributes(alert)
    # Pub/Sub marks messages it checked against the topic's schema
    assert message.attributes["googclient_schemaname"].endswith("/schemas/allywatch-alert-v1")
    assert message.attributes["partner_JPN"] == "true"
    assert message.ordering_key == alert["event_id"]


def test_invalid_alert_is_refused_locally_and_counted(alerts_topic):
    topology, subscriber, subscription = alerts_topic
    with AlertPublisher(topology.alerts_topic_path) as publisher:
        assert publisher.publish(example_alert(kind="revised")) is False
        assert publisher.publish(example_alert(outlet_count="2")) is False
        assert publisher.stats.rejected == {REJECTED_LOCALLY: 2}
        assert "kind: 'revised' is not one of new, update" in publisher.stats.last_errors[0]
        assert publisher.publish(example_alert(alert_id="ok-1")) is True
    assert [json.loads(m.data)["alert_id"] for m in pull_all(subscriber, subscription, 1)] == ["ok-1"]


def test_pubsub_rejects_a_non_conforming_message_at_publish_time_and_it_is_counted(alerts_topic):
    """With local validation off, the topic's schema still refuses the alert (400)."""
    topology, subscriber, subscription = alerts_topic
    broken = example_alert(alert_id="broken")
    del broken["evidence"]
    with AlertPublisher(topology.alerts_topic_path, validate=False) as publisher:
        assert publisher.publish(broken) is False
        assert publisher.stats.rejected == {REJECTED_BY_SERVER: 1}
        assert "400" in publisher.stats.last_errors[0]
        # the event's ordering key was paused by the failure; the next alert must still go out
        assert publisher.publish(example_alert(alert_id="after")) is True
    assert [json.loads(m.data)["alert_id"] for m in pull_all(subscriber, subscription, 1)] == ["after"]


def test_alerts_of_one_event_arrive_in_publish_order(alerts_topic):
    topology, subscriber, subscription = alerts_topic
    alerts = [
        example_alert(alert_id=f"a-{revision}", kind="new" if revision == 0 else "update", revision=revision)
        for revision in range(6)
    ]
    with AlertPublisher(topology.alerts_topic_path) as publisher:
        assert all(publisher.publish(alert) for alert in alerts)
    received = pull_all(subscriber, subscription, len(alerts))
    assert [json.loads(m.data)["revision"] for m in received] == list(range(6))


def test_the_pipeline_sink_counts_refusals_by_reason_and_passes_accepted_alerts_on(alerts_topic):
    from connectors.alert_sink import _PublishAlertFn
    from transforms.counters import local_totals, totals_since

    topology, subscriber, subscription = alerts_topic
    fn = _PublishAlertFn(topology.alerts_topic_path)
    fn.setup()
    before = local_totals()
    try:
        assert list(fn.process(example_alert(kind="revised"))) == []
        accepted = example_alert(alert_id="sink-ok")
        assert list(fn.process(accepted)) == [accepted]
    finally:
        fn.teardown()
    counted = totals_since(before)
    assert counted["alerts/alerts_rejected"] == 1
    assert counted[f"alerts/alerts_{REJECTED_LOCALLY}"] == 1
    assert counted["alerts/alerts_published"] == 1
    assert [json.loads(m.data)["alert_id"] for m in pull_all(subscriber, subscription, 1)] == ["sink-ok"]
