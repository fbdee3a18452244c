"""`ClusterPerAnchor` driven by hand with in-memory state: what it keeps, drops and frees."""

from __future__ import annotations

from typing import Any

from apache_beam.utils.timestamp import Timestamp

from tests.test_clustering_support import DAY, HOUR, PACT, PACT_PARAPHRASE, T0, item_event
from transforms.clustering.beam import ClusterPerAnchor
from transforms.clustering.index import ClusteringConfig
from transforms.counters import local_totals, totals_since


class Value:
    def __init__(self) -> None:
        self.value: Any = None

    def read(self) -> Any:
        return self.value

    def write(self, value: Any) -> None:
        self.value = value

    def clear(self) -> None:
        self.value = None


class Bag:
    def __init__(self) -> None:
        self.items: list = []

    def read(self) -> list:
        return list(self.items)

    def add(self, item: Any) -> None:
        self.items.append(item)

    def clear(self) -> None:
        self.items = []


class Timer:
    def __init__(self) -> None:
        self.at: Timestamp | None = None

    def set(self, ts: Timestamp) -> None:
        self.at = ts

    def clear(self) -> None:
        self.at = None


class Key:
    """One key's state and timer, and the DoFn calls a runner would make for it."""

    def __init__(self, config: ClusteringConfig) -> None:
        self.fn = ClusterPerAnchor(config)
        self.buffer, self.index, self.clock, self.timer_at = Bag(), Value(), Value(), Value()
        self.timer = Timer()

    def element(self, ts: float, ie) -> None:
        self.fn.process(
            ("CAN", ie), timestamp=Timestamp.of(ts), buffer=self.buffer, clock_state=self.clock,
            timer_at=self.timer_at, flush=self.timer,
        )

    def fire(self) -> list[dict]:
        assert self.timer.at is not None, "no timer set"
        fired_at, self.timer.at = self.timer.at, None
        return list(
            self.fn.on_flush(
                fired_at=fired_at, buffer=self.buffer, index_state=self.index, clock_state=self.clock,
                timer_at=self.timer_at, flush=self.timer,
            )
        )


CONFIG = ClusteringConfig(horizon_s=2 * DAY, max_age_s=2 * DAY, near_window_s=DAY, debounce_s=600)


def test_timer_is_set_just_after_the_earliest_buffered_item():
    key = Key(CONFIG)
    key.element(T0 + HOUR, item_event("b1", "beta", PACT_PARAPHRASE, T0 + HOUR))
    key.element(T0, item_event("a1", "alpha", PACT, T0))
    assert key.timer.at == Timestamp(micros=Timestamp.of(T0).micros + 1)
    assert len(key.buffer.items) == 2 and key.index.value is None


def test_a_key_frees_its_clusters_once_they_expire():
    key = Key(CONFIG)
    key.element(T0, item_event("a1", "alpha", PACT, T0))
    key.element(T0 + HOUR, item_event("b1", "beta", PACT_PARAPHRASE, T0 + HOUR))
    alerts = key.fire()  # at T0: a1 only
    assert [(a["kind"], a["outlet_count"]) for a in alerts] == [("new", 1)]
    assert len(key.buffer.items) == 1 and key.timer.at is not None
    alerts = key.fire()  # at T0 + 1 h: b1
    assert alerts == [] and key.buffer.items == []
    alerts = key.fire()  # the debounced update
    assert [(a["kind"], a["outlet_count"]) for a in alerts] == [("update", 2)]
    assert key.index.value is not None and len(key.index.value) == 1
    # The next wake-up is the expiry sweep; after it nothing but the clock is held.
    assert key.timer.at.micros / 1e6 >= T0 + 2 * DAY
    assert key.fire() == []
    assert key.index.value is None and key.buffer.items == [] and key.timer_at.value is None
    assert key.timer.at is None
    assert key.clock.value >= T0 + 2 * DAY


def test_late_items_are_clustered_and_items_past_the_horizon_dropped():
    before = local_totals()
    key = Key(CONFIG)
    key.element(T0 + 5 * HOUR, item_event("a1", "alpha", PACT, T0 + 5 * HOUR))
    key.fire()
    key.element(T0 + HOUR, item_event("b1", "beta", PACT_PARAPHRASE, T0 + HOUR))  # late
    key.element(T0 - 3 * DAY, item_event("c1", "gamma", PACT_PARAPHRASE, T0 - 3 * DAY))  # too late
    assert [ts for ts, _ in key.buffer.items] == [T0 + HOUR]
    assert key.fire() == []
    alerts = key.fire()
    assert [(a["kind"], a["outlet_count"]) for a in alerts] == [("update", 2)]
    counted = totals_since(before)
    assert counted["clustering/late_items"] == 1
    assert counted["clustering/dropped_too_late"] == 1
    assert counted["clustering/merged_independent"] == 1
