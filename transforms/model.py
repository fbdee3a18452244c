"""The records that flow between allywatch's stages.

Every stage speaks these types so that the poller, the streaming pipeline, batch replay and
the `extract` command agree on field names. They serialise to plain JSON dicts because they
cross Pub/Sub between the poller and the pipeline.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

EVENT_TYPES: tuple[str, ...] = (
    "agreement",
    "dialogue",
    "exercise",
    "operation",
    "arms_transfer",
    "military_aid",
    "setback",
)


def stable_id(*parts: str, length: int = 16) -> str:
    """Short deterministic id: the same input always gives the same id across runs and workers."""
    digest = hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:length]


def parse_time(value: str) -> datetime:
    """Parse an ISO 8601 time; naive times are taken as UTC."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def to_epoch_seconds(value: str) -> float:
    return parse_time(value).timestamp()


def iso_utc(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, tz=timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class FeedItem:
    """One entry of one outlet's feed, as first seen by allywatch.

    `first_seen` (ISO 8601, UTC) is the event time everywhere: the fetch time of the
    snapshot that first contained the item, so replay and live runs agree.
    """

    item_id: str
    outlet: str
    title: str
    summary: str = ""
    link: str = ""
    published: str | None = None
    first_seen: str = ""
    feed_url: str = ""
    language: str | None = None

    @staticmethod
    def make_id(outlet: str, key: str) -> str:
        """An item's id: the outlet plus the entry's guid (or link, or title)."""
        return stable_id(outlet, key)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "FeedItem":
        """Build from a decoded message; raises ValueError naming what is missing or wrong."""
        if not isinstance(data, Mapping):
            raise ValueError(f"item must be a JSON object, got {type(data).__name__}")
        missing = [name for name in ("item_id", "outlet", "title") if not data.get(name)]
        if missing:
            raise ValueError(f"item lacks required field(s): {', '.join(missing)}")
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in known}
        for name in ("item_id", "outlet", "title", "summary", "link", "first_seen", "feed_url"):
            if name in values and values[name] is not None and not isinstance(values[name], str):
                raise ValueError(f"item field {name!r} must be a string")
        if values.get("first_seen"):
            parse_time(values["first_seen"])  # raises ValueError when unparseable
        return cls(**values)

    @property
    def event_time(self) -> float:
        return to_epoch_seconds(self.first_seen)


@dataclass(frozen=True)
class CooperationEvent:
    """A defense-cooperation event found in one item (see the labelling guide in the README)."""

    type: str
    partners: tuple[str, ...]
    concerns: tuple[str, ...] = ()
    cameo: str = ""
    plover: str = ""
    confidence: float = 0.0
    evidence: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["partners"] = list(self.partners)
        data["concerns"] = list(self.concerns)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "CooperationEvent":
        return cls(
            type=data["type"],
            partners=tuple(data.get("partners", ())),
            concerns=tuple(data.get("concerns", ())),
            cameo=data.get("cameo", ""),
            plover=data.get("plover", ""),
            confidence=float(data.get("confidence", 0.0)),
            evidence=data.get("evidence", ""),
        )


@dataclass(frozen=True)
class ItemEvent:
    """An event together with the item that reported it: the unit clustering works on."""

    item: FeedItem
    event: CooperationEvent
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"item": self.item.to_dict(), "event": self.event.to_dict(), **dict(self.extra)}
