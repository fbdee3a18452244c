"""Regression on the shared dev labels (read in place; skipped when ../shared/data is absent).

The hard negatives are dev items that earlier versions flagged as events (the eval's
error table): adversaries' drills, one state's activity near another, border clashes,
commentary. The quality floor is checked on the tune split the rules were developed on,
and a looser floor on all items.
"""

from __future__ import annotations

import json

import pytest

from pipelines.evaluation.extraction import load_labels, score, split_of
from transforms.extraction import Extractor

pytestmark = pytest.mark.shared_data

HARD_NEGATIVES = [
    "d6294b78a949",  # Iran targets replica US aircraft carrier during military drills
    "a13e86b10e8d",  # Iran fires missile at mock US aircraft carrier during exercise
    "11b25d7c8bbb",  # Russian missile drill triggers false alarm at US base in Germany
    "aec515e6939a",  # China says US spy plane entered no-fly zone (live-fire drills)
    "e7034496669a",  # Turkey accuses Greece ... both sides staging military drills
    "6da2166a2971",  # Turkey planned 2014 invasion of Greece (moving troops)
    "7cf808b6f6ee",  # China and India try to ease border tensions (military talks)
    "9ff8d2d751c1",  # India-China face-off; military officials meeting
    "8b184ab76e51",  # China and India arms race (expanding bases)
    "5520ffc6d4b1",  # S Korea on alert after threat from the North (security meeting)
    "77a78b3b522b",  # UN rejects US bid to extend Iran arms embargo (buying weapons)
    "eb2d42f868d7",  # Lynas gets a US Defence contract (a company, not a state)
    "9bc13ec6e5ff",  # RAF jets flying out of Cyprus strike ISIS in Iraq
    "7655ba318d4d",  # US Navy challenges Beijing's South China Sea claims
    "3a36ce82d974",  # military asked to join the police (quarantine)
    "f981859e1579",  # US Air Force plane crashes on a training mission
    "e3b65c19bf84",  # "Operation Warp Speed"
    "bc7dbac63726",  # China sends jets as US health chief visits Taiwan
    "46b3c9960b78",  # National Security Council met (bounties)
    "2b8237430bf0",  # Solon questions budget (China's military exercises; Tagalog quote)
]


@pytest.fixture(scope="module")
def dev(shared_data):
    path = shared_data / "labels" / "dev.jsonl"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture(scope="module")
def extractor():
    return Extractor()


def test_hard_negatives_from_the_error_table(dev, extractor):
    by_id = {}
    with dev.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            by_id[record["id"]] = record
    missing = [i for i in HARD_NEGATIVES if i not in by_id]
    assert not missing, f"dev labels changed: {missing}"
    flagged = {
        i: extractor.extract(by_id[i]["title"], by_id[i]["summary"] or "")
        for i in HARD_NEGATIVES
        if by_id[i]["gold"]["rel"] == "none"
    }
    assert {i: e for i, e in flagged.items() if e} == {}


def _scores(dev, extractor, split):
    records = load_labels(dev, split)
    predictions = [[e.to_dict() for e in events] for events in
                   extractor.extract_many((r["title"], r["summary"] or "") for r in records)]
    return score(records, predictions)


def test_quality_floor_on_tune_split(dev, extractor):
    scores = _scores(dev, extractor, "tune")
    assert scores.precision >= 0.95
    assert scores.recall >= 0.9
    assert scores.rate("type_ok") >= 0.9
    assert scores.rate("partners_ok") >= 0.9


def test_quality_floor_on_all_items(dev, extractor):
    scores = _scores(dev, extractor, "all")
    assert scores.f1 >= 0.85
    assert scores.rate("type_ok") >= 0.85
    assert scores.rate("partners_ok") >= 0.85


def test_split_keeps_each_real_event_on_one_side(dev):
    sides: dict[str, set[str]] = {}
    with dev.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if record["gold"].get("event"):
                sides.setdefault(record["gold"]["event"], set()).add(split_of(record))
    assert sides and all(len(s) == 1 for s in sides.values())
    assert {next(iter(s)) for s in sides.values()} == {"tune", "holdout"}
