"""Pure clustering logic: joining, keeping apart, syndication, re-posts, expiry, alerts, ids."""

from __future__ import annotations

import random
from datetime import datetime

import pytest

from tests.test_clustering_support import (
    DAY,
    EXERCISE,
    HOUR,
    PACT,
    PACT_PARAPHRASE,
    PACT_THIRD,
    T0,
    UNRELATED,
    WIRE,
    item_event,
    summary_of,
)
from transforms.clustering import text
from transforms.clustering.alerts import alert_id_for
from transforms.clustering.beam import cluster_offline
from transforms.clustering.index import (
    ClusteringConfig,
    ClusterIndex,
    partner_relation,
    required_similarity,
    types_relation,
)
from transforms.clustering.keys import anchor_partner

INF = float("inf")


def run(items, config=None, until=INF):
    index = ClusterIndex(config or ClusteringConfig())
    alerts, decisions, expired = index.advance(items, until)
    return index, alerts, decisions, expired


# ---------------------------------------------------------------- text and keys
def test_paraphrase_scores_above_unrelated_story():
    a = text.word_features(*PACT)
    assert text.blend(a, text.word_features(*PACT_PARAPHRASE)) > 0.3
    assert text.blend(a, text.word_features(*UNRELATED)) < 0.05


def test_minhash_is_an_unbiased_estimator_of_jaccard():
    # 100 pairs of random 250-element sets overlapping in 200 (J = 2/3): with 64 hashes
    # the estimate's spread must be close to the binomial sqrt(J(1-J)/64) = 0.059.
    rng = random.Random(5)
    errors = []
    for _ in range(100):
        base = [rng.getrandbits(32) for _ in range(300)]
        a, b = base[:250], base[50:]
        estimate = text.signature_similarity(text.minhash(a, 64), text.minhash(b, 64))
        errors.append(estimate - 2 / 3)
    mean = sum(errors) / len(errors)
    spread = (sum(e * e for e in errors) / len(errors)) ** 0.5
    assert abs(mean) < 0.03
    assert spread < 0.09


def test_minhash_estimates_jaccard_of_near_copies():
    a = text.shingle_features(*WIRE)
    b = text.shingle_features(WIRE[0], WIRE[1] + " More follows.")
    exact = text.jaccard(a, b)
    estimate = text.signature_similarity(text.minhash(a, 64), text.minhash(b, 64))
    assert exact > 0.9
    assert abs(estimate - exact) < 0.15
    other = text.minhash(text.shingle_features(*PACT), 64)
    assert text.signature_similarity(text.minhash(a, 64), other) < 0.2


def test_anchor_partner_prefers_the_prominent_partner_and_ignores_type():
    assert anchor_partner(["RUS", "USA"]) == anchor_partner(["USA"]) == "USA"
    assert anchor_partner(["AFG", "IRQ", "USA"]) == anchor_partner(["IRQ", "USA"])
    assert anchor_partner(["PHL", "SGP"]) == "PHL"
    assert anchor_partner([]) is None
    assert anchor_partner(["", " "]) is None


def test_relations_and_requirements():
    assert partner_relation(["PHL"], ["KOR", "PHL"]) == "subset"
    assert partner_relation(["KOR", "PHL"], ["PHL"]) == "superset"
    assert partner_relation(["PHL", "USA"], ["SGP", "USA"]) == "overlap"
    assert partner_relation(["PHL"], ["USA"]) == "disjoint"
    assert types_relation("exercise", "operation") == "compatible"
    assert types_relation("dialogue", "setback") == "incompatible"
    config = ClusteringConfig()
    near = required_similarity(config, HOUR, "equal", "same")
    later = required_similarity(config, 5 * DAY, "equal", "same")
    loose = required_similarity(config, HOUR, "overlap", "same")
    assert near is not None and later is not None and loose is not None
    assert near < later and near < loose
    assert required_similarity(config, 8 * DAY, "equal", "same") is None
    assert required_similarity(config, HOUR, "equal", "incompatible") is None


def test_config_rejects_debounce_longer_than_horizon():
    with pytest.raises(ValueError):
        ClusteringConfig(horizon_s=60, debounce_s=120)


# ---------------------------------------------------------------- clustering
def test_three_outlets_make_one_new_alert_and_one_debounced_update():
    items = [
        (T0, item_event("a1", "alpha", PACT, T0)),
        (T0 + HOUR, item_event("b1", "beta", PACT_PARAPHRASE, T0 + HOUR)),
        (T0 + HOUR + 300, item_event("c1", "gamma", PACT_THIRD, T0 + HOUR + 300)),
    ]
    index, alerts, decisions, _ = run(items, ClusteringConfig(debounce_s=900))
    assert [d.outcome for d in decisions] == ["founded", "joined", "joined"]
    assert [(a["kind"], a["revision"], a["outlet_count"]) for a in alerts] == [
        ("new", 0, 1),
        ("update", 1, 3),
    ]
    update = alerts[1]
    assert [s["outlet"] for s in update["new_sources"]] == ["beta", "gamma"]
    assert datetime.fromisoformat(update["alerted_at"]).timestamp() == T0 + HOUR + 900
    assert update["alerted_at"].endswith("+00:00")
    assert update["event_id"] == alerts[0]["event_id"]
    assert update["first_seen_at"] == alerts[0]["first_seen_at"]


def test_reports_fetched_at_the_same_instant_fold_into_the_new_alert():
    items = [
        (T0, item_event("a1", "alpha", PACT, T0)),
        (T0, item_event("b1", "beta", PACT_PARAPHRASE, T0)),
    ]
    _, alerts, _, _ = run(items)
    assert [(a["kind"], a["outlet_count"], a["source_count"]) for a in alerts] == [("new", 2, 2)]


def test_update_alerted_at_is_event_time_plus_debounce():
    items = [
        (T0, item_event("a1", "alpha", PACT, T0)),
        (T0 + HOUR, item_event("b1", "beta", PACT_PARAPHRASE, T0 + HOUR)),
    ]
    _, alerts, _, _ = run(items, ClusteringConfig(debounce_s=600))
    stamps = [datetime.fromisoformat(a["alerted_at"]).timestamp() for a in alerts]
    assert stamps == [T0, T0 + HOUR + 600]


def test_second_event_between_same_partners_stays_apart():
    items = [
        (T0, item_event("a1", "alpha", PACT, T0)),
        (T0 + 2 * DAY, item_event("b1", "beta", EXERCISE, T0 + 2 * DAY, type_="exercise")),
        (T0 + 2 * DAY + HOUR, item_event("c1", "gamma", PACT_PARAPHRASE, T0 + 2 * DAY + HOUR)),
    ]
    _, alerts, decisions, _ = run(items)
    assert [d.outcome for d in decisions] == ["founded", "founded", "joined"]
    assert decisions[2].event_id == decisions[0].event_id
    assert len({a["event_id"] for a in alerts}) == 2


def test_same_type_and_partners_but_another_story_days_later_stays_apart():
    other_pact = (
        "Japan and Canada to co-develop maritime patrol drones",
        "The two governments launched a joint programme to build unmanned surveillance "
        "aircraft for the Pacific.",
    )
    items = [
        (T0, item_event("a1", "alpha", PACT, T0)),
        (T0 + 4 * DAY, item_event("b1", "beta", other_pact, T0 + 4 * DAY)),
    ]
    _, _, decisions, _ = run(items)
    assert [d.outcome for d in decisions] == ["founded", "founded"]


def test_unrelated_text_does_not_join_even_with_same_partners_and_type():
    items = [
        (T0, item_event("a1", "alpha", PACT, T0)),
        (T0 + HOUR, item_event("b1", "beta", UNRELATED, T0 + HOUR)),
    ]
    _, _, decisions, _ = run(items)
    assert [d.outcome for d in decisions] == ["founded", "founded"]


def test_partial_partner_sets_join():
    items = [
        (T0, item_event("a1", "alpha", PACT, T0, partners=("CAN", "JPN"))),
        (T0 + HOUR, item_event("b1", "beta", PACT_PARAPHRASE, T0 + HOUR, partners=("JPN",))),
        (T0 + 2 * HOUR, item_event("c1", "gamma", PACT_THIRD, T0 + 2 * HOUR, partners=("CAN", "JPN", "USA"))),
    ]
    _, alerts, decisions, _ = run(items)
    assert [d.outcome for d in decisions] == ["founded", "joined", "joined"]
    assert alerts[-1]["partners"] == ["CAN", "JPN", "USA"]


def test_overlapping_partners_join_only_with_similar_text():
    items = [
        (T0, item_event("a1", "alpha", PACT, T0, partners=("CAN", "JPN"))),
        (T0 + HOUR, item_event("b1", "beta", PACT_THIRD, T0 + HOUR, partners=("GBR", "JPN"))),
        (T0 + HOUR, item_event("c1", "gamma", EXERCISE, T0 + HOUR, partners=("AUS", "JPN"))),
    ]
    _, _, decisions, _ = run(items)
    outcome = {d.item_id: d.outcome for d in decisions}
    assert outcome == {"a1": "founded", "b1": "joined", "c1": "founded"}


def test_compatible_types_join_with_similar_text_incompatible_never():
    items = [
        (T0, item_event("a1", "alpha", PACT, T0, type_="agreement")),
        (T0 + HOUR, item_event("b1", "beta", PACT_THIRD, T0 + HOUR, type_="dialogue")),
        (T0 + HOUR, item_event("c1", "gamma", PACT_PARAPHRASE, T0 + HOUR, type_="exercise")),
    ]
    _, _, decisions, _ = run(items)
    outcome = {d.item_id: d.outcome for d in decisions}
    assert outcome == {"a1": "founded", "b1": "joined", "c1": "founded"}


def test_syndicated_copy_is_marked_and_not_counted_until_an_independent_outlet_reports():
    wire = ("PHL", "USA")
    own_words = (
        "Manila, Washington officials discuss future of troop agreement",
        "Talks on the visiting forces agreement governing US troops in the Philippines were "
        "held on Tuesday, officials from both countries said.",
    )
    items = [
        (T0, item_event("a1", "alpha", WIRE, T0, partners=wire)),
        (T0 + HOUR, item_event("b1", "beta", WIRE, T0 + HOUR, partners=wire)),
        (T0 + 3 * HOUR, item_event("c1", "gamma", own_words, T0 + 3 * HOUR, partners=wire)),
    ]
    _, alerts, decisions, _ = run(items, ClusteringConfig(debounce_s=600))
    assert [d.outcome for d in decisions] == ["founded", "syndicated", "joined"]
    assert summary_of(alerts) == sorted(
        [
            (alerts[0]["event_id"], 0, "new", 1, 1, ("alpha",)),
            (alerts[0]["event_id"], 1, "update", 2, 3, ("beta", "gamma")),
        ]
    )
    beta = next(s for s in alerts[1]["sources"] if s["outlet"] == "beta")
    assert beta["syndicated_of"] == "https://alpha.example/a1"
    assert all(s["syndicated_of"] is None for s in alerts[1]["sources"] if s["outlet"] != "beta")


def test_outlet_reposting_its_own_story_is_not_a_new_outlet():
    items = [
        (T0, item_event("a1", "alpha", PACT, T0)),
        (T0 + HOUR, item_event("a2", "alpha", PACT_THIRD, T0 + HOUR)),
    ]
    _, alerts, decisions, _ = run(items)
    assert [d.outcome for d in decisions] == ["founded", "repost"]
    assert [a["kind"] for a in alerts] == ["new"]


def test_redelivered_item_is_a_duplicate():
    first = item_event("a1", "alpha", PACT, T0)
    index, alerts, decisions, _ = run([(T0, first), (T0 + 60, first)])
    assert [d.outcome for d in decisions] == ["founded", "duplicate"]
    assert alerts[0]["source_count"] == 1


def test_cluster_expires_after_horizon_and_frees_its_state():
    config = ClusteringConfig(horizon_s=2 * DAY, near_window_s=DAY)
    index = ClusterIndex(config)
    alerts, _, expired = index.advance([(T0, item_event("a1", "alpha", PACT, T0))], T0 + DAY)
    assert len(index) == 1 and not expired
    assert index.next_wakeup() == T0 + 2 * DAY
    _, _, expired = index.advance([], T0 + 2 * DAY)
    assert len(expired) == 1 and len(index) == 0
    assert not index._by_partners and not index._by_band and not index._item_ids
    later = T0 + 3 * DAY
    alerts2, decisions, _ = index.advance([(later, item_event("b1", "beta", PACT_PARAPHRASE, later))], later)
    assert decisions[0].outcome == "founded"
    assert alerts2[0]["event_id"] != alerts[0]["event_id"]


def test_report_at_exactly_the_horizon_still_joins():
    config = ClusteringConfig(horizon_s=2 * DAY, near_window_s=2 * DAY)
    items = [
        (T0, item_event("a1", "alpha", PACT, T0)),
        (T0 + 2 * DAY, item_event("b1", "beta", PACT_PARAPHRASE, T0 + 2 * DAY)),
    ]
    _, _, decisions, _ = run(items, config)
    assert [d.outcome for d in decisions] == ["founded", "joined"]


def test_different_languages_join_on_structure_when_close_in_time():
    spanish = (
        "Japón y Canadá firman un pacto para compartir suministros militares",
        "Los dos países firmaron el lunes un acuerdo de apoyo logístico mutuo.",
    )
    items = [
        (T0, item_event("a1", "alpha", PACT, T0, language="en")),
        (T0 + HOUR, item_event("b1", "beta", spanish, T0 + HOUR, language="es")),
        (T0 + 3 * DAY, item_event("c1", "gamma", spanish, T0 + 3 * DAY, language="es", partners=("JPN",))),
    ]
    _, _, decisions, _ = run(items)
    assert [d.outcome for d in decisions] == ["founded", "joined", "syndicated"]


def test_late_item_update_is_due_a_debounce_after_the_clock_not_in_the_past():
    index = ClusterIndex(ClusteringConfig(debounce_s=600))
    index.advance([(T0, item_event("a1", "alpha", PACT, T0))], T0 + DAY)
    late = (T0 + HOUR, item_event("b1", "beta", PACT_THIRD, T0 + HOUR))
    alerts, decisions, _ = index.advance([late], T0 + DAY + 60)
    assert decisions[0].outcome == "joined" and alerts == []
    alerts, _, _ = index.advance([], T0 + DAY + 600)
    assert [a["kind"] for a in alerts] == ["update"]
    assert datetime.fromisoformat(alerts[0]["alerted_at"]).timestamp() == T0 + DAY + 600


def test_advance_refuses_items_after_until():
    with pytest.raises(ValueError):
        ClusterIndex().advance([(T0 + 10, item_event("a1", "alpha", PACT, T0 + 10))], T0)


# ---------------------------------------------------------------- ids and alert records
def test_ids_are_deterministic_and_independent_of_input_order():
    items = [
        (T0, item_event("a1", "alpha", PACT, T0)),
        (T0 + HOUR, item_event("b1", "beta", PACT_PARAPHRASE, T0 + HOUR)),
        (T0 + 2 * DAY, item_event("x1", "beta", EXERCISE, T0 + 2 * DAY, type_="exercise")),
        (T0 + 2 * DAY, item_event("y1", "alpha", WIRE, T0 + 2 * DAY, partners=("PHL", "USA"))),
    ]
    reference = cluster_offline(items)
    for seed in range(5):
        shuffled = list(items)
        random.Random(seed).shuffle(shuffled)
        assert cluster_offline(shuffled) == reference
    for alert in reference:
        assert alert["alert_id"] == alert_id_for(alert["event_id"], alert["revision"])
    assert len({a["alert_id"] for a in reference}) == len(reference)


def test_alert_record_has_the_documented_fields():
    items = [
        (T0, item_event("a1", "alpha", PACT, T0, confidence=0.6)),
        (T0 + HOUR, item_event("b1", "beta", PACT_PARAPHRASE, T0 + HOUR, confidence=0.9, partners=("JPN", "CAN"))),
    ]
    _, alerts, _, _ = run(items)
    update = alerts[-1]
    assert set(update) >= {
        "schema_version", "alert_id", "kind", "revision", "event_id", "type", "partners",
        "concerns", "title", "summary", "sources", "new_sources", "outlet_count",
        "source_count", "confidence", "cameo", "plover", "evidence", "first_seen_at", "alerted_at",
    }
    assert update["schema_version"] == 1
    assert update["partners"] == ["CAN", "JPN"]
    assert update["title"] == PACT_PARAPHRASE[0]  # the most confident report represents it
    assert update["confidence"] == 0.9
    for source in update["sources"]:
        assert set(source) >= {"outlet", "link", "title", "published", "first_seen", "syndicated_of"}
    datetime.fromisoformat(update["first_seen_at"])
    datetime.fromisoformat(update["alerted_at"])


def test_similar_reports_cannot_chain_a_cluster_beyond_its_max_age():
    config = ClusteringConfig(horizon_s=3 * DAY, max_age_s=4 * DAY, near_window_s=3 * DAY)
    stories = [PACT, PACT_PARAPHRASE, PACT_THIRD, PACT]
    items = [
        (T0 + day * DAY, item_event(f"i{day}", f"outlet{day}", stories[n], T0 + day * DAY))
        for n, day in enumerate((0, 2, 4, 6))
    ]
    index, _, decisions, _ = run(items, config, until=T0 + 6 * DAY)
    assert [d.outcome for d in decisions] == ["founded", "joined", "joined", "founded"]
    assert len(index) == 1  # the first cluster expired at its max age (day 4)


def test_config_rejects_debounce_longer_than_max_age():
    with pytest.raises(ValueError):
        ClusteringConfig(max_age_s=60, debounce_s=120)


def test_wire_text_under_another_headline_is_still_a_syndicated_copy():
    partners = ("PHL", "USA")
    own_headline = ("Manila and Washington sit down over troop pact", WIRE[1])
    short = ("Philippines, US discuss forces deal", "Officials met on Tuesday.")
    short_other = ("Visiting forces deal: Manila and US talk", "Officials met on Tuesday.")
    items = [
        (T0, item_event("a1", "alpha", WIRE, T0, partners=partners)),
        (T0 + HOUR, item_event("b1", "beta", own_headline, T0 + HOUR, partners=partners)),
        (T0 + 2 * HOUR, item_event("c1", "gamma", short, T0 + 2 * HOUR, partners=partners)),
        (T0 + 3 * HOUR, item_event("d1", "delta", short_other, T0 + 3 * HOUR, partners=partners)),
    ]
    _, _, decisions, _ = run(items)
    outcome = {d.item_id: d.outcome for d in decisions}
    assert outcome["b1"] == "syndicated"
    # A short shared sentence under different headlines is not enough to call a copy.
    assert outcome["d1"] != "syndicated"
