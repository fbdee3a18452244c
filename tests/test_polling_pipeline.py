"""The Dataflow polling job's stateful poll, driven by TestStream ticks on the local runner."""

from __future__ import annotations

from pathlib import Path

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue

from connectors.feed_list import Feed
from connectors.fetch import FetchResult
from connectors.poller import PollPolicy
from pipelines.polling import PollFeeds

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"
V1 = (FIXTURES / "outlet_a_v1.xml").read_bytes()
V2 = V1.replace(b"</channel>", b"<item><title>Second story</title><guid>a-2</guid></item></channel>")

# Module-level so the pickled DoFn's fetch, run in this process, sees the same script.
SCRIPT: dict[str, list[FetchResult]] = {}
CALLS: dict[str, int] = {}


class ScriptedFetch:
    def __call__(self, url, etag=None, last_modified=None):
        CALLS[url] = CALLS.get(url, 0) + 1
        script = SCRIPT[url]
        return script[min(CALLS[url], len(script)) - 1]


def test_each_item_once_feeds_polled_when_due_and_failures_backed_off():
    SCRIPT.clear()
    CALLS.clear()
    SCRIPT["http://127.0.0.1/a"] = [
        FetchResult(url="a", status=200, body=V1),
        FetchResult(url="a", status=200, body=V1),
        FetchResult(url="a", status=200, body=V2),
    ]
    SCRIPT["http://127.0.0.1/bad"] = [FetchResult(url="bad", error="HTTP 500 Internal Server Error")]
    feeds = [Feed("a", "http://127.0.0.1/a"), Feed("bad", "http://127.0.0.1/bad")]
    ticks = (
        TestStream()
        .add_elements([TimestampedValue("tick", 1000)])
        .advance_watermark_to(1050)
        .add_elements([TimestampedValue("tick", 1100)])
        .advance_watermark_to(1150)
        .add_elements([TimestampedValue("tick", 1400)])
        .advance_watermark_to(1450)
        .add_elements([TimestampedValue("tick", 1800)])
        .advance_watermark_to_infinity()
    )
    options = PipelineOptions(flags=[], runner="BundleBasedDirectRunner")
    options.view_as(StandardOptions).streaming = True
    with beam.Pipeline(options=options) as pipeline:
        items = (
            pipeline
            | ticks
            | PollFeeds(feeds, PollPolicy(interval=300, max_backoff=3600), fetch=ScriptedFetch())
            | beam.Map(lambda item: (item.outlet, item.title, item.first_seen))
        )
        assert_that(
            items,
            equal_to([
                ("a", "Local bakery wins national bread award", "1970-01-01T00:16:40+00:00"),
                ("a", "Second story", "1970-01-01T00:30:00+00:00"),
            ]),
        )
    # a: polled at 1000, 1400, 1800 (not at 1100: not due). bad: 1000, then backed off
    # (300s +-20%) so not at 1100, retried at 1400, then backed off 600s +-20%, not at 1800.
    assert CALLS == {"http://127.0.0.1/a": 3, "http://127.0.0.1/bad": 2}
