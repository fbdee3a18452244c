"""Publish alerts to the alerts topic: validated, with filter attributes, in event order.

Every alert is checked against the alert JSON Schema before it leaves the process, and
the topic's Pub/Sub schema checks it again on the server. Either refusal is counted, never
raised, so one malformed alert cannot stop the monitor; the pipeline's sink counts the
refusals by reason for the run summary, and each is logged here with its cause.

Alerts of one event share the ordering key `event_id`, so a subscriber with message
ordering sees an event's `new` alert before its `update`s.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Mapping

from google.api_core import exceptions as gexc
from google.cloud import pubsub_v1

from transforms.alert_attributes import alert_attributes
from transforms.alert_schema import validate_alert

log = logging.getLogger(__name__)

REJECTED_LOCALLY = "invalid_alert"  # failed validate_alert; never sent
REJECTED_BY_SERVER = "rejected_by_pubsub"  # Pub/Sub answered 400 (topic schema)
PUBLISH_FAILED = "publish_failed"  # any other error (timeout, unavailable, ...)


@dataclass
class PublishStats:
    """What happened to the alerts given to one publisher."""

    published: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    last_errors: list[str] = field(default_factory=list)

    @property
    def last_reason(self) -> str:
        """Why the latest refused alert was refused (one of the REJECTED_*/PUBLISH_FAILED reasons)."""
        return self.last_errors[-1].split(":", 1)[0] if self.last_errors else ""

    def record_rejection(self, reason: str, detail: str, keep: int = 20) -> None:
        self.rejected[reason] += 1
        self.last_errors.append(f"{reason}: {detail}")
        del self.last_errors[:-keep]


def encode_alert(alert: Mapping[str, Any]) -> bytes:
    """The message body: compact UTF-8 JSON."""
    return json.dumps(alert, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class AlertPublisher:
    """Publishes alerts to one topic; `publish` returns False (and counts) instead of raising."""

    def __init__(
        self,
        topic_path: str,
        *,
        validate: bool = True,
        timeout: float = 30.0,
        client: pubsub_v1.PublisherClient | None = None,
    ) -> None:
        self.topic_path = topic_path
        self.validate = validate
        self.timeout = timeout
        self.stats = PublishStats()
        self._client = client or pubsub_v1.PublisherClient(
            publisher_options=pubsub_v1.types.PublisherOptions(enable_message_ordering=True)
        )

    def publish(self, alert: Mapping[str, Any]) -> bool:
        """Validate and publish one alert, waiting for Pub/Sub's answer; True when accepted."""
        if self.validate:
            errors = validate_alert(alert)
            if errors:
                self.stats.record_rejection(REJECTED_LOCALLY, "; ".join(errors[:5]))
                log.warning("alert %s not published, it breaks the schema: %s", alert.get("alert_id"), errors[:5])
                return False
        try:
            attributes = alert_attributes(alert)
        except (KeyError, TypeError, ValueError) as exc:
            self.stats.record_rejection(REJECTED_LOCALLY, f"cannot build attributes: {exc!r}")
            return False
        ordering_key = attributes.get("event_id", "")
        try:
            future = self._client.publish(
                self.topic_path, encode_alert(alert), ordering_key=ordering_key, **attributes
            )
            future.result(timeout=self.timeout)
        except gexc.InvalidArgument as exc:
            self._resume(ordering_key)
            self.stats.record_rejection(REJECTED_BY_SERVER, str(exc))
            log.warning("Pub/Sub rejected alert %s: %s", alert.get("alert_id"), exc)
            return False
        except Exception as exc:  # noqa: BLE001 - counted, reported, and the monitor goes on
            self._resume(ordering_key)
            self.stats.record_rejection(PUBLISH_FAILED, repr(exc))
            log.error("could not publish alert %s: %r", alert.get("alert_id"), exc)
            return False
        self.stats.published += 1
        return True

    def _resume(self, ordering_key: str) -> None:
        """After a failure Pub/Sub pauses the ordering key; later alerts of the event must still go."""
        if ordering_key:
            try:
                self._client.resume_publish(self.topic_path, ordering_key)
            except Exception:  # noqa: BLE001 - best effort
                log.debug("resume_publish failed for %s", ordering_key, exc_info=True)

    def close(self) -> None:
        self._client.stop()

    def __enter__(self) -> "AlertPublisher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
