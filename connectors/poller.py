"""Poll feeds and publish each new item once to the items topic.

Locally, feed polling cannot share a Beam pipeline with a Pub/Sub read (see the README's
architecture notes), so the poller is a plain process-side loop in front of the streaming
pipeline. It fetches due feeds concurrently, remembers what it already sent, backs off
from failing feeds with jitter, and reports a failing feed once per failure streak rather
than on every retry. An item counts as sent only after Pub/Sub confirmed it; otherwise it
stays unsent and is offered again on the next poll, so nothing accepted is lost.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
from collections import Counter, OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Protocol

from connectors.feed_list import Feed
from connectors.feed_parser import parse_feed
from connectors.fetch import FetchResult, fetch_feed
from connectors.item_messages import encode_heartbeat, encode_item
from transforms.model import FeedItem, iso_utc

log = logging.getLogger(__name__)

Reporter = Callable[[str], None]


class ItemSink(Protocol):
    def send(self, items: list[FeedItem]) -> None:
        """Deliver items; raise if any could not be delivered."""

    def heartbeat(self, now: float) -> None:
        """Send a heartbeat (may be a no-op)."""


def backoff_delay(failures: int, *, interval: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff from the poll interval, capped, with +-20% jitter so feeds spread out."""
    delay = min(cap, interval * (2 ** max(0, failures - 1)))
    return delay * rng.uniform(0.8, 1.2)


@dataclass
class FeedState:
    feed: Feed
    next_due: float = 0.0
    failures: int = 0
    etag: str | None = None
    last_modified: str | None = None
    last_error: str | None = None
    sent: "OrderedDict[str, None]" = field(default_factory=OrderedDict)


@dataclass(frozen=True)
class PollPolicy:
    """How often to poll, how far to back off, how many sent ids to remember per feed."""

    interval: float = 300.0
    max_backoff: float = 3600.0
    remember: int = 5000


# Outcomes of read_poll whose items are to be sent.
DELIVERABLE = ("fetched", "salvaged")


@dataclass
class PollStep:
    """What one fetch of one feed gave: the outcome counter to bump, unsent items, a report."""

    outcome: str
    new_items: list[FeedItem] = field(default_factory=list)
    report: str | None = None
    entries_skipped: int = 0


def read_poll(
    state: FeedState, result: FetchResult, *, now: float, policy: PollPolicy, rng: random.Random
) -> PollStep:
    """Apply one fetch result to a feed's state; the items it returns are not yet marked sent.

    Shared by the process-side poller and the Dataflow polling pipeline, so both schedule,
    back off, report and de-duplicate the same way.
    """
    if result.not_modified:
        return PollStep("not_modified", report=_succeeded(state, now, policy, rng))
    if not result.ok:
        return PollStep("fetch_errors", report=_failed(state, result.error or "unknown error", now, policy, rng))
    parsed = parse_feed(
        result.body, outlet=state.feed.outlet, fetched_at=iso_utc(now), feed_url=state.feed.url,
        content_type=result.content_type,
    )
    if not parsed.ok and not parsed.items:
        report = _failed(state, parsed.error or "not a feed", now, policy, rng)
        return PollStep("parse_errors", report=report, entries_skipped=parsed.entries_skipped)
    new_items = [item for item in parsed.items if item.item_id not in state.sent]
    if parsed.warning:  # counted as its own outcome; logged, not reported on every poll
        log.info("feed %s: %s", state.feed.outlet, parsed.warning)
    outcome = "salvaged" if parsed.warning else "fetched"
    return PollStep(outcome, new_items=new_items, entries_skipped=parsed.entries_skipped)


def commit_sent(
    state: FeedState, step: PollStep, result: FetchResult, *, now: float, policy: PollPolicy, rng: random.Random
) -> str | None:
    """Once the step's items are delivered: remember them and the feed's validators."""
    for item in step.new_items:
        state.sent[item.item_id] = None
    while len(state.sent) > policy.remember:
        state.sent.popitem(last=False)
    state.etag, state.last_modified = result.etag, result.last_modified
    return _succeeded(state, now, policy, rng)


def _succeeded(state: FeedState, now: float, policy: PollPolicy, rng: random.Random) -> str | None:
    report = f"feed {state.feed.outlet} recovered after {state.failures} failed poll(s)" if state.failures else None
    state.failures, state.last_error = 0, None
    state.next_due = now + policy.interval * rng.uniform(0.9, 1.1)
    return report


def _failed(state: FeedState, error: str, now: float, policy: PollPolicy, rng: random.Random) -> str | None:
    """Back off; report once per failure streak (or when the error changes), not on every retry."""
    state.failures += 1
    delay = backoff_delay(state.failures, interval=policy.interval, cap=policy.max_backoff, rng=rng)
    state.next_due = now + delay
    report = None
    if state.failures == 1 or error != state.last_error:
        report = f"feed {state.feed.outlet} ({state.feed.url}) failed: {error}; retrying with backoff (next in {delay:.0f}s)"
    state.last_error = error
    return report


class FeedPoller:
    """Fetch due feeds, parse them, and send unseen items to a sink."""

    def __init__(
        self,
        feeds: Iterable[Feed],
        sink: ItemSink,
        *,
        interval: float = PollPolicy.interval,
        max_backoff: float = PollPolicy.max_backoff,
        workers: int = 4,
        remember: int = 5000,
        fetch: Callable[..., FetchResult] = fetch_feed,
        clock: Callable[[], float] = time.time,
        reporter: Reporter | None = None,
        seed: int | None = None,
    ):
        self.states = [FeedState(feed=f) for f in feeds]
        self.sink = sink
        self.policy = PollPolicy(interval=interval, max_backoff=max_backoff, remember=remember)
        self.workers = workers
        self.fetch = fetch
        self.clock = clock
        self.report = reporter or (lambda message: log.warning("%s", message))
        self.stats: Counter[str] = Counter()
        self._rng = random.Random(seed)

    def poll_due(self, stop: threading.Event | None = None) -> int:
        """Poll every feed that is due now; returns how many new items were sent.

        Once `stop` is set, feeds not yet fetched are left due for the next run: a round
        over many slow feeds must not outlast the monitor's shutdown."""
        now = self.clock()
        due = [s for s in self.states if s.next_due <= now]
        if not due:
            return 0

        def fetch(state: FeedState) -> FetchResult | None:
            if stop is not None and stop.is_set():
                return None
            return self.fetch(state.feed.url, etag=state.etag, last_modified=state.last_modified)

        with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(due)))) as pool:
            results = list(pool.map(fetch, due))
        return sum(self._handle(state, result, now) for state, result in zip(due, results) if result is not None)

    def _handle(self, state: FeedState, result: FetchResult, now: float) -> int:
        self.stats["polls"] += 1
        step = read_poll(state, result, now=now, policy=self.policy, rng=self._rng)
        self.stats[step.outcome] += 1
        self.stats["entries_skipped"] += step.entries_skipped
        if step.report:
            self.report(step.report)
        if step.outcome not in DELIVERABLE:
            return 0
        if step.new_items:
            try:
                self.sink.send(step.new_items)
            except Exception as exc:  # keep them unsent: the next poll offers them again
                self.stats["publish_errors"] += 1
                self.report(
                    f"could not publish {len(step.new_items)} item(s) from {state.feed.outlet}: {exc}; will retry"
                )
                state.next_due = now + min(self.policy.interval, 30.0)
                return 0
        report = commit_sent(state, step, result, now=now, policy=self.policy, rng=self._rng)
        if report:
            self.report(report)
        self.stats["items_sent"] += len(step.new_items)
        return len(step.new_items)

    def save_state(self, path: str | Path) -> None:
        """Persist what was sent and the validators per feed, so a restart does not re-send old items."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "version": 1,
            "feeds": {
                s.feed.url: {"etag": s.etag, "last_modified": s.last_modified, "sent": list(s.sent)}
                for s in self.states
            },
        }
        tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, path)

    def load_state(self, path: str | Path) -> int:
        """Restore state saved by `save_state`; returns how many feeds it knew. A bad file is ignored."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            feeds = data["feeds"]
        except FileNotFoundError:
            return 0
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self.report(f"ignoring unreadable poller state {path}: {exc}")
            return 0
        known = 0
        for state in self.states:
            saved = feeds.get(state.feed.url)
            if not isinstance(saved, dict):
                continue
            known += 1
            state.etag, state.last_modified = saved.get("etag"), saved.get("last_modified")
            state.sent = OrderedDict((str(i), None) for i in saved.get("sent", [])[-self.policy.remember:])
        return known

    def seconds_until_due(self) -> float:
        return max(0.0, min((s.next_due for s in self.states), default=self.policy.interval) - self.clock())

    def run(
        self, stop: threading.Event, *, heartbeat_every: float = 5.0, state_path: str | Path | None = None
    ) -> None:
        """Poll until `stop` is set, sending heartbeats while idle and saving state after each poll."""
        last_heartbeat = 0.0
        while not stop.is_set():
            try:
                if self.poll_due(stop) and state_path:
                    self.save_state(state_path)
            except Exception:  # a bug in one poll must not end the monitor
                log.exception("poll failed; continuing")
                self.stats["poll_crashes"] += 1
            now = self.clock()
            if now - last_heartbeat >= heartbeat_every:
                try:
                    self.sink.heartbeat(now)
                    last_heartbeat = now
                except Exception as exc:
                    log.debug("heartbeat failed: %s", exc)
            stop.wait(max(0.2, min(heartbeat_every, self.seconds_until_due())))


class PubSubItemSink:
    """Publishes items (and heartbeats) to the items topic and waits for confirmation."""

    def __init__(self, topic_path: str, *, timeout: float = 60.0):
        from google.cloud import pubsub_v1

        self.topic_path = topic_path
        self.timeout = timeout
        self._publisher = pubsub_v1.PublisherClient()

    def send(self, items: list[FeedItem]) -> None:
        futures = []
        for item in items:
            data, attributes = encode_item(item)
            futures.append(self._publisher.publish(self.topic_path, data, **attributes))
        for future in futures:
            future.result(timeout=self.timeout)

    def heartbeat(self, now: float) -> None:
        data, attributes = encode_heartbeat(now)
        self._publisher.publish(self.topic_path, data, **attributes).result(timeout=self.timeout)

    def close(self) -> None:
        self._publisher.stop()
