"""The token-level view of an item and its segments: title, then summary sentences.

Shared by the decision modules (`framing`, `parties`, `assembler`): plain lists and spans,
no spaCy objects, so each rule can be tested on hand-made token lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

SENTENCE_END = {".", "!", "?"}
# A background clause ("despite Yemen fears", "amid X-Y standoff") ends at these.
CLAUSE_END = {",", ";", ":", "—", "–", "(", ")", "|", '"', "“", "”", "and", "but", "that", "which", "who"}


@dataclass(frozen=True)
class Span:
    """A matched token span: an actor (label = code), a trigger (label = type) or a cue (label = kind)."""

    start: int
    end: int
    label: str
    rule: int = -1
    source: str = ""


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


def segment_bounds(view: DocView, seg: int) -> tuple[int, int]:
    """[start, end) token range of one segment ((0, 0) when it is absent)."""
    idx = [i for i, s in enumerate(view.segment) if s == seg]
    return (idx[0], idx[-1] + 1) if idx else (0, 0)


def cues_in(cues: Sequence[Span], kind: str, start: int, end: int) -> list[Span]:
    """Cues of one kind lying inside [start, end)."""
    return [c for c in cues if c.label == kind and c.start >= start and c.end <= end]


def context_clauses(view: DocView, cues: Sequence[Span]) -> list[tuple[int, int, int]]:
    """(cue start, body start, end) of each background clause opened by a context cue."""
    clauses = []
    for cue in cues:
        if cue.label != "context":
            continue
        end = cue.end
        while end < len(view.lower) and view.segment[end] == view.segment[cue.start] and view.lower[end] not in CLAUSE_END:
            end += 1
        clauses.append((cue.start, cue.end, end))
    return clauses


def background_tokens(view: DocView, cues: Sequence[Span], trigger: Span | None = None) -> set[int]:
    """Token positions inside background clauses; with a trigger, clauses holding it are
    not background (the cue itself is included then, as in "amid tensions")."""
    out: set[int] = set()
    for cue_start, body_start, end in context_clauses(view, cues):
        if trigger is None:
            out.update(range(body_start, end))
        elif not (cue_start <= trigger.start < end):
            out.update(range(cue_start, end))
    return out
