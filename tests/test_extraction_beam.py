"""The Beam wrapper on a tiny FnApiRunner pipeline: events out, timestamps kept, counters, no crash."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue

from transforms.extraction.beam import ExtractCooperationEvents
from transforms.model import FeedItem

SEEN = "2020-06-06T12:00:00+00:00"


def item(item_id: str, title, summary: str = "") -> FeedItem:
    return FeedItem(item_id=item_id, outlet="test", title=title, summary=summary, first_seen=SEEN)


def test_extract_cooperation_events_on_fnapirunner():
    items = [
        item("a", "US to withdraw 12,000 troops from Germany"),
        item("b", "Cat rescued from tree"),
        item("c", "Ang mga sundalo ay nasa kampo ng mga ito at hindi pa umaalis"),
        item("d", 12345),  # not a string: the item fails, is counted, and is skipped
    ]
    pipeline = beam.Pipeline(runner="FnApiRunner", options=PipelineOptions(flags=[]))
    events = (
        pipeline
        | beam.Create(items)
        | "Stamp" >> beam.Map(lambda i: TimestampedValue(i, i.event_time))
        | ExtractCooperationEvents()
    )
    summary = events | "Summarise" >> beam.Map(
        lambda e, ts=beam.DoFn.TimestampParam: (e.item.item_id, e.event.type, e.event.partners, float(ts))
    )
    expected_ts = FeedItem.event_time.fget(items[0])
    assert_that(summary, equal_to([("a", "setback", ("DEU", "USA"), expected_ts)]))
    result = pipeline.run()
    result.wait_until_finish()
    counters = {
        c.key.metric.name: c.committed
        for c in result.metrics().query(MetricsFilter().with_namespace("extraction"))["counters"]
    }
    assert counters == {
        "items_seen": 4,
        "items_non_english": 1,
        "items_without_event": 2,
        "events_extracted": 1,
        "items_failed": 1,
    }
