"""The Pub/Sub attributes an alert carries, so that subscription filters can select it.

Pub/Sub filters see only attributes, never the payload, and have no numeric comparison:
so every partner and concern gets an attribute of its own (`partner_JPN`), and the
outlet count is exposed as threshold flags (`outlets_ge_3`) that `--min-outlets` can test.
"""

from __future__ import annotations

from typing import Any, Mapping

from transforms.alert_schema import SCHEMA_VERSION

MAX_OUTLET_THRESHOLD = 10


def partner_attribute(code: str) -> str:
    return f"partner_{code}"


def concern_attribute(code: str) -> str:
    return f"concern_{code}"


def outlets_attribute(threshold: int) -> str:
    """The flag set on alerts with at least `threshold` outlets (2..MAX_OUTLET_THRESHOLD)."""
    return f"outlets_ge_{threshold}"


def corroboration_tier(outlet_count: int) -> str:
    """A coarse, human-readable tier for the number of independent outlets."""
    if outlet_count >= 5:
        return "widespread"
    if outlet_count >= 3:
        return "confirmed"
    if outlet_count == 2:
        return "corroborated"
    return "single"


def alert_attributes(alert: Mapping[str, Any]) -> dict[str, str]:
    """Attributes for one alert; values are strings as Pub/Sub requires."""
    outlet_count = int(alert.get("outlet_count", 1))
    attributes = {
        "schema_version": str(alert.get("schema_version", SCHEMA_VERSION)),
        "kind": str(alert["kind"]),
        "type": str(alert["type"]),
        "event_id": str(alert["event_id"]),
        "outlet_count": str(outlet_count),
        "tier": corroboration_tier(outlet_count),
    }
    for code in alert.get("partners", ()):
        attributes[partner_attribute(code)] = "true"
    for code in alert.get("concerns", ()):
        attributes[concern_attribute(code)] = "true"
    for threshold in range(2, min(outlet_count, MAX_OUTLET_THRESHOLD) + 1):
        attributes[outlets_attribute(threshold)] = "true"
    return attributes
