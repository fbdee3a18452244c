"""The poller sends each new item once, backs off from failing feeds and loses nothing."""

from __future__ import annotations

import random
import threading
from pathlib import Path

from connectors.feed_list import Feed
from connectors.poller import FeedPoller, backoff_delay
from tests.feed_server import FeedServer

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"


class ListSink:
    def __init__(self, fail_times: int = 0):
        self.items = []
        self.heartbeats = 0
        self.fail_times = fail_times

    def send(self, items):
        if self.fail_times:
            self.fail_times -= 1
            raise RuntimeError("publish refused")
        self.items.extend(items)

    def heartbeat(self, now):
        self.heartbeats += 1


class Clock:
    def __init__(self, now: float = 1_600_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_backoff_grows_exponentially_and_is_capped():
    rng = random.Random(1)
    delays = [backoff_delay(n, interval=60, cap=600, rng=rng) for n in range(1, 8)]
    assert 48 <= delays[0] <= 72
    assert 96 <= delays[1] <= 144
    assert all(d <= 720 for d in delays) and delays[-1] >= 480


def test_new_items_are_sent_once_and_failing_feeds_do_not_stop_others():
    reports: list[str] = []
    clock = Clock()
    with FeedServer() as server:
        server.set("/a", (FIXTURES / "outlet_a_v1.xml").read_bytes())
        server.set("/bad", b"<html>error page</html>", headers={"Content-Type": "text/html"})
        feeds = [Feed("a", server.url("/a")), Feed("bad", server.url("/bad")), Feed("down", server.url("/missing"))]
        sink = ListSink()
        poller = FeedPoller(feeds, sink, interval=60, clock=clock, reporter=reports.append, seed=0)
        assert poller.poll_due() == 1
        assert [i.title for i in sink.items] == ["Local bakery wins national bread award"]
        assert sink.items[0].first_seen == "2020-09-13T12:26:40+00:00"
        clock.now += 120
        assert poller.poll_due() == 0  # same item again is not re-sent
        assert poller.stats["fetch_errors"] >= 2 and poller.stats["parse_errors"] >= 2
    failing = [r for r in reports if "failed" in r]
    # reported once per failure streak and error, not on every retry
    assert len([r for r in failing if "bad" in r]) == 1
    assert len([r for r in failing if "down" in r]) == 1


def test_items_that_could_not_be_published_are_offered_again():
    clock = Clock()
    with FeedServer() as server:
        server.set("/a", (FIXTURES / "outlet_a_v1.xml").read_bytes())
        sink = ListSink(fail_times=1)
        poller = FeedPoller([Feed("a", server.url("/a"))], sink, interval=60, clock=clock, reporter=lambda m: None)
        assert poller.poll_due() == 0 and poller.stats["publish_errors"] == 1
        clock.now += 31
        assert poller.poll_due() == 1
        assert len(sink.items) == 1


def test_recovered_feed_is_reported_and_polled_on_schedule_again():
    reports: list[str] = []
    clock = Clock()
    with FeedServer() as server:
        server.set("/a", b"oops", status=500)
        poller = FeedPoller([Feed("a", server.url("/a"))], ListSink(), interval=10, clock=clock,
                            reporter=reports.append, seed=3)
        poller.poll_due()
        assert poller.states[0].failures == 1
        server.set("/a", (FIXTURES / "outlet_a_v1.xml").read_bytes())
        clock.now += 100
        assert poller.poll_due() == 1
    assert any("recovered" in r for r in reports)
    assert poller.states[0].failures == 0


def test_run_loop_sends_heartbeats_and_stops_when_asked():
    sink = ListSink()
    poller = FeedPoller([], sink, interval=60, reporter=lambda m: None)
    stop = threading.Event()
    thread = threading.Thread(target=poller.run, args=(stop,), kwargs={"heartbeat_every": 0.05})
    thread.start()
    try:
        for _ in range(100):
            if sink.heartbeats >= 2:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert sink.heartbeats >= 2 and not thread.is_alive()


def test_a_stop_during_a_round_leaves_unfetched_feeds_due_and_saves_state(tmp_path):
    """A round over many slow feeds must not outlast shutdown, and what it sent is remembered."""
    stop = threading.Event()
    fetched = []

    def slow_fetch(url, **_):
        fetched.append(url)
        stop.set()  # shutdown is asked for while the first feed is being fetched
        from connectors.fetch import FetchResult

        return FetchResult(url=url, status=200, body=(FIXTURES / "outlet_a_v1.xml").read_bytes())

    sink = ListSink()
    feeds = [Feed(f"f{i}", f"http://127.0.0.1:9/{i}") for i in range(6)]
    state = tmp_path / "poller.json"
    poller = FeedPoller(feeds, sink, interval=60, workers=1, fetch=slow_fetch, reporter=lambda m: None)
    poller.run(stop, heartbeat_every=0.05, state_path=state)
    assert len(fetched) == 1 and len(sink.items) == 1
    assert sum(1 for s in poller.states if s.next_due <= poller.clock()) == 5  # still due next time
    assert '"sent": ["' in state.read_text()


def test_state_survives_a_restart_so_old_items_are_not_resent(tmp_path):
    state = tmp_path / "state" / "poller.json"
    clock = Clock()
    with FeedServer() as server:
        server.set("/a", (FIXTURES / "outlet_a_v1.xml").read_bytes())
        feeds = [Feed("a", server.url("/a"))]
        first = FeedPoller(feeds, ListSink(), interval=60, clock=clock, reporter=lambda m: None)
        assert first.poll_due() == 1
        first.save_state(state)
        restarted_sink = ListSink()
        restarted = FeedPoller(feeds, restarted_sink, interval=60, clock=clock, reporter=lambda m: None)
        assert restarted.load_state(state) == 1
        assert restarted.poll_due() == 0 and restarted_sink.items == []


def test_unreadable_state_is_reported_and_ignored(tmp_path):
    state = tmp_path / "poller.json"
    state.write_text("{not json")
    reports: list[str] = []
    poller = FeedPoller([Feed("a", "http://127.0.0.1:9/a")], ListSink(), reporter=reports.append)
    assert poller.load_state(state) == 0
    assert any("ignoring unreadable poller state" in r for r in reports)
