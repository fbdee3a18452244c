"""Batch replay: run the monitor's transforms over recorded feed snapshots.

A manifest lists snapshots (outlet, url, fetched_at, file). Each snapshot is parsed with
the live poller's parser; an item's event time is the `fetched_at` of the first snapshot
that contained it, exactly as the live poller stamps `first_seen`. So a replay shows what
the live monitor would have alerted, and in which order.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
from dataclasses import dataclass
from datetime import timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from connectors.feed_parser import parse_feed
from pipelines.stages import DetectAndCluster, StageOptions
from transforms.counters import stage_counter
from transforms.model import FeedItem, parse_time

log = logging.getLogger(__name__)


class ManifestError(ValueError):
    """A manifest that cannot be replayed; the message says which entry and why."""


@dataclass(frozen=True)
class Snapshot:
    outlet: str
    url: str
    fetched_at: str
    path: str


def load_manifest(path: str | Path) -> list[Snapshot]:
    """Read and check a manifest; snapshots come back in `fetched_at` order."""
    path = Path(path)
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(f"cannot read manifest {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise ManifestError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(entries, list):
        raise ManifestError(f"{path}: expected a JSON list of snapshots")
    base = path.parent
    snapshots = []
    for index, entry in enumerate(entries, start=1):
        where = f"{path} entry {index}"
        if not isinstance(entry, dict):
            raise ManifestError(f"{where}: expected an object")
        missing = [k for k in ("outlet", "fetched_at", "file") if not entry.get(k)]
        if missing:
            raise ManifestError(f"{where}: missing {', '.join(missing)}")
        try:
            fetched = parse_time(str(entry["fetched_at"]))
        except ValueError as exc:
            raise ManifestError(f"{where}: bad fetched_at {entry['fetched_at']!r}") from exc
        file_path = (base / str(entry["file"])).resolve()
        snapshots.append(
            Snapshot(
                outlet=str(entry["outlet"]),
                url=str(entry.get("url") or ""),
                fetched_at=fetched.astimezone(timezone.utc).isoformat(timespec="seconds"),
                path=str(file_path),
            )
        )
    snapshots.sort(key=lambda s: s.fetched_at)  # all UTC, one format: text order is time order
    return snapshots


def read_snapshot_body(path: str) -> bytes:
    """Raw feed bytes of one snapshot; `.gz` files are decompressed."""
    with open(path, "rb") as handle:
        raw = handle.read()
    return gzip.decompress(raw) if path.endswith(".gz") else raw


class _ParseSnapshot(beam.DoFn):
    def __init__(self) -> None:
        self.snapshots = stage_counter("replay", "snapshots_read")
        self.unreadable = stage_counter("replay", "snapshots_unreadable")
        self.broken = stage_counter("replay", "snapshots_not_a_feed")
        self.salvaged = stage_counter("replay", "snapshots_salvaged")
        self.sightings = stage_counter("replay", "item_sightings")
        self.skipped = stage_counter("replay", "entries_skipped")

    def process(self, snapshot: Snapshot) -> Iterator[FeedItem]:
        try:
            body = read_snapshot_body(snapshot.path)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            self.unreadable.inc()
            log.warning("snapshot %s unreadable: %s", snapshot.path, exc)
            return
        self.snapshots.inc()
        parsed = parse_feed(body, outlet=snapshot.outlet, fetched_at=snapshot.fetched_at, feed_url=snapshot.url)
        self.skipped.inc(parsed.entries_skipped)
        if not parsed.ok and not parsed.items:
            self.broken.inc()
            log.info("snapshot %s is not a feed: %s", snapshot.path, parsed.error)
        elif parsed.warning:
            self.salvaged.inc()
            log.info("snapshot %s: %s", snapshot.path, parsed.warning)
        self.sightings.inc(len(parsed.items))
        yield from parsed.items


def earliest_sighting(items: Iterable[FeedItem]) -> FeedItem:
    """The first time allywatch would have seen this item (ties broken by content for determinism)."""
    return min(items, key=lambda item: (parse_time(item.first_seen), item.title, item.link))


class ReadSnapshots(beam.PTransform):
    """Snapshots -> each distinct item once, timestamped by its first sighting."""

    def expand(self, snapshots):
        unique_items = stage_counter("replay", "items_unique")

        def stamp(keyed):
            unique_items.inc()
            item = keyed[1]
            return beam.window.TimestampedValue(item, item.event_time)

        return (
            snapshots
            | "ParseSnapshots" >> beam.ParDo(_ParseSnapshot())
            | "KeyByItem" >> beam.Map(lambda item: (item.item_id, item)).with_output_types(tuple[str, Any])
            # a combine, not a group: sightings reduce to the earliest before the shuffle
            | "FirstSighting" >> beam.CombinePerKey(earliest_sighting)
            | "StampEventTime" >> beam.Map(stamp)
        )


def alert_sort_key(alert: dict[str, Any]) -> tuple:
    return (alert.get("alerted_at", ""), alert.get("event_id", ""), alert.get("revision", 0))


class WriteAlertsJsonl(beam.PTransform):
    """All alerts into one JSONL file, in the order they would have been published."""

    def __init__(self, out_path: str):
        super().__init__()
        self.out_path = out_path

    def expand(self, alerts):
        out_path = self.out_path

        written = stage_counter("replay", "alerts_written")

        def write(all_alerts: list[dict[str, Any]]) -> int:
            written.inc(len(all_alerts))
            tmp = f"{out_path}.tmp-{os.getpid()}"
            with open(tmp, "w", encoding="utf-8") as handle:
                for alert in sorted(all_alerts, key=alert_sort_key):
                    handle.write(json.dumps(alert, ensure_ascii=False, sort_keys=True) + "\n")
            os.replace(tmp, out_path)  # readers never see a half-written file
            return len(all_alerts)

        return alerts | "Gather" >> beam.combiners.ToList() | "Write" >> beam.Map(write)


def build_replay(pipeline: beam.Pipeline, snapshots: list[Snapshot], out_path: str, options: StageOptions):
    """Wire the replay: the same DetectAndCluster chain the monitor runs."""
    return (
        pipeline
        | "Snapshots" >> beam.Create(snapshots)
        | "ReadSnapshots" >> ReadSnapshots()
        | "DetectAndCluster" >> DetectAndCluster(options)
        | "WriteAlerts" >> WriteAlertsJsonl(out_path)
    )


def run_replay(snapshots: list[Snapshot], out_path: str | Path, options: StageOptions | None = None):
    """Run a replay of loaded snapshots to completion on the local batch runner; returns
    the Beam result. The folder of `out_path` must exist."""
    out_path = str(Path(out_path).resolve())
    pipeline = beam.Pipeline(runner="FnApiRunner", options=PipelineOptions(flags=[]))
    build_replay(pipeline, snapshots, out_path, options or StageOptions())
    result = pipeline.run()
    result.wait_until_finish()
    return result
