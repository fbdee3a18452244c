"""`allywatch eval clustering LABELS.jsonl [ALERTS.jsonl] [--oracle]`: does one real event give one alert stream?

Labelled items name the real event they report (`gold.event`). Alerts name their sources
by link. An item "was detected" when its link is among some alert's sources; its predicted
cluster is that alert's `event_id`. Over the detected gold-event items we print:

* B-cubed precision, recall and F1 (per item: how much of its predicted cluster is its
  real event, and how much of its real event is in its predicted cluster);
* alerts per real event: distinct `event_id`s among one real event's detected items,
  averaged over real events (1.0 is perfect; more means one event alerted several times);
* the share of real events split (over several event ids) or merged (sharing an event id
  with another real event), with examples.

`--extracted EXTRACT.jsonl` (the output of `allywatch extract LABELS.jsonl`) clusters the
events extraction found in every labelled item, relevant or not, and scores that: the whole
chain on the labelled split, with extraction's misses and false alarms in play.

`--oracle` measures clustering independently of extraction: it builds ItemEvents from the
labels' own type and partners (first_seen as event time), clusters them with the same
keying and logic as `ClusterAcrossOutlets` and scores the result the same way. Given both
ALERTS and `--oracle`, both reports are printed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence, TextIO
from urllib.parse import urlsplit, urlunsplit

from transforms.clustering.beam import cluster_offline
from transforms.clustering.index import DAY, ClusteringConfig
from transforms.model import CooperationEvent, FeedItem, ItemEvent, to_epoch_seconds


@dataclass(frozen=True)
class GoldItem:
    """One labelled item that reports a real event."""

    item_id: str
    link: str
    outlet: str
    title: str
    event: str
    type: str
    partners: tuple[str, ...]
    concerns: tuple[str, ...]
    first_seen: str
    summary: str = ""
    published: str | None = None


@dataclass
class ClusteringScore:
    """What the eval prints; also returned for tests and for tuning scripts."""

    gold_items: int
    gold_events: int
    detected_items: int
    detected_events: int
    precision: float
    recall: float
    f1: float
    alerts_per_event: float
    split: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    multi_assigned: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def split_share(self) -> float:
        return len(self.split) / self.detected_events if self.detected_events else 0.0

    @property
    def merged_share(self) -> float:
        return len(self.merged) / self.detected_events if self.detected_events else 0.0


def normalise_link(link: str) -> str:
    """Links compared loosely: scheme and host case, fragments and a trailing slash ignored."""
    link = (link or "").strip()
    if not link:
        return ""
    parts = urlsplit(link)
    path = parts.path.rstrip("/") or "/"
    netloc = parts.netloc.lower()
    if netloc.startswith("www."):
        netloc = netloc[4:]
    return urlunsplit(("", netloc, path, parts.query, ""))


def load_gold(path: Path) -> list[GoldItem]:
    """The `rel == "event"` items of a labels file (the format of ../shared/data/labels)."""
    items = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            gold = row.get("gold") or {}
            if gold.get("rel") != "event" or not gold.get("event"):
                continue
            items.append(
                GoldItem(
                    item_id=str(row.get("id") or number),
                    link=row.get("link") or "",
                    outlet=row.get("outlet") or "",
                    title=row.get("title") or "",
                    event=gold["event"],
                    type=gold.get("type") or "",
                    partners=tuple(gold.get("partners") or ()),
                    concerns=tuple(gold.get("concerns") or ()),
                    first_seen=row.get("first_seen") or "",
                    summary=row.get("summary") or "",
                    published=row.get("published"),
                )
            )
    return items


def load_alerts(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def assignment_from_alerts(alerts: Iterable[Mapping[str, Any]]) -> tuple[dict[str, str], int]:
    """link -> event_id of the first alert (by alerted_at, then revision) listing it.

    Also returns how many links appear under more than one event id (an item reporting two
    events, or a clustering that put one item in two clusters).
    """
    ordered = sorted(alerts, key=lambda a: (a.get("alerted_at") or "", a.get("revision", 0)))
    owner: dict[str, str] = {}
    owners: dict[str, set[str]] = defaultdict(set)
    for alert in ordered:
        for source in alert.get("sources") or ():
            link = normalise_link(source.get("link", ""))
            if link:
                owner.setdefault(link, alert["event_id"])
                owners[link].add(alert["event_id"])
    return owner, sum(1 for ids in owners.values() if len(ids) > 1)


def score(gold: Sequence[GoldItem], assignment: Mapping[str, str], examples: int = 5) -> ClusteringScore:
    """B-cubed and alerts-per-event of `assignment` (link -> predicted cluster) against gold."""
    gold_events = {g.event for g in gold}
    detected = [g for g in gold if normalise_link(g.link) in assignment]
    predicted = {g.item_id: assignment[normalise_link(g.link)] for g in detected}
    by_event: dict[str, list[GoldItem]] = defaultdict(list)
    by_cluster: dict[str, list[GoldItem]] = defaultdict(list)
    for g in detected:
        by_event[g.event].append(g)
        by_cluster[predicted[g.item_id]].append(g)
    precision = recall = 0.0
    for g in detected:
        cluster = by_cluster[predicted[g.item_id]]
        same = sum(1 for other in cluster if other.event == g.event)
        precision += same / len(cluster)
        recall += same / len(by_event[g.event])
    n = len(detected)
    precision = precision / n if n else 0.0
    recall = recall / n if n else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    ids_per_event = {event: {predicted[g.item_id] for g in items} for event, items in by_event.items()}
    split = sorted(event for event, ids in ids_per_event.items() if len(ids) > 1)
    merged = sorted(
        event
        for event, ids in ids_per_event.items()
        if any(other.event != event for cid in ids for other in by_cluster[cid])
    )
    lines: list[str] = []
    for event in split[:examples]:
        groups = defaultdict(list)
        for g in by_event[event]:
            groups[predicted[g.item_id]].append(g)
        parts = [" + ".join(f"[{g.outlet}] {g.title[:60]}" for g in grp) for grp in groups.values()]
        lines.append(f"split  {event}: " + "  ||  ".join(parts))
    for event in merged[:examples]:
        others = sorted(
            {o.event for cid in ids_per_event[event] for o in by_cluster[cid] if o.event != event}
        )
        lines.append(f"merged {event} with {', '.join(others)}")
    return ClusteringScore(
        gold_items=len(gold),
        gold_events=len(gold_events),
        detected_items=n,
        detected_events=len(by_event),
        precision=precision,
        recall=recall,
        f1=f1,
        alerts_per_event=(
            sum(len(ids) for ids in ids_per_event.values()) / len(ids_per_event) if ids_per_event else 0.0
        ),
        split=split,
        merged=merged,
        examples=lines,
    )


def oracle_item_events(gold: Sequence[GoldItem]) -> list[tuple[float, ItemEvent]]:
    """ItemEvents carrying the labels' own type and partners, at first_seen event time."""
    out = []
    for g in gold:
        if not g.first_seen or not g.partners:
            continue
        item = FeedItem(
            item_id=g.item_id,
            outlet=g.outlet,
            title=g.title,
            summary=g.summary,
            link=g.link,
            published=g.published,
            first_seen=g.first_seen,
        )
        event = CooperationEvent(type=g.type, partners=g.partners, concerns=g.concerns, confidence=1.0)
        out.append((to_epoch_seconds(g.first_seen), ItemEvent(item=item, event=event)))
    return out


def load_items(path: Path) -> dict[str, dict[str, Any]]:
    """Every labelled item (any `rel`), by id."""
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return {str(row.get("id")): row for row in rows}


def extracted_item_events(
    labels: Mapping[str, Mapping[str, Any]], extracted: Iterable[Mapping[str, Any]]
) -> list[tuple[float, ItemEvent]]:
    """ItemEvents from `allywatch extract` output lines joined with the labelled items by id."""
    out = []
    for line in extracted:
        row = labels.get(str(line.get("id")))
        if row is None or not row.get("first_seen"):
            continue
        item = FeedItem(
            item_id=str(row["id"]),
            outlet=row.get("outlet") or "",
            title=row.get("title") or "",
            summary=row.get("summary") or "",
            link=row.get("link") or "",
            published=row.get("published"),
            first_seen=row["first_seen"],
        )
        for event in line.get("events") or ():
            out.append((to_epoch_seconds(row["first_seen"]), ItemEvent(item=item, event=CooperationEvent.from_dict(event))))
    return out


def oracle_alerts(gold: Sequence[GoldItem], config: ClusteringConfig | None = None) -> list[dict[str, Any]]:
    """The alerts clustering gives when extraction is perfect (the labels' type and partners)."""
    return cluster_offline(oracle_item_events(gold), config)


def format_score(
    title: str, result: ClusteringScore, alerts: int | None = None, out: TextIO | None = None
) -> None:
    out = out or sys.stdout
    print(title, file=out)
    coverage = result.detected_items / result.gold_items if result.gold_items else 0.0
    print(
        f"  gold event items: {result.gold_items} in {result.gold_events} events; "
        f"detected: {result.detected_items} ({coverage:.1%}) in {result.detected_events} events"
        + (f"; alerts read: {alerts}" if alerts is not None else ""),
        file=out,
    )
    print(
        f"  B-cubed precision {result.precision:.3f}  recall {result.recall:.3f}  F1 {result.f1:.3f}",
        file=out,
    )
    print(
        f"  alerts per real event: {result.alerts_per_event:.3f}   "
        f"split: {len(result.split)}/{result.detected_events} ({result.split_share:.1%})   "
        f"merged: {len(result.merged)}/{result.detected_events} ({result.merged_share:.1%})",
        file=out,
    )
    if result.multi_assigned:
        print(f"  links listed under more than one event id: {result.multi_assigned}", file=out)
    for line in result.examples:
        print(f"    {line}", file=out)


def config_from_args(args: argparse.Namespace) -> ClusteringConfig:
    values: dict[str, Any] = {}
    if args.horizon_days is not None:
        values["horizon_s"] = values["max_age_s"] = args.horizon_days * DAY
    if args.max_age_days is not None:
        values["max_age_s"] = args.max_age_days * DAY
    if args.similarity_threshold is not None:
        values["similarity_threshold"] = args.similarity_threshold
    if args.similarity_floor is not None:
        values["similarity_floor"] = args.similarity_floor
    return ClusteringConfig(**values)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("labels", type=Path, help="labelled items (JSON lines with gold.event)")
    parser.add_argument("alerts", type=Path, nargs="?", help="alerts written by `allywatch replay --out`")
    parser.add_argument(
        "--oracle",
        action="store_true",
        help="also cluster the labels' own events (perfect extraction) and score that",
    )
    parser.add_argument(
        "--extracted",
        type=Path,
        help="output of `allywatch extract LABELS.jsonl`: cluster those events and score them",
    )
    parser.add_argument("--examples", type=int, default=5, help="examples of splits and merges to show")
    parser.add_argument(
        "--horizon-days", type=float, help="oracle/extracted: cluster horizon (and max age) in days"
    )
    parser.add_argument("--max-age-days", type=float, help="oracle/extracted: cluster max age in days")
    parser.add_argument("--similarity-threshold", type=float, help="oracle/extracted: similarity threshold")
    parser.add_argument("--similarity-floor", type=float, help="oracle/extracted: similarity floor")


def run(args: argparse.Namespace) -> int:
    if not args.labels.is_file():
        print(f"labels file not found: {args.labels}", file=sys.stderr)
        return 2
    gold = load_gold(args.labels)
    if not gold:
        print(f"no labelled event items (gold.rel == 'event') in {args.labels}", file=sys.stderr)
        return 2
    if args.alerts is None and not args.oracle and args.extracted is None:
        print("give ALERTS.jsonl, --extracted, --oracle, or several", file=sys.stderr)
        return 2
    if args.extracted is not None and not args.extracted.is_file():
        print(f"extraction output not found: {args.extracted}", file=sys.stderr)
        return 2
    if args.alerts is not None:
        if not args.alerts.is_file():
            print(f"alerts file not found: {args.alerts}", file=sys.stderr)
            return 2
        alerts = load_alerts(args.alerts)
        assignment, multi = assignment_from_alerts(alerts)
        result = score(gold, assignment, args.examples)
        result.multi_assigned = multi
        format_score(f"clustering of {args.alerts} against {args.labels}", result, len(alerts))
    if args.extracted is not None:
        with args.extracted.open(encoding="utf-8") as handle:
            extracted = [json.loads(line) for line in handle if line.strip()]
        item_events = extracted_item_events(load_items(args.labels), extracted)
        alerts = cluster_offline(item_events, config_from_args(args))
        assignment, multi = assignment_from_alerts(alerts)
        result = score(gold, assignment, args.examples)
        result.multi_assigned = multi
        format_score(
            f"extraction + clustering on the labelled items ({len(item_events)} events from {args.extracted})",
            result,
            len(alerts),
        )
    if args.oracle:
        config = config_from_args(args)
        alerts = oracle_alerts(gold, config)
        assignment, multi = assignment_from_alerts(alerts)
        result = score(gold, assignment, args.examples)
        result.multi_assigned = multi
        format_score(
            "oracle: clustering the labels' own events (gold type and partners, first_seen as event time)",
            result,
            len(alerts),
        )
        kinds = Counter(a["kind"] for a in alerts)
        print(f"  alerts: {kinds.get('new', 0)} new, {kinds.get('update', 0)} update")
    return 0
