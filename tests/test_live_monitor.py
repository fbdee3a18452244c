"""End to end: feeds on a local HTTP server -> poller -> real Pub/Sub emulator -> streaming
pipeline -> alerts a subscriber receives.

The story is the seed case of the labelling guide: the UK resuming arms sales to Saudi
Arabia, first reported by one outlet, then by a second in other words. A subscriber must
see exactly one `new` alert and one `update` with two outlets; stories that are not
defense cooperation give nothing; a feed that turns into garbage and then 500s does not
stop the others.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest
from google.cloud import pubsub_v1

from connectors.feed_list import Feed
from connectors.pubsub_setup import Topology, ensure_subscription, ensure_topic
from pipelines.live import LiveMonitor, LiveSettings
from pipelines.stages import StageOptions
from tests.feed_server import FeedServer

pytestmark = pytest.mark.emulator


def rss(*items: tuple[str, str, str]) -> bytes:
    """An RSS body with (guid, title, summary) items."""
    entries = "".join(
        f"<item><guid>{guid}</guid><title>{title}</title><link>http://127.0.0.1/{guid}</link>"
        f"<description>{summary}</description></item>"
        for guid, title, summary in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{entries}</channel></rss>'.encode()


BAKERY = ("a-bakery", "Local bakery wins national bread award", "A family bakery took the top prize.")
WEATHER = ("b-weather", "Heatwave expected to break records this weekend", "Forecasters warn of highs near 40C.")
ARMS_A = (
    "a-arms",
    "UK to resume arms sales to Saudi Arabia despite Yemen fears",
    "The British government said it would resume selling weapons to Saudi Arabia after a review.",
)
ARMS_B = (
    "b-arms",
    "Britain resumes weapons sales to Saudi Arabia after review",
    "Ministers in London cleared new arms sales to Saudi Arabia, ending a year-long pause.",
)
FOOTBALL = ("c-football", "Cup final goes to penalties", "A dramatic night at the stadium.")


def pull_alerts(subscriber, subscription: str, until, timeout: float) -> list[dict]:
    """Pull (and ack) alerts until `until(alerts)` holds or the timeout passes."""
    alerts: list[dict] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not until(alerts):
        response = subscriber.pull(request={"subscription": subscription, "max_messages": 50}, timeout=10)
        if response.received_messages:
            subscriber.acknowledge(
                request={"subscription": subscription, "ack_ids": [m.ack_id for m in response.received_messages]}
            )
        for received in response.received_messages:
            alert = json.loads(received.message.data)
            alert["_attributes"] = dict(received.message.attributes)
            alerts.append(alert)
    return alerts


def test_two_outlets_one_event_gives_one_new_alert_then_one_update(pubsub_emulator):
    topology = Topology(project=f"p-{uuid.uuid4().hex[:8]}")
    subscriber = pubsub_v1.SubscriberClient()
    analyst = topology.subscription_path("analyst")
    ensure_topic(pubsub_v1.PublisherClient(), topology.alerts_topic_path)
    ensure_subscription(subscriber, analyst, topology.alerts_topic_path, ordering=True)

    with FeedServer() as server:
        server.set("/alpha", rss(BAKERY, ARMS_A))
        server.set("/beta", rss(WEATHER))
        server.set("/gamma", rss(FOOTBALL))
        feeds = [Feed("alpha", server.url("/alpha")), Feed("beta", server.url("/beta")),
                 Feed("gamma", server.url("/gamma"))]
        messages: list[str] = []
        monitor = LiveMonitor(
            LiveSettings(
                feeds=feeds,
                topology=topology,
                poll_interval=1.0,
                max_backoff=2.0,
                heartbeat_every=0.5,
                stages=StageOptions(cluster_options={"debounce_s": 1.0}),
                console=False,
            ),
            say=messages.append,
        )
        monitor.start()
        totals: dict[str, int] = {}
        try:
            first = pull_alerts(subscriber, analyst, lambda a: len(a) >= 1, timeout=120)
            assert [a["kind"] for a in first] == ["new"], messages

            # The third feed breaks: first garbage, then server errors.
            server.set("/gamma", b"\x00\x01 not xml at all", headers={"Content-Type": "text/html"})
            time.sleep(2.5)
            server.set("/gamma", b"internal error", status=500)
            # The second outlet now carries the same story in other words.
            server.set("/beta", rss(WEATHER, ARMS_B))
            rest = pull_alerts(subscriber, analyst, lambda a: len(a) >= 1, timeout=120)
            # Give a wrongly extra alert time to show up before judging "exactly".
            rest += pull_alerts(subscriber, analyst, lambda a: False, timeout=8)
            polls_of_beta_after_gamma_broke = server.hits.get("/beta", 0)
        finally:
            totals = monitor.stop()

    alerts = first + rest
    assert [a["kind"] for a in alerts] == ["new", "update"], messages
    new, update = alerts
    assert new["event_id"] == update["event_id"]
    assert new["type"] == update["type"] == "arms_transfer"
    assert new["partners"] == ["GBR", "SAU"]
    assert new["outlet_count"] == 1 and update["outlet_count"] == 2
    assert {s["outlet"] for s in update["sources"]} == {"alpha", "beta"}
    assert update["_attributes"]["partner_GBR"] == "true"
    assert update["_attributes"]["type"] == "arms_transfer"
    # The broken feed was reported, and the healthy ones kept being polled after it broke.
    assert any("gamma" in m and "failed" in m for m in messages)
    assert polls_of_beta_after_gamma_broke >= 3
    # The run summary accounts for every item the poller sent (2 + 2 + 1 distinct items).
    assert totals["items/items_decoded"] == 5, totals
    assert totals["extraction/items_seen"] == 5, totals
    assert totals["alerts/alerts_published"] == 2, totals
    assert totals["items/heartbeats"] >= 2, totals
