"""The spaCy components of the extraction pipeline, registered with `@Language.factory`.

Each component does one job and writes it to a `Doc` extension, so a pipeline can be
inspected stage by stage:

- `allywatch_language` -> `doc._.language` (ISO 639-1; only "en" is coded);
- `allywatch_actors` -> `doc._.actors`: gazetteer matches (states, organisations, leaders);
- `allywatch_patterns` (used twice) -> `doc._.triggers` and `doc._.cues`: lexicon matches;
- `allywatch_events` -> `doc._.cooperation_events` (and `doc._.event_candidates`).
"""

from __future__ import annotations

from spacy.attrs import IS_ASCII, LOWER, ORTH, SPACY
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from transforms.extraction import assembler
from transforms.extraction.assembler import DocView, Span, TriggerRule
from transforms.extraction.calibration import Calibrator
from transforms.extraction.gazetteer import NON_ACTOR, load_aliases
from transforms.extraction.language import script_language, vote, word_languages
from transforms.extraction.patterns import FastMatcher, parse_pattern, words_of
from transforms.extraction.resources import event_codes, read_json

for _name in ("language", "actors", "triggers", "cues", "cooperation_events", "event_candidates"):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=None)


@Language.factory("allywatch_language", default_config={})
def make_language_guard(nlp: Language, name: str) -> "LanguageGuard":
    return LanguageGuard(nlp)


class LanguageGuard:
    """Sets `doc._.language` so later stages skip items they cannot read.

    Same decision as `language.detect_language` on the text, computed from token hashes
    (one `to_array` call) because building `doc.text` for every item is the slow part.
    """

    def __init__(self, nlp: Language):
        strings = nlp.vocab.strings
        self.table = {strings.add(word): langs for word, langs in word_languages().items()}

    def __call__(self, doc: Doc) -> Doc:
        if not len(doc):
            doc._.language = "en"
            return doc
        array = doc.to_array([LOWER, IS_ASCII])
        if not array[:, 1].all():
            script = script_language(doc.text)
            if script:
                doc._.language = script
                return doc
        doc._.language = vote(array[:, 0].tolist(), self.table)
        return doc


@Language.factory("allywatch_actors", default_config={"data_dir": None})
def make_actor_resolver(nlp: Language, name: str, data_dir: str | None) -> "ActorResolver":
    return ActorResolver(nlp, data_dir)


class ActorResolver:
    """Finds every mention of a state or organisation and resolves it to its code.

    Case-sensitive phrase matching (headline capitalisation is reliable, and "turkey",
    "chad" or "us" in lower case are not actors); the longest match wins, and non-actor
    phrases ("South China Sea") block the names inside them.
    """

    def __init__(self, nlp: Language, data_dir: str | None = None):
        self.matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        by_key: dict[str, list] = {}
        for alias in load_aliases(data_dir):
            by_key.setdefault(f"{alias.code}|{alias.source}", []).append(nlp.make_doc(alias.text))
        for key, docs in by_key.items():
            self.matcher.add(key, docs)
        self.vocab = nlp.vocab

    # With a trained pipeline, its PERSON entities may veto the few state names that are
    # also people's names ("Chad Smith", "Michael Jordan"). Nothing else changes, so a trained
    # pipeline can only remove such a name; the blank default has no entities at all.
    PERSON_LIKE = frozenset({"Chad", "Jordan", "Georgia", "Israel", "Kenya", "India", "Lebanon",
                             "Jamaica", "Cuba", "Niger", "Mali", "Oman", "Peru", "Togo", "Sudan"})

    def _vetoed(self, doc: Doc, ents, start: int, end: int) -> bool:
        if end - start != 1 or doc[start].text not in self.PERSON_LIKE:
            return False
        return any(ent.start <= start and end <= ent.end and ent.label_ == "PERSON" and len(ent) > 1
                   for ent in ents)

    def __call__(self, doc: Doc) -> Doc:
        matches = self.matcher(doc)
        # Only a trained pipeline sets entities; reading doc.ents walks every token.
        ents = doc.ents if doc.has_annotation("ENT_IOB") else ()
        # Longest first, then leftmost: a greedy non-overlapping cover.
        matches = sorted(matches, key=lambda m: (m[1] - m[2], m[1]))
        taken = bytearray(len(doc))
        spans: list[Span] = []
        for key_id, start, end in matches:
            if any(taken[start:end]):
                continue
            taken[start:end] = b"\x01" * (end - start)
            code, source = self.vocab.strings[key_id].split("|", 1)
            if code != NON_ACTOR and not (ents and self._vetoed(doc, ents, start, end)):
                spans.append(Span(start, end, code, source=source))
        spans.sort(key=lambda s: s.start)
        doc._.actors = tuple(spans)
        return doc


@Language.factory(
    "allywatch_patterns",
    default_config={"lexicon": "triggers.json", "target": "triggers", "label_field": "type", "skip_unless": ""},
)
def make_pattern_matcher(
    nlp: Language, name: str, lexicon: str, target: str, label_field: str, skip_unless: str
) -> "PatternMatcher":
    return PatternMatcher(nlp, lexicon, target, label_field, skip_unless)


BARRIERS = ("\n\n", "\n", ".", "!", "?")


class PatternMatcher:
    """Matches a lexicon (see patterns.py for its syntax) and stores spans in `doc._.<target>`.

    `skip_unless` names another extension that must be non-empty for this one to run: cues
    are only needed when a trigger was found, which keeps the common no-event item cheap.
    """

    def __init__(self, nlp: Language, lexicon: str, target: str, label_field: str, skip_unless: str = ""):
        data = read_json(lexicon)
        self.target = target
        self.skip_unless = skip_unless
        strings = nlp.vocab.strings
        self.matcher = FastMatcher(key=strings.add)
        self.labels: list[str] = []
        # A `masks` rule hides the other matches inside its span: "attack helicopters"
        # names a weapon, so its "attack" is neither hostility nor a reaction.
        self.masking: frozenset[int] = frozenset(i for i, r in enumerate(data["rules"]) if r.get("masks"))
        for index, rule in enumerate(data["rules"]):
            self.labels.append(rule[label_field])
            self.matcher.add(index, parse_pattern(rule["pattern"], data["classes"]))
        self.barriers = frozenset(strings.add(b) for b in BARRIERS)

    def __call__(self, doc: Doc) -> Doc:
        if self.skip_unless and not getattr(doc._, self.skip_unless):
            setattr(doc._, self.target, ())
            return doc
        if not len(doc):
            setattr(doc._, self.target, ())
            return doc
        array = doc.to_array([LOWER, ORTH])
        lower = array[:, 0].tolist()
        orth = array[:, 1].tolist()
        barrier = [h in self.barriers for h in orth]
        spans = [Span(start, end, self.labels[index], rule=index) for start, end, index in self.matcher(lower, orth, barrier)]
        if self.masking:
            spans = unmasked(spans, self.masking)
        setattr(doc._, self.target, tuple(spans))
        return doc


def unmasked(spans: list[Span], masking: frozenset[int]) -> list[Span]:
    """Drop the spans that start inside a masking span (other than the masking spans)."""
    masks = [(s.start, s.end) for s in spans if s.rule in masking]
    if not masks:
        return spans
    return [s for s in spans if s.rule in masking or not any(a <= s.start < b for a, b in masks)]


@Language.factory("allywatch_events", default_config={"max_events": 1, "max_segment": 1})
def make_event_assembler(nlp: Language, name: str, max_events: int, max_segment: int) -> "EventAssembler":
    return EventAssembler(max_events, max_segment)


class EventAssembler:
    """Decides, from actors, triggers and cues, which cooperation event (if any) an item reports."""

    def __init__(self, max_events: int = 1, max_segment: int = 1):
        lexicon = read_json("triggers.json")
        classes = lexicon["classes"]
        self.rules = [
            TriggerRule(
                rule_id=r["id"],
                type=r["type"],
                weight=float(r["weight"]),
                require=words_of([r["require"]], classes) if r.get("require") else frozenset(),
                implies=tuple(r.get("implies", ())),
                single_party=bool(r.get("single_party", False)),
                needs_joint=bool(r.get("needs_joint", False)),
                if_negated=r.get("if_negated", ""),
                forbid=words_of([r["forbid"]], classes) if r.get("forbid") else frozenset(),
            )
            for r in lexicon["rules"]
        ]
        cues = read_json("cues.json")
        self.opinion_starters = frozenset(w.lower() for w in cues["classes"]["OPINION_START"])
        self.codes = event_codes()
        self.calibrate = Calibrator.load()
        self.max_events = max_events
        self.max_segment = max_segment

    def view(self, doc: Doc) -> DocView:
        strings = doc.vocab.strings
        array = doc.to_array([ORTH, LOWER, SPACY]).tolist()
        text = [strings[row[0]] for row in array]
        whitespace = [" " if row[2] else "" for row in array]
        return DocView(
            lower=[strings[row[1]] for row in array],
            text=text,
            whitespace=whitespace,
            segment=assembler.segment_ids(text, whitespace),
            language=doc._.language or "en",
        )

    def __call__(self, doc: Doc) -> Doc:
        if not doc._.triggers or (doc._.language or "en") != "en":
            doc._.event_candidates = ()
            doc._.cooperation_events = []
            return doc
        view = self.view(doc)
        candidates = assembler.assemble(
            view, doc._.actors or (), doc._.triggers, doc._.cues or (), self.rules,
            self.opinion_starters, self.max_segment,
        )
        doc._.event_candidates = tuple(candidates)
        doc._.cooperation_events = [
            assembler.to_event(c, view, self.codes, self.calibrate(c.score)) for c in candidates[: self.max_events]
        ]
        return doc
