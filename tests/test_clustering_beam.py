"""The stateful `ClusterAcrossOutlets` transform under TestStream (BundleBasedDirectRunner) and batch.

Counters are asserted on FnApiRunner only: under TestStream the BundleBasedDirectRunner
(Beam 2.77) reports the metrics of the first bundle only, so there we assert on alerts.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterable

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing import test_stream
from apache_beam.testing.util import assert_that
from apache_beam.transforms.window import TimestampedValue

from tests.test_clustering_support import (
    DAY,
    EXERCISE,
    HOUR,
    PACT,
    PACT_PARAPHRASE,
    PACT_THIRD,
    T0,
    WIRE,
    canonical,
    item_event,
    summary_of,
)
from transforms.alert_schema import validate_alert
from transforms.clustering.beam import ClusterAcrossOutlets, cluster_offline
from transforms.clustering.index import ClusteringConfig

CONFIG = dict(horizon_s=3 * DAY, debounce_s=900, near_window_s=2 * DAY)
DEFAULTS = {name: value for name, value in asdict(ClusteringConfig()).items() if name in CONFIG}


def _capture(path: Path):
    """An assert_that matcher that stores what the pipeline produced, for asserting afterwards."""

    def write(actual: Iterable[dict[str, Any]]) -> None:
        path.write_text(json.dumps(list(actual)))

    return write


def run_streaming(steps, tmp_path: Path, **options) -> tuple[list[dict], Any]:
    """Run the transform on a TestStream built from steps: ("add", [(ts, ie)...]) or ("wm", t)."""
    stream = test_stream.TestStream()
    watermark = float("-inf")
    for kind, value in steps:
        if kind == "add":
            stream.add_elements([TimestampedValue(ie, ts) for ts, ie in value])
        elif value > watermark:
            stream.advance_watermark_to(value)
            watermark = value
    stream.advance_watermark_to_infinity()
    pipeline_options = PipelineOptions(flags=[])
    pipeline_options.view_as(StandardOptions).streaming = True
    out = tmp_path / "streaming.json"
    pipeline = beam.Pipeline(runner="BundleBasedDirectRunner", options=pipeline_options)
    alerts = pipeline | stream | ClusterAcrossOutlets(**{**CONFIG, **options})
    assert_that(alerts, _capture(out))
    result = pipeline.run()
    result.wait_until_finish()
    return json.loads(out.read_text()), result


def run_batch(items, tmp_path: Path, **options) -> tuple[list[dict], Any]:
    out = tmp_path / "batch"
    pipeline = beam.Pipeline(runner="FnApiRunner", options=PipelineOptions(flags=[]))
    (
        pipeline
        | beam.Create(items)
        | beam.MapTuple(lambda ts, ie: TimestampedValue(ie, ts))
        | ClusterAcrossOutlets(**{**CONFIG, **options})
        | beam.Map(json.dumps)
        | beam.io.WriteToText(str(out), shard_name_template="")
    )
    result = pipeline.run()
    result.wait_until_finish()
    return [json.loads(line) for line in out.read_text().splitlines()], result


def counter(result, name: str) -> int:
    found = result.metrics().query(MetricsFilter().with_namespace("clustering").with_name(name))
    return sum(c.committed or 0 for c in found["counters"])


def story_items():
    """Two outlets report a pact, a third an hour later; an exercise between the same partners."""
    return [
        (T0, item_event("a1", "alpha", PACT, T0)),
        (T0 + 600, item_event("b1", "beta", PACT_PARAPHRASE, T0 + 600)),
        (T0 + HOUR, item_event("c1", "gamma", PACT_THIRD, T0 + HOUR)),
        (T0 + DAY, item_event("d1", "delta", EXERCISE, T0 + DAY, type_="exercise")),
        (T0 + DAY, item_event("e1", "alpha", WIRE, T0 + DAY, partners=("PHL", "USA"))),
        (T0 + DAY + 60, item_event("f1", "beta", WIRE, T0 + DAY + 60, partners=("PHL", "USA"))),
    ]


def expected_offline(items):
    return cluster_offline(items, ClusteringConfig(**CONFIG))


def test_streaming_in_order_matches_the_pure_logic(tmp_path):
    items = story_items()
    steps = []
    for ts, ie in items:
        steps += [("add", [(ts, ie)]), ("wm", ts + 1)]
    steps.append(("wm", T0 + 10 * DAY))
    alerts, _ = run_streaming(steps, tmp_path)
    assert canonical(alerts) == canonical(expected_offline(items))
    assert all(validate_alert(alert) == [] for alert in alerts)
    pact = [a for a in alerts if a["partners"] == ["CAN", "JPN"] and a["type"] == "agreement"]
    # beta's update is due 15 min after it (before gamma reports): two updates.
    assert [(a["kind"], a["outlet_count"]) for a in sorted(pact, key=lambda a: a["revision"])] == [
        ("new", 1),
        ("update", 2),
        ("update", 3),
    ]


def test_out_of_order_arrivals_within_the_watermark_give_the_same_alerts(tmp_path):
    items = story_items()
    steps = [("add", list(reversed(items))), ("wm", T0 + 10 * DAY)]
    alerts, _ = run_streaming(steps, tmp_path)
    assert canonical(alerts) == canonical(expected_offline(items))


def test_batch_on_fnapirunner_equals_streaming(tmp_path):
    items = story_items()
    batch, result = run_batch(list(reversed(items)), tmp_path)
    steps = []
    for ts, ie in items:
        steps += [("add", [(ts, ie)]), ("wm", ts + 1)]
    streaming, _ = run_streaming(steps, tmp_path)
    assert canonical(batch) == canonical(streaming)
    assert len(batch) == 5
    assert counter(result, "items") == 6
    assert counter(result, "clusters_founded") == 3
    assert counter(result, "merged_independent") == 2
    assert counter(result, "merged_syndicated") == 1
    assert counter(result, "clusters_expired") == 3
    assert counter(result, "alerts_new") == 3
    assert counter(result, "alerts_update") == 2


def test_late_item_still_joins_its_cluster(tmp_path):
    other = (T0 + 5 * HOUR, item_event("x1", "delta", EXERCISE, T0 + 5 * HOUR, type_="exercise"))
    steps = [
        ("add", [(T0, item_event("a1", "alpha", PACT, T0)), other]),
        ("wm", T0 + 6 * HOUR),
        # The key has clustered up to 5 h; this one (1 h) comes after: late, within the horizon.
        ("add", [(T0 + HOUR, item_event("b1", "beta", PACT_PARAPHRASE, T0 + HOUR))]),
        ("wm", T0 + 10 * DAY),
    ]
    alerts, _ = run_streaming(steps, tmp_path)
    pact = sorted((a for a in alerts if a["type"] == "agreement"), key=lambda a: a["revision"])
    assert [(a["kind"], a["outlet_count"]) for a in pact] == [("new", 1), ("update", 2)]
    # Its update is due a debounce after the key's clock (5 h), not back at 1 h.
    assert pact[1]["alerted_at"] == "2020-09-13T17:41:40+00:00"


def test_item_older_than_the_horizon_behind_the_clock_is_dropped(tmp_path):
    steps = [
        ("add", [(T0 + 5 * DAY, item_event("a1", "alpha", PACT, T0 + 5 * DAY))]),
        ("wm", T0 + 5 * DAY + 1),
        ("add", [(T0, item_event("b1", "beta", PACT_PARAPHRASE, T0))]),
        ("wm", T0 + 20 * DAY),
    ]
    alerts, _ = run_streaming(steps, tmp_path)
    assert [(a["kind"], a["source_count"]) for a in alerts] == [("new", 1)]


def test_expired_cluster_is_not_joined_by_a_later_report(tmp_path):
    late = T0 + 4 * DAY  # past the 3-day horizon
    steps = [
        ("add", [(T0, item_event("a1", "alpha", PACT, T0))]),
        ("wm", T0 + 1),
        ("add", [(late, item_event("b1", "beta", PACT_PARAPHRASE, late))]),
        ("wm", T0 + 10 * DAY),
    ]
    alerts, _ = run_streaming(steps, tmp_path)
    assert sorted(a["kind"] for a in alerts) == ["new", "new"]
    assert len({a["event_id"] for a in alerts}) == 2


def test_second_event_between_same_partners_gets_its_own_alert(tmp_path):
    steps = [
        ("add", [(T0, item_event("a1", "alpha", PACT, T0))]),
        ("wm", T0 + HOUR),
        ("add", [(T0 + 2 * DAY, item_event("b1", "beta", EXERCISE, T0 + 2 * DAY, type_="exercise"))]),
        ("wm", T0 + 10 * DAY),
    ]
    alerts, _ = run_streaming(steps, tmp_path)
    assert sorted((a["kind"], a["type"]) for a in alerts) == [("new", "agreement"), ("new", "exercise")]


def test_syndicated_copy_is_listed_but_does_not_trigger_an_update(tmp_path):
    partners = ("PHL", "USA")
    steps = [
        ("add", [(T0, item_event("a1", "alpha", WIRE, T0, partners=partners))]),
        ("wm", T0 + 60),
        ("add", [(T0 + HOUR, item_event("b1", "beta", WIRE, T0 + HOUR, partners=partners))]),
        ("wm", T0 + 10 * DAY),
    ]
    alerts, _ = run_streaming(steps, tmp_path)
    assert [(a["kind"], a["outlet_count"], a["source_count"]) for a in alerts] == [("new", 1, 1)]


def test_same_input_gives_the_same_ids_run_after_run(tmp_path):
    items = story_items()
    steps = [("add", items), ("wm", T0 + 10 * DAY)]
    first, _ = run_streaming(steps, tmp_path)
    second, _ = run_streaming(list(reversed(steps[:1])) + steps[1:], tmp_path)
    assert summary_of(first) == summary_of(second)
    assert sorted(a["alert_id"] for a in first) == sorted(a["alert_id"] for a in second)


def test_event_without_partners_is_dropped_and_counted(tmp_path):
    items = [(T0, item_event("a1", "alpha", PACT, T0, partners=())), (T0, item_event("b1", "beta", PACT, T0))]
    alerts, result = run_batch(items, tmp_path)
    assert [(a["kind"], a["source_count"]) for a in alerts] == [("new", 1)]
    assert counter(result, "dropped_no_partners") == 1
    assert counter(result, "items") == 1


def test_reports_stamped_alike_fold_into_one_new_alert_even_if_the_watermark_reaches_them(tmp_path):
    steps = [
        ("add", [(T0, item_event("a1", "alpha", PACT, T0))]),
        # Nothing before T0 can come any more, but more items stamped exactly T0 still can.
        ("wm", T0),
        ("add", [(T0, item_event("b1", "beta", PACT_PARAPHRASE, T0))]),
        ("wm", T0 + 10 * DAY),
    ]
    alerts, _ = run_streaming(steps, tmp_path)
    assert [(a["kind"], a["outlet_count"]) for a in alerts] == [("new", 2)]


@pytest.mark.shared_data
def test_dev_events_cluster_alike_in_batch_streaming_and_pure_logic(shared_data, tmp_path):
    """Real reports (the dev labels' own events): shuffled batch, out-of-order streaming and
    the pure logic must give identical alerts."""
    from pipelines.evaluation.clustering import load_gold, oracle_item_events

    items = oracle_item_events(load_gold(shared_data / "labels" / "dev.jsonl"))
    expected = canonical(cluster_offline(items))
    shuffled = list(items)
    random.Random(11).shuffle(shuffled)
    batch, _ = run_batch(shuffled, tmp_path, **DEFAULTS)
    assert canonical(batch) == expected
    # Streaming: six-hour slices, each delivered in shuffled order before the watermark passes it.
    slices: dict[int, list] = {}
    for ts, ie in shuffled:
        slices.setdefault(int(ts // (6 * HOUR)), []).append((ts, ie))
    steps = []
    for number in sorted(slices):
        steps += [("add", slices[number]), ("wm", (number + 1) * 6 * HOUR)]
    streaming, _ = run_streaming(steps, tmp_path, **DEFAULTS)
    assert canonical(streaming) == expected
    assert len(expected) > 40
