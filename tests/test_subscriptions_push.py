"""Push subscriptions against the real emulator: delivery to a local webhook, and dead letters."""

from __future__ import annotations

import dataclasses
import importlib.util
import io
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from google.cloud import pubsub_v1

from connectors.alert_publisher import AlertPublisher
from connectors.alert_schema_registry import ensure_alerts_topic_with_schema
from connectors.filters import parse_filter
from connectors.pubsub_setup import Topology
from connectors.subscriptions import (
    MIN_DELIVERY_ATTEMPTS,
    Clients,
    create_alert_subscription,
    dead_letter_subscription_name,
    get_subscription,
    spec_from_options,
)
from transforms.alert_schema.example import example_alert

pytestmark = pytest.mark.emulator

RECEIVER_PATH = Path(__file__).resolve().parents[1] / "deploy" / "webhook_receiver.py"
_spec = importlib.util.spec_from_file_location("webhook_receiver_for_push", RECEIVER_PATH)
receiver = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(receiver)


def wait_until(condition, seconds: float) -> bool:
    """Poll `condition` until true or the bounded wait ends (no timing is asserted)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.fixture
def topology(pubsub_emulator):
    topology = Topology(project=f"p-{uuid.uuid4().hex[:8]}")
    ensure_alerts_topic_with_schema(topology)
    return topology


@pytest.fixture
def webhook():
    """The deploy/ receiver on a free 127.0.0.1 port."""
    servers = []

    def start(**kwargs):
        config = receiver.ReceiverConfig(out=io.StringIO(), **kwargs)
        server = receiver.make_server("127.0.0.1", 0, config)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/push", config

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


class RefusingChat:
    """A chat service that is down: every forward fails, so the receiver answers 502."""

    def __init__(self):
        self.calls = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers["Content-Length"]))
                outer.calls += 1
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/chat"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_push_subscription_delivers_alerts_to_a_local_webhook(topology, webhook):
    url, config = webhook()
    with Clients() as clients:
        create_alert_subscription(topology, spec_from_options("push-all", push_endpoint=url), clients)
    alerts = [example_alert(alert_id=f"push-{i}", event_id=f"event-{i}", kind="new", revision=0) for i in range(3)]
    with AlertPublisher(topology.alerts_topic_path) as publisher:
        assert all(publisher.publish(alert) for alert in alerts)
    assert wait_until(lambda: len(config.received) >= 3, 30), config.received
    assert sorted(a["alert_id"] for a in config.received) == ["push-0", "push-1", "push-2"]
    assert config.refused == 0
    assert "[new] dialogue CAN+JPN" in config.out.getvalue()


def test_push_with_a_filter_is_what_production_would_deliver(topology, webhook):
    """The emulator pushes everything; the stored filter says which pushes production would make."""
    url, config = webhook()
    with Clients() as clients:
        create_alert_subscription(topology, spec_from_options("push-usa", partners=["USA"], push_endpoint=url), clients)
        stored = get_subscription(topology, "push-usa", clients).filter
    alerts = [
        example_alert(alert_id="usa", event_id="e-usa", partners=["JPN", "USA"]),
        example_alert(alert_id="gbr", event_id="e-gbr", partners=["GBR", "SAU"]),
    ]
    with AlertPublisher(topology.alerts_topic_path) as publisher:
        assert all(publisher.publish(alert) for alert in alerts)
    assert wait_until(lambda: len(config.received) >= 2, 30)
    compiled = parse_filter(stored)
    from transforms.alert_attributes import alert_attributes

    would_deliver = [a["alert_id"] for a in config.received if compiled.matches(alert_attributes(a))]
    assert would_deliver == ["usa"]


def test_an_alert_the_webhook_keeps_refusing_lands_in_the_dead_letter_topic(topology, webhook):
    chat = RefusingChat()
    try:
        url, config = webhook(forward_url=chat.url)
        spec = spec_from_options("push-dl", push_endpoint=url, dead_letter=True)
        # Pub/Sub's minimum attempts, and a short backoff so the test stays quick.
        spec = dataclasses.replace(spec, min_backoff_seconds=0.1, max_backoff_seconds=0.5)
        assert spec.max_delivery_attempts == MIN_DELIVERY_ATTEMPTS == 5
        with Clients() as clients:
            create_alert_subscription(topology, spec, clients)
        alert = example_alert(alert_id="doomed", event_id="e-doomed")
        with AlertPublisher(topology.alerts_topic_path) as publisher:
            assert publisher.publish(alert)

        subscriber = pubsub_v1.SubscriberClient()
        dead_letters = []
        inspect = topology.subscription_path(dead_letter_subscription_name(topology))

        def pull_dead_letters() -> bool:
            try:
                response = subscriber.pull(request={"subscription": inspect, "max_messages": 10}, timeout=2)
            except Exception:  # noqa: BLE001 - DeadlineExceeded: nothing yet
                return False
            dead_letters.extend(response.received_messages)
            return bool(dead_letters)

        try:
            assert wait_until(pull_dead_letters, 90), f"no dead letter; webhook refused {config.refused} times"
        finally:
            subscriber.close()
    finally:
        chat.close()
    [dead] = dead_letters
    assert json.loads(dead.message.data)["alert_id"] == "doomed"
    assert not config.received
    assert config.refused >= MIN_DELIVERY_ATTEMPTS
    assert chat.calls == config.refused
