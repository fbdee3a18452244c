"""PublishAlerts: the pipeline's Pub/Sub sink for alerts.

Beam's WriteToPubSub raises out of the bundle when one message is refused, which would
take down the monitor for a single bad alert, and cannot count refusals. This sink
publishes through `AlertPublisher` (schema check, filter attributes, `event_id` ordering
key), counts what Pub/Sub refused, logs it, and keeps going; transient failures are
retried by the client library's own retry policy.
"""

from __future__ import annotations

import logging

import apache_beam as beam
from transforms.counters import stage_counter

log = logging.getLogger(__name__)


class _PublishAlertFn(beam.DoFn):
    def __init__(self, topic_path: str):
        self.topic_path = topic_path
        self.published = stage_counter("alerts", "alerts_published")
        self.rejected = stage_counter("alerts", "alerts_rejected")
        self.new = stage_counter("alerts", "alerts_new")
        self.updates = stage_counter("alerts", "alerts_update")
        self._publisher = None

    def setup(self):
        from connectors.alert_publisher import AlertPublisher

        self._publisher = AlertPublisher(self.topic_path)

    def process(self, alert):
        if self._publisher.publish(alert):
            self.published.inc()
            (self.new if alert.get("kind") == "new" else self.updates).inc()
            yield alert
        else:
            self.rejected.inc()
            log.warning("alert %s refused by Pub/Sub; counted and skipped", alert.get("alert_id"))

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
