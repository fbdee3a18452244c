"""The wire format of raw items on the items topic, shared by the poller and the pipeline.

Besides items, the poller sends small heartbeat messages: the local runner only fires
timers and notices cancellation when its blocking pull returns, so a steady trickle of
heartbeats keeps alerts timely and shutdown fast even when no feed has news.
"""

from __future__ import annotations

import json
from typing import Mapping

from transforms.model import FeedItem

CONTROL_ATTRIBUTE = "control"
HEARTBEAT = "heartbeat"
# Event time in epoch milliseconds; ReadFromPubSub(timestamp_attribute=...) reads it.
EVENT_TIME_ATTRIBUTE = "event_time_ms"


class MalformedItemMessage(ValueError):
    """A message on the items topic that is not an item; the text says what is wrong."""


def encode_item(item: FeedItem) -> tuple[bytes, dict[str, str]]:
    data = json.dumps(item.to_dict(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    attributes = {
        "outlet": item.outlet[:1024],
        "item_id": item.item_id,
        EVENT_TIME_ATTRIBUTE: str(int(item.event_time * 1000)),
    }
    return data, attributes


def encode_heartbeat(now_seconds: float) -> tuple[bytes, dict[str, str]]:
    return b"{}", {CONTROL_ATTRIBUTE: HEARTBEAT, EVENT_TIME_ATTRIBUTE: str(int(now_seconds * 1000))}


def is_control(attributes: Mapping[str, str] | None) -> bool:
    return bool(attributes) and CONTROL_ATTRIBUTE in attributes


def decode_item(data: bytes) -> FeedItem:
    """Parse an item message; raises MalformedItemMessage with the reason."""
    try:
        payload = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedItemMessage(f"not UTF-8 JSON: {exc}") from exc
    try:
        item = FeedItem.from_dict(payload)
    except (TypeError, ValueError) as exc:
        raise MalformedItemMessage(str(exc)) from exc
    if not item.first_seen:
        raise MalformedItemMessage("item lacks first_seen (its event time)")
    return item
