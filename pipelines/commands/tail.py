"""`allywatch tail [NAME]`: stream alerts from a subscription to the terminal, acking as it goes.

Against the emulator, which stores a subscription's filter but delivers every message,
`tail` applies the filter itself with production's semantics (`connectors.filters`):
messages that do not match are acked and skipped, as production would never have
delivered them. It says so once on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from typing import Any, Mapping, TextIO

from google.api_core import exceptions as gexc

from connectors.filters import Filter, FilterSyntaxError, parse_filter
from connectors.local_state import PubSubTarget
from connectors.pubsub_setup import Topology
from pipelines.commands.subscribe import add_target_arguments, run_with_target

PULL_BATCH = 100
PULL_WAIT_SECONDS = 5.0


def format_alert(alert: Mapping[str, Any]) -> str:
    """One readable line: when, kind, type, partners (and concerns), outlets, title."""
    kind = str(alert.get("kind", "?"))
    revision = alert.get("revision")
    label = kind if kind == "new" or revision is None else f"{kind} #{revision}"
    partners = "+".join(alert.get("partners") or []) or "?"
    concerns = alert.get("concerns") or []
    against = f" vs {','.join(concerns)}" if concerns else ""
    outlets = alert.get("outlet_count", "?")
    when = str(alert.get("alerted_at", ""))[:16].replace("T", " ")
    title = " ".join(str(alert.get("title", "")).split())
    return f"{when}  [{label}] {alert.get('type', '?')} {partners}{against}  ({outlets} outlet{'s' if outlets != 1 else ''})  {title}"


@dataclass
class TailStats:
    shown: int = 0
    skipped_by_filter: int = 0
    unreadable: int = 0


def _client_side_filter(subscription: Any, target: PubSubTarget, err: TextIO) -> Filter | None:
    """The filter to apply locally (emulator only), announced once on stderr."""
    if not target.is_emulator or not subscription.filter:
        return None
    try:
        compiled = parse_filter(subscription.filter)
    except FilterSyntaxError as exc:
        raise ValueError(
            f"the subscription's stored filter is invalid, and production Pub/Sub would have refused it:\n{exc}\n"
            "Recreate it: `allywatch unsubscribe NAME`, then `allywatch subscribe NAME ...`."
        ) from None
    print(
        "note: the Pub/Sub emulator does not apply subscription filters; allywatch applies this "
        f"subscription's filter itself ({subscription.filter}), acking and skipping alerts that do not "
        "match, as production would never deliver them",
        file=err,
    )
    return compiled


def stream(
    subscriber: Any,
    subscription_path: str,
    *,
    compiled: Filter | None,
    as_json: bool,
    max_alerts: int | None,
    timeout: float | None,
    out: TextIO,
    err: TextIO,
) -> TailStats:
    """Pull, filter, print and ack until --max alerts were shown or --timeout seconds passed."""
    stats = TailStats()
    deadline = None if timeout is None else time.monotonic() + timeout
    while max_alerts is None or stats.shown < max_alerts:
        wait = PULL_WAIT_SECONDS if deadline is None else min(PULL_WAIT_SECONDS, deadline - time.monotonic())
        if wait <= 0:
            break
        try:
            response = subscriber.pull(
                request={"subscription": subscription_path, "max_messages": PULL_BATCH}, timeout=wait
            )
        except gexc.DeadlineExceeded:
            continue  # nothing arrived within this wait; the emulator's pull blocks until then
        ack_ids: list[str] = []
        unread: list[str] = []
        for received in response.received_messages:
            if max_alerts is not None and stats.shown >= max_alerts:
                unread.append(received.ack_id)  # handed back at once for the next reader
                continue
            ack_ids.append(received.ack_id)
            message = received.message
            if compiled is not None and not compiled.matches(message.attributes):
                stats.skipped_by_filter += 1
                continue
            try:
                alert = json.loads(message.data.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                stats.unreadable += 1
                print(f"warning: message {message.message_id} is not JSON ({exc}); acked and skipped", file=err)
                continue
            if as_json:
                print(json.dumps(alert, ensure_ascii=False, separators=(",", ":")), file=out)
            else:
                print(format_alert(alert) if isinstance(alert, Mapping) else str(alert), file=out)
            out.flush()
            stats.shown += 1
        if ack_ids:
            subscriber.acknowledge(request={"subscription": subscription_path, "ack_ids": ack_ids})
        if unread:
            subscriber.modify_ack_deadline(
                request={"subscription": subscription_path, "ack_ids": unread, "ack_deadline_seconds": 0}
            )
    return stats


def _tail(args: argparse.Namespace) -> int:
    from google.cloud import pubsub_v1

    def body(topology: Topology, target: PubSubTarget) -> int:
        name = args.name or topology.console_subscription
        path = topology.subscription_path(name)
        subscriber = pubsub_v1.SubscriberClient()
        try:
            try:
                subscription = subscriber.get_subscription(request={"subscription": path})
            except gexc.NotFound:
                print(
                    f"error: no subscription {name!r} in project {topology.project} ({target.how}). "
                    "Create it with `allywatch subscribe NAME ...`, or start `allywatch run` for the console "
                    "subscription; `allywatch subscriptions` lists what exists.",
                    file=sys.stderr,
                )
                return 1
            if subscription.push_config.push_endpoint:
                print(
                    f"error: {name!r} is a push subscription (to {subscription.push_config.push_endpoint}); "
                    "Pub/Sub delivers its alerts there, so there is nothing to tail. Tail a pull subscription.",
                    file=sys.stderr,
                )
                return 1
            compiled = _client_side_filter(subscription, target, sys.stderr)
            print(f"tailing {path} ({target.how}); Ctrl-C to stop", file=sys.stderr)
            stats = stream(
                subscriber,
                path,
                compiled=compiled,
                as_json=args.json,
                max_alerts=args.max,
                timeout=args.timeout,
                out=sys.stdout,
                err=sys.stderr,
            )
        finally:
            subscriber.close()
        summary = f"{stats.shown} alert(s) shown"
        if compiled is not None:
            summary += f", {stats.skipped_by_filter} skipped by the subscription's filter"
        if stats.unreadable:
            summary += f", {stats.unreadable} unreadable message(s) skipped"
        print(summary, file=sys.stderr)
        return 0

    return run_with_target(args, body)


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("seconds cannot be negative")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "tail",
        help="stream alerts from a subscription to the terminal",
        description=(
            "Print alerts from a pull subscription as they arrive, one line each (or raw JSON), acking them. "
            "Against the emulator, the subscription's filter is applied here, as production would apply it."
        ),
        epilog="Examples:\n  allywatch tail\n  allywatch tail jpn --json --max 10\n  allywatch tail confirmed --timeout 60",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "name", nargs="?", metavar="NAME", help=f"subscription (default: {Topology.console_subscription})"
    )
    parser.add_argument("--json", action="store_true", help="print each alert as one line of JSON")
    parser.add_argument("--max", type=_positive_int, metavar="N", help="stop after N alerts")
    parser.add_argument("--timeout", type=_non_negative_float, metavar="S", help="stop after S seconds")
    add_target_arguments(parser)
    parser.set_defaults(func=_tail)
