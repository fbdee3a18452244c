"""The actor resolver: names, demonyms, capitals, metonyms, abbreviations, and what is not an actor."""

from __future__ import annotations

import pytest

from transforms.extraction.extractor import build_pipeline, item_text
from transforms.extraction.gazetteer import load_aliases, resolve


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


def codes(nlp, text: str) -> list[str]:
    doc = nlp(item_text(text, ""))
    return [a.label for a in doc._.actors]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Japan", ["JPN"]),
        ("the Japanese navy", ["JPN"]),
        ("talks in Ottawa", ["CAN"]),
        ("the Pentagon said", ["USA"]),
        ("the Kremlin said", ["RUS"]),
        ("Japan's Self-Defense Forces", ["JPN", "JPN"]),
        ("the UK and the U.S.", ["GBR", "USA"]),
        ("DPRK missiles", ["PRK"]),
        ("N. Korea fires", ["PRK"]),
        ("South Korea and North Korea", ["KOR", "PRK"]),
        ("HMS Kent sailed", ["GBR"]),
        ("Canberra and Wellington", ["AUS", "NZL"]),
        ("NATO allies", ["NATO"]),
        ("the UN Security Council", ["UN"]),
        ("Downing Street", ["GBR"]),
        ("Malacañang said", ["PHL"]),
        ("Saudi Arabia", ["SAU"]),
        ("the UAE", ["ARE"]),
    ],
)
def test_resolves_names_demonyms_capitals_metonyms_and_abbreviations(nlp, text, expected):
    assert codes(nlp, text) == expected


def test_all_caps_headlines_and_title_case_acronyms(nlp):
    assert codes(nlp, "JAPAN AND AUSTRALIA SIGN PACT") == ["JPN", "AUS"]
    assert codes(nlp, "Nato and Asean") == ["NATO", "ASEAN"]


def test_hyphenated_abbreviation_pairs_are_two_actors(nlp):
    assert codes(nlp, "U.S.-South Korea drills") == ["USA", "KOR"]
    assert codes(nlp, "US-Iraq relations") == ["USA", "IRQ"]


@pytest.mark.parametrize(
    "text",
    ["patrols in the South China Sea", "the Washington Post reported", "New Mexico wildfire", "a turkey dinner", "us and them"],
)
def test_places_and_lower_case_words_are_not_actors(nlp, text):
    assert codes(nlp, text) == []


def test_longest_alias_wins(nlp):
    assert codes(nlp, "Republic of Korea Navy") == ["KOR"]
    assert codes(nlp, "Saudi Arabian jets") == ["SAU"]


def test_every_state_code_is_iso_alpha3_and_unique():
    from transforms.extraction.resources import read_jsonl

    states = list(read_jsonl("states.jsonl"))
    seen = [s["code"] for s in states]
    assert len(seen) == len(set(seen))
    assert all(len(code) == 3 and code.isupper() for code in seen)
    assert len(states) >= 193  # every UN member state, plus a few more


def test_no_alias_points_to_two_actors():
    index: dict[str, set[str]] = {}
    for alias in load_aliases():
        index.setdefault(alias.text, set()).add(alias.code)
    ambiguous = {text: sorted(c) for text, c in index.items() if len(c) > 1}
    assert ambiguous == {}


def test_resolve_helper():
    assert resolve("Kremlin") == "RUS"
    assert resolve("South China Sea") is None
    assert resolve("Atlantis") is None


def test_trained_pipeline_entities_can_only_veto_names(tmp_path):
    """A trained pipeline (stood in for by an entity ruler saved to disk) adds what it knows:
    a PERSON entity ("Chad Smith") vetoes the state name inside it; a GPE changes nothing,
    and events of the default stay the same."""
    import spacy

    from transforms.extraction import Extractor

    trained = spacy.blank("en")
    ruler = trained.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "PERSON", "pattern": "Chad Smith"}, {"label": "GPE", "pattern": "Japan"}])
    trained.to_disk(tmp_path / "toy_pipeline")
    with_model = Extractor(str(tmp_path / "toy_pipeline"))
    default = Extractor()
    text = "Chad Smith praises Japan"
    assert [a.label for a in default.analyse(text, "")._.actors] == ["TCD", "JPN"]
    assert [a.label for a in with_model.analyse(text, "")._.actors] == ["JPN"]
    title = "Japan and Australia sign defence pact"
    assert with_model.extract(title, "") == default.extract(title, "")
