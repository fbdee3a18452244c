"""Throughput of the local streaming monitor: items/s from the items topic through alerts.

Publishes N real items (first sightings from the replay corpus) to the items topic of a
fresh emulator, runs the streaming pipeline, and reports how fast it decoded, extracted and
clustered them, read from the pipeline's own counters. A benchmark, not a test: it prints
figures and the machine, and asserts nothing about time.

    .venv/bin/python tests/benchmarks/bench_monitor.py [--items 3000]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.benchmarks.machine import describe_machine  # noqa: E402

from connectors.emulator import PubSubEmulator, emulator_environment  # noqa: E402
from connectors.feed_parser import parse_feed  # noqa: E402
from connectors.item_messages import encode_heartbeat, encode_item  # noqa: E402
from connectors.pubsub_setup import Topology, ensure_topology  # noqa: E402
from pipelines.monitor import MonitorConfig, start_monitor  # noqa: E402
from transforms.counters import local_totals  # noqa: E402

SHARED = Path(os.environ.get("ALLYWATCH_SHARED_DATA", REPO.parent / "shared" / "data"))


def corpus_items(limit: int):
    manifest_path = SHARED / "replay-2020" / "manifest.json"
    if not manifest_path.is_file():
        sys.exit(f"replay corpus not found at {manifest_path} (expected ../shared/data beside the repo)")
    seen: dict[str, object] = {}
    for entry in json.loads(manifest_path.read_text()):
        body = gzip.decompress((manifest_path.parent / entry["file"]).read_bytes())
        for item in parse_feed(body, outlet=entry["outlet"], fetched_at=entry["fetched_at"]).items:
            seen.setdefault(item.item_id, item)
        if len(seen) >= limit:
            break
    return list(seen.values())[:limit]




def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=3000, help="items to push through (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=600, help="give up after this many seconds")
    args = parser.parse_args()
    items = corpus_items(args.items)
    print(f"machine: {describe_machine()}\nitems: {len(items)} distinct real items from the replay corpus", flush=True)

    from google.cloud import pubsub_v1

    with PubSubEmulator() as emulator, emulator_environment(emulator.address):
        topology = Topology(project=f"bench-{uuid.uuid4().hex[:6]}")
        ensure_topology(topology, console=False)
        publisher = pubsub_v1.PublisherClient()
        futures = []
        for item in items:
            data, attributes = encode_item(item)
            futures.append(publisher.publish(topology.items_topic_path, data, **attributes))
        for future in futures:
            future.result(timeout=60)
        print(f"published {len(items)} items; starting the pipeline", flush=True)
        started = time.monotonic()
        result = start_monitor(MonitorConfig(topology.items_subscription_path, topology.alerts_topic_path))
        decoded = 0
        first_at = None
        while time.monotonic() - started < args.timeout:
            time.sleep(1.0)
            totals = local_totals()
            decoded = totals.get("extraction/items_seen", 0)
            if decoded and first_at is None:
                first_at = time.monotonic()
            print(f"  {time.monotonic() - started:6.1f}s  extracted {decoded:,}/{len(items):,}", dict(totals) if os.environ.get("BENCH_DEBUG") else "", flush=True)
            if decoded >= len(items):
                break
        elapsed = time.monotonic() - (first_at or started)
        data, attributes = encode_heartbeat(time.time())  # wakes the reader so cancel returns at once
        publisher.publish(topology.items_topic_path, data, **attributes).result(timeout=30)
        totals = local_totals()
        result.cancel()
    print(
        f"\nstart-up (pipeline start to first item extracted): {(first_at or started) - started:.1f}s\n"
        f"throughput after start-up: {decoded / max(elapsed, 1e-9):.0f} items/s "
        f"({decoded:,} items in {elapsed:.1f}s)\n"
        f"events extracted: {totals.get('extraction/events_extracted', 0)}, "
        f"alerts published: {totals.get('alerts/alerts_published', 0)}"
    )
    return 0 if decoded >= len(items) else 1


if __name__ == "__main__":
    sys.exit(main())
