"""PublishAlerts: the pipeline's Pub/Sub sink for alerts.

Beam's WriteToPubSub raises out of the bundle when one message is refused, which would
take down the monitor for a single bad alert, and cannot count refusals. This sink
publishes through `AlertPublisher` (schema check, filter attributes, `event_id` ordering
key), counts what was refused and why, and keeps going; transient failures are
retried by the client library's own retry policy.
"""

from __future__ import annotations

import apache_beam as beam

from connectors.alert_publisher import PUBLISH_FAILED, REJECTED_BY_SERVER, REJECTED_LOCALLY, AlertPublisher
from transforms.counters import stage_counter

REJECTION_REASONS = (REJECTED_LOCALLY, REJECTED_BY_SERVER, PUBLISH_FAILED)


class _PublishAlertFn(beam.DoFn):
    def __init__(self, topic_path: str):
        self.topic_path = topic_path
        self.published = stage_counter("alerts", "alerts_published")
        self.rejected = stage_counter("alerts", "alerts_rejected")
        self.rejected_by_reason = {
            reason: stage_counter("alerts", f"alerts_{reason}") for reason in REJECTION_REASONS
        }
        self.new = stage_counter("alerts", "alerts_new")
        self.updates = stage_counter("alerts", "alerts_update")
        self._publisher = None

    def setup(self):
        self._publisher = AlertPublisher(self.topic_path)

    def process(self, alert):
        if self._publisher.publish(alert):
            self.published.inc()
            (self.new if alert.get("kind") == "new" else self.updates).inc()
            yield alert
        else:  # AlertPublisher has logged why
            self.rejected.inc()
            reason = self._publisher.stats.last_reason
            if reason in self.rejected_by_reason:
                self.rejected_by_reason[reason].inc()

    def teardown(self):
        if self._publisher is not None:
            self._publisher.close()


class PublishAlerts(beam.PTransform):
    """Alert dicts -> messages on the alerts topic; returns the alerts that were accepted."""

    def __init__(self, topic_path: str):
        super().__init__()
        self.topic_path = topic_path

    def expand(self, alerts):
        return alerts | "Publish" >> beam.ParDo(_PublishAlertFn(self.topic_path))
