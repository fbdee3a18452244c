"""The decision modules on hand-made token lists (no spaCy): segments, framing, parties,
and the fast lexicon matcher agreeing with spaCy's Matcher."""

from __future__ import annotations

import spacy
from spacy.matcher import Matcher

from transforms.extraction.framing import is_hostile, is_negated, is_opinion_or_history, is_reaction
from transforms.extraction.parties import concern_mentions, context_mentions, has_joint_evidence
from transforms.extraction.patterns import FastMatcher, compile_pattern, parse_pattern
from transforms.extraction.segments import DocView, Span, background_tokens, segment_ids


def view(title: str, summary: str = "") -> DocView:
    words = title.split() + (["\n\n"] + summary.split() if summary else [])
    spaces = [" "] * len(words)
    return DocView([w.lower() for w in words], words, spaces, segment_ids(words, spaces))


def test_segments_title_then_sentences():
    v = view("US and Japan sign pact", "They signed it . Then they left .")
    assert v.segment[:5] == [0] * 5
    assert v.segment[5] == 1  # the break belongs to the summary
    assert v.segment[6:10] == [1, 1, 1, 1]
    assert v.segment[10:] == [2, 2, 2, 2]


def test_negation_and_its_override():
    trigger = Span(4, 6, "setback")
    assert is_negated(trigger, [Span(2, 3, "negation")], 0)
    # "not budging on reducing troops": the negation is cancelled
    assert not is_negated(trigger, [Span(2, 3, "negation"), Span(3, 4, "negation_override")], 0)
    assert not is_negated(Span(12, 13, "setback"), [Span(2, 3, "negation")], 0)  # too far


def test_reaction_before_the_trigger_unless_said_by_a_partner():
    actors = [Span(0, 1, "AUS"), Span(3, 4, "CHN")]
    cues = [Span(1, 2, "reaction")]
    trigger = Span(6, 7, "exercise")
    assert is_reaction(trigger, cues, 0)
    assert not is_reaction(trigger, cues, 0, actors, ["AUS", "USA"])
    assert is_reaction(trigger, cues, 0, actors, ["GBR", "USA"])


def test_opinion_starters_and_title_cues():
    assert is_opinion_or_history(view("Why is the US leaving Germany"), [], frozenset({"why"})) == "opinion"
    v = view("Troops come home", "A history of the base .")
    assert is_opinion_or_history(v, [Span(6, 7, "history")], frozenset()) is None  # not in the title


def test_hostility_counts_unless_in_a_background_clause():
    v = view("Greece and Turkey hold drills amid tensions")
    cues = [Span(6, 7, "hostility")]
    assert is_hostile(v, cues, 0, set())
    assert not is_hostile(v, cues, 0, background_tokens(v, [Span(5, 6, "context")], Span(4, 5, "exercise")))


def test_jointness_needs_a_party_after_with():
    v = view("Russia holds drills with 80,000 troops")
    actors = [Span(0, 1, "RUS")]
    assert not has_joint_evidence(v, actors, [Span(3, 4, "joint_prep")], 0, [0])
    v = view("Australian warship drills with three US ships")
    actors = [Span(0, 1, "AUS"), Span(5, 6, "USA")]
    assert has_joint_evidence(v, actors, [Span(3, 4, "joint_prep")], 0, [0, 1])
    v = view("Israeli and German jets train")
    assert has_joint_evidence(v, [Span(0, 1, "ISR"), Span(2, 3, "DEU")], [], 0, [0, 1])


def test_concerns_and_background_mentions():
    v = view("US and Japan sign pact to counter China despite Russia fears")
    actors = [Span(0, 1, "USA"), Span(2, 3, "JPN"), Span(7, 8, "CHN"), Span(9, 10, "RUS")]
    cues = [Span(6, 7, "concern_pre"), Span(8, 9, "context")]
    assert concern_mentions(actors, cues, v) == {2}
    assert context_mentions(actors, cues, v, Span(3, 5, "agreement")) == {3}


def test_title_topic_label_is_background():
    v = view("Yemen : UK to resume Saudi arms sales")
    actors = [Span(0, 1, "YEM"), Span(2, 3, "GBR"), Span(5, 6, "SAU")]
    assert context_mentions(actors, [], v, Span(6, 8, "arms_transfer")) == {0}


def test_fast_matcher_agrees_with_spacy_matcher():
    classes = {"SIGN": ["sign", "signs", "signed"], "DEF": ["defence", "defense", "military"],
               "PACT": ["pact", "deal", "agreement"], "CO": ["co-develop"]}
    patterns = ["@SIGN ~4 @DEF ~2 @PACT", "joint? drills", "@CO ~1 jets", "in support of ; show of support"]
    texts = [
        "Japan and Australia sign a new defence pact today",
        "They hold joint drills and more drills",
        "France and Italy co-develop jets",
        "a show of support and in support of Greece",
        "sign the deal. Defence pact later",
    ]
    nlp = spacy.blank("en")
    for pattern in patterns:
        spacy_matcher = Matcher(nlp.vocab)
        spacy_matcher.add("p", compile_pattern(pattern, classes))
        fast = FastMatcher()
        fast.add(0, parse_pattern(pattern, classes))
        for text in texts:
            doc = nlp(text)
            lower = [t.lower_ for t in doc]
            barrier = [t.text in (".", "!", "?") for t in doc]
            expected = {}
            for _, start, end in spacy_matcher(doc):
                if not any(barrier[start:end]):
                    expected[start] = min(end, expected.get(start, end))
            got = {start: end for start, end, _ in fast(lower, [t.text for t in doc], barrier)}
            assert got == expected, (pattern, text)


def test_a_masking_match_hides_the_cues_inside_it():
    from transforms.extraction.components import unmasked

    spans = [Span(3, 4, "hostility", rule=1), Span(3, 5, "weapon_name", rule=7), Span(3, 6, "concern_pre", rule=2),
             Span(6, 7, "hostility", rule=1)]
    kept = unmasked(spans, frozenset({7}))
    assert [(s.start, s.label) for s in kept] == [(3, "weapon_name"), (6, "hostility")]
    assert unmasked(spans, frozenset({99})) == spans
