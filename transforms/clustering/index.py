"""Event clusters of one state key, driven purely by event time (no Beam here).

`ClusterIndex` is the whole per-key state machine the Beam transform wraps: it takes items
in event-time order, decides for each whether it founds a cluster, joins one (as an
independent report, a syndicated copy, or an outlet's own re-post) or is a duplicate,
schedules the alerts that follow (a `new` alert when a cluster is born, a debounced
`update` when it gains an independent outlet) and expires clusters a horizon after their
last report. Because every decision is a function of the items' event times and ids only,
the same items give the same clusters, ids and alerts however they were batched, which is
what lets batch replay and the streaming pipeline agree.

Joining rule, per candidate cluster and per member of it (the best member decides):

* partners must relate: equal, one a subset of the other (a report that names only
  ['PHL'] against ['KOR', 'PHL']), or merely overlapping (two partners of RIMPAC);
* types must be equal or compatible (agreement/dialogue, exercise/operation, ...);
* the story similarity (see `text.blend`) must reach a requirement that depends on how
  strong the structural match is and grows with the time between the two reports: equal
  or nested partners and the same type need little text evidence within `near_window_s`,
  and more as the gap grows towards the horizon, so that "US to cut troops in Iraq" twice
  eleven days apart stays two events. Items in different languages skip the text test
  only when everything else matches exactly and they are close in time.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from transforms.clustering import text
from transforms.clustering.alerts import build_alert
from transforms.model import ItemEvent, stable_id

DAY = 86400.0

# Types that outlets (or the extractor) plausibly use for one and the same event.
COMPATIBLE_TYPES: frozenset[frozenset[str]] = frozenset(
    frozenset(pair)
    for pair in (
        ("agreement", "dialogue"),
        ("agreement", "arms_transfer"),
        ("agreement", "setback"),
        ("exercise", "operation"),
        ("operation", "military_aid"),
        ("arms_transfer", "military_aid"),
    )
)


# Copies share nearly all their words; the (costlier) shingle comparison runs only above this.
COPY_WORD_GATE = 0.5
# A summary this long that two outlets share verbatim is a copy even under other headlines.
MIN_BODY_CHARS = 120


@dataclass(frozen=True)
class ClusteringConfig:
    """Tunables of clustering; defaults were chosen on the dev labels (see the README)."""

    horizon_s: float = 7 * DAY
    """A cluster that has had no report for this long expires (and its state is freed)."""
    max_age_s: float = 7 * DAY
    """A cluster takes reports for at most this long after its first one, then expires: a
    run of similar events between the same partners (weekly aid packages) cannot chain
    into one endless cluster, and a cluster's size stays bounded."""
    near_window_s: float = 2 * DAY
    """Within this gap a same-type, same-partners report needs only `similarity_floor`."""
    debounce_s: float = 15 * 60
    """An `update` goes out this long after the first new outlet, gathering later ones."""
    new_delay_s: float = 0.0
    """A `new` alert goes out this long after the founding report (0: at once)."""
    similarity_floor: float = 0.12
    """Story similarity needed by a same-type, equal/nested-partners report nearby in time."""
    similarity_threshold: float = 0.28
    """Story similarity needed when partners only overlap or types are only compatible."""
    similarity_slope_per_day: float = 0.03
    """How much the requirement grows per day of gap beyond `near_window_s`."""
    syndication_threshold: float = 0.7
    """Estimated character-shingle Jaccard above which a report is a copy of another."""
    max_candidates: int = 32
    """At most this many clusters are scored from each lookup (bounds the per-item cost)."""
    lsh_bands: int = 16
    shingle_signature: int = 64

    def __post_init__(self) -> None:
        if self.debounce_s >= self.horizon_s or self.new_delay_s >= self.horizon_s:
            raise ValueError("debounce_s and new_delay_s must be shorter than horizon_s")
        if self.near_window_s > self.horizon_s:
            raise ValueError("near_window_s must not exceed horizon_s")
        if self.debounce_s >= self.max_age_s or self.new_delay_s >= self.max_age_s:
            raise ValueError("debounce_s and new_delay_s must be shorter than max_age_s")


@dataclass(slots=True)
class Member:
    """One report in a cluster: what alerts show, plus the compact text fingerprints."""

    item_id: str
    outlet: str
    link: str
    title: str
    summary: str
    published: str | None
    first_seen: str
    language: str | None
    ts: float
    type: str
    partners: tuple[str, ...]
    concerns: tuple[str, ...]
    confidence: float
    cameo: str
    plover: str
    evidence: str
    words: frozenset[int]
    shingles: bytes
    body: bytes
    syndicated_of: str | None = None
    repost_of: str | None = None

    @property
    def independent(self) -> bool:
        return self.syndicated_of is None

    def source(self) -> dict[str, Any]:
        return {
            "outlet": self.outlet,
            "link": self.link,
            "title": self.title,
            "published": self.published,
            "first_seen": self.first_seen,
            "syndicated_of": self.syndicated_of,
            "repost_of": self.repost_of,
        }


@dataclass(slots=True)
class Cluster:
    """One real-world event as reported so far."""

    seq: int
    event_id: str
    founded_at: float
    last_seen: float
    members: list[Member] = field(default_factory=list)
    revision: int = -1
    alerted_sources: int = 0
    due: float | None = None
    lsh_keys: set[int] = field(default_factory=set)
    partner_keys: set[tuple[str, frozenset[str]]] = field(default_factory=set)

    def outlets(self) -> list[str]:
        """Outlets with at least one independent (non-syndicated) report, in order of arrival."""
        seen: dict[str, None] = {}
        for m in self.members:
            if m.independent:
                seen.setdefault(m.outlet, None)
        return list(seen)

    def partners(self) -> tuple[str, ...]:
        return tuple(sorted({p for m in self.members for p in m.partners}))

    def concerns(self) -> tuple[str, ...]:
        return tuple(sorted({c for m in self.members for c in m.concerns}))

    def type(self) -> str:
        """The most reported type; ties go to the earliest report's type."""
        counts: dict[str, int] = {}
        for m in self.members:
            counts[m.type] = counts.get(m.type, 0) + 1
        best = max(counts.values())
        return next(m.type for m in self.members if counts[m.type] == best)

    def representative(self) -> Member:
        """The independent report with the highest extraction confidence, earliest on ties."""
        pool = [m for m in self.members if m.independent] or self.members
        return max(pool, key=lambda m: (m.confidence, -m.ts, -pool.index(m)))


@dataclass(frozen=True)
class Decision:
    """What happened to one item: for counters, logs and tests."""

    outcome: str  # founded | joined | syndicated | repost | duplicate
    event_id: str
    item_id: str
    similarity: float = 0.0


@dataclass(frozen=True)
class Assignment:
    """Where an item would go: a new cluster (cluster_seq None) or an existing one, and how."""

    outcome: str  # founded | joined | syndicated | repost | duplicate
    cluster_seq: int | None
    event_id: str | None
    similarity: float = 0.0
    syndicated_of: str | None = None
    repost_of: str | None = None


def partner_relation(a: Iterable[str], b: Iterable[str]) -> str:
    """equal | subset | superset | overlap | disjoint, of partner set a relative to b."""
    sa, sb = set(a), set(b)
    if sa == sb:
        return "equal"
    if sa < sb:
        return "subset"
    if sa > sb:
        return "superset"
    return "overlap" if sa & sb else "disjoint"


def types_relation(a: str, b: str) -> str:
    if a == b:
        return "same"
    return "compatible" if frozenset((a, b)) in COMPATIBLE_TYPES else "incompatible"


def member_from(item_event: ItemEvent, ts: float, config: ClusteringConfig) -> Member:
    item, event = item_event.item, item_event.event
    shingles = text.shingle_features(item.title, item.summary)
    summary = (item.summary or "").strip()
    body = text.shingle_features("", summary) if len(summary) >= MIN_BODY_CHARS else ()
    return Member(
        item_id=item.item_id,
        outlet=item.outlet,
        link=item.link,
        title=item.title,
        summary=item.summary,
        published=item.published,
        first_seen=item.first_seen,
        language=item.language,
        ts=ts,
        type=event.type,
        partners=tuple(sorted(set(event.partners))),
        concerns=tuple(sorted(set(event.concerns))),
        confidence=float(event.confidence),
        cameo=event.cameo,
        plover=event.plover,
        evidence=event.evidence,
        words=frozenset(text.word_features(item.title, item.summary)),
        shingles=text.signature_bytes(text.minhash(shingles, config.shingle_signature)),
        body=text.signature_bytes(text.minhash(body, config.shingle_signature)) if body else b"",
    )


def required_similarity(
    config: ClusteringConfig, gap_s: float, partners: str, types: str
) -> float | None:
    """The story similarity a report needs to join a member; None when it never may."""
    if gap_s > config.horizon_s or partners == "disjoint" or types == "incompatible":
        return None
    strong = partners in ("equal", "subset", "superset") and types == "same"
    base = config.similarity_floor if strong else config.similarity_threshold
    if partners == "overlap" and types == "compatible":
        base = config.similarity_threshold + (config.similarity_threshold - config.similarity_floor)
    late_days = max(0.0, gap_s - config.near_window_s) / DAY
    return base + config.similarity_slope_per_day * late_days


def event_id_for(member: Member) -> str:
    """A cluster's id, from its founding report: the same input always yields the same id."""
    return stable_id("event", member.item_id, member.type, *member.partners)


class ClusterIndex:
    """The live clusters of one key, with lookup structures that keep per-item cost flat.

    Candidate clusters for an item come from two lookups, each cut at `max_candidates`:
    clusters with a report of the same partner set, one partner fewer or one more (newest
    first), and clusters sharing a MinHash-LSH band of the story words (overlapping
    partners told in similar words; the rarest-word buckets first). So the work per item
    does not grow with the number of live clusters (see tests/benchmarks/bench_clustering.py).
    """

    def __init__(self, config: ClusteringConfig | None = None) -> None:
        self.config = config or ClusteringConfig()
        self.clusters: dict[int, Cluster] = {}
        self.clock: float = float("-inf")
        self._next_seq = 0
        self._by_partners: dict[tuple[str, frozenset[str]], dict[int, None]] = {}
        self._by_band: dict[int, dict[int, None]] = {}
        self._expiry: list[tuple[float, int]] = []
        self._due: list[tuple[float, int]] = []
        self._item_ids: dict[str, int] = {}

    # ----------------------------------------------------------------- event time
    def expires_at(self, cluster: Cluster) -> float:
        """A horizon after its last report, or `max_age_s` after its first, whichever is first."""
        return min(
            cluster.last_seen + self.config.horizon_s, cluster.founded_at + self.config.max_age_s
        )

    def next_wakeup(self) -> float | None:
        """The earliest event time at which something is due (an alert or an expiry)."""
        times = [t for t in (self.next_due(), self.next_expiry()) if t is not None]
        return min(times) if times else None

    def next_due(self) -> float | None:
        """When the next alert is due, if any."""
        self._drop_stale_heads()
        return self._due[0][0] if self._due else None

    def next_expiry(self) -> float | None:
        """When the next cluster expires, if any."""
        self._drop_stale_heads()
        return self._expiry[0][0] if self._expiry else None

    def advance(
        self, items: Iterable[tuple[float, ItemEvent]], until: float
    ) -> tuple[list[dict[str, Any]], list[Decision], list[Cluster]]:
        """Process items (any order; those after `until` are refused) and everything due by `until`.

        Items are taken in (time, item id, type, partners) order; an alert due at the same
        instant as an item goes out after it (so reports fetched together make one alert);
        a cluster expires once `until` reaches its last report plus the horizon.
        Returns (alerts, decisions, expired clusters).
        """
        ordered = sorted(items, key=_order_key)
        if ordered and ordered[-1][0] > until:
            raise ValueError("advance() got items after `until`")
        alerts: list[dict[str, Any]] = []
        decisions: list[Decision] = []
        expired: list[Cluster] = []
        for ts, item_event in ordered:
            self._emit_and_expire(min(ts, until), alerts, expired, inclusive=False)
            decisions.append(self.add(item_event, ts))
        self._emit_and_expire(until, alerts, expired, inclusive=True)
        self.clock = max(self.clock, until)
        return alerts, decisions, expired

    def _emit_and_expire(
        self, now: float, alerts: list[dict[str, Any]], expired: list[Cluster], inclusive: bool
    ) -> None:
        def reached(t: float) -> bool:
            return t <= now if inclusive else t < now

        while True:
            self._drop_stale_heads()
            next_due = self._due[0] if self._due else None
            next_exp = self._expiry[0] if self._expiry else None
            if next_due and reached(next_due[0]) and (not next_exp or next_due[0] <= next_exp[0]):
                heapq.heappop(self._due)
                alerts.append(self._alert(self.clusters[next_due[1]], next_due[0]))
            elif next_exp and reached(next_exp[0]):
                heapq.heappop(self._expiry)
                expired.append(self._remove(self.clusters[next_exp[1]]))
            else:
                return

    def _drop_stale_heads(self) -> None:
        while self._due and (
            self._due[0][1] not in self.clusters
            or self.clusters[self._due[0][1]].due != self._due[0][0]
        ):
            heapq.heappop(self._due)
        while self._expiry and (
            self._expiry[0][1] not in self.clusters
            or self.expires_at(self.clusters[self._expiry[0][1]]) != self._expiry[0][0]
        ):
            heapq.heappop(self._expiry)

    # ----------------------------------------------------------------- assignment
    def add(self, item_event: ItemEvent, ts: float) -> Decision:
        """Assign one item at event time `ts` and apply it (callers keep event-time order)."""
        member = member_from(item_event, ts, self.config)
        assignment = self._assign(member)
        if assignment.outcome == "duplicate":
            return Decision("duplicate", assignment.event_id or "", member.item_id, assignment.similarity)
        if assignment.cluster_seq is None:
            return self._found(member)
        member.syndicated_of = assignment.syndicated_of
        member.repost_of = assignment.repost_of
        return self._join(self.clusters[assignment.cluster_seq], member, assignment)

    def assign(self, item_event: ItemEvent, ts: float) -> Assignment:
        """What `add` would decide for this item, without changing anything."""
        return self._assign(member_from(item_event, ts, self.config))

    def _assign(self, member: Member) -> Assignment:
        seen_in = self._item_ids.get(_item_key(member))
        if seen_in is not None and seen_in in self.clusters:
            return Assignment("duplicate", seen_in, self.clusters[seen_in].event_id)
        cluster, similarity = self._best_cluster(member)
        if cluster is None:
            return Assignment("founded", None, None, 1.0)
        if any(m.item_id == member.item_id for m in cluster.members):
            # The same item reporting a second, compatible event: already counted here.
            return Assignment("duplicate", cluster.seq, cluster.event_id, similarity)
        outcome, syndicated_of, repost_of = "joined", None, None
        original = self._copied_from(cluster, member)
        if original is not None:
            syndicated_of = original.link or original.item_id
            outcome = "syndicated"
        same_outlet = next((m for m in cluster.members if m.outlet == member.outlet), None)
        if same_outlet is not None:
            repost_of = same_outlet.link or same_outlet.item_id
            outcome = "repost"
        return Assignment(outcome, cluster.seq, cluster.event_id, similarity, syndicated_of, repost_of)

    def _candidates(self, member: Member) -> Iterator[Cluster]:
        """Clusters worth scoring, at most `max_candidates` from each of two lookups.

        Partner lookup: clusters with a member of the same partner set, one partner fewer,
        or one partner more, newest first. Text lookup: clusters sharing a MinHash band of
        the story words, the smallest (rarest-word) buckets first, a few newest from each.
        """
        cap = self.config.max_candidates
        seen: set[int] = set()
        partner_lists = [
            self._by_partners[key]
            for key in _partner_lookup_keys(member.partners)
            if key in self._by_partners
        ]
        taken = 0
        for seqs in partner_lists:
            for seq in reversed(seqs):
                if taken >= cap:
                    break
                if seq not in seen:
                    seen.add(seq)
                    taken += 1
                    yield self.clusters[seq]
        band_lists = sorted(
            (self._by_band[band] for band in text_bands(member.words, self.config.lsh_bands)
             if band in self._by_band),
            key=len,
        )
        taken = 0
        for position, seqs in enumerate(band_lists):
            share = max(2, (cap - taken) // (len(band_lists) - position))
            for seq in itertools.islice(reversed(seqs), share):
                if taken >= cap:
                    return
                if seq not in seen:
                    seen.add(seq)
                    taken += 1
                    yield self.clusters[seq]

    def _best_cluster(self, member: Member) -> tuple[Cluster | None, float]:
        best: tuple[float, float, int] | None = None
        best_cluster = None
        for cluster in self._candidates(member):
            if member.ts > self.expires_at(cluster):
                continue  # still held until the next expiry sweep, but closed
            margin, similarity = self._match(cluster, member)
            if margin is None:
                continue
            # Highest margin wins; ties go to the older cluster (lower seq): deterministic.
            rank = (margin, similarity, -cluster.seq)
            if best is None or rank > best:
                best, best_cluster = rank, cluster
        return best_cluster, (best[1] if best else 0.0)

    def _match(self, cluster: Cluster, member: Member) -> tuple[float | None, float]:
        """(margin by which the best member of `cluster` admits `member`, its similarity)."""
        best_margin: float | None = None
        best_similarity = 0.0
        for other in cluster.members:
            gap = abs(member.ts - other.ts)
            partners = partner_relation(member.partners, other.partners)
            if partners == "disjoint":
                partners = partner_relation(member.partners, cluster.partners())
            needed = required_similarity(
                self.config, gap, partners, types_relation(member.type, other.type)
            )
            if needed is None:
                continue
            if _languages_differ(member, other):
                strict = partners == "equal" and member.type == other.type
                if strict and gap <= self.config.near_window_s and (best_margin is None or best_margin < 0):
                    best_margin, best_similarity = 0.0, 0.0
                continue
            similarity = text.blend(member.words, other.words)
            if self._is_copy(member, other, similarity):
                return 1.0 + similarity, similarity
            margin = similarity - needed
            if margin >= 0 and (best_margin is None or margin > best_margin):
                best_margin, best_similarity = margin, similarity
        return best_margin, best_similarity

    def _found(self, member: Member) -> Decision:
        seq = self._next_seq
        self._next_seq += 1
        cluster = Cluster(
            seq=seq, event_id=event_id_for(member), founded_at=member.ts, last_seen=member.ts
        )
        self.clusters[seq] = cluster
        self._attach(cluster, member)
        self._schedule(cluster, member.ts + self.config.new_delay_s)
        return Decision("founded", cluster.event_id, member.item_id, 1.0)

    def _join(self, cluster: Cluster, member: Member, assignment: Assignment) -> Decision:
        before = len(cluster.outlets())
        self._attach(cluster, member)
        if len(cluster.outlets()) > before and cluster.revision >= 0 and cluster.due is None:
            self._schedule(cluster, max(member.ts, self.clock) + self.config.debounce_s)
        return Decision(assignment.outcome, cluster.event_id, member.item_id, assignment.similarity)

    def _copied_from(self, cluster: Cluster, member: Member) -> Member | None:
        """The earlier independent report from another outlet whose text this one copies."""
        for other in cluster.members:
            if other.independent and other.outlet != member.outlet:
                if self._is_copy(member, other, text.blend(member.words, other.words)):
                    return other
        return None

    def _is_copy(self, member: Member, other: Member, word_similarity: float) -> bool:
        """Same text (headline and summary, or a long summary under another headline)?

        Wire copies often carry the outlet's own headline over the agency's text, so a long
        summary alone may decide. Checked on shingles only when the words already nearly
        coincide (a cheap gate).
        """
        if word_similarity < COPY_WORD_GATE:
            return False
        threshold = self.config.syndication_threshold
        if text.signature_similarity(member.shingles, other.shingles) >= threshold:
            return True
        return bool(member.body and other.body) and (
            text.signature_similarity(member.body, other.body) >= threshold
        )

    def _attach(self, cluster: Cluster, member: Member) -> None:
        cluster.members.append(member)
        cluster.last_seen = max(cluster.last_seen, member.ts)
        self._item_ids[_item_key(member)] = cluster.seq
        for key in _partner_index_keys(member.partners):
            if key not in cluster.partner_keys:
                cluster.partner_keys.add(key)
                self._by_partners.setdefault(key, {})[cluster.seq] = None
        for band in text_bands(member.words, self.config.lsh_bands):
            if band not in cluster.lsh_keys:
                cluster.lsh_keys.add(band)
                self._by_band.setdefault(band, {})[cluster.seq] = None
        heapq.heappush(self._expiry, (self.expires_at(cluster), cluster.seq))

    def _schedule(self, cluster: Cluster, due: float) -> None:
        cluster.due = due
        heapq.heappush(self._due, (due, cluster.seq))

    def _remove(self, cluster: Cluster) -> Cluster:
        del self.clusters[cluster.seq]
        for key in cluster.partner_keys:
            bucket = self._by_partners[key]
            bucket.pop(cluster.seq, None)
            if not bucket:
                del self._by_partners[key]
        for band in cluster.lsh_keys:
            bucket = self._by_band[band]
            bucket.pop(cluster.seq, None)
            if not bucket:
                del self._by_band[band]
        for m in cluster.members:
            if self._item_ids.get(_item_key(m)) == cluster.seq:
                del self._item_ids[_item_key(m)]
        return cluster

    # ----------------------------------------------------------------- alerts
    def _alert(self, cluster: Cluster, due: float) -> dict[str, Any]:
        cluster.due = None
        cluster.revision += 1
        alert = build_alert(cluster, alerted_at=max(due, self.clock))
        cluster.alerted_sources = len(cluster.members)
        return alert

    def __len__(self) -> int:
        return len(self.clusters)


def text_bands(words: frozenset[int], bands: int) -> tuple[int, ...]:
    """LSH keys of a report's story words: one MinHash value per band (rows of one)."""
    return tuple((i << 32) | v for i, v in enumerate(text.minhash(sorted(words), bands)))


def _partner_index_keys(partners: tuple[str, ...]) -> list[tuple[str, frozenset[str]]]:
    """Keys a cluster is found under, per member: its partner set ("="), and each of its
    one-smaller subsets ("-")."""
    full = frozenset(partners)
    keys = [("=", full)]
    if len(full) > 1:
        keys.extend(("-", full - {p}) for p in sorted(full))
    return keys


def _partner_lookup_keys(partners: tuple[str, ...]) -> list[tuple[str, frozenset[str]]]:
    """Keys an item looks up: clusters with its partner set, with one partner fewer, or
    with one partner more (their one-smaller subset is its set)."""
    full = frozenset(partners)
    keys = [("=", full)]
    if len(full) > 1:
        keys.extend(("=", full - {p}) for p in sorted(full))
    keys.append(("-", full))
    return keys


def _languages_differ(a: Member, b: Member) -> bool:
    return bool(a.language and b.language and a.language.split("-")[0] != b.language.split("-")[0])


def _item_key(member: Member) -> str:
    """Identity of one ItemEvent: a redelivered copy of it is a duplicate."""
    return "\x1f".join((member.item_id, member.type, *member.partners))


def _order_key(entry: tuple[float, ItemEvent]) -> tuple:
    ts, ie = entry
    return (ts, ie.item.item_id, ie.event.type, tuple(ie.event.partners), ie.item.outlet)
