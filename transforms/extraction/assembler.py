"""Turning matched actors, triggers and cues into `CooperationEvent`s: the decision logic.

Pure functions over plain token lists and spans, so every rule is unit-testable without a
spaCy pipeline. The logic follows the labelling guide:

- the cooperation must be the news of the item: only triggers in the title or the first
  summary sentence (the "lead") count;
- it needs two or more cooperating parties, found in the trigger's sentence first, then in
  the rest of the lead; actors named as the threat are `concerns`, actors only mentioned
  as context ("despite Yemen fears", "amid tensions") are not parties;
- the classic false alarms are rejected: negation before the trigger ("denies plan to
  buy ..."), third-party reactions and calls ("China condemns ...", "senators urge ..."),
  opinion/explainer pieces (questions, "Inside Story", "Why ..."), history pieces, and
  hypotheticals ("could", "may").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from transforms.model import CooperationEvent

SENTENCE_END = {".", "!", "?"}
CLAUSE_END = {",", ";", ":", "—", "–", "(", ")", "|", '"', "“", "”", "and", "but", "that", "which", "who"}
NEGATION_WINDOW = 6
CONCERN_PRE_WINDOW = 4
CONCERN_POST_WINDOW = 2
MODAL_WINDOW = 8
HOSTILITY_NEAR_CONCERN = 5
JOINT_PREP_WINDOW = 4
CANCEL_WINDOW = 4
REACTION_SUBJECT_WINDOW = 3
CONSEQUENCE_WINDOW = 4
DOMESTIC_SUBJECT_WINDOW = 3
VENUE_WINDOW = 3


@dataclass(frozen=True)
class Span:
    """A matched token span: an actor (label = code), a trigger (label = type) or a cue (label = kind)."""

    start: int
    end: int
    label: str
    rule: int = -1
    source: str = ""


@dataclass(frozen=True)
class TriggerRule:
    """What the assembler needs to know about one trigger rule of the lexicon."""

    rule_id: str
    type: str
    weight: float
    require: frozenset[str] = frozenset()
    implies: tuple[str, ...] = ()
    single_party: bool = False
    needs_joint: bool = False
    forbid: frozenset[str] = frozenset()
    if_negated: str = ""  # type when negated ("won't end the pact" keeps an agreement)


@dataclass
class DocView:
    """The token-level view of one item: `title` tokens come first, then the summary's."""

    lower: Sequence[str]
    text: Sequence[str]
    whitespace: Sequence[str]
    segment: Sequence[int]  # 0 = title, 1 = first summary sentence, 2 = ...
    language: str = "en"

    def span_text(self, start: int, end: int) -> str:
        return "".join(self.text[i] + self.whitespace[i] for i in range(start, end)).strip()


def segment_ids(text: Sequence[str], whitespace: Sequence[str]) -> list[int]:
    """Segment of each token: the title is 0; a newline-bearing token starts the summary
    (segment 1) and sentence-final punctuation followed by a capitalised word starts the next."""
    segments: list[int] = []
    current = 0
    seen_summary = False
    previous_final = False
    for i, token in enumerate(text):
        if token.isspace() and "\n" in token:
            if not seen_summary:
                seen_summary = True
                current = 1
            segments.append(current)
            previous_final = False
            continue
        if previous_final and seen_summary and token[:1].isupper():
            current += 1
        segments.append(current)
        previous_final = token in SENTENCE_END or (token.endswith(".") and len(token) > 3 and token[:-1].isalpha() and token[0].islower())
    return segments


FRAMED = object()  # build_candidate's verdict for a trigger framed as not-news


@dataclass
class Candidate:
    trigger: Span
    rule: TriggerRule
    partners: tuple[str, ...]
    concerns: tuple[str, ...]
    score: float
    event_type: str = ""
    notes: list[str] = field(default_factory=list)


def _segment_bounds(view: DocView, seg: int) -> tuple[int, int]:
    idx = [i for i, s in enumerate(view.segment) if s == seg]
    return (idx[0], idx[-1] + 1) if idx else (0, 0)


def _cues_in(cues: Sequence[Span], kind: str, start: int, end: int) -> list[Span]:
    return [c for c in cues if c.label == kind and c.start >= start and c.end <= end]


def is_negated(trigger: Span, cues: Sequence[Span], seg_start: int) -> bool:
    """A negation shortly before (or inside) the trigger, not itself cancelled ("not budging on")."""
    window_start = max(seg_start, trigger.start - NEGATION_WINDOW)
    negations = _cues_in(cues, "negation", window_start, trigger.end)
    if not negations:
        return False
    overrides = _cues_in(cues, "negation_override", window_start, trigger.end)
    last_negation = max(n.start for n in negations)
    return not any(o.start > last_negation and o.start <= last_negation + 2 for o in overrides)


def is_reaction(trigger: Span, cues: Sequence[Span], seg_start: int,
                actors: Sequence[Span] = (), partners: Sequence[str] = ()) -> bool:
    """Someone reacting to, calling for or investigating the cooperation, before the trigger.

    With `partners` given, a party's own statement is not a third-party reaction: when the
    nearest actor before the reaction word is one of them ("Payne lashes Beijing ..." over
    an Australian exercise with US ships), it does not count."""
    for cue in _cues_in(cues, "reaction", seg_start, trigger.start):
        subject = [a for a in actors if cue.start - REACTION_SUBJECT_WINDOW <= a.end <= cue.start]
        if partners and subject and subject[-1].label in partners:
            continue
        return True
    return False


def is_title_reaction(view: DocView, cues: Sequence[Span], actors: Sequence[Span], partners: Sequence[str]) -> bool:
    """The title frames the item as someone else's reaction, hypothesis or call ("China slams
    ...", "... could ..."), so a cooperation described in the summary is background."""
    t_start, t_end = _segment_bounds(view, 0)
    if any(_cues_in(cues, kind, t_start, t_end) for kind in ("modal", "consequence", "controversy", "called_on")):
        return True
    end_marker = Span(t_end, t_end, "")
    return is_reaction(end_marker, cues, t_start, actors, partners)


def is_consequence_or_controversy(trigger: Span, cues: Sequence[Span], seg_end: int, background: set[int],
                                  view: DocView) -> bool:
    """The cooperation is the subject of another story: "Troop withdrawal leaves Berlin
    cold", "F-35 arms deal row". Words in a background clause ("despite Yemen fears",
    "amid China concerns") do not count."""
    after = [c for c in cues if trigger.end <= c.start < min(seg_end, trigger.end + CONSEQUENCE_WINDOW)]
    return any(c.label in ("consequence", "controversy") and c.start not in background
               and "," not in view.lower[trigger.end:c.start] for c in after)


def is_domestic_politics(cues: Sequence[Span], seg_start: int) -> bool:
    """Senators, lawmakers or activists as the sentence's subject: domestic politics around
    a pact, which the guide calls `related`."""
    return bool(_cues_in(cues, "domestic", seg_start, seg_start + DOMESTIC_SUBJECT_WINDOW))


def is_hypothetical(trigger: Span, cues: Sequence[Span], seg_start: int) -> bool:
    return bool(_cues_in(cues, "modal", max(seg_start, trigger.start - MODAL_WINDOW), trigger.start))


def is_opinion_or_history(view: DocView, cues: Sequence[Span], opinion_starters: frozenset[str]) -> str | None:
    """Why the whole item is commentary, an explainer or history rather than news, or None."""
    t_start, t_end = _segment_bounds(view, 0)
    first = next((view.lower[i] for i in range(t_start, t_end) if not view.text[i].isspace()), "")
    if first in opinion_starters:
        return "opinion"
    for cue in cues:
        if cue.label in ("opinion", "history") and t_start <= cue.start and cue.end <= t_end:
            return cue.label
    return None


COORDINATION = {"and", ",", "-", "–", "/", "&", "'s", "’s", "of"}


def has_joint_evidence(view: DocView, actors: Sequence[Span], cues: Sequence[Span], seg: int,
                       partner_idx: Sequence[int]) -> bool:
    """Does the sentence say the parties act together? A jointness word ("joint", "with",
    "alongside", "counterpart") or two parties coordinated ("Israeli and German jets",
    "U.S.-South Korea drills"). Generic triggers such as "military drills" need it: one
    state's drills near another ("Iran targets replica US carrier during drills") are not
    cooperation."""
    start, end = _segment_bounds(view, seg)
    if _cues_in(cues, "joint", start, end):
        return True
    # "with", "alongside", "joins" only count when a party follows: "drills with three US
    # ships" is joint, "drills with 80,000 troops" is not.
    mention_starts = {actors[i].start for i in partner_idx}
    for cue in _cues_in(cues, "joint_prep", start, end):
        if cue.label == "joint_prep" and view.lower[cue.start] != "and":
            if any(k in mention_starts for k in range(cue.end, min(end, cue.end + JOINT_PREP_WINDOW))):
                return True
    mentions = sorted((actors[i] for i in partner_idx if view.segment[actors[i].start] == seg), key=lambda a: a.start)
    for left, right in zip(mentions, mentions[1:]):
        if left.label != right.label and all(view.lower[k] in COORDINATION for k in range(left.end, right.start)):
            return True
    return False


def is_hostile(view: DocView, cues: Sequence[Span], seg: int, context_tokens: set[int]) -> bool:
    """Conflict vocabulary in the title or the trigger's sentence: attacks, clashes, targets,
    de-escalation talks. The guide counts wars, threats and peace talks between adversaries
    as `none`. Conflict words inside a context clause ("amid tensions") describe the
    background, not the parties, and do not count."""
    t_start, t_end = _segment_bounds(view, 0)
    s_start, s_end = _segment_bounds(view, seg)
    found = _cues_in(cues, "hostility", t_start, t_end) + _cues_in(cues, "hostility", s_start, s_end)
    return any(c.start not in context_tokens for c in found)


def _context_tokens_any(view: DocView, cues: Sequence[Span]) -> set[int]:
    """Token positions inside any context clause (whatever it holds)."""
    out: set[int] = set()
    for cue in cues:
        if cue.label != "context":
            continue
        clause_end = cue.end
        while clause_end < len(view.lower) and view.segment[clause_end] == view.segment[cue.start] and view.lower[clause_end] not in CLAUSE_END:
            clause_end += 1
        out.update(range(cue.end, clause_end))
    return out


def context_token_set(view: DocView, cues: Sequence[Span], trigger: Span) -> set[int]:
    """Token positions inside context clauses (see `context_mentions`)."""
    out: set[int] = set()
    for cue in cues:
        if cue.label != "context":
            continue
        clause_end = cue.end
        while clause_end < len(view.lower) and view.segment[clause_end] == view.segment[cue.start] and view.lower[clause_end] not in CLAUSE_END:
            clause_end += 1
        if cue.start <= trigger.start < clause_end:
            continue
        out.update(range(cue.start, clause_end))
    return out


def concern_mentions(actors: Sequence[Span], cues: Sequence[Span], view: DocView) -> set[int]:
    """Indexes of actor mentions named as the threat: "to counter China", "China's pressure"."""
    out: set[int] = set()
    pre = [c for c in cues if c.label == "concern_pre"]
    post = [c for c in cues if c.label == "concern_post"]
    for i, actor in enumerate(actors):
        seg = view.segment[actor.start]
        for cue in pre:
            if view.segment[cue.start] == seg and 0 <= actor.start - cue.end < CONCERN_PRE_WINDOW:
                out.add(i)
        for cue in post:
            if view.segment[cue.start] == seg and 0 <= cue.start - actor.end < CONCERN_POST_WINDOW + 1:
                # "Chinese pressure", "North Korea's threat": allow a possessive in between.
                between = [view.lower[k] for k in range(actor.end, cue.start)]
                if all(w in ("'s", "’s", "'", "-", "military", "naval") for w in between):
                    out.add(i)
    return out


def context_mentions(actors: Sequence[Span], cues: Sequence[Span], view: DocView, trigger: Span) -> set[int]:
    """Indexes of actor mentions inside a context clause ("despite Yemen fears", "amid X-Y
    standoff") or a title's topic label ("Yemen: ..."), unless that clause holds the trigger."""
    out: set[int] = set()
    for cue in cues:
        if cue.label != "context":
            continue
        clause_end = cue.end
        while clause_end < len(view.lower) and view.segment[clause_end] == view.segment[cue.start] and view.lower[clause_end] not in CLAUSE_END:
            clause_end += 1
        if cue.start <= trigger.start < clause_end:
            continue
        for i, actor in enumerate(actors):
            if cue.end <= actor.start < clause_end:
                out.add(i)
    for cue in cues:
        if cue.label == "modifier":  # "UN-backed government", "Iran-aligned militias"
            for i, actor in enumerate(actors):
                if actor.end == cue.start:
                    out.add(i)
        if cue.label == "venue":  # "on the sidelines of the G7": a place, not a party
            for i, actor in enumerate(actors):
                if cue.end <= actor.start < cue.end + VENUE_WINDOW:
                    out.add(i)
    t_start, t_end = _segment_bounds(view, 0)
    colon = next((k for k in range(t_start, min(t_end, t_start + 5)) if view.text[k] == ":"), None)
    if colon is not None and not (t_start <= trigger.start < colon):
        for i, actor in enumerate(actors):
            if t_start <= actor.start < colon:
                out.add(i)
    return out


def _codes(actors: Sequence[Span], indexes: Sequence[int]) -> list[str]:
    seen: list[str] = []
    for i in indexes:
        if actors[i].label not in seen:
            seen.append(actors[i].label)
    return seen


def build_candidate(
    trigger: Span,
    rule: TriggerRule,
    view: DocView,
    actors: Sequence[Span],
    cues: Sequence[Span],
    concerns_idx: set[int],
) -> Candidate | None:
    """The event a trigger stands for, or None when the context rules it out."""
    seg = view.segment[trigger.start]
    seg_start, seg_end = _segment_bounds(view, seg)
    if rule.require and not any(view.lower[k] in rule.require for k in range(seg_start, seg_end)):
        return None
    if rule.forbid and any(view.lower[k] in rule.forbid for k in range(seg_start, seg_end)):
        return None
    if any(c.label == "non_military" and c.start < trigger.end and trigger.start < c.end for c in cues):
        return None  # "food security talks", "national security law"
    negated = is_negated(trigger, cues, seg_start)
    if negated and rule.if_negated:
        negated = False
        forced_type = rule.if_negated
    else:
        forced_type = ""
    if (negated or is_hypothetical(trigger, cues, seg_start)
            or is_consequence_or_controversy(trigger, cues, seg_end, _context_tokens_any(view, cues), view)
            or is_domestic_politics(cues, seg_start)
            or _cues_in(cues, "called_on", seg_start, seg_end)
            or is_reaction(trigger, cues, seg_start)):
        return FRAMED
    if seg > 0 and trigger.start in _context_tokens_any(view, cues):
        return None  # "..., after Trump confirmed plans to slash forces": background
    context_idx = context_mentions(actors, cues, view, trigger)
    by_seg: dict[int, list[int]] = {}
    for i, actor in enumerate(actors):
        by_seg.setdefault(view.segment[actor.start], []).append(i)
    lead_segs = [seg] + [s for s in (0, 1) if s != seg]
    partners: list[str] = []
    # Parties: the trigger's sentence first, then the rest of the lead; context mentions
    # only when the core mentions do not name two parties.
    for s in lead_segs:
        if len(partners) >= 2 and s != seg:
            break
        for code in _codes(actors, [i for i in by_seg.get(s, []) if i not in concerns_idx and i not in context_idx]):
            if code not in partners:
                partners.append(code)
    for code in rule.implies:
        if code not in partners and len(partners) < 2:
            partners.append(code)
    if len(partners) < 2 and not (rule.single_party and partners and seg == 0):
        return None
    if seg > 0 and is_title_reaction(view, cues, actors, partners):
        return None
    if rule.needs_joint and not rule.implies:
        core = [i for i in by_seg.get(seg, []) if i not in concerns_idx and i not in context_idx]
        if not has_joint_evidence(view, actors, cues, seg, core):
            return None
    concerns = [
        code for code in _codes(actors, [i for s in lead_segs for i in by_seg.get(s, []) if i in concerns_idx])
        if code not in partners
    ]
    # Hostility between the would-be partners rules the item out; conflict words next to
    # a named threat are about it ("scrambles to intercept Russian warships").
    exempt = context_token_set(view, cues, trigger)
    for i in concerns_idx:
        exempt.update(range(actors[i].start - HOSTILITY_NEAR_CONCERN, actors[i].end + HOSTILITY_NEAR_CONCERN))
    if is_hostile(view, cues, seg, exempt):
        return None
    score = rule.weight * (1.0 if seg == 0 else 0.85 if seg == 1 else 0.7)
    event_type = forced_type or rule.type
    if event_type not in ("setback", "agreement") and _cues_in(cues, "cancel", max(seg_start, trigger.start - CANCEL_WINDOW), trigger.start):
        # "cancels joint drills", "suspends arms sales": a cooperation called off is a setback.
        event_type = "setback"
    if event_type == "setback" and _cues_in(cues, "talks_frame", seg_start, trigger.start):
        # "Talks over / deadline for withdrawing troops": the news is the dialogue.
        event_type = "dialogue"
    return Candidate(trigger, rule, tuple(sorted(partners)), tuple(sorted(concerns)), score, event_type=event_type)


def assemble(
    view: DocView,
    actors: Sequence[Span],
    triggers: Sequence[Span],
    cues: Sequence[Span],
    rules: Sequence[TriggerRule],
    opinion_starters: frozenset[str],
    max_segment: int = 1,
) -> list[Candidate]:
    """The item's event candidates, best first (the extractor reports the best one)."""
    if not triggers or view.language != "en":
        return []
    if is_opinion_or_history(view, cues, opinion_starters):
        return []
    concerns_idx = concern_mentions(actors, cues, view)
    # A state named as the threat anywhere in the lead is the threat in every mention.
    lead_concern_codes = {actors[i].label for i in concerns_idx if view.segment[actors[i].start] <= 1}
    concerns_idx |= {i for i, a in enumerate(actors) if a.label in lead_concern_codes}
    # Title triggers first: a title that frames the cooperation as not-news vetoes the
    # summary's triggers, whatever their weights.
    ordered = sorted(
        (t for t in triggers if view.segment[t.start] <= max_segment),
        key=lambda t: (view.segment[t.start] > 0, -rules[t.rule].weight, t.start),
    )
    candidates: list[Candidate] = []
    title_framed = False
    for trigger in ordered:
        if title_framed and view.segment[trigger.start] > 0:
            continue
        candidate = build_candidate(trigger, rules[trigger.rule], view, actors, cues, concerns_idx)
        if candidate is FRAMED:
            # The title presents the cooperation as negated, hypothetical, contested or
            # reacted to: the summary's details of it are not news either.
            title_framed = title_framed or view.segment[trigger.start] == 0
            continue
        if candidate is not None:
            candidates.append(candidate)
    candidates.sort(key=lambda c: (-c.score, view.segment[c.trigger.start], c.trigger.start))
    return candidates


def to_event(candidate: Candidate, view: DocView, codes: dict, confidence: float) -> CooperationEvent:
    event_type = candidate.event_type or candidate.rule.type
    mapping = codes.get(event_type, {})
    return CooperationEvent(
        type=event_type,
        partners=candidate.partners,
        concerns=candidate.concerns,
        cameo=mapping.get("cameo", ""),
        plover=mapping.get("plover", ""),
        confidence=round(confidence, 3),
        evidence=view.span_text(candidate.trigger.start, candidate.trigger.end),
    )
