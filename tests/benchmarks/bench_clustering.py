"""Benchmark: per-item clustering cost with 1,000 vs 100,000 live clusters, and memory per cluster.

Run: `.venv/bin/python tests/benchmarks/bench_clustering.py [--sizes 1000 100000] [--probes 2000]`
(a script, not collected by pytest). The issue's target: per-item cost at 100,000 live
clusters within 2x of the cost at 1,000.

What is measured. A `ClusterIndex` (one state key, the worst case: every cluster under the
same anchor partner, as the US key would be) is filled with N live clusters of synthetic
stories, each with its own partner pair drawn from a pool, its own vocabulary drawn from a
Zipf-like word list, and all within the horizon. Then a fixed set of probe items is
clustered: half re-tell a live story in other words (they join), half are new stories
(they found clusters). The probe phase is timed per item; memory per live cluster is the
tracemalloc growth while filling, divided by N.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.machine import describe_machine  # noqa: E402

from transforms.clustering.index import DAY, ClusteringConfig, ClusterIndex  # noqa: E402
from transforms.model import CooperationEvent, FeedItem, ItemEvent, iso_utc  # noqa: E402

T0 = 1_600_000_000.0
PARTNERS = [f"C{i:03d}" for i in range(250)]
VOCABULARY = [f"w{i}x" for i in range(20_000)]
TYPES = ("agreement", "dialogue", "exercise", "operation", "arms_transfer", "military_aid", "setback")


def common_words(rng: random.Random, count: int) -> list[str]:
    # The domain's frequent words (troops, defence, minister...): drawn from a small head.
    return [VOCABULARY[min(int(rng.paretovariate(1.2)) - 1, 199)] for _ in range(count)]


def story(rng: random.Random) -> tuple[str, str]:
    """About 30 words: a third from the frequent head, the rest from the long tail."""
    words = common_words(rng, 6) + [rng.choice(VOCABULARY) for _ in range(24)]
    rng.shuffle(words)
    return " ".join(words[:9]), " ".join(words[9:])


def retell(rng: random.Random, title: str, summary: str) -> tuple[str, str]:
    """The same story in other words: keep about 60% of its words, add new ones."""
    words = (title + " " + summary).split()
    kept = [w for w in words if rng.random() < 0.6] + [rng.choice(VOCABULARY) for _ in range(8)]
    rng.shuffle(kept)
    return " ".join(kept[:9]), " ".join(kept[9:])


def make(item_id: str, outlet: str, text: tuple[str, str], ts: float, type_: str, partners) -> ItemEvent:
    item = FeedItem(item_id=item_id, outlet=outlet, title=text[0], summary=text[1],
                    link=f"https://{outlet}.example/{item_id}", first_seen=iso_utc(ts))
    return ItemEvent(item=item, event=CooperationEvent(type=type_, partners=tuple(sorted(partners)), confidence=0.7))


def build(n: int, seed: int, horizon_s: float) -> tuple[ClusterIndex, list, float]:
    rng = random.Random(seed)
    index = ClusterIndex(ClusteringConfig(horizon_s=horizon_s, near_window_s=min(2 * DAY, horizon_s)))
    stories = []
    span = horizon_s * 0.5  # all founded within half a horizon: all still live at the end
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(n):
        ts = T0 + span * i / n
        text = story(rng)
        partners = ("USA", rng.choice(PARTNERS))
        type_ = rng.choice(TYPES)
        index.add(make(f"s{i}", f"o{i % 40}", text, ts, type_, partners), ts)
        stories.append((text, partners, type_))
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return index, stories, (after - before) / max(len(index), 1)


def probe(index: ClusterIndex, stories: list, probes: int, seed: int, horizon_s: float) -> tuple[float, dict]:
    rng = random.Random(seed + 1)
    now = T0 + horizon_s * 0.5
    items = []
    for j in range(probes):
        if j % 2 == 0:
            text, partners, type_ = stories[rng.randrange(max(1, len(stories) - 500), len(stories))]
            items.append(make(f"p{j}", f"q{j % 7}", retell(rng, *text), now, type_, partners))
        else:
            items.append(make(f"p{j}", f"q{j % 7}", story(rng), now, rng.choice(TYPES), ("USA", rng.choice(PARTNERS))))
    outcomes: dict[str, int] = {}
    gc.collect()
    start = time.perf_counter()
    for item in items:
        # The decision only (read-only), so that the index stays at N live clusters.
        decision = index.assign(item, now)
        outcomes[decision.outcome] = outcomes.get(decision.outcome, 0) + 1
    elapsed = time.perf_counter() - start
    return elapsed / probes, outcomes


def apply_cost(index: ClusterIndex, stories: list, probes: int, seed: int, horizon_s: float) -> float:
    """Per-item cost of the full `add` (decision plus index update) for a few probes."""
    rng = random.Random(seed + 7)
    now = T0 + horizon_s * 0.5
    items = []
    for j in range(probes):
        text, partners, type_ = stories[rng.randrange(len(stories))]
        items.append(make(f"r{j}", f"z{j % 5}", retell(rng, *text) if j % 2 else story(rng), now, type_, partners))
    gc.collect()
    start = time.perf_counter()
    for item in items:
        index.add(item, now)
    return (time.perf_counter() - start) / probes




def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--probes", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=3, help="timed probe rounds (median reported)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    horizon = 7 * DAY
    print(f"machine: {describe_machine()}; load average at start {os.getloadavg()[0]:.2f}")
    print(
        f"{'live clusters':>14} {'assign us/item':>15} {'add us/item':>12} {'bytes/cluster':>14} "
        f"{'build s':>8}  outcomes of the assign probes"
    )
    per_item = {}
    for n in args.sizes:
        start = time.perf_counter()
        index, stories, memory = build(n, args.seed, horizon)
        built = time.perf_counter() - start
        timings, outcomes = [], {}
        live = len(index)
        for r in range(args.repeats):
            cost, outcomes = probe(index, stories, args.probes, args.seed + 100 * r, horizon)
            timings.append(cost)
        per_item[n] = statistics.median(timings)
        # Full adds grow the index; a few hundred are a small fraction of N (a tenth at most).
        add = statistics.median(
            apply_cost(index, stories, max(1, min(300, n // (10 * args.repeats))), args.seed + r, horizon)
            for r in range(args.repeats)
        )
        print(
            f"{live:>14,} {per_item[n] * 1e6:>15.1f} {add * 1e6:>12.1f} {memory:>14,.0f} "
            f"{built:>8.1f}  {outcomes}"
        )
        del index, stories
        gc.collect()
    if len(per_item) >= 2:
        small, large = min(per_item), max(per_item)
        ratio = per_item[large] / per_item[small]
        verdict = "within" if ratio <= 2 else "NOT within"
        print(f"assign cost ratio {large:,} vs {small:,} live clusters: {ratio:.2f}x ({verdict} the 2x target)")
    print(f"load average at end {os.getloadavg()[0]:.2f} (other work on the machine skews timings)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
