"""`allywatch tail`: readable lines or JSON, acking, and production's filter applied on the emulator."""

from __future__ import annotations

import argparse
import json
import uuid

import pytest
from google.api_core.exceptions import DeadlineExceeded
from google.cloud import pubsub_v1
from google.pubsub_v1.types import PubsubMessage, PullResponse, ReceivedMessage

from connectors.alert_publisher import AlertPublisher
from connectors.alert_schema_registry import ensure_alerts_topic_with_schema
from connectors.local_state import PubSubTarget
from connectors.pubsub_setup import Topology, ensure_topology
from connectors.subscriptions import Clients, create_alert_subscription, spec_from_options
from pipelines.commands import subscribe as subscribe_command
from pipelines.commands import tail as tail_command
from connectors.filters import parse_filter
from pipelines.commands.tail import _client_side_filter, format_alert, stream
from transforms.alert_schema.example import example_alert


def run(*argv: str) -> int:
    root = argparse.ArgumentParser(prog="allywatch")
    subparsers = root.add_subparsers(dest="command")
    subscribe_command.register(subparsers)
    tail_command.register(subparsers)
    args = root.parse_args(list(argv))
    return args.func(args)


def test_format_alert_is_one_readable_line():
    assert format_alert(example_alert()) == (
        "2020-04-21 02:10  [update #1] dialogue CAN+JPN vs CHN,PRK  (2 outlets)  "
        "Canada, Japan agree to deepen defence cooperation"
    )
    new = example_alert(kind="new", revision=0, concerns=[], outlet_count=1, title="A\nB")
    assert format_alert(new) == "2020-04-21 02:10  [new] dialogue CAN+JPN  (1 outlet)  A B"


def test_filter_is_applied_locally_only_against_the_emulator():
    class Stored:
        filter = "attributes:partner_JPN"

    import io

    err = io.StringIO()
    production = PubSubTarget("prod", None, "Google Cloud Pub/Sub")
    assert _client_side_filter(Stored(), production, err) is None
    assert err.getvalue() == ""
    emulator = PubSubTarget("p", "127.0.0.1:1", "emulator")
    compiled = _client_side_filter(Stored(), emulator, err)
    assert compiled.matches({"partner_JPN": "true"}) and not compiled.matches({})
    assert "emulator does not apply subscription filters" in err.getvalue()


class FakeSubscriber:
    """Hands out one batch, then nothing; records acks and hand-backs."""

    def __init__(self, messages):
        self.batches = [messages]
        self.acked: list[str] = []
        self.handed_back: list[str] = []

    def pull(self, request, timeout):
        if not self.batches:
            raise DeadlineExceeded("nothing")
        batch = self.batches.pop(0)
        return PullResponse(
            received_messages=[
                ReceivedMessage(ack_id=f"ack-{i}", message=PubsubMessage(data=data, attributes=attrs, message_id=str(i)))
                for i, (data, attrs) in enumerate(batch)
            ]
        )

    def acknowledge(self, request):
        self.acked += list(request["ack_ids"])

    def modify_ack_deadline(self, request):
        assert request["ack_deadline_seconds"] == 0
        self.handed_back += list(request["ack_ids"])


def _batch():
    return [
        (json.dumps(example_alert(alert_id="a")).encode(), {"partner_JPN": "true"}),
        (json.dumps(example_alert(alert_id="b")).encode(), {"partner_GBR": "true"}),
        (b"not json", {"partner_JPN": "true"}),
        (json.dumps(example_alert(alert_id="c")).encode(), {"partner_JPN": "true"}),
    ]


def test_stream_acks_shown_skipped_and_unreadable_messages():
    import io

    fake, out, err = FakeSubscriber(_batch()), io.StringIO(), io.StringIO()
    stats = stream(fake, "s", compiled=parse_filter("attributes:partner_JPN"), as_json=True,
                   max_alerts=None, timeout=1, out=out, err=err)
    assert [json.loads(line)["alert_id"] for line in out.getvalue().splitlines()] == ["a", "c"]
    assert (stats.shown, stats.skipped_by_filter, stats.unreadable) == (2, 1, 1)
    assert fake.acked == ["ack-0", "ack-1", "ack-2", "ack-3"]
    assert "is not JSON" in err.getvalue()


def test_stream_hands_back_what_it_will_not_show():
    import io

    fake, out = FakeSubscriber(_batch()), io.StringIO()
    stats = stream(fake, "s", compiled=None, as_json=False, max_alerts=1, timeout=1, out=out, err=io.StringIO())
    assert stats.shown == 1 and len(out.getvalue().splitlines()) == 1
    assert fake.acked == ["ack-0"]
    assert fake.handed_back == ["ack-1", "ack-2", "ack-3"]


ALERTS = [
    example_alert(alert_id="jpn-1", event_id="e1", partners=["CAN", "JPN"]),
    example_alert(alert_id="gbr-1", event_id="e2", partners=["GBR", "SAU"], type="arms_transfer"),
    example_alert(alert_id="jpn-2", event_id="e3", partners=["JPN", "USA"], type="exercise", kind="new", revision=0),
    example_alert(alert_id="deu-1", event_id="e4", partners=["DEU", "USA"], type="setback"),
]


@pytest.fixture
def project(pubsub_emulator):
    topology = Topology(project=f"p-{uuid.uuid4().hex[:8]}")
    ensure_alerts_topic_with_schema(topology)
    ensure_topology(topology)
    with Clients() as clients:
        create_alert_subscription(topology, spec_from_options("jpn", partners=["JPN"]), clients)
    with AlertPublisher(topology.alerts_topic_path) as publisher:
        assert all(publisher.publish(alert) for alert in ALERTS)
    return topology


@pytest.mark.emulator
def test_tail_shows_only_what_the_filter_selects_and_acks_everything(project, capsys):
    assert run("tail", "jpn", "--project", project.project, "--timeout", "5") == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert sorted(lines) == sorted(format_alert(a) for a in ALERTS if "JPN" in a["partners"])
    assert captured.err.count("does not apply subscription filters") == 1
    assert "attributes:partner_JPN" in captured.err
    assert "2 alert(s) shown, 2 skipped by the subscription's filter" in captured.err


@pytest.mark.emulator
def test_tail_json_on_the_console_subscription(project, capsys):
    assert run("tail", "--json", "--project", project.project, "--timeout", "8", "--max", "4") == 0
    captured = capsys.readouterr()
    received = [json.loads(line) for line in captured.out.splitlines()]
    assert sorted(a["alert_id"] for a in received) == sorted(a["alert_id"] for a in ALERTS)
    assert received[0] in ALERTS
    assert "does not apply subscription filters" not in captured.err  # the console subscription has no filter


@pytest.mark.emulator
def test_tail_max_leaves_the_rest_for_the_next_reader(project, capsys):
    assert run("tail", "--project", project.project, "--max", "1", "--timeout", "8") == 0
    assert len(capsys.readouterr().out.splitlines()) == 1
    assert run("tail", "--project", project.project, "--max", "3", "--timeout", "15") == 0
    assert len(capsys.readouterr().out.splitlines()) == 3


@pytest.mark.emulator
def test_tail_explains_what_it_cannot_do(project, capsys):
    assert run("tail", "nope", "--project", project.project, "--timeout", "1") == 1
    assert "allywatch subscribe NAME" in capsys.readouterr().err
    with Clients() as clients:
        create_alert_subscription(project, spec_from_options("pushed", push_endpoint="http://127.0.0.1:9/"), clients)
    assert run("tail", "pushed", "--project", project.project, "--timeout", "1") == 1
    assert "is a push subscription" in capsys.readouterr().err
    # the emulator stores any filter; production would have refused this one
    subscriber = pubsub_v1.SubscriberClient()
    subscriber.create_subscription(
        request={
            "name": project.subscription_path("broken"),
            "topic": project.alerts_topic_path,
            "filter": "attributes:a AND attributes:b OR attributes:c",
        }
    )
    subscriber.close()
    assert run("tail", "broken", "--project", project.project, "--timeout", "1") == 2
    err = capsys.readouterr().err
    assert "production Pub/Sub would have refused it" in err and "AND and OR mixed" in err
