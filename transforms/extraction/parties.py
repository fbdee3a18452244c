"""Who cooperates, against whom: partners, concerns, background mentions, jointness."""

from __future__ import annotations

from typing import Sequence

from transforms.extraction.segments import CLAUSE_END, DocView, Span, context_clauses, cues_in, segment_bounds

CONCERN_PRE_WINDOW = 4
# A threat cue this close to a sentence's start opens a fronted clause ("To counter China,
# US and Japan ...", "Amid tensions with China, Manila ..."): its comma ends the threats.
FRONTED_CUE_START = 2
CONCERN_POST_WINDOW = 2
JOINT_PREP_WINDOW = 4
VENUE_WINDOW = 3
COMPANY_WINDOW = 2
CONCERN_STOP = {"at", "in", "on", "with", "alongside"}
COORDINATION = {"and", ",", "-", "–", "/", "&", "'s", "’s", "of"}


def has_joint_evidence(view: DocView, actors: Sequence[Span], cues: Sequence[Span], seg: int,
                       partner_idx: Sequence[int]) -> bool:
    """Does the sentence say the parties act together? A jointness word ("joint", "with",
    "alongside", "counterpart") or two parties coordinated ("Israeli and German jets",
    "U.S.-South Korea drills"). Generic triggers such as "military drills" need it: one
    state's drills near another ("Iran targets replica US carrier during drills") are not
    cooperation."""
    start, end = segment_bounds(view, seg)
    if cues_in(cues, "joint", start, end):
        return True
    # "with", "alongside", "joins" only count when a party follows: "drills with three US
    # ships" is joint, "drills with 80,000 troops" is not.
    mention_starts = {actors[i].start for i in partner_idx}
    for cue in cues_in(cues, "joint_prep", start, end):
        if cue.label == "joint_prep" and view.lower[cue.start] != "and":
            if any(k in mention_starts for k in range(cue.end, min(end, cue.end + JOINT_PREP_WINDOW))):
                return True
    mentions = sorted((actors[i] for i in partner_idx if view.segment[actors[i].start] == seg), key=lambda a: a.start)
    for left, right in zip(mentions, mentions[1:]):
        if left.label != right.label and all(view.lower[k] in COORDINATION for k in range(left.end, right.start)):
            return True
    return False


def concern_mentions(actors: Sequence[Span], cues: Sequence[Span], view: DocView) -> set[int]:
    """Indexes of actor mentions named as the threat: "to counter China", "China's pressure"."""
    out: set[int] = set()
    pre = [c for c in cues if c.label == "concern_pre"]
    opens = [c for c in cues if c.label == "context"]
    post = [c for c in cues if c.label == "concern_post"]
    seg_starts: dict[int, int] = {}
    for i, actor in enumerate(actors):
        seg = view.segment[actor.start]
        for cue in pre:
            if view.segment[cue.start] == seg and 0 <= actor.start - cue.end < CONCERN_PRE_WINDOW:
                # "to counter China and Russia" names two threats; "to counter China
                # despite Russia fears" names one: a background clause ends the window.
                # "deterrence at talks in Seoul", "combat brigade on NATO's flank",
                # "intelligence on Russia with Ukraine": not the threat.
                if seg not in seg_starts:
                    seg_starts[seg] = segment_bounds(view, seg)[0]
                fronted = cue.start - seg_starts[seg] <= FRONTED_CUE_START
                if not any(c.start in range(cue.end, actor.start) for c in opens) and not any(
                    (view.lower[k] in CLAUSE_END and view.lower[k] not in ("and", ","))
                    or view.lower[k] in CONCERN_STOP
                    or (fronted and view.lower[k] == ",")
                    for k in range(cue.end, actor.start)
                ):
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
    for cue_start, body_start, end in context_clauses(view, cues):
        if cue_start <= trigger.start < end:
            continue
        for i, actor in enumerate(actors):
            if body_start <= actor.start < end:
                out.add(i)
    for cue in cues:
        if cue.label == "company":  # "Brazilian aircraft maker", "US defense contractor": a firm, not a state
            for i, actor in enumerate(actors):
                gap = range(actor.end, cue.start)
                if 0 <= cue.start - actor.end <= COMPANY_WINDOW and not any(
                    view.lower[k] in CLAUSE_END or view.lower[k] in ("'s", "’s") for k in gap
                ):
                    out.add(i)
        if cue.label == "modifier":  # "UN-backed government", "Iran-aligned militias"
            for i, actor in enumerate(actors):
                if actor.end == cue.start:
                    out.add(i)
        if cue.label == "venue":  # "on the sidelines of the G7": a place, not a party
            for i, actor in enumerate(actors):
                if cue.end <= actor.start < cue.end + VENUE_WINDOW:
                    out.add(i)
    t_start, t_end = segment_bounds(view, 0)
    colon = next((k for k in range(t_start, min(t_end, t_start + 5)) if view.text[k] == ":"), None)
    if colon is not None and not (t_start <= trigger.start < colon):
        for i, actor in enumerate(actors):
            if t_start <= actor.start < colon:
                out.add(i)
    return out


def codes_of(actors: Sequence[Span], indexes: Sequence[int]) -> list[str]:
    seen: list[str] = []
    for i in indexes:
        if actors[i].label not in seen:
            seen.append(actors[i].label)
    return seen


