"""The streaming monitor: raw items from Pub/Sub in, alerts to Pub/Sub out.

One Pub/Sub input per local pipeline: the local runner has a single executor thread that
an idle Pub/Sub read blocks for up to 30 s, so a second input would starve the first.
Element timestamps come from the items' `event_time_ms` attribute (first sighting), the
same event time batch replay uses. The same pipeline runs unchanged on Dataflow.
"""

from __future__ import annotations

from dataclasses import dataclass

import apache_beam as beam
from apache_beam.io.gcp.pubsub import ReadFromPubSub
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from connectors.alert_sink import PublishAlerts
from connectors.item_messages import EVENT_TIME_ATTRIBUTE
from pipelines.stages import DetectAndCluster, ParseFeedItems, StageOptions

LOCAL_STREAMING_RUNNER = "BundleBasedDirectRunner"


@dataclass(frozen=True)
class MonitorConfig:
    items_subscription: str
    alerts_topic: str
    stages: StageOptions = StageOptions()


def build_monitor(pipeline: beam.Pipeline, config: MonitorConfig) -> None:
    """Wire the streaming job; `run()` in the CLI only starts it."""
    (
        pipeline
        | "ReadItems"
        >> ReadFromPubSub(
            subscription=config.items_subscription,
            with_attributes=True,
            timestamp_attribute=EVENT_TIME_ATTRIBUTE,
        )
        | "ParseFeedItems" >> ParseFeedItems()
        | "DetectAndCluster" >> DetectAndCluster(config.stages)
        | "PublishAlerts" >> PublishAlerts(config.alerts_topic)
    )


def streaming_options(runner: str = LOCAL_STREAMING_RUNNER, extra_flags: list[str] | None = None) -> PipelineOptions:
    options = PipelineOptions(flags=list(extra_flags or []), runner=runner)
    options.view_as(StandardOptions).streaming = True
    return options


def start_monitor(config: MonitorConfig, options: PipelineOptions | None = None):
    """Start the streaming job and return its (running) result; stop it with `result.cancel()`."""
    options = options or streaming_options()
    pipeline = beam.Pipeline(options=options)
    build_monitor(pipeline, config)
    return pipeline.run()
