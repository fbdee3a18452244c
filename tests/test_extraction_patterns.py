"""The lexicon pattern language and the shipped lexicons."""

from __future__ import annotations

import json

import pytest
import spacy
from spacy.matcher import Matcher

from transforms.extraction.patterns import PatternError, compile_pattern
from transforms.extraction.resources import data_path

CLASSES = {"SIGN": ["sign", "signs"], "PACT": ["pact", "deal"], "CO": ["co-develop"]}


def matches(pattern: str, text: str) -> list[str]:
    nlp = spacy.blank("en")
    matcher = Matcher(nlp.vocab)
    matcher.add("p", compile_pattern(pattern, CLASSES))
    doc = nlp(text)
    return [doc[s:e].text for _, s, e in matcher(doc)]


def test_classes_gaps_and_alternatives():
    assert matches("@SIGN ~2 defense|defence @PACT", "They sign a defence pact") == ["sign a defence pact"]
    assert matches("@SIGN ~2 defense|defence @PACT", "They sign a trade pact") == []


def test_optional_and_exact_case():
    assert "Exercise Rimpac" in matches("=Exercise =Rimpac|=RIMPAC", "the Exercise Rimpac starts")
    assert matches("=Exercise =Rimpac", "the exercise rimpac starts") == []
    assert matches("joint? drills", "joint drills") == ["joint drills", "drills"]


def test_hyphenated_words_match_token_by_token():
    assert matches("@CO ~1 jets", "they co-develop jets") == ["co-develop jets"]


def test_classes_and_words_in_one_element():
    assert matches("@SIGN|inks ~1 @PACT", "Japan inks deal") == ["inks deal"]


def test_whole_pattern_alternatives():
    assert matches("in support of ; show of support", "a show of support") == ["show of support"]


def test_errors_name_the_problem():
    with pytest.raises(PatternError, match="unknown class"):
        compile_pattern("@NOPE deal", CLASSES)
    with pytest.raises(PatternError, match="mixes"):
        compile_pattern("=A|b", CLASSES)


@pytest.mark.parametrize("name", ["triggers.json", "cues.json"])
def test_shipped_lexicons_compile_and_have_unique_ids(name):
    data = json.loads(data_path(name).read_text(encoding="utf-8"))
    ids = [r["id"] for r in data["rules"]]
    assert len(ids) == len(set(ids))
    for rule in data["rules"]:
        assert compile_pattern(rule["pattern"], data["classes"]), rule["id"]
