"""Replay runs the monitor's chain over recorded snapshots and says what it saw."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.replay import ManifestError, earliest_sighting, load_manifest
from transforms.model import FeedItem

MANIFEST = Path(__file__).parent / "fixtures" / "replay" / "manifest.json"


def test_manifest_is_sorted_by_fetch_time_and_paths_resolved():
    snapshots = load_manifest(MANIFEST)
    times = [s.fetched_at for s in snapshots]
    assert times == sorted(times) and len(times) == 6
    assert all(Path(s.path).is_file() for s in snapshots)


@pytest.mark.parametrize(
    "content, message",
    [
        ("{}", "expected a JSON list"),
        ("[{\"outlet\": \"a\", \"file\": \"x.xml\"}]", "missing fetched_at"),
        ("[{\"outlet\": \"a\", \"file\": \"x.xml\", \"fetched_at\": \"yesterday\"}]", "bad fetched_at"),
        ("not json", "is not JSON"),
    ],
)
def test_bad_manifests_say_which_entry_is_wrong(tmp_path, content, message):
    path = tmp_path / "manifest.json"
    path.write_text(content)
    with pytest.raises(ManifestError, match=message):
        load_manifest(path)


def test_earliest_sighting_wins():
    late = FeedItem(item_id="i", outlet="a", title="t", first_seen="2020-07-08T11:00:00+00:00")
    early = FeedItem(item_id="i", outlet="a", title="t", first_seen="2020-07-08T10:00:00+00:00")
    assert earliest_sighting([late, early]) is early


def test_replay_cli_writes_alerts_and_a_summary(tmp_path, capsys):
    out = tmp_path / "alerts.jsonl"
    assert main(["replay", str(MANIFEST), "--out", str(out)]) == 0
    alerts = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(a["kind"], a["outlet_count"]) for a in alerts] == [("new", 1), ("update", 2)]
    assert alerts[0]["event_id"] == alerts[1]["event_id"]
    assert alerts[0]["partners"] == ["GBR", "SAU"] and alerts[0]["type"] == "arms_transfer"
    # event time is the first sighting: alpha's 10:00 snapshot
    assert alerts[0]["first_seen_at"].startswith("2020-07-08T10:00:00")
    summary = capsys.readouterr().out
    assert "snapshots 6 read, 1 unusable, 0 broken but salvaged" in summary
    assert "items     4 distinct" in summary
    assert "alerts    2" in summary
    assert "replay/snapshots_not_a_feed" in summary


def test_replay_cli_reports_a_missing_manifest(tmp_path, capsys):
    assert main(["replay", str(tmp_path / "none.json"), "--out", str(tmp_path / "a.jsonl")]) == 2
    assert "cannot read manifest" in capsys.readouterr().err


def test_replay_counts_an_unreadable_snapshot(tmp_path, capsys):
    manifest = tmp_path / "manifest.json"
    (tmp_path / "broken.xml.gz").write_bytes(b"not gzip")
    manifest.write_text(json.dumps([
        {"outlet": "a", "fetched_at": "2020-07-08T10:00:00+00:00", "file": "broken.xml.gz"},
        {"outlet": "a", "fetched_at": "2020-07-08T11:00:00+00:00", "file": "missing.xml"},
    ]))
    assert main(["replay", str(manifest), "--out", str(tmp_path / "a.jsonl")]) == 0
    summary = capsys.readouterr().out
    assert "snapshots 0 read, 2 unusable" in summary


def test_replay_cli_refuses_an_unwritable_output_before_working(tmp_path, capsys):
    out = tmp_path / "is-a-dir"
    out.mkdir()
    assert main(["replay", str(MANIFEST), "--out", str(out)]) == 2
    assert "choose another --out" in capsys.readouterr().err


def test_snapshot_times_are_normalised_to_utc(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text(
        '[{"outlet": "a", "file": "a.xml", "fetched_at": "2020-06-01T12:00:00+02:00"},'
        ' {"outlet": "b", "file": "b.xml", "fetched_at": "2020-06-01T10:30:00Z"}]'
    )
    assert [(s.outlet, s.fetched_at) for s in load_manifest(path)] == [
        ("a", "2020-06-01T10:00:00+00:00"),
        ("b", "2020-06-01T10:30:00+00:00"),
    ]
