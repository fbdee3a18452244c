"""The domain stages shared by the streaming monitor and batch replay.

Both pipelines are the same chain after their sources: items -> ExtractCooperationEvents
-> ClusterAcrossOutlets -> alerts. Building that chain in one place is what makes replay
a faithful preview of the live monitor.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import apache_beam as beam
from transforms.counters import stage_counter

from connectors.item_messages import MalformedItemMessage, decode_item, is_control
from transforms.clustering.beam import ClusterAcrossOutlets
from transforms.extraction.beam import ExtractCooperationEvents

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageOptions:
    """Knobs of the shared chain; defaults suit world-news volumes."""

    spacy_model: str | None = None
    cluster_options: dict[str, Any] = field(default_factory=dict)


class _DecodeItemMessage(beam.DoFn):
    def __init__(self) -> None:
        self.received = stage_counter("items", "messages_received")
        self.heartbeats = stage_counter("items", "heartbeats")
        self.malformed = stage_counter("items", "messages_malformed")
        self.decoded = stage_counter("items", "items_decoded")

    def process(self, message):
        self.received.inc()
        if is_control(message.attributes):
            self.heartbeats.inc()
            return
        try:
            item = decode_item(message.data)
        except MalformedItemMessage as exc:
            self.malformed.inc()
            log.warning("skipping malformed item message (%s): %.200r", exc, message.data)
            return
        self.decoded.inc()
        yield item


class ParseFeedItems(beam.PTransform):
    """Pub/Sub messages from the poller -> FeedItems; heartbeats and malformed messages dropped and counted."""

    def expand(self, messages):
        return messages | "Decode" >> beam.ParDo(_DecodeItemMessage())


class DetectAndCluster(beam.PTransform):
    """FeedItems (timestamped by first sighting) -> alert dicts."""

    def __init__(self, options: StageOptions | None = None):
        super().__init__()
        self.options = options or StageOptions()

    def expand(self, items):
        return (
            items
            | "ExtractCooperationEvents" >> ExtractCooperationEvents(spacy_model=self.options.spacy_model)
            | "ClusterAcrossOutlets" >> ClusterAcrossOutlets(**self.options.cluster_options)
        )
