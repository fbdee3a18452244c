"""Analysts' alert subscriptions: what they ask for, checked, and the Pub/Sub resources for it.

A subscription is a Pub/Sub subscription on the alerts topic with a filter built from the
analyst's options (`connectors.filters.build_filter`), a retry policy, optionally push
delivery to a webhook and a dead-letter policy. Everything the user typed is checked here
before any call to Pub/Sub, with errors that name the valid values, because production
Pub/Sub would reject a bad filter only at creation time and the emulator never does.

Dead letters go to one topic per alerts topic, `<alerts-topic>-dead-letter`, with a pull
subscription `<alerts-topic>-dead-letter-inspect` so that they are kept (a topic without
subscriptions drops what it receives) and can be read with `allywatch tail`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from difflib import get_close_matches
from typing import AbstractSet, Iterable, Sequence
from urllib.parse import urlparse

from google.api_core import exceptions as gexc
from google.cloud import pubsub_v1
from google.protobuf import duration_pb2, field_mask_pb2

from connectors.filters import build_filter, parse_filter
from connectors.pubsub_setup import Topology, close_admin_client, ensure_subscription, ensure_topic
from transforms.alert_attributes import MAX_OUTLET_THRESHOLD
from transforms.alert_schema import ORGANISATIONS, alert_kinds, country_codes, event_types

log = logging.getLogger(__name__)

MIN_DELIVERY_ATTEMPTS = 5  # Pub/Sub's bounds for dead-letter policies
MAX_DELIVERY_ATTEMPTS = 100
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$")


class SubscriptionError(ValueError):
    """Something the user asked for cannot be done; the message says what to do instead."""


# --- checking what the user typed (pure) ---------------------------------------------


def check_subscription_name(name: str) -> str:
    """Pub/Sub's naming rules, checked here so the error can say how to fix the name."""
    if name.startswith("projects/"):
        name = name.rsplit("/", 1)[-1]
    if name.lower().startswith("goog"):
        raise SubscriptionError(f"subscription name {name!r} may not start with 'goog' (reserved by Google)")
    if not _NAME.match(name):
        raise SubscriptionError(
            f"invalid subscription name {name!r}: use 3-255 characters, starting with a letter, "
            "of letters, digits and - _ . ~ + %  (e.g. jpn-partnerships)"
        )
    return name


def _suggest(code: str, valid: Iterable[str]) -> str:
    close = get_close_matches(code, sorted(valid), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def _known_codes(codes: Sequence[str], valid: AbstractSet[str], what: str, advice: str) -> list[str]:
    """Upper-cased, de-duplicated codes, each one of `valid`; an unknown one is refused with advice."""
    out: list[str] = []
    for raw in codes:
        code = raw.strip().upper()
        if code not in valid:
            raise SubscriptionError(f"unknown {what} code {raw!r}{_suggest(code, valid)}: use {advice}")
        if code not in out:
            out.append(code)
    return out


def check_partners(codes: Sequence[str]) -> list[str]:
    """Partner codes: ISO 3166-1 alpha-3 or an organisation."""
    return _known_codes(
        codes, country_codes() | set(ORGANISATIONS), "partner",
        f"an ISO 3166-1 alpha-3 country code (JPN, USA, GBR, SAU, ...) or one of {', '.join(ORGANISATIONS)}",
    )


def check_concerns(codes: Sequence[str]) -> list[str]:
    """Concern codes: ISO 3166-1 alpha-3 countries only."""
    for raw in codes:
        if raw.strip().upper() in ORGANISATIONS:
            raise SubscriptionError(f"concern {raw!r} is an organisation; concerns are countries (CHN, PRK, RUS, ...)")
    return _known_codes(codes, country_codes(), "concern", "an ISO 3166-1 alpha-3 country code such as CHN, PRK, RUS, IRN")


def check_types(types: Sequence[str]) -> list[str]:
    valid = event_types()
    out: list[str] = []
    for raw in types:
        value = raw.strip().lower().replace("-", "_")
        if value not in valid:
            raise SubscriptionError(f"unknown event type {raw!r}{_suggest(value, valid)}: use one of {', '.join(valid)}")
        if value not in out:
            out.append(value)
    return out


def check_kind(kind: str | None) -> str | None:
    if kind is None:
        return None
    if kind not in alert_kinds():
        raise SubscriptionError(f"unknown kind {kind!r}: use one of {', '.join(alert_kinds())}")
    return kind


def check_min_outlets(value: int | None) -> int | None:
    if value is None:
        return None
    if value < 1 or value > MAX_OUTLET_THRESHOLD:
        raise SubscriptionError(
            f"--min-outlets must be between 1 and {MAX_OUTLET_THRESHOLD} (alerts carry the attributes "
            f"outlets_ge_2 ... outlets_ge_{MAX_OUTLET_THRESHOLD}), got {value}"
        )
    return value


def check_push_endpoint(url: str | None, *, production: bool) -> str | None:
    """An absolute http(s) URL; production Pub/Sub pushes only to https."""
    if url is None:
        return None
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SubscriptionError(f"push endpoint {url!r} is not an absolute http(s) URL, e.g. https://example.org/alerts")
    if production and parsed.scheme != "https":
        raise SubscriptionError(f"Google Cloud Pub/Sub pushes only to https endpoints; got {url!r}")
    return url


def check_max_delivery_attempts(value: int) -> int:
    if not MIN_DELIVERY_ATTEMPTS <= value <= MAX_DELIVERY_ATTEMPTS:
        raise SubscriptionError(
            f"--max-delivery-attempts must be between {MIN_DELIVERY_ATTEMPTS} and {MAX_DELIVERY_ATTEMPTS} "
            f"(Pub/Sub's bounds), got {value}"
        )
    return value


# --- the subscription as wanted ------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionSpec:
    """One alert subscription as the user wants it (already checked)."""

    name: str
    filter: str = ""
    push_endpoint: str | None = None
    dead_letter: bool = False
    max_delivery_attempts: int = MIN_DELIVERY_ATTEMPTS
    ack_deadline_seconds: int = 60
    min_backoff_seconds: float = 10.0
    max_backoff_seconds: float = 600.0

    @property
    def ordering(self) -> bool:
        """Ordered delivery, except with a dead-letter policy: on an ordered subscription a
        message that keeps failing holds back every later alert of its event, and the
        emulator never dead-letters ordered subscriptions (measured). Alerts carry
        `revision`, so a consumer can put an event's alerts in order itself."""
        return not self.dead_letter


def spec_from_options(
    name: str,
    *,
    raw_filter: str | None = None,
    partners: Sequence[str] = (),
    concerns: Sequence[str] = (),
    types: Sequence[str] = (),
    min_outlets: int | None = None,
    kind: str | None = None,
    push_endpoint: str | None = None,
    dead_letter: bool = False,
    max_delivery_attempts: int = MIN_DELIVERY_ATTEMPTS,
    production: bool = False,
) -> SubscriptionSpec:
    """Check every option and build the filter; raises SubscriptionError / FilterSyntaxError.

    `raw_filter` is an expression written by hand; it replaces the selection options.
    """
    selection = bool(partners or concerns or types or min_outlets or kind)
    if raw_filter is not None and selection:
        raise SubscriptionError(
            "--filter replaces --partner/--concern/--type/--min-outlets/--kind; use one or the other"
        )
    if raw_filter is not None:
        text = raw_filter.strip()
    else:
        text = build_filter(
            partners=check_partners(partners),
            concerns=check_concerns(concerns),
            types=check_types(types),
            min_outlets=check_min_outlets(min_outlets),
            kind=check_kind(kind),
        )
    parse_filter(text)  # never send a filter production would reject
    return SubscriptionSpec(
        name=check_subscription_name(name),
        filter=text,
        push_endpoint=check_push_endpoint(push_endpoint, production=production),
        dead_letter=dead_letter,
        max_delivery_attempts=check_max_delivery_attempts(max_delivery_attempts),
    )


def dead_letter_topic_name(topology: Topology) -> str:
    return f"{topology.alerts_topic}-dead-letter"


def dead_letter_subscription_name(topology: Topology) -> str:
    return f"{topology.alerts_topic}-dead-letter-inspect"


def _duration(seconds: float) -> duration_pb2.Duration:
    whole = int(seconds)
    return duration_pb2.Duration(seconds=whole, nanos=int(round((seconds - whole) * 1e9)))


# --- Pub/Sub resources ---------------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionInfo:
    """A subscription as it exists on the alerts topic."""

    name: str
    filter: str
    push_endpoint: str | None
    dead_letter_topic: str | None
    max_delivery_attempts: int | None
    ordering: bool


@dataclass
class Clients:
    """The two clients every operation needs; close them when done."""

    publisher: pubsub_v1.PublisherClient = field(default_factory=pubsub_v1.PublisherClient)
    subscriber: pubsub_v1.SubscriberClient = field(default_factory=pubsub_v1.SubscriberClient)

    def close(self) -> None:
        self.subscriber.close()
        close_admin_client(self.publisher)

    def __enter__(self) -> "Clients":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _info(subscription: pubsub_v1.types.Subscription) -> SubscriptionInfo:
    dead_letter = subscription.dead_letter_policy
    return SubscriptionInfo(
        name=subscription.name.rsplit("/", 1)[-1],
        filter=subscription.filter,
        push_endpoint=subscription.push_config.push_endpoint or None,
        dead_letter_topic=dead_letter.dead_letter_topic or None,
        max_delivery_attempts=dead_letter.max_delivery_attempts or None,
        ordering=subscription.enable_message_ordering,
    )


def get_subscription(topology: Topology, name: str, clients: Clients) -> SubscriptionInfo | None:
    try:
        return _info(clients.subscriber.get_subscription(request={"subscription": topology.subscription_path(name)}))
    except gexc.NotFound:
        return None


def _ensure_dead_letter_resources(topology: Topology, clients: Clients) -> list[str]:
    created = []
    topic = topology.topic_path(dead_letter_topic_name(topology))
    if ensure_topic(clients.publisher, topic):
        created.append(f"created dead-letter topic {topic}")
    inspect = topology.subscription_path(dead_letter_subscription_name(topology))
    if ensure_subscription(clients.subscriber, inspect, topic):
        created.append(f"created subscription {inspect} (keeps dead letters; read them with `allywatch tail {inspect.rsplit('/', 1)[-1]}`)")
    return created


def _subscription_request(topology: Topology, spec: SubscriptionSpec) -> dict:
    request: dict = {
        "name": topology.subscription_path(spec.name),
        "topic": topology.alerts_topic_path,
        "filter": spec.filter,
        "ack_deadline_seconds": spec.ack_deadline_seconds,
        "enable_message_ordering": spec.ordering,
        "retry_policy": {
            "minimum_backoff": _duration(spec.min_backoff_seconds),
            "maximum_backoff": _duration(spec.max_backoff_seconds),
        },
    }
    if spec.push_endpoint:
        request["push_config"] = {"push_endpoint": spec.push_endpoint}
    if spec.dead_letter:
        request["dead_letter_policy"] = {
            "dead_letter_topic": topology.topic_path(dead_letter_topic_name(topology)),
            "max_delivery_attempts": spec.max_delivery_attempts,
        }
    return request


def create_alert_subscription(topology: Topology, spec: SubscriptionSpec, clients: Clients) -> list[str]:
    """Create (or bring up to date) the subscription; one line per resource created or changed.

    The alerts topic must exist (see `ensure_alerts_topic_with_schema`). Pub/Sub cannot
    change a subscription's filter, so an existing subscription with another filter is an
    error that says how to replace it; push endpoint and dead-letter policy are updated.
    """
    path = topology.subscription_path(spec.name)
    existing = get_subscription(topology, spec.name, clients)
    if existing is not None:
        _check_unchangeable(spec, existing)
    changes: list[str] = []
    if spec.dead_letter:
        changes += _ensure_dead_letter_resources(topology, clients)
    request = _subscription_request(topology, spec)
    if existing is None:
        clients.subscriber.create_subscription(request=request)
        changes.append(f"created subscription {path} with filter: {spec.filter or '(none: every alert)'}")
        if spec.push_endpoint:
            changes[-1] += f"; pushes to {spec.push_endpoint}"
        if spec.dead_letter:
            changes[-1] += (
                f"; after {spec.max_delivery_attempts} failed deliveries alerts go to "
                f"{dead_letter_topic_name(topology)}"
            )
        return changes
    if existing.push_endpoint != spec.push_endpoint:
        clients.subscriber.modify_push_config(
            request={"subscription": path, "push_config": {"push_endpoint": spec.push_endpoint or ""}}
        )
        changes.append(f"updated subscription {path}: " + (f"now pushes to {spec.push_endpoint}" if spec.push_endpoint else "now a pull subscription"))
    wanted_dead_letter = request.get("dead_letter_policy", {}).get("dead_letter_topic")
    wanted_attempts = request.get("dead_letter_policy", {}).get("max_delivery_attempts")
    if (existing.dead_letter_topic, existing.max_delivery_attempts) != (wanted_dead_letter, wanted_attempts):
        clients.subscriber.update_subscription(
            request={
                "subscription": {"name": path, "dead_letter_policy": request.get("dead_letter_policy", {})},
                "update_mask": field_mask_pb2.FieldMask(paths=["dead_letter_policy"]),
            }
        )
        changes.append(
            f"updated subscription {path}: "
            + (f"dead letters now go to {wanted_dead_letter}" if wanted_dead_letter else "no dead-letter policy any more")
        )
    return changes


def _check_unchangeable(spec: SubscriptionSpec, existing: SubscriptionInfo) -> None:
    """Pub/Sub cannot change a subscription's filter or ordering once it exists: say how to replace it."""
    way_out = f"Run `allywatch unsubscribe {spec.name}` and subscribe again, or choose another name."
    if existing.filter != spec.filter:
        raise SubscriptionError(
            f"subscription {spec.name!r} already exists with filter {existing.filter or '(none)'!r}; Pub/Sub cannot "
            f"change a filter. {way_out}"
        )
    if existing.ordering != spec.ordering:
        raise SubscriptionError(
            f"subscription {spec.name!r} already exists "
            + ("with ordered delivery, which a dead-letter policy needs off" if existing.ordering
               else "without ordered delivery (it was made with --dead-letter)")
            + f"; Pub/Sub cannot change ordering. {way_out}"
        )


def list_alert_subscriptions(topology: Topology, clients: Clients) -> list[SubscriptionInfo]:
    """Every subscription attached to the alerts topic, by name."""
    try:
        paths = list(clients.publisher.list_topic_subscriptions(request={"topic": topology.alerts_topic_path}))
    except gexc.NotFound:
        return []
    infos = []
    for path in sorted(paths):
        try:
            infos.append(_info(clients.subscriber.get_subscription(request={"subscription": path})))
        except gexc.NotFound:  # deleted meanwhile
            continue
    return infos


def delete_alert_subscription(topology: Topology, name: str, clients: Clients) -> bool:
    """Delete an analyst's subscription; False if there was none of that name.

    Refuses subscriptions the monitor itself needs and ones on other topics, so a typo
    cannot cut the pipeline's input or the console.
    """
    path = topology.subscription_path(name)
    if path == topology.console_subscription_path:
        raise SubscriptionError(
            f"{name!r} is the monitor's console subscription (`allywatch run` prints from it, `allywatch tail` "
            "reads it by default); it is not removed by unsubscribe"
        )
    try:
        existing = clients.subscriber.get_subscription(request={"subscription": path})
    except gexc.NotFound:
        return False
    if existing.topic != topology.alerts_topic_path:
        raise SubscriptionError(
            f"{name!r} is attached to {existing.topic}, not to the alerts topic {topology.alerts_topic_path}; "
            "unsubscribe only removes alert subscriptions"
        )
    try:
        clients.subscriber.delete_subscription(request={"subscription": path})
    except gexc.NotFound:
        return False
    return True
