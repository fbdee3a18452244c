"""Feed polling as a Beam pipeline, for Google Cloud Dataflow.

Locally the poller is a process beside the streaming job (the local runner cannot run
PeriodicImpulse next to a Pub/Sub read). On Dataflow, polling is a streaming job of its
own: PeriodicImpulse ticks, every feed is polled when due, and new items go to the items
topic that the monitor pipeline reads. It uses the same fetch, parse, backoff and
de-duplication code as the local poller (`connectors.poller.read_poll`), with the feed's
state in Beam state keyed by feed URL, so it survives worker restarts and scales out.
"""

from __future__ import annotations

import logging
import random
from typing import Callable, Iterable, Iterator

import apache_beam as beam
from apache_beam.coders import PickleCoder
from apache_beam.io.gcp.pubsub import PubsubMessage, WriteToPubSub
from transforms.counters import stage_counter
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec

from connectors.feed_list import Feed
from connectors.fetch import FetchResult, fetch_feed
from connectors.item_messages import encode_item
from connectors.poller import DELIVERABLE, FeedState, PollPolicy, commit_sent, read_poll
from transforms.model import FeedItem

log = logging.getLogger(__name__)


class _PollFeedFn(beam.DoFn):
    """Poll one feed (the key) when it is due; the tick's timestamp is `now`."""

    FEED_STATE = ReadModifyWriteStateSpec("feed_state", PickleCoder())

    def __init__(self, policy: PollPolicy, fetch: Callable[..., FetchResult] = fetch_feed):
        self.policy = policy
        self.fetch = fetch
        self.counters = {
            name: stage_counter("polling", name)
            for name in ("polls", "not_due", "not_modified", "fetch_errors", "parse_errors", "fetched", "salvaged",
                         "items_new", "entries_skipped")
        }
        self._rng = random.Random()

    def process(
        self, element: tuple[str, Feed], timestamp=beam.DoFn.TimestampParam, feed_state=beam.DoFn.StateParam(FEED_STATE)
    ) -> Iterator[FeedItem]:
        _, feed = element
        now = float(timestamp)
        state: FeedState = feed_state.read() or FeedState(feed=feed)
        if state.next_due > now:
            self.counters["not_due"].inc()
            return
        self.counters["polls"].inc()
        result = self.fetch(feed.url, etag=state.etag, last_modified=state.last_modified)
        step = read_poll(state, result, now=now, policy=self.policy, rng=self._rng)
        self.counters[step.outcome].inc()
        self.counters["entries_skipped"].inc(step.entries_skipped)
        report = step.report
        if step.outcome in DELIVERABLE:
            # Beam commits this state together with the output, so nothing is marked sent
            # that was not also emitted.
            report = commit_sent(state, step, result, now=now, policy=self.policy, rng=self._rng) or report
            self.counters["items_new"].inc(len(step.new_items))
            yield from step.new_items
        if report:
            log.warning("%s", report)
        feed_state.write(state)


class PollFeeds(beam.PTransform):
    """Ticks (timestamped) -> each feed's new items, each item once."""

    def __init__(self, feeds: Iterable[Feed], policy: PollPolicy | None = None,
                 fetch: Callable[..., FetchResult] = fetch_feed):
        super().__init__()
        self.feeds = list(feeds)
        self.policy = policy or PollPolicy()
        self.fetch = fetch

    def expand(self, ticks):
        feeds = self.feeds
        return (
            ticks
            | "FanOutFeeds" >> beam.FlatMap(lambda _: [(feed.url, feed) for feed in feeds])
            .with_output_types(tuple[str, Feed])
            | "PollFeed" >> beam.ParDo(_PollFeedFn(self.policy, self.fetch))
        )


def to_item_message(item: FeedItem) -> PubsubMessage:
    data, attributes = encode_item(item)
    return PubsubMessage(data, attributes)


def build_polling(pipeline: beam.Pipeline, feeds: list[Feed], items_topic: str, policy: PollPolicy,
                  tick_seconds: float = 60.0) -> None:
    """Wire the Dataflow polling job: PeriodicImpulse -> PollFeeds -> items topic."""
    from apache_beam.transforms.periodicsequence import PeriodicImpulse

    (
        pipeline
        | "Tick" >> PeriodicImpulse(fire_interval=tick_seconds, apply_windowing=False)
        | "PollFeeds" >> PollFeeds(feeds, policy)
        | "ToMessages" >> beam.Map(to_item_message)
        | "PublishItems" >> WriteToPubSub(items_topic, with_attributes=True)
    )
