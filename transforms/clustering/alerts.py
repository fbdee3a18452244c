"""Alert records: the JSON a subscriber receives for a cluster's birth and growth.

An alert is built from the cluster as it stands when the alert is due. `sources` lists
every report so far (in arrival order); `new_sources` the reports added since the previous
alert of the cluster. `outlet_count` counts outlets with at least one independent report:
syndicated copies of another outlet's text are listed (with `syndicated_of` naming the
original's link) but do not corroborate. Ids are deterministic: `event_id` comes from the
founding report, `alert_id` from the event id and the revision, so a consumer can drop a
redelivered alert by id and the Pub/Sub ordering key (`event_id`) keeps a cluster's alerts
in order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from transforms.alert_schema import SCHEMA_VERSION
from transforms.model import iso_utc, stable_id

if TYPE_CHECKING:  # pragma: no cover
    from transforms.clustering.index import Cluster


def alert_id_for(event_id: str, revision: int) -> str:
    """The id of a cluster's alert of one revision (0 is the `new` alert)."""
    return stable_id("alert", event_id, str(revision))


def build_alert(cluster: "Cluster", alerted_at: float) -> dict[str, Any]:
    """The alert for `cluster` at its current revision (the caller bumps the revision)."""
    rep = cluster.representative()
    sources = [m.source() for m in cluster.members]
    strongest = max(cluster.members, key=lambda m: m.confidence)
    return {
        "schema_version": SCHEMA_VERSION,
        "alert_id": alert_id_for(cluster.event_id, cluster.revision),
        "kind": "new" if cluster.revision == 0 else "update",
        "revision": cluster.revision,
        "event_id": cluster.event_id,
        "type": cluster.type(),
        "partners": list(cluster.partners()),
        "concerns": list(cluster.concerns()),
        "title": rep.title,
        "summary": rep.summary,
        "link": rep.link,
        "sources": sources,
        "new_sources": sources[cluster.alerted_sources :],
        "outlet_count": len(cluster.outlets()),
        "source_count": len(sources),
        "confidence": round(strongest.confidence, 4),
        "cameo": rep.cameo,
        "plover": rep.plover,
        "evidence": rep.evidence,
        "first_seen_at": iso_utc(cluster.founded_at),
        "alerted_at": iso_utc(alerted_at),
    }
