"""Is the cooperation the news? The classic false alarms, one predicate each.

Negation ("denies plan to ..."), third-party reactions and calls ("China condemns ...",
"... urged to withdraw"), hypotheticals ("could"), controversies and consequences
("... arms deal row", "withdrawal leaves Berlin cold"), domestic politics ("Senators ..."),
opinion and history pieces (judged on the title), and hostility between the would-be
partners (attacks, clashes, border standoffs, peace talks: `none` in the guide).
"""

from __future__ import annotations

from typing import Sequence

from transforms.extraction.segments import DocView, Span, cues_in, segment_bounds

NEGATION_WINDOW = 8
MODAL_WINDOW = 8
REACTION_SUBJECT_WINDOW = 3
CONSEQUENCE_WINDOW = 4
DOMESTIC_SUBJECT_WINDOW = 3


def is_negated(trigger: Span, cues: Sequence[Span], seg_start: int, view: DocView | None = None) -> bool:
    """A negation shortly before (or inside) the trigger, not itself cancelled ("not budging
    on"), and not cut off from it by a clause break ("..., not ..." of another clause)."""
    window_start = max(seg_start, trigger.start - NEGATION_WINDOW)
    negations = _cues_in_clause(cues, "negation", window_start, trigger, view)
    if not negations:
        return False
    overrides = cues_in(cues, "negation_override", window_start, trigger.end)
    last_negation = max(n.start for n in negations)
    return not any(o.start > last_negation and o.start <= last_negation + 2 for o in overrides)


def _cues_in_clause(cues: Sequence[Span], kind: str, start: int, trigger: Span, view: DocView | None) -> list[Span]:
    found = cues_in(cues, kind, start, trigger.end)
    if view is None:
        return found
    return [c for c in found if not any(view.lower[k] in (",", ";", ":", "but", "while") for k in range(c.end, trigger.start))]


def is_reaction(trigger: Span, cues: Sequence[Span], seg_start: int,
                actors: Sequence[Span] = (), partners: Sequence[str] = ()) -> bool:
    """Someone reacting to, calling for or investigating the cooperation, before the trigger.

    With `partners` given, a party's own statement is not a third-party reaction: when the
    nearest actor before the reaction word is one of them ("Payne lashes Beijing ..." over
    an Australian exercise with US ships), it does not count."""
    for cue in cues_in(cues, "reaction", seg_start, trigger.start):
        subject = [a for a in actors if cue.start - REACTION_SUBJECT_WINDOW <= a.end <= cue.start]
        if partners and subject and subject[-1].label in partners:
            continue
        return True
    return False


def is_title_reaction(view: DocView, cues: Sequence[Span], actors: Sequence[Span], partners: Sequence[str]) -> bool:
    """The title frames the item as someone else's reaction, hypothesis or call ("China slams
    ...", "... could ..."), so a cooperation described in the summary is background."""
    t_start, t_end = segment_bounds(view, 0)
    if any(cues_in(cues, kind, t_start, t_end) for kind in ("modal", "consequence", "controversy", "called_on")):
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
    return bool(cues_in(cues, "domestic", seg_start, seg_start + DOMESTIC_SUBJECT_WINDOW))


def is_hypothetical(trigger: Span, cues: Sequence[Span], seg_start: int) -> bool:
    return bool(cues_in(cues, "modal", max(seg_start, trigger.start - MODAL_WINDOW), trigger.start))


def is_opinion_or_history(view: DocView, cues: Sequence[Span], opinion_starters: frozenset[str]) -> str | None:
    """Why the whole item is commentary, an explainer or history rather than news, or None."""
    t_start, t_end = segment_bounds(view, 0)
    first = next((view.lower[i] for i in range(t_start, t_end) if not view.text[i].isspace()), "")
    if first in opinion_starters:
        return "opinion"
    for cue in cues:
        if cue.label in ("opinion", "history") and t_start <= cue.start and cue.end <= t_end:
            return cue.label
    return None


def is_hostile(view: DocView, cues: Sequence[Span], seg: int, context_tokens: set[int]) -> bool:
    """Conflict vocabulary in the title or the trigger's sentence: attacks, clashes, targets,
    de-escalation talks. The guide counts wars, threats and peace talks between adversaries
    as `none`. Conflict words inside a context clause ("amid tensions") describe the
    background, not the parties, and do not count."""
    t_start, t_end = segment_bounds(view, 0)
    s_start, s_end = segment_bounds(view, seg)
    found = cues_in(cues, "hostility", t_start, t_end) + cues_in(cues, "hostility", s_start, s_end)
    return any(c.start not in context_tokens for c in found)


