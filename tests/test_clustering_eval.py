"""`allywatch eval clustering`: B-cubed, alerts per real event, splits and merges; oracle mode."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from pipelines.evaluation import clustering as evaluation
from tests.test_clustering_support import DAY, EXERCISE, HOUR, PACT, PACT_PARAPHRASE, T0
from transforms.alert_schema import validate_alert
from transforms.model import iso_utc


def gold(item_id, event, link=None, outlet="alpha", title="t"):
    return evaluation.GoldItem(
        item_id=item_id,
        link=link or f"https://{outlet}.example/{item_id}",
        outlet=outlet,
        title=title,
        event=event,
        type="agreement",
        partners=("CAN", "JPN"),
        concerns=(),
        first_seen=iso_utc(T0),
    )


def test_perfect_clustering_scores_one():
    items = [gold("a", "E1"), gold("b", "E1"), gold("c", "E2")]
    assignment = {evaluation.normalise_link(g.link): g.event for g in items}
    result = evaluation.score(items, assignment)
    assert (result.precision, result.recall, result.f1, result.alerts_per_event) == (1.0, 1.0, 1.0, 1.0)
    assert result.split == [] and result.merged == []


def test_split_and_merge_are_scored_and_named():
    items = [gold("a", "E1"), gold("b", "E1"), gold("c", "E2"), gold("d", "E3")]
    links = [evaluation.normalise_link(g.link) for g in items]
    # E1 split over X and Y; E2 merged with E1's second half in Y; E3 not detected.
    assignment = {links[0]: "X", links[1]: "Y", links[2]: "Y"}
    result = evaluation.score(items, assignment)
    assert result.detected_items == 3 and result.detected_events == 2
    # precision: a 1, b 1/2, c 1/2 -> 2/3; recall: a 1/2, b 1/2, c 1 -> 2/3
    assert result.precision == pytest.approx(2 / 3)
    assert result.recall == pytest.approx(2 / 3)
    assert result.alerts_per_event == pytest.approx(1.5)
    assert result.split == ["E1"]
    assert result.merged == ["E1", "E2"]
    assert any(line.startswith("split  E1") for line in result.examples)


def test_links_match_loosely():
    assert evaluation.normalise_link("https://www.Example.com/a/b/#top") == evaluation.normalise_link(
        "http://example.com/a/b"
    )
    assert evaluation.normalise_link("") == ""


def test_assignment_takes_the_first_alert_listing_a_link():
    alerts = [
        {"event_id": "E2", "alerted_at": "2020-01-02T00:00:00+00:00", "revision": 0,
         "sources": [{"link": "https://x/1"}]},
        {"event_id": "E1", "alerted_at": "2020-01-01T00:00:00+00:00", "revision": 0,
         "sources": [{"link": "https://x/1"}, {"link": "https://x/2"}]},
    ]
    owner, multi = evaluation.assignment_from_alerts(alerts)
    assert owner == {"//x/1": "E1", "//x/2": "E1"}
    assert multi == 1


def _write_labels(path: Path) -> None:
    rows = []
    for item_id, outlet, story, ts, event, type_ in [
        ("a1", "alpha", PACT, T0, "E-PACT", "agreement"),
        ("b1", "beta", PACT_PARAPHRASE, T0 + HOUR, "E-PACT", "agreement"),
        ("c1", "gamma", EXERCISE, T0 + 2 * DAY, "E-DRILL", "exercise"),
    ]:
        rows.append({
            "id": item_id, "outlet": outlet, "title": story[0], "summary": story[1],
            "link": f"https://{outlet}.example/{item_id}", "published": None,
            "first_seen": iso_utc(ts), "pool": "keyword",
            "gold": {"rel": "event", "type": type_, "partners": ["CAN", "JPN"], "concerns": [], "event": event},
        })
    rows.append({"id": "n1", "outlet": "alpha", "title": "x", "summary": "", "link": "https://alpha.example/n1",
                 "first_seen": iso_utc(T0), "gold": {"rel": "none", "event": None}})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    evaluation.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_command_scores_alerts_and_oracle(tmp_path, capsys):
    labels = tmp_path / "labels.jsonl"
    _write_labels(labels)
    gold_items = evaluation.load_gold(labels)
    assert [g.item_id for g in gold_items] == ["a1", "b1", "c1"]
    alerts = evaluation.oracle_alerts(gold_items)
    for alert in alerts:
        assert validate_alert(alert) == []
    alerts_path = tmp_path / "alerts.jsonl"
    alerts_path.write_text("".join(json.dumps(a) + "\n" for a in alerts))
    assert evaluation.run(_args(str(labels), str(alerts_path), "--oracle")) == 0
    out = capsys.readouterr().out
    assert out.count("B-cubed precision 1.000  recall 1.000  F1 1.000") == 2
    assert "alerts per real event: 1.000" in out
    assert "oracle:" in out


def test_command_refuses_missing_inputs(tmp_path, capsys):
    labels = tmp_path / "labels.jsonl"
    _write_labels(labels)
    assert evaluation.run(_args(str(labels))) == 2
    assert evaluation.run(_args(str(tmp_path / "nope.jsonl"), "--oracle")) == 2
    assert evaluation.run(_args(str(labels), str(tmp_path / "nope.jsonl"))) == 2


@pytest.mark.shared_data
def test_oracle_on_dev_labels_meets_the_issue_targets(shared_data):
    gold_items = evaluation.load_gold(shared_data / "labels" / "dev.jsonl")
    assert len(gold_items) == 60
    alerts = evaluation.oracle_alerts(gold_items)
    owner, _ = evaluation.assignment_from_alerts(alerts)
    result = evaluation.score(gold_items, owner)
    assert result.detected_items == 60
    assert result.f1 >= 0.92
    assert result.alerts_per_event <= 1.1
    assert all(validate_alert(alert) == [] for alert in alerts)


def test_command_clusters_extraction_output_joined_with_the_labels(tmp_path, capsys):
    labels = tmp_path / "labels.jsonl"
    _write_labels(labels)
    event = {"type": "agreement", "partners": ["CAN", "JPN"], "concerns": [], "cameo": "", "plover": "",
             "confidence": 0.7, "evidence": ""}
    extracted = tmp_path / "extract.jsonl"
    lines = [
        {"id": "a1", "events": [event]},
        {"id": "b1", "events": [event]},
        {"id": "c1", "events": []},  # extraction missed the drill
        {"id": "n1", "events": [dict(event, partners=["PHL", "USA"])]},  # a false alarm elsewhere
    ]
    extracted.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert evaluation.run(_args(str(labels), "--extracted", str(extracted))) == 0
    out = capsys.readouterr().out
    assert "(4 events from" not in out and "(3 events from" in out
    assert "detected: 2 (66.7%) in 1 events; alerts read: 3" in out
    assert "B-cubed precision 1.000  recall 1.000  F1 1.000" in out
