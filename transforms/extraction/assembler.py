"""Turning matched actors, triggers and cues into `CooperationEvent`s: the decision logic.

Pure functions over plain token lists and spans (see `segments`), so every rule is
unit-testable without a spaCy pipeline. It follows the labelling guide:

- the cooperation must be the news of the item: only triggers in the title or the first
  summary sentence (the "lead") count, and a title framed as not-news (`framing`) vetoes
  the summary's triggers;
- it needs two or more cooperating parties, found in the trigger's sentence first, then in
  the rest of the lead; actors named as the threat are `concerns`, actors only mentioned
  in background clauses are not parties (`parties`);
- a cancelled cooperation is a `setback`, talks about a withdrawal are a `dialogue`, and a
  negated exit from a pact keeps an `agreement`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from transforms.extraction.framing import (
    is_consequence_or_controversy,
    is_domestic_politics,
    is_hostile,
    is_hypothetical,
    is_negated,
    is_opinion_or_history,
    is_reaction,
    is_title_reaction,
)
from transforms.extraction.parties import codes_of, concern_mentions, context_mentions, has_joint_evidence
from transforms.extraction.segments import (  # noqa: F401  (re-exported for callers)
    DocView,
    Span,
    background_tokens,
    cues_in,
    segment_bounds,
    segment_ids,
)
from transforms.model import CooperationEvent

HOSTILITY_NEAR_CONCERN = 5
CANCEL_WINDOW = 4


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


FRAMED = object()  # build_candidate's verdict for a trigger framed as not-news


@dataclass
class Candidate:
    trigger: Span
    rule: TriggerRule
    partners: tuple[str, ...]
    concerns: tuple[str, ...]
    score: float
    event_type: str = ""
    evidence_start: int = -1
    notes: list[str] = field(default_factory=list)


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
    seg_start, seg_end = segment_bounds(view, seg)
    if rule.require and not any(view.lower[k] in rule.require for k in range(seg_start, seg_end)):
        return None
    if rule.forbid and any(view.lower[k] in rule.forbid for k in range(seg_start, seg_end)):
        return None
    if any(c.label == "non_military" and c.start < trigger.end and trigger.start < c.end for c in cues):
        return None  # "food security talks", "national security law"
    negated = is_negated(trigger, cues, seg_start, view)
    evidence_start = trigger.start
    if negated and rule.if_negated:
        negated = False
        forced_type = rule.if_negated
        # The evidence must show the negation: "won't end US military access agreement".
        evidence_start = min(c.start for c in cues if c.label == "negation" and seg_start <= c.start <= trigger.start)
        if evidence_start > seg_start and view.lower[evidence_start] in ("n't", "n’t"):
            evidence_start -= 1  # "wo" + "n't"
    else:
        forced_type = ""
    if (negated or is_hypothetical(trigger, cues, seg_start)
            or is_consequence_or_controversy(trigger, cues, seg_end, background_tokens(view, cues), view)
            or is_domestic_politics(cues, seg_start)
            or cues_in(cues, "called_on", seg_start, seg_end)
            or is_reaction(trigger, cues, seg_start)):
        return FRAMED
    if seg > 0 and trigger.start in background_tokens(view, cues):
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
        for code in codes_of(actors, [i for i in by_seg.get(s, []) if i not in concerns_idx and i not in context_idx]):
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
        code for code in codes_of(actors, [i for s in lead_segs for i in by_seg.get(s, []) if i in concerns_idx])
        if code not in partners
    ]
    # Hostility between the would-be partners rules the item out; conflict words next to
    # a named threat are about it ("scrambles to intercept Russian warships").
    exempt = background_tokens(view, cues, trigger)
    for i in concerns_idx:
        exempt.update(range(actors[i].start - HOSTILITY_NEAR_CONCERN, actors[i].end + HOSTILITY_NEAR_CONCERN))
    # ... and aimed at a non-state armed group they are the joint action itself ("French
    # and Malian troops kill militants", "joint strikes on Houthi targets"), not hostility
    # between the parties.
    for cue in cues:
        if cue.label == "nonstate_target":
            exempt.update(range(cue.start - HOSTILITY_NEAR_CONCERN, cue.end + HOSTILITY_NEAR_CONCERN))
    if is_hostile(view, cues, seg, exempt):
        return None
    score = rule.weight * (1.0 if seg == 0 else 0.85 if seg == 1 else 0.7)
    event_type = forced_type or rule.type
    cancels = cues_in(cues, "cancel", max(seg_start, trigger.start - CANCEL_WINDOW), trigger.start)
    if event_type not in ("setback", "agreement") and cancels:
        # "cancels joint drills", "suspends arms sales": a cooperation called off is a setback.
        event_type = "setback"
        evidence_start = min(evidence_start, cancels[0].start)
    if event_type == "setback" and cues_in(cues, "talks_frame", seg_start, trigger.start):
        # "Talks over / deadline for withdrawing troops": the news is the dialogue.
        event_type = "dialogue"
    return Candidate(trigger, rule, tuple(sorted(partners)), tuple(sorted(concerns)), score,
                     event_type=event_type, evidence_start=evidence_start)


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
        evidence=view.span_text(
            min(candidate.trigger.start, candidate.evidence_start if candidate.evidence_start >= 0 else candidate.trigger.start),
            candidate.trigger.end,
        ),
    )
