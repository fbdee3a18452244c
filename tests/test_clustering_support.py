"""Builders shared by the clustering tests (no tests here): small invented stories and items."""

from __future__ import annotations

import json
from typing import Any, Iterable

from transforms.model import CooperationEvent, FeedItem, ItemEvent, iso_utc

HOUR = 3600.0
DAY = 86400.0
T0 = 1_600_000_000.0  # 2020-09-13T12:26:40Z

PACT = (
    "Japan and Canada sign pact on sharing military supplies",
    "Tokyo and Ottawa signed an acquisition and cross-servicing agreement on Monday, letting "
    "their forces exchange fuel, food and ammunition during joint missions.",
)
PACT_PARAPHRASE = (
    "Canada, Japan agree to swap fuel and ammunition between their forces",
    "Defence ministers of the two countries signed a cross-servicing agreement allowing the "
    "militaries to share supplies such as fuel and ammunition.",
)
PACT_THIRD = (
    "Ottawa and Tokyo seal military supply-sharing agreement",
    "The acquisition and cross-servicing agreement signed by Canada and Japan lets the two "
    "forces share fuel and ammunition.",
)
EXERCISE = (
    "Canadian frigate joins Japanese destroyers for anti-submarine drills",
    "HMCS Winnipeg trained with two Japanese destroyers in the Sea of Japan in a week-long "
    "exercise focused on submarine hunting.",
)
WIRE = (
    "Philippines and US hold talks on visiting forces deal",
    "MANILA (Wire) - Philippine and American officials met on Tuesday to discuss the future "
    "of the Visiting Forces Agreement, which governs the presence of US troops in the "
    "country, officials said.",
)
UNRELATED = (
    "Flood warnings issued across the north after record rainfall",
    "Rivers burst their banks as forecasters warned of more heavy rain over the weekend.",
)


def item_event(
    item_id: str,
    outlet: str,
    story: tuple[str, str],
    ts: float,
    type_: str = "agreement",
    partners: Iterable[str] = ("CAN", "JPN"),
    confidence: float = 0.8,
    language: str | None = None,
) -> ItemEvent:
    title, summary = story
    item = FeedItem(
        item_id=item_id,
        outlet=outlet,
        title=title,
        summary=summary,
        link=f"https://{outlet}.example/{item_id}",
        published=iso_utc(ts - HOUR),
        first_seen=iso_utc(ts),
        feed_url=f"https://{outlet}.example/rss",
        language=language,
    )
    event = CooperationEvent(
        type=type_,
        partners=tuple(sorted(partners)),
        concerns=(),
        cameo="",
        plover="",
        confidence=confidence,
        evidence=title,
    )
    return ItemEvent(item=item, event=event)


def canonical(alerts: Iterable[dict[str, Any]]) -> list[str]:
    """Alerts as sorted JSON strings: comparable across runners regardless of output order."""
    return sorted(json.dumps(alert, sort_keys=True) for alert in alerts)


def summary_of(alerts: Iterable[dict[str, Any]]) -> list[tuple]:
    """(event_id, kind, revision, outlet_count, source_count, new source outlets), ordered."""
    return sorted(
        (
            a["event_id"],
            a["revision"],
            a["kind"],
            a["outlet_count"],
            a["source_count"],
            tuple(s["outlet"] for s in a["new_sources"]),
        )
        for a in alerts
    )
