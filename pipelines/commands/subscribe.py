"""`allywatch subscribe | subscriptions | unsubscribe`: analysts' filtered alert subscriptions.

Which Pub/Sub: PUBSUB_EMULATOR_HOST if set; else --project (Google Cloud Pub/Sub); else
the emulator of a running `allywatch run` (recorded in ~/.cache/allywatch/emulator.json).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Callable

from google.api_core import exceptions as gexc

from connectors.local_state import NoPubSubError, PubSubTarget, resolve_target, using_target
from connectors.pubsub_setup import Topology
from transforms.alert_attributes import MAX_OUTLET_THRESHOLD
from connectors.subscriptions import MIN_DELIVERY_ATTEMPTS
from transforms.alert_schema import ORGANISATIONS, alert_kinds, event_types

SUBSCRIBE_EPILOG = f"""\
Options of one kind are alternatives (any of them), different options must all hold:
  allywatch subscribe jpn --partner JPN
  allywatch subscribe gulf-arms --type arms_transfer --partner SAU --partner ARE --partner QAT
  allywatch subscribe confirmed --min-outlets 3 --kind new
  allywatch subscribe hook --partner USA --push-endpoint https://example.org/alerts --dead-letter
  allywatch subscribe custom --filter 'attributes:partner_JPN AND NOT attributes.type = "setback"'

Codes: ISO 3166-1 alpha-3 (JPN, USA, GBR, ...) or, for partners, {", ".join(ORGANISATIONS)}.
Types: {", ".join(event_types())}.
Filters are checked against Pub/Sub's filter grammar before they are sent (at most 256
bytes). The local emulator stores filters but does not apply them; `allywatch tail` applies
them itself there.
"""

WHERE_HELP = (
    "Google Cloud project (default: the emulator in PUBSUB_EMULATOR_HOST, or the one `allywatch run` started)"
)


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """--project and --alerts-topic, shared by every subscription command and `tail`."""
    parser.add_argument("--project", metavar="P", help=WHERE_HELP)
    parser.add_argument(
        "--alerts-topic", metavar="TOPIC", default=Topology.alerts_topic, help="alerts topic (default: %(default)s)"
    )


def run_with_target(
    args: argparse.Namespace, body: Callable[[Topology, PubSubTarget], int], target: PubSubTarget | None = None
) -> int:
    """Resolve where Pub/Sub is (unless the caller did), run `body` there, and turn known failures into advice."""
    if target is None:
        try:
            target = resolve_target(args.project)
        except NoPubSubError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    topology = Topology(project=target.project, alerts_topic=args.alerts_topic)
    try:
        with using_target(target):
            return body(topology, target)
    except ValueError as exc:  # FilterSyntaxError and SubscriptionError included
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except gexc.PermissionDenied as exc:
        print(
            f"error: Pub/Sub refused ({exc.message}). Check that your credentials may manage Pub/Sub in "
            f"project {target.project} (roles/pubsub.editor), or use the local emulator.",
            file=sys.stderr,
        )
        return 1
    except (gexc.ServiceUnavailable, gexc.DeadlineExceeded, gexc.RetryError) as exc:
        print(f"error: cannot reach Pub/Sub ({target.how}): {exc}. Is it running?", file=sys.stderr)
        return 1
    except gexc.GoogleAPICallError as exc:
        print(f"error: Pub/Sub call failed: {exc}", file=sys.stderr)
        return 1


# --- subscribe -------------------------------------------------------------------------


def _subscribe(args: argparse.Namespace) -> int:
    from connectors.alert_schema_registry import ensure_alerts_topic_with_schema
    from connectors.subscriptions import Clients, create_alert_subscription, dead_letter_topic_name, spec_from_options

    # Check everything the user typed before touching Pub/Sub, even when there is none to touch.
    try:
        resolved: PubSubTarget | None = resolve_target(args.project)
    except NoPubSubError as exc:
        resolved, missing = None, exc
    try:
        spec = spec_from_options(
            args.name,
            raw_filter=args.filter,
            partners=args.partner,
            concerns=args.concern,
            types=args.type,
            min_outlets=args.min_outlets,
            kind=args.kind,
            push_endpoint=args.push_endpoint,
            dead_letter=args.dead_letter,
            max_delivery_attempts=args.max_delivery_attempts,
            production=resolved is not None and not resolved.is_emulator,
        )
    except ValueError as exc:  # FilterSyntaxError and SubscriptionError included
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if resolved is None:
        print(f"error: {missing}", file=sys.stderr)
        return 2

    def body(topology: Topology, target: PubSubTarget) -> int:
        print(f"Pub/Sub: {target.how}, project {target.project}")
        changes = ensure_alerts_topic_with_schema(topology)
        with Clients() as clients:
            changes += create_alert_subscription(topology, spec, clients)
        for change in changes:
            print(change)
        if not changes:
            print(f"subscription {spec.name} already exists with this filter; nothing changed")
        if spec.dead_letter and not target.is_emulator:
            print(
                "note: for dead-lettering, grant the Pub/Sub service account "
                "(service-PROJECT_NUMBER@gcp-sa-pubsub.iam.gserviceaccount.com) roles/pubsub.publisher on "
                f"{dead_letter_topic_name(topology)} and roles/pubsub.subscriber on {spec.name}"
            )
        if target.is_emulator and spec.filter:
            print("note: the emulator does not apply filters; `allywatch tail` applies this one itself")
        return 0

    return run_with_target(args, body, resolved)


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def register_subscribe(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "subscribe",
        help="create a filtered alert subscription (pull, or push to a webhook)",
        description="Create a Pub/Sub subscription on the alerts topic that receives only the alerts you ask for.",
        epilog=SUBSCRIBE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", metavar="NAME", help="subscription name, e.g. jpn-partnerships")
    select = parser.add_argument_group("which alerts (repeat an option for alternatives)")
    select.add_argument("--partner", action="append", default=[], metavar="CODE", help="a cooperating party")
    select.add_argument("--concern", action="append", default=[], metavar="CODE", help="a country the cooperation targets")
    select.add_argument("--type", action="append", default=[], metavar="TYPE", help=f"event type: {', '.join(event_types())}")
    select.add_argument(
        "--min-outlets",
        type=_whole_number,
        metavar="N",
        help=f"only events reported by at least N outlets (1-{MAX_OUTLET_THRESHOLD})",
    )
    select.add_argument("--kind", choices=alert_kinds(), help="only first alerts (new) or only updates")
    select.add_argument("--filter", metavar="EXPR", help="a Pub/Sub filter expression instead of the options above")
    delivery = parser.add_argument_group("delivery")
    delivery.add_argument("--push-endpoint", metavar="URL", help="push each alert to this URL (see deploy/webhook_receiver.py)")
    delivery.add_argument(
        "--dead-letter",
        action="store_true",
        help="after --max-delivery-attempts failed deliveries, move the alert to <alerts-topic>-dead-letter",
    )
    delivery.add_argument(
        "--max-delivery-attempts", type=_whole_number, default=MIN_DELIVERY_ATTEMPTS, metavar="N", help="5-100 (default: %(default)s)"
    )
    add_target_arguments(parser)
    parser.set_defaults(func=_subscribe)


# --- subscriptions ---------------------------------------------------------------------


def _subscriptions(args: argparse.Namespace) -> int:
    from connectors.subscriptions import Clients, list_alert_subscriptions

    def body(topology: Topology, target: PubSubTarget) -> int:
        with Clients() as clients:
            infos = list_alert_subscriptions(topology, clients)
        if args.json:
            for info in infos:
                print(json.dumps(info.__dict__, sort_keys=True))
            return 0
        print(f"Pub/Sub: {target.how}, project {target.project}, topic {topology.alerts_topic}", file=sys.stderr)
        if not infos:
            print(f"no subscriptions on {topology.alerts_topic_path}; create one with `allywatch subscribe NAME ...`")
            return 0
        for info in infos:
            delivery = f"push {info.push_endpoint}" if info.push_endpoint else "pull"
            dead = (
                f"dead-letter {info.dead_letter_topic.rsplit('/', 1)[-1]} after {info.max_delivery_attempts}"
                if info.dead_letter_topic
                else "no dead-letter"
            )
            print(f"{info.name}\n  filter:   {info.filter or '(none: every alert)'}\n  delivery: {delivery}\n  {dead}")
        return 0

    return run_with_target(args, body)


def register_subscriptions(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "subscriptions",
        help="list the alert subscriptions",
        description="List the subscriptions on the alerts topic: name, filter, push endpoint, dead-letter policy.",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per subscription")
    add_target_arguments(parser)
    parser.set_defaults(func=_subscriptions)


# --- unsubscribe -----------------------------------------------------------------------


def _unsubscribe(args: argparse.Namespace) -> int:
    from connectors.subscriptions import Clients, delete_alert_subscription

    def body(topology: Topology, target: PubSubTarget) -> int:
        with Clients() as clients:
            deleted = delete_alert_subscription(topology, args.name, clients)
        if not deleted:
            print(
                f"error: no subscription {args.name!r} in project {topology.project}; "
                "`allywatch subscriptions` lists them",
                file=sys.stderr,
            )
            return 1
        print(f"deleted subscription {topology.subscription_path(args.name)}")
        return 0

    return run_with_target(args, body)


def register_unsubscribe(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "unsubscribe",
        help="delete an alert subscription",
        description="Delete an alert subscription (its undelivered alerts are dropped).",
    )
    parser.add_argument("name", metavar="NAME", help="subscription name, as `allywatch subscriptions` shows it")
    add_target_arguments(parser)
    parser.set_defaults(func=_unsubscribe)


def register(subparsers: argparse._SubParsersAction) -> None:
    register_subscribe(subparsers)
    register_subscriptions(subparsers)
    register_unsubscribe(subparsers)
