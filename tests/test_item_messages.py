"""Items on the wire: round trip, heartbeats, and malformed messages counted, not fatal."""

from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.io.gcp.pubsub import PubsubMessage
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that, equal_to

from connectors.item_messages import (
    EVENT_TIME_ATTRIBUTE,
    MalformedItemMessage,
    decode_item,
    encode_heartbeat,
    encode_item,
    is_control,
)
from pipelines.stages import ParseFeedItems
from transforms.counters import local_totals, totals_since
from transforms.model import FeedItem

ITEM = FeedItem(
    item_id="abc", outlet="bbc", title="UK to resume arms sales to Saudi Arabia", summary="Ministers said so.",
    link="http://127.0.0.1/x", published="2020-07-07T09:00:00+00:00", first_seen="2020-07-07T10:00:00+00:00",
)


def test_item_round_trips_with_event_time_attribute():
    data, attributes = encode_item(ITEM)
    assert decode_item(data) == ITEM
    assert attributes[EVENT_TIME_ATTRIBUTE] == str(int(ITEM.event_time * 1000))
    assert attributes["outlet"] == "bbc" and not is_control(attributes)


def test_heartbeat_is_a_control_message():
    data, attributes = encode_heartbeat(1_600_000_000.5)
    assert is_control(attributes) and attributes[EVENT_TIME_ATTRIBUTE] == "1600000000500"


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"\xff\xfe", "not UTF-8 JSON"),
        (b"{not json", "not UTF-8 JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"item_id": "x", "outlet": "o"}', "title"),
        (b'{"item_id": "x", "outlet": "o", "title": "t"}', "first_seen"),
        (b'{"item_id": "x", "outlet": "o", "title": "t", "first_seen": "soon"}', "Invalid isoformat"),
        (b'{"item_id": "x", "outlet": "o", "title": 5, "first_seen": "2020-01-01T00:00:00"}', "must be a string"),
    ],
)
def test_malformed_messages_say_what_is_wrong(data, reason):
    with pytest.raises(MalformedItemMessage, match=reason):
        decode_item(data)


def test_parse_feed_items_drops_and_counts_heartbeats_and_garbage():
    good_data, good_attributes = encode_item(ITEM)
    beat_data, beat_attributes = encode_heartbeat(0)
    messages = [
        PubsubMessage(good_data, good_attributes),
        PubsubMessage(beat_data, beat_attributes),
        PubsubMessage(b"{garbage", {}),
    ]
    before = local_totals()
    with beam.Pipeline(runner="FnApiRunner", options=PipelineOptions(flags=[])) as pipeline:
        items = pipeline | beam.Create(messages) | ParseFeedItems() | beam.Map(lambda item: item.item_id)
        assert_that(items, equal_to(["abc"]))
    counted = totals_since(before)
    assert counted == {
        "items/messages_received": 3,
        "items/heartbeats": 1,
        "items/messages_malformed": 1,
        "items/items_decoded": 1,
    }
