"""`allywatch run`: the live streaming monitor."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from connectors.poller import PollPolicy
from connectors.pubsub_setup import DEFAULT_PROJECT, Topology
from pipelines.monitor import LOCAL_STREAMING_RUNNER


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the live streaming monitor (local Pub/Sub emulator unless --project is given)",
        description=(
            "Poll news feeds, detect defense-cooperation events, cluster them across outlets "
            "and publish one alert per event (with updates as outlets corroborate it) to Pub/Sub, "
            "printing each alert here. Without --project it starts the local Pub/Sub emulator; "
            "with PUBSUB_EMULATOR_HOST set it uses that emulator."
        ),
    )
    parser.add_argument("--feeds", metavar="FILE", help="feed list: OPML, YAML or JSON (default: built-in list)")
    parser.add_argument("--project", help="Google Cloud project for real Pub/Sub (default: local emulator)")
    parser.add_argument("--items-topic", default=Topology.items_topic, help="topic for raw items (default: %(default)s)")
    parser.add_argument("--alerts-topic", default=Topology.alerts_topic, help="topic for alerts (default: %(default)s)")
    parser.add_argument("--poll-interval", type=float, default=PollPolicy.interval, metavar="SECONDS",
                        help="seconds between polls of one feed (default: %(default)s)")
    parser.add_argument("--max-backoff", type=float, default=PollPolicy.max_backoff, metavar="SECONDS",
                        help="longest wait before retrying a failing feed (default: %(default)s)")
    parser.add_argument("--duration", type=float, default=None, metavar="SECONDS",
                        help="stop after this long (default: run until Ctrl-C)")
    parser.add_argument("--update-debounce", type=float, default=None, metavar="SECONDS",
                        help="how long an update waits to gather more outlets (default: 900)")
    parser.add_argument("--spacy-model", default=None, help="optional installed spaCy pipeline to add to extraction")
    parser.add_argument("--runner", default=LOCAL_STREAMING_RUNNER,
                        help="Beam runner (default: %(default)s). DataflowRunner submits the monitor and a "
                             "polling job to Dataflow and returns; see deploy/dataflow.md")
    parser.add_argument("--state", metavar="FILE", default=None,
                        help="where the poller remembers sent items across restarts "
                             "(default: poller-PROJECT.json in the allywatch state directory)")
    parser.add_argument("--fresh", action="store_true", help="forget what earlier runs sent and send everything again")
    parser.add_argument("--no-console", action="store_true", help="do not print alerts here")
    parser.add_argument("beam_args", nargs=argparse.REMAINDER,
                        help="after --: extra Beam pipeline options (e.g. Dataflow's --region)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from connectors.feed_list import FeedListError, default_feeds, load_feed_list
    from connectors.local_state import state_dir
    from pipelines.live import LOCAL_RUNNERS, LiveMonitor, LiveSettings, submit_cloud_jobs
    from pipelines.run_summary import format_counters
    from pipelines.stages import StageOptions

    try:
        feeds = load_feed_list(args.feeds) if args.feeds else default_feeds()
    except FeedListError as exc:
        print(f"allywatch run: {exc}", file=sys.stderr)
        return 2
    topology = Topology(
        project=args.project or DEFAULT_PROJECT, items_topic=args.items_topic, alerts_topic=args.alerts_topic
    )
    state_path = args.state or str(state_dir() / f"poller-{topology.project}.json")
    if args.fresh and os.path.exists(state_path):
        os.remove(state_path)
    beam_flags = [a for a in args.beam_args if a != "--"]
    if args.project:
        beam_flags.append(f"--project={args.project}")
    settings = LiveSettings(
        feeds=feeds,
        topology=topology,
        use_emulator=not args.project,
        poll_interval=args.poll_interval,
        max_backoff=args.max_backoff,
        stages=StageOptions(
            spacy_model=args.spacy_model,
            cluster_options={} if args.update_debounce is None else {"debounce_s": args.update_debounce},
        ),
        runner=args.runner,
        beam_flags=beam_flags,
        console=not args.no_console,
        poller_state=state_path,
    )
    say = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    if args.runner not in LOCAL_RUNNERS:
        if not args.project:
            print(f"allywatch run: --runner {args.runner} needs --project (the cloud project for Pub/Sub and the job)",
                  file=sys.stderr)
            return 2
        submit_cloud_jobs(settings, say=say)
        return 0
    monitor = LiveMonitor(settings, say=say, on_alert=lambda line: print(line, flush=True))
    stopping = threading.Event()
    # The handlers stay in place until everything has stopped: a second Ctrl-C during
    # shutdown must not interrupt it and leave the emulator running.
    previous = {sig: signal.signal(sig, lambda *_: stopping.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            monitor.start()
            stopping.wait(args.duration)
        except Exception as exc:
            print(f"allywatch run: {exc}", file=sys.stderr)
            monitor.stop()
            return 1
        say("stopping ...")
        totals = monitor.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    poller_stats = dict(monitor.poller.stats) if monitor.poller else {}
    say("poller: " + (", ".join(f"{k}={v}" for k, v in sorted(poller_stats.items())) or "no polls"))
    say("pipeline counters:\n" + format_counters(totals))
    return 0
