"""Alert subscriptions: option checks, and per-filter subscriptions receiving exactly their alerts."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from google.cloud import pubsub_v1

from connectors.alert_publisher import AlertPublisher
from connectors.alert_schema_registry import ensure_alerts_topic_with_schema
from connectors.filters import FilterSyntaxError, parse_filter
from connectors.pubsub_setup import Topology, ensure_topology
from connectors.subscriptions import (
    Clients,
    SubscriptionError,
    check_concerns,
    check_max_delivery_attempts,
    check_min_outlets,
    check_partners,
    check_push_endpoint,
    check_subscription_name,
    check_types,
    create_alert_subscription,
    dead_letter_topic_name,
    delete_alert_subscription,
    get_subscription,
    list_alert_subscriptions,
    spec_from_options,
)
from transforms.alert_schema.example import example_alert

# --- what the user typed ------------------------------------------------------------


def test_codes_are_normalised_and_deduplicated():
    assert check_partners(["jpn", "JPN", " usa ", "nato"]) == ["JPN", "USA", "NATO"]
    assert check_concerns(["chn", "prk"]) == ["CHN", "PRK"]
    assert check_types(["Arms-Transfer", "exercise", "exercise"]) == ["arms_transfer", "exercise"]


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: check_partners(["JAP"]), "did you mean JPN"),
        (lambda: check_partners(["XX"]), "ISO 3166-1 alpha-3"),
        (lambda: check_partners(["OTAN"]), "NATO, EU, UN"),
        (lambda: check_concerns(["NATO"]), "concerns are countries"),
        (lambda: check_concerns(["ZZZ"]), "ISO 3166-1 alpha-3"),
        (lambda: check_types(["training"]), "use one of agreement, dialogue, exercise"),
        (lambda: check_types(["exercice"]), "did you mean exercise"),
        (lambda: check_min_outlets(0), "between 1 and 10"),
        (lambda: check_min_outlets(11), "outlets_ge_10"),
        (lambda: check_subscription_name("ab"), "3-255 characters"),
        (lambda: check_subscription_name("1abc"), "starting with a letter"),
        (lambda: check_subscription_name("has space"), "e.g. jpn-partnerships"),
        (lambda: check_subscription_name("google-alerts"), "reserved by Google"),
        (lambda: check_push_endpoint("example.org/hook", production=False), "absolute http(s) URL"),
        (lambda: check_push_endpoint("http://example.org/hook", production=True), "only to https"),
        (lambda: check_max_delivery_attempts(4), "between 5 and 100"),
        (lambda: spec_from_options("abc", raw_filter="attributes:a", partners=["JPN"]), "one or the other"),
    ],
)
def test_bad_options_say_what_to_do(call, fragment):
    with pytest.raises(SubscriptionError) as info:
        call()
    assert fragment in str(info.value)


def test_spec_builds_a_checked_filter():
    spec = spec_from_options("gulf-arms", types=["arms_transfer"], partners=["sau", "are"], kind="new")
    assert spec.filter == (
        '(attributes:partner_SAU OR attributes:partner_ARE) AND attributes.type = "arms_transfer" '
        'AND attributes.kind = "new"'
    )
    assert spec.ordering is True
    assert spec_from_options("abc", dead_letter=True).ordering is False
    assert spec_from_options("abc", raw_filter='  hasPrefix(attributes.type, "arms")  ').filter == (
        'hasPrefix(attributes.type, "arms")'
    )
    with pytest.raises(FilterSyntaxError, match="AND and OR mixed"):
        spec_from_options("abc", raw_filter="attributes:a AND attributes:b OR attributes:c")
    assert check_push_endpoint("http://127.0.0.1:8085/", production=False) == "http://127.0.0.1:8085/"


# --- against the emulator -----------------------------------------------------------


def _alert(n: int, *, kind: str, type_: str, partners: list[str], concerns: list[str], outlets: int) -> dict:
    return example_alert(
        alert_id=f"alert-{n}",
        event_id=f"event-{n}",
        kind=kind,
        revision=0 if kind == "new" else 1,
        type=type_,
        partners=sorted(partners),
        concerns=concerns,
        outlet_count=outlets,
        source_count=outlets,
    )


ALERTS = [
    _alert(1, kind="new", type_="dialogue", partners=["CAN", "JPN"], concerns=["CHN", "PRK"], outlets=1),
    _alert(2, kind="update", type_="arms_transfer", partners=["GBR", "SAU"], concerns=[], outlets=2),
    _alert(3, kind="new", type_="exercise", partners=["JPN", "USA"], concerns=["CHN"], outlets=3),
    _alert(4, kind="update", type_="arms_transfer", partners=["ARE", "USA"], concerns=["IRN"], outlets=5),
    _alert(5, kind="new", type_="operation", partners=["CAN", "UN"], concerns=["PRK"], outlets=1),
    _alert(6, kind="update", type_="setback", partners=["DEU", "USA"], concerns=[], outlets=4),
]

# One subscription per filter kind; the expected alerts are computed from the payload,
# independently of attributes and filters.
SUBSCRIPTIONS = {
    "by-partner": ({"partners": ["JPN"]}, lambda a: "JPN" in a["partners"]),
    "by-partners-any": ({"partners": ["SAU", "ARE"]}, lambda a: {"SAU", "ARE"} & set(a["partners"])),
    "by-concern": ({"concerns": ["CHN"]}, lambda a: "CHN" in a["concerns"]),
    "by-type": ({"types": ["arms_transfer"]}, lambda a: a["type"] == "arms_transfer"),
    "by-min-outlets": ({"min_outlets": 3}, lambda a: a["outlet_count"] >= 3),
    "by-kind": ({"kind": "new"}, lambda a: a["kind"] == "new"),
    "combined": (
        {"partners": ["USA"], "types": ["arms_transfer", "setback"], "min_outlets": 4},
        lambda a: "USA" in a["partners"] and a["type"] in ("arms_transfer", "setback") and a["outlet_count"] >= 4,
    ),
    "raw-not-equals": ({"raw_filter": 'attributes.kind != "new"'}, lambda a: a["kind"] != "new"),
    "raw-not": ({"raw_filter": "NOT attributes:concern_PRK"}, lambda a: "PRK" not in a["concerns"]),
    "raw-prefix": ({"raw_filter": 'hasPrefix(attributes.type, "arms")'}, lambda a: a["type"].startswith("arms")),
    "raw-or-parens": (
        {"raw_filter": 'attributes:partner_CAN AND (attributes.type = "operation" OR attributes:outlets_ge_2)'},
        lambda a: "CAN" in a["partners"] and (a["type"] == "operation" or a["outlet_count"] >= 2),
    ),
    "everything": ({}, lambda a: True),
}


def _drain(subscriber, path: str, expected: int, deadline_seconds: float = 30.0) -> list:
    """Every message of the subscription (the emulator delivers all of them); bounded wait."""
    messages = []
    deadline = time.monotonic() + deadline_seconds
    while len(messages) < expected and time.monotonic() < deadline:
        try:
            response = subscriber.pull(request={"subscription": path, "max_messages": 100}, timeout=5)
        except Exception:  # noqa: BLE001 - DeadlineExceeded: nothing yet
            continue
        if response.received_messages:
            subscriber.acknowledge(request={"subscription": path, "ack_ids": [m.ack_id for m in response.received_messages]})
        messages.extend(m.message for m in response.received_messages)
    return messages


@pytest.fixture
def topology(pubsub_emulator):
    topology = Topology(project=f"p-{uuid.uuid4().hex[:8]}")
    ensure_alerts_topic_with_schema(topology)
    return topology


@pytest.mark.emulator
def test_each_subscription_receives_exactly_the_matching_alerts(topology):
    expected_names = {}
    with Clients() as clients:
        for name, (options, wanted) in SUBSCRIPTIONS.items():
            create_alert_subscription(topology, spec_from_options(name, **options), clients)
            expected_names[name] = {a["alert_id"] for a in ALERTS if wanted(a)}
        stored = {info.name: info.filter for info in list_alert_subscriptions(topology, clients)}
    with AlertPublisher(topology.alerts_topic_path) as publisher:
        assert all(publisher.publish(alert) for alert in ALERTS)

    subscriber = pubsub_v1.SubscriberClient()
    try:
        for name in SUBSCRIPTIONS:
            messages = _drain(subscriber, topology.subscription_path(name), len(ALERTS))
            # the emulator ignores filters: it delivers everything...
            assert len(messages) == len(ALERTS), name
            # ...so production's delivery is what the stored filter selects
            compiled = parse_filter(stored[name])
            delivered = {json.loads(m.data)["alert_id"] for m in messages if compiled.matches(m.attributes)}
            assert delivered == expected_names[name], (name, stored[name])
    finally:
        subscriber.close()
    # every selection is a real selection: each filter kind keeps some alerts and drops others
    for name, ids in expected_names.items():
        assert name == "everything" or 0 < len(ids) < len(ALERTS), name


@pytest.mark.emulator
def test_create_is_idempotent_and_says_what_it_created(topology):
    spec = spec_from_options("jpn-watch", partners=["JPN"])
    with Clients() as clients:
        changes = create_alert_subscription(topology, spec, clients)
        assert changes == [
            f"created subscription {topology.subscription_path('jpn-watch')} with filter: attributes:partner_JPN"
        ]
        assert create_alert_subscription(topology, spec, clients) == []
        info = get_subscription(topology, "jpn-watch", clients)
        assert (info.filter, info.push_endpoint, info.dead_letter_topic, info.ordering) == (
            "attributes:partner_JPN",
            None,
            None,
            True,
        )
        raw = clients.subscriber.get_subscription(request={"subscription": topology.subscription_path("jpn-watch")})
        assert raw.retry_policy.minimum_backoff.seconds == 10
        assert raw.retry_policy.maximum_backoff.seconds == 600


@pytest.mark.emulator
def test_a_changed_filter_is_refused_with_the_way_out(topology):
    with Clients() as clients:
        create_alert_subscription(topology, spec_from_options("watch", partners=["JPN"]), clients)
        with pytest.raises(SubscriptionError, match="allywatch unsubscribe watch"):
            create_alert_subscription(topology, spec_from_options("watch", partners=["USA"]), clients)


@pytest.mark.emulator
def test_push_and_dead_letter_settings_are_created_and_updated(topology):
    with Clients() as clients:
        dead = spec_from_options("hook", dead_letter=True)
        create_alert_subscription(topology, dead, clients)
        push = spec_from_options("hook", push_endpoint="http://127.0.0.1:9/alerts", dead_letter=True,
                                 max_delivery_attempts=7)
        changes = create_alert_subscription(topology, push, clients)
        dead_topic = topology.topic_path(dead_letter_topic_name(topology))
        assert any("now pushes to http://127.0.0.1:9/alerts" in line for line in changes)
        assert any(f"dead letters now go to {dead_topic}" in line for line in changes)
        info = get_subscription(topology, "hook", clients)
        assert (info.push_endpoint, info.dead_letter_topic, info.max_delivery_attempts, info.ordering) == (
            "http://127.0.0.1:9/alerts",
            dead_topic,
            7,
            False,
        )
        assert create_alert_subscription(topology, push, clients) == []


@pytest.mark.emulator
def test_ordering_cannot_change_so_adding_or_dropping_dead_letters_is_refused(topology):
    with Clients() as clients:
        create_alert_subscription(topology, spec_from_options("ordered"), clients)
        with pytest.raises(SubscriptionError, match="ordered delivery.*allywatch unsubscribe ordered"):
            create_alert_subscription(topology, spec_from_options("ordered", dead_letter=True), clients)
        assert get_subscription(topology, "ordered", clients).dead_letter_topic is None
        create_alert_subscription(topology, spec_from_options("unordered", dead_letter=True), clients)
        with pytest.raises(SubscriptionError, match="without ordered delivery"):
            create_alert_subscription(topology, spec_from_options("unordered"), clients)


@pytest.mark.emulator
def test_list_and_delete_only_touch_alert_subscriptions(topology):
    ensure_topology(topology)
    with Clients() as clients:
        create_alert_subscription(topology, spec_from_options("one", kind="new"), clients)
        names = [info.name for info in list_alert_subscriptions(topology, clients)]
        assert names == ["allywatch-alerts-console", "one"]  # not the items subscription
        assert delete_alert_subscription(topology, "one", clients) is True
        assert delete_alert_subscription(topology, "one", clients) is False
        with pytest.raises(SubscriptionError, match="console subscription"):
            delete_alert_subscription(topology, topology.console_subscription, clients)
        with pytest.raises(SubscriptionError, match="not to the alerts topic"):
            delete_alert_subscription(topology, topology.items_subscription, clients)
        assert [info.name for info in list_alert_subscriptions(topology, clients)] == ["allywatch-alerts-console"]
