"""`ClusterAcrossOutlets`: one alert stream per real event, as a stateful Beam transform.

Input: `PCollection[ItemEvent]` whose element timestamps are the items' `first_seen` (event
time). Output: `PCollection[dict]` of alerts (see `transforms/clustering/alerts.py`).

How it is laid out, and why:

* Key. Every event is keyed by its anchor partner (`keys.anchor_partner`, type-agnostic),
  so all reports of one event meet on one key even when outlets disagree on a partner or on
  the type, while different partners spread over workers.
* Order. Batch runners hand a key's elements over in arbitrary order; streaming runners
  roughly in arrival order. To give the same clusters in both, elements are only buffered
  (BagState) on arrival and are clustered in event-time order when an event-time timer
  fires: once the watermark has passed a timestamp no earlier element can still come, so
  the buffered elements up to it are complete. `ClusterIndex.advance` then replays them,
  interleaved with the alerts and expiries due in between, purely by event time.
  The price is latency: an item is clustered (and its `new` alert sent) only once the
  watermark passes its event time: on Pub/Sub that is the source's watermark lag,
  typically seconds; on the local runner it also waits for the reader's pull to return.
  An `update` goes out `debounce_s` of event time after the first new outlet, so it also
  waits for the watermark to pass that moment.
* Bounded state. A cluster expires `horizon_s` after its last report or `max_age_s` after
  its first, whichever comes first; expiry runs on event-time timers in sweeps an eighth
  of the horizon apart, and a key whose clusters have all expired holds only its clock
  (one float, so that an item far behind it is still recognised as too late).
* Lateness. An element behind the key's processed time is still clustered (counted as
  `late_items`; its update is due a debounce after the key's clock, never in the past);
  one older than the horizon is dropped (`dropped_too_late`): its cluster may be gone.
* Clock. The only clock is the watermark (event time), so replay is reproducible and a
  TestStream drives every timer; no wall-clock time is read anywhere.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Iterable, Iterator, Tuple

import apache_beam as beam
from apache_beam import coders
from apache_beam.metrics import Metrics
from transforms.counters import stage_counter
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import (
    BagStateSpec,
    ReadModifyWriteStateSpec,
    TimerSpec,
    on_timer,
)
from apache_beam.utils.timestamp import MIN_TIMESTAMP, Timestamp

from transforms.clustering.index import ClusteringConfig, ClusterIndex
from transforms.clustering.keys import anchor_partner
from transforms.model import ItemEvent

LOG = logging.getLogger(__name__)
NAMESPACE = "clustering"
EXPIRY_SWEEPS_PER_HORIZON = 8


class KeyByAnchorPartner(beam.DoFn):
    """(anchor partner, item event); events without partners cannot be clustered: dropped."""

    def __init__(self) -> None:
        self.no_partners = stage_counter(NAMESPACE, "dropped_no_partners")

    def process(self, item_event: ItemEvent) -> Iterator[Tuple[str, ItemEvent]]:
        key = anchor_partner(item_event.event.partners)
        if key is None:
            self.no_partners.inc()
            LOG.info("clustering: dropped item %s: its event names no partner", item_event.item.item_id)
            return
        yield key, item_event


class ClusterPerAnchor(beam.DoFn):
    """Per key: buffer items, cluster them in event-time order on timers, emit alerts."""

    BUFFER = BagStateSpec("buffer", coders.PickleCoder())
    INDEX = ReadModifyWriteStateSpec("index", coders.PickleCoder())
    CLOCK = ReadModifyWriteStateSpec("clock", coders.FloatCoder())
    TIMER_AT = ReadModifyWriteStateSpec("timer_at", coders.FloatCoder())
    FLUSH = TimerSpec("flush", TimeDomain.WATERMARK)

    def __init__(self, config: ClusteringConfig) -> None:
        self.config = config
        self.items = stage_counter(NAMESPACE, "items")
        self.late = stage_counter(NAMESPACE, "late_items")
        self.too_late = stage_counter(NAMESPACE, "dropped_too_late")
        self.outcomes = {
            name: stage_counter(NAMESPACE, counter)
            for name, counter in (
                ("founded", "clusters_founded"),
                ("joined", "merged_independent"),
                ("syndicated", "merged_syndicated"),
                ("repost", "merged_reposts"),
                ("duplicate", "dropped_duplicates"),
            )
        }
        self.expired = stage_counter(NAMESPACE, "clusters_expired")
        self.alerts_new = stage_counter(NAMESPACE, "alerts_new")
        self.alerts_update = stage_counter(NAMESPACE, "alerts_update")
        self.live = Metrics.distribution(NAMESPACE, "live_clusters_per_key")

    def process(
        self,
        element: Tuple[str, ItemEvent],
        timestamp: Timestamp = beam.DoFn.TimestampParam,
        buffer: Any = beam.DoFn.StateParam(BUFFER),
        clock_state: Any = beam.DoFn.StateParam(CLOCK),
        timer_at: Any = beam.DoFn.StateParam(TIMER_AT),
        flush: Any = beam.DoFn.TimerParam(FLUSH),
    ) -> None:
        _, item_event = element
        ts = _event_time(item_event, timestamp)
        self.items.inc()
        clock = clock_state.read()
        if clock is not None and ts <= clock:
            if ts < clock - self.config.horizon_s:
                self.too_late.inc()
                LOG.info(
                    "clustering: dropped item %s: %.0f s behind its key's clock, past the horizon",
                    item_event.item.item_id,
                    clock - ts,
                )
                return
            self.late.inc()
        buffer.add((ts, item_event))
        pending = timer_at.read()
        if pending is None or ts < pending:
            _set_timer(flush, ts)
            timer_at.write(ts)

    @on_timer(FLUSH)
    def on_flush(
        self,
        fired_at: Timestamp = beam.DoFn.TimestampParam,
        buffer: Any = beam.DoFn.StateParam(BUFFER),
        index_state: Any = beam.DoFn.StateParam(INDEX),
        clock_state: Any = beam.DoFn.StateParam(CLOCK),
        timer_at: Any = beam.DoFn.StateParam(TIMER_AT),
        flush: Any = beam.DoFn.TimerParam(FLUSH),
    ) -> Iterator[dict[str, Any]]:
        # The time the timer was meant for (a float, exactly as the index computed it);
        # the timestamp carries one extra microsecond (see _set_timer).
        intended = timer_at.read()
        until = intended if intended is not None else (fired_at.micros - 1) / 1e6
        buffered = list(buffer.read())
        ready = [entry for entry in buffered if entry[0] <= until]
        rest = [entry for entry in buffered if entry[0] > until]
        index = index_state.read()
        if index is None:
            index = ClusterIndex(self.config)
            clock = clock_state.read()
            if clock is not None:
                index.clock = clock
        alerts, decisions, expired = index.advance(ready, until)
        for decision in decisions:
            self.outcomes[decision.outcome].inc()
            if decision.outcome == "duplicate":
                LOG.info("clustering: dropped duplicate report %s", decision.item_id)
        self.expired.inc(len(expired))
        for alert in alerts:
            (self.alerts_new if alert["kind"] == "new" else self.alerts_update).inc()
            yield alert
        self.live.update(len(index))
        clock_state.write(index.clock)
        if ready:
            buffer.clear()
            for entry in rest:
                buffer.add(entry)
        if len(index):
            index_state.write(index)
        else:
            index_state.clear()
        # With items still buffered, wake when all of them can be taken: the index replays
        # the alerts and expiries due in between in event-time order anyway, so waking for
        # each of those separately would only rewrite the buffer again and again (batch
        # replay holds a key's whole history in it). Otherwise wake for the next due time.
        wake = max(ts for ts, _ in rest) if rest else _next_wake(index, self.config)
        if wake is not None:
            _set_timer(flush, wake)
            timer_at.write(wake)
        else:
            timer_at.clear()


class ClusterAcrossOutlets(beam.PTransform):
    """ItemEvents (timestamped at first_seen) -> `new`/`update` alerts, one cluster per real event.

    Options: `horizon_s` (cluster lifetime after its last report), `debounce_s` (how long an
    update waits to gather further outlets), `similarity_threshold` (story similarity needed
    when only partners overlap or types are merely compatible); any other
    `ClusteringConfig` field by keyword (e.g. `max_age_s`, `similarity_floor`,
    `syndication_threshold`), or a whole `config`. Defaults: 7 days, 15 minutes, 0.28.
    """

    def __init__(
        self,
        horizon_s: float | None = None,
        debounce_s: float | None = None,
        similarity_threshold: float | None = None,
        config: ClusteringConfig | None = None,
        **overrides: Any,
    ) -> None:
        super().__init__()
        values = dict(overrides)
        for name, value in (
            ("horizon_s", horizon_s),
            ("debounce_s", debounce_s),
            ("similarity_threshold", similarity_threshold),
        ):
            if value is not None:
                values[name] = value
        base = config or ClusteringConfig()
        self.config = ClusteringConfig(**{**base.__dict__, **values})

    def expand(self, item_events: beam.PCollection) -> beam.PCollection:
        return (
            item_events
            | "KeyByAnchorPartner"
            >> beam.ParDo(KeyByAnchorPartner()).with_output_types(Tuple[str, ItemEvent])
            | "ClusterPerAnchor"
            >> beam.ParDo(ClusterPerAnchor(self.config)).with_output_types(dict)
        )


def _next_wake(index: ClusterIndex, config: ClusteringConfig) -> float | None:
    """The next due alert, or the next expiry sweep.

    Alerts must go out on time; expiry only frees memory, so it runs in sweeps on a grid of
    an eighth of the horizon (state stays bounded by 1.125 horizons) instead of one timer
    firing, with its state rewrite, per cluster.
    """
    due = index.next_due()
    expiry = index.next_expiry()
    if expiry is not None:
        grid = config.horizon_s / EXPIRY_SWEEPS_PER_HORIZON
        expiry = math.ceil(expiry / grid) * grid
    times = [t for t in (due, expiry) if t is not None]
    return min(times) if times else None


def _set_timer(flush: Any, ts: float) -> None:
    """Fire once everything up to and including `ts` has arrived.

    A watermark of W promises only that nothing earlier than W is still to come, and the
    local runner fires a timer as soon as the watermark reaches it; a timer at `ts` could
    fire before the last element stamped exactly `ts` (one feed fetch stamps many items
    alike). One microsecond later, it cannot.
    """
    flush.set(Timestamp(micros=Timestamp.of(ts).micros + 1))


def _event_time(item_event: ItemEvent, timestamp: Timestamp) -> float:
    """The element's timestamp; the item's first_seen when the element has none."""
    if timestamp is not None and timestamp > MIN_TIMESTAMP:
        return timestamp.micros / 1e6
    return item_event.item.event_time


def cluster_offline(
    item_events: Iterable[tuple[float, ItemEvent]], config: ClusteringConfig | None = None
) -> list[dict[str, Any]]:
    """The alerts `ClusterAcrossOutlets` gives for these (event time, item event) pairs, without Beam.

    Same keying and same per-key logic, all at once: for evaluation and for tests that
    compare the Beam transform against the pure logic.
    """
    config = config or ClusteringConfig()
    by_key: dict[str, list[tuple[float, ItemEvent]]] = {}
    for ts, item_event in item_events:
        key = anchor_partner(item_event.event.partners)
        if key is not None:
            by_key.setdefault(key, []).append((ts, item_event))
    alerts: list[dict[str, Any]] = []
    for key in sorted(by_key):
        index = ClusterIndex(config)
        alerts.extend(index.advance(by_key[key], float("inf"))[0])
    return alerts
