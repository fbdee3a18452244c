"""Lifecycle of a live run: emulator (if local), topics, streaming job, poller, console.

`allywatch run` and the integration test both use `LiveMonitor`, so what the test proves
is what a user runs. Everything started here is stopped in reverse order by `stop()`,
which is safe to call more than once and after a partial start.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Callable

from connectors.alert_schema_registry import ensure_alerts_topic_with_schema
from connectors.emulator import EMULATOR_ENV, PubSubEmulator, emulator_environment
from connectors.local_state import clear_local_emulator, write_local_emulator
from connectors.feed_list import Feed
from connectors.poller import FeedPoller, PollPolicy, PubSubItemSink
from connectors.pubsub_setup import Topology, ensure_topology
from pipelines.commands.tail import format_alert
from pipelines.monitor import LOCAL_STREAMING_RUNNER, MonitorConfig, start_monitor, streaming_options
from pipelines.stages import StageOptions
from transforms.counters import local_totals, totals_since

log = logging.getLogger(__name__)

LOCAL_RUNNERS = (LOCAL_STREAMING_RUNNER, "DirectRunner", "SwitchingDirectRunner", "FnApiRunner")

Printer = Callable[[str], None]


@dataclass
class LiveSettings:
    feeds: list[Feed]
    topology: Topology = field(default_factory=Topology)
    use_emulator: bool = True
    poll_interval: float = PollPolicy.interval
    max_backoff: float = PollPolicy.max_backoff
    heartbeat_every: float = 5.0
    stages: StageOptions = field(default_factory=StageOptions)
    runner: str = LOCAL_STREAMING_RUNNER
    beam_flags: list[str] = field(default_factory=list)
    console: bool = True
    # Where the poller remembers what it sent (None: remember nothing across runs).
    poller_state: str | None = None


class LiveMonitor:
    def __init__(self, settings: LiveSettings, *, say: Printer = print, on_alert: Printer | None = None):
        self.settings = settings
        self.say = say
        self.on_alert = on_alert or say
        self.emulator: PubSubEmulator | None = None
        self._local = contextlib.ExitStack()  # the emulator and what points at it
        self.result = None
        self.poller: FeedPoller | None = None
        self.sink: PubSubItemSink | None = None
        self._stop = threading.Event()
        self._poll_thread: threading.Thread | None = None
        self._console_future = None
        self._subscriber = None
        self._counters_at_start: dict[str, int] = {}

    def start(self) -> None:
        s = self.settings
        if s.use_emulator and not os.environ.get(EMULATOR_ENV):
            self.emulator = self._local.enter_context(PubSubEmulator())
            self._local.enter_context(emulator_environment(self.emulator.address))
            self.say(f"started the local Pub/Sub emulator on {self.emulator.address} (project {s.topology.project})")
            write_local_emulator(self.emulator.address, s.topology.project)
            self._local.callback(clear_local_emulator)
        # The alerts topic first, so that it is born with its schema attached.
        for change in ensure_alerts_topic_with_schema(s.topology):
            self.say(change)
        for path in ensure_topology(s.topology, console=s.console):
            self.say(f"created {path}")
        self._counters_at_start = local_totals()
        self.result = start_monitor(
            MonitorConfig(
                items_subscription=s.topology.items_subscription_path,
                alerts_topic=s.topology.alerts_topic_path,
                stages=s.stages,
            ),
            streaming_options(s.runner, s.beam_flags),
        )
        self.say(f"streaming pipeline started on {s.runner}")
        if s.console:
            self._start_console()
        self.sink = PubSubItemSink(s.topology.items_topic_path)
        self.poller = FeedPoller(
            s.feeds, self.sink, interval=s.poll_interval, max_backoff=s.max_backoff, reporter=self.say
        )
        if s.poller_state and self.poller.load_state(s.poller_state):
            self.say(f"resuming from {s.poller_state}: items sent before are not sent again (--fresh to resend)")
        self._poll_thread = threading.Thread(
            target=self.poller.run,
            args=(self._stop,),
            kwargs={"heartbeat_every": s.heartbeat_every, "state_path": s.poller_state},
            name="feed-poller",
            daemon=True,
        )
        self._poll_thread.start()
        self.say(f"polling {len(s.feeds)} feeds every {s.poll_interval:.0f}s; Ctrl-C stops")

    def _start_console(self) -> None:
        from google.cloud import pubsub_v1

        self._subscriber = pubsub_v1.SubscriberClient()

        def show(message) -> None:
            try:
                self.on_alert(format_alert(json.loads(message.data.decode("utf-8"))))
            except (ValueError, KeyError) as exc:
                self.say(f"unreadable alert message skipped: {exc}")
            message.ack()

        self._console_future = self._subscriber.subscribe(self.settings.topology.console_subscription_path, show)

    def stop(self) -> dict[str, int]:
        """Stop everything started, newest first; returns the pipeline's counters.

        The emulator and the other local resources are released even if stopping the
        pipeline or the console fails."""
        try:
            return self._stop_services()
        finally:
            self._local.close()
            self.emulator = None

    def _stop_services(self) -> dict[str, int]:
        self._stop.set()
        if self._poll_thread is not None:
            self._poll_thread.join(timeout=30)
        totals: dict[str, int] = {}
        if self.result is not None:
            if self.sink is not None:
                try:  # wake the reader's blocking pull so cancel returns at once
                    self.sink.heartbeat(0)
                except Exception:
                    pass
            try:
                self.result.cancel()
            except Exception as exc:
                log.debug("cancel: %s", exc)
            # Beam's own counters are wrong on the local streaming runner (see transforms/counters.py).
            totals = totals_since(self._counters_at_start)
            self.result = None
        if self._console_future is not None:
            self._console_future.cancel()
            try:
                self._console_future.result(timeout=10)
            except Exception:
                pass
            self._console_future = None
        if self._subscriber is not None:
            self._subscriber.close()
            self._subscriber = None
        if self.sink is not None:
            self.sink.close()
            self.sink = None
        return totals


def submit_cloud_jobs(settings: LiveSettings, *, say: Printer = print) -> list[str]:
    """Start the monitor and the polling job on a cloud runner (Dataflow); they outlive this process.

    Returns the job ids. Nothing runs locally: polling is the `pipelines.polling` job.
    """
    from pipelines.polling import build_polling

    import apache_beam as beam

    s = settings
    for change in ensure_alerts_topic_with_schema(s.topology):
        say(change)
    for path in ensure_topology(s.topology, console=False):
        say(f"created {path}")
    monitor = start_monitor(
        MonitorConfig(s.topology.items_subscription_path, s.topology.alerts_topic_path, s.stages),
        streaming_options(s.runner, s.beam_flags),
    )
    polling = beam.Pipeline(options=streaming_options(s.runner, s.beam_flags))
    build_polling(polling, s.feeds, s.topology.items_topic_path,
                  PollPolicy(interval=s.poll_interval, max_backoff=s.max_backoff))
    poll_result = polling.run()
    job_ids = [str(getattr(r, "job_id", lambda: "?")()) for r in (monitor, poll_result)]
    say(f"submitted to {s.runner}: monitor job {job_ids[0]}, polling job {job_ids[1]}; "
        "they keep running until cancelled (`gcloud dataflow jobs cancel JOB_ID`)")
    return job_ids
