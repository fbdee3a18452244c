"""`allywatch extract` and `allywatch eval extraction` end to end through `pipelines.cli.main`."""

from __future__ import annotations

import json

from pipelines.cli import main
from pipelines.evaluation.extraction import split_of

LABELS = [
    {"id": "e1", "title": "US to withdraw 12,000 troops from Germany", "summary": "",
     "gold": {"rel": "event", "type": "setback", "partners": ["DEU", "USA"], "concerns": [], "event": "E-1"}},
    {"id": "e2", "title": "Japan and Australia sign defence pact", "summary": "",
     "gold": {"rel": "event", "type": "agreement", "partners": ["AUS", "JPN"], "concerns": [], "event": "E-2"}},
    {"id": "n1", "title": "Cat rescued from tree", "summary": "",
     "gold": {"rel": "none", "type": None, "partners": [], "concerns": [], "event": None}},
    {"id": "r1", "title": "China condemns AUKUS", "summary": "",
     "gold": {"rel": "related", "type": None, "partners": [], "concerns": [], "event": None}},
]


def test_extract_command_keeps_order_and_flags_bad_lines(tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    source.write_text(
        json.dumps({"id": "a", "title": "US to withdraw 12,000 troops from Germany", "summary": "", "outlet": "x"}) + "\n"
        + "{not json\n"
        + json.dumps({"id": "b", "title": "Cat rescued from tree"}) + "\n"
        + json.dumps(["a", "list"]) + "\n"
        + json.dumps({"id": "c", "title": "Rusia y China firman un acuerdo de defensa entre las dos naciones", "summary": "El acuerdo fue firmado por los ministros de las dos naciones."}) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    assert main(["extract", str(source), "-o", str(out)]) == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line.get("id") for line in lines] == ["a", None, "b", None, "c"]
    assert lines[0]["events"][0] == {
        "type": "setback", "partners": ["DEU", "USA"], "concerns": [], "cameo": "1622", "plover": "SANCTION:military",
        "confidence": lines[0]["events"][0]["confidence"], "evidence": lines[0]["events"][0]["evidence"],
    }
    assert "error" in lines[1] and "error" in lines[3]
    assert lines[2] == {"id": "b", "events": []}
    assert lines[4] == {"id": "c", "events": []}
    err = capsys.readouterr().err
    assert "in.jsonl:2: not JSON" in err and "in.jsonl:4" in err
    assert "3 items, 1 with events, 1 events, 1 not English, 2 errors" in err


def test_extract_command_missing_input(tmp_path, capsys):
    assert main(["extract", str(tmp_path / "nope.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_eval_extraction_report_and_json(tmp_path, capsys):
    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps(r) + "\n" for r in LABELS), encoding="utf-8")
    assert main(["eval", "extraction", str(labels)]) == 0
    report = capsys.readouterr().out
    assert "| detection precision | 1.000 (2/2) |" in report
    assert "| detection recall | 1.000 (2/2) |" in report
    assert "| type accuracy (TPs) | 1.000 (2/2) |" in report
    assert "| setback | 0 | 0 | 0 | 0 | 0 | 0 | 1 | 0 |" in report
    assert main(["eval", "extraction", str(labels), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["tp"], data["fp"], data["fn"], data["tn"], data["related"]) == (2, 0, 0, 1, 1)
    assert data["partner_exact"] == 1.0


def test_eval_extraction_counts_errors(tmp_path, capsys):
    wrong = dict(LABELS[2], gold={"rel": "event", "type": "exercise", "partners": ["NZL", "USA"], "concerns": [], "event": "E-3"})
    labels = tmp_path / "labels.jsonl"
    labels.write_text(json.dumps(wrong) + "\n" + json.dumps(LABELS[0]) + "\n", encoding="utf-8")
    assert main(["eval", "extraction", str(labels)]) == 0
    report = capsys.readouterr().out
    assert "| detection recall | 0.500 (1/2) |" in report
    assert "1. missed: gold exercise NZL/USA" in report


def test_split_is_by_event_and_stable():
    a = {"id": "x1", "gold": {"event": "E-SAME"}}
    b = {"id": "x2", "gold": {"event": "E-SAME"}}
    assert split_of(a) == split_of(b)
    assert split_of(a) in ("tune", "holdout")
    buckets = {split_of({"id": f"i{k}", "gold": {"event": None}}) for k in range(50)}
    assert buckets == {"tune", "holdout"}


def test_eval_rejects_bad_label_files(tmp_path, capsys):
    labels = tmp_path / "labels.jsonl"
    labels.write_text('{"id": 1}\n', encoding="utf-8")
    assert main(["eval", "extraction", str(labels)]) == 2
    assert "no 'gold' field" in capsys.readouterr().err


def test_eval_fits_a_calibration(tmp_path, capsys):
    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps(r) + "\n" for r in LABELS), encoding="utf-8")
    target = tmp_path / "calibration.json"
    assert main(["eval", "extraction", str(labels), "--fit-calibration", str(target)]) == 0
    points = json.loads(target.read_text(encoding="utf-8"))["points"]
    assert points and all(0.0 < y < 1.0 for _, y in points)


def test_one_failing_item_does_not_fail_its_chunk(tmp_path, capsys, monkeypatch):
    from transforms.extraction import extractor as module

    original = module.Extractor.extract

    def flaky(self, title, summary):
        if "boom" in title:
            raise RuntimeError("boom")
        return original(self, title, summary)

    monkeypatch.setattr(module.Extractor, "extract", flaky)
    monkeypatch.setattr(module, "item_text", lambda t, s: (_ for _ in ()).throw(RuntimeError("boom")) if "boom" in t else f"{t}\n\n{s}")
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "a", "title": "US to withdraw troops from Germany"}) + "\n"
                      + json.dumps({"id": "b", "title": "boom"}) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["extract", str(source), "-o", str(out)]) == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["events"][0]["type"] == "setback"
    assert lines[1]["id"] == "b" and "boom" in lines[1]["error"]
    assert "in.jsonl:2: extraction failed" in capsys.readouterr().err
