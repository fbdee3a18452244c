"""`allywatch eval extraction LABELS.jsonl`: score extraction against labelled items.

Detection counts `rel == "event"` as positive and `rel == "none"` as negative; `related`
items (reactions, commentary, background) are excluded from both, as the labelling guide
says. On true positives it scores the type and the exact partner and concern sets. The
output is plain text meant to be pasted into the README as is (`--json` for machines).

`--split` keeps rules honest: items are split deterministically by a hash of the real-world
event (`gold.event`) when there is one, else of the item id, so all reports of one event
fall on the same side. Tune rules on `tune`, report `holdout` too.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Sequence

from transforms.model import EVENT_TYPES

HOLDOUT_SHARE = 30  # percent of events (and of other items) kept aside
SPLITS = ("all", "tune", "holdout")
NONE = "none"


def split_of(record: dict) -> str:
    """"tune" or "holdout" for a labelled item, stable across runs and machines."""
    gold = record.get("gold") or {}
    key = gold.get("event") or str(record.get("id", ""))
    bucket = int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:8], 16) % 100
    return "holdout" if bucket < HOLDOUT_SHARE else "tune"


def load_labels(path: Path, split: str = "all") -> list[dict]:
    records = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not JSON ({exc.msg})") from exc
            if "gold" not in record:
                raise ValueError(f"{path}:{number}: no 'gold' field")
            if split == "all" or split_of(record) == split:
                records.append(record)
    return records


@dataclass
class Outcome:
    """One scored item."""

    record: dict
    predicted: list[dict]
    kind: str  # tp | fp | fn | tn | related
    type_ok: bool = False
    partners_ok: bool = False
    concerns_ok: bool = False

    @property
    def gold(self) -> dict:
        return self.record["gold"]

    @property
    def top(self) -> dict | None:
        return self.predicted[0] if self.predicted else None


@dataclass
class Scores:
    outcomes: list[Outcome] = field(default_factory=list)
    non_english: int = 0
    seconds: float = 0.0

    def count(self, kind: str) -> int:
        return sum(1 for o in self.outcomes if o.kind == kind)

    @property
    def precision(self) -> float:
        tp, fp = self.count("tp"), self.count("fp")
        return tp / (tp + fp) if tp + fp else 0.0

    @property
    def recall(self) -> float:
        tp, fn = self.count("tp"), self.count("fn")
        return tp / (tp + fn) if tp + fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def rate(self, attr: str) -> float:
        tps = [o for o in self.outcomes if o.kind == "tp"]
        return sum(1 for o in tps if getattr(o, attr)) / len(tps) if tps else 0.0

    def confusion(self) -> dict[str, Counter]:
        """gold type (or none) -> Counter of predicted type (or none), related excluded."""
        table: dict[str, Counter] = {}
        for o in self.outcomes:
            if o.kind == "related":
                continue
            gold = o.gold.get("type") or NONE if o.gold["rel"] == "event" else NONE
            predicted = o.top["type"] if o.top else NONE
            table.setdefault(gold, Counter())[predicted] += 1
        return table


def score(records: Sequence[dict], predictions: Sequence[list[dict]]) -> Scores:
    """Compare predictions (event dicts per item, in order) with the gold labels."""
    scores = Scores()
    for record, predicted in zip(records, predictions):
        gold = record["gold"]
        rel = gold["rel"]
        if rel == "related":
            scores.outcomes.append(Outcome(record, predicted, "related"))
            continue
        positive = bool(predicted)
        if rel == "event":
            kind = "tp" if positive else "fn"
        else:
            kind = "fp" if positive else "tn"
        outcome = Outcome(record, predicted, kind)
        if kind == "tp":
            top = predicted[0]
            outcome.type_ok = top["type"] == gold.get("type")
            outcome.partners_ok = sorted(top["partners"]) == sorted(gold.get("partners") or [])
            outcome.concerns_ok = sorted(top["concerns"]) == sorted(gold.get("concerns") or [])
        scores.outcomes.append(outcome)
    return scores


def predict(records: Sequence[dict], spacy_model: str | None = None) -> tuple[list[list[dict]], int, float]:
    """Run the extractor over the items; returns predictions, non-English count, seconds."""
    from transforms.extraction import Extractor

    extractor = Extractor(spacy_model)
    start = time.perf_counter()
    pairs = [(r.get("title") or "", r.get("summary") or "") for r in records]
    predictions = [[e.to_dict() for e in events] for events in extractor.extract_many(pairs)]
    seconds = time.perf_counter() - start
    non_english = sum(1 for t, s in pairs if extractor.language(t, s) != "en")
    return predictions, non_english, seconds


def worst_errors(scores: Scores, limit: int = 20) -> list[tuple[str, Outcome]]:
    """The errors an analyst would notice first: confident false alarms, then misses,
    then wrong types and partner sets."""
    errors: list[tuple[int, float, str, Outcome]] = []
    for o in scores.outcomes:
        confidence = o.top["confidence"] if o.top else 0.0
        if o.kind == "fp":
            errors.append((0, -confidence, "false alarm", o))
        elif o.kind == "fn":
            errors.append((1, 0.0, "missed", o))
        elif o.kind == "tp" and not o.type_ok:
            errors.append((2, -confidence, "wrong type", o))
        elif o.kind == "tp" and not o.partners_ok:
            errors.append((3, -confidence, "wrong partners", o))
        elif o.kind == "tp" and not o.concerns_ok:
            errors.append((4, -confidence, "wrong concerns", o))
    errors.sort(key=lambda e: (e[0], e[1], e[3].record.get("id", "")))
    return [(label, o) for _, _, label, o in errors[:limit]]


def _fmt_event(event: dict | None) -> str:
    if not event:
        return "none"
    concerns = f" vs {'/'.join(event['concerns'])}" if event.get("concerns") else ""
    return f"{event['type']} {'/'.join(event['partners'])}{concerns}"


def _fmt_gold(gold: dict) -> str:
    if gold["rel"] != "event":
        return gold["rel"]
    concerns = f" vs {'/'.join(gold['concerns'])}" if gold.get("concerns") else ""
    return f"{gold['type']} {'/'.join(gold['partners'])}{concerns}"


def _short(text: str, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def report(scores: Scores, labels: Path, split: str, errors: int = 20) -> str:
    lines: list[str] = []
    n = len(scores.outcomes)
    related = scores.count("related")
    lines.append(f"Extraction quality on {labels.name} (split: {split}), "
                 f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}")
    lines.append(f"items {n}: event {scores.count('tp') + scores.count('fn')}, "
                 f"none {scores.count('fp') + scores.count('tn')}, related {related} (excluded); "
                 f"not English: {scores.non_english}")
    lines.append("")
    lines.append("| metric | value |")
    lines.append("| --- | --- |")
    lines.append(f"| detection precision | {scores.precision:.3f} ({scores.count('tp')}/{scores.count('tp') + scores.count('fp')}) |")
    lines.append(f"| detection recall | {scores.recall:.3f} ({scores.count('tp')}/{scores.count('tp') + scores.count('fn')}) |")
    lines.append(f"| detection F1 | {scores.f1:.3f} |")
    tps = scores.count("tp")
    for label, attr in (("type accuracy (TPs)", "type_ok"), ("partner-set exact match (TPs)", "partners_ok"),
                        ("concern-set exact match (TPs)", "concerns_ok")):
        hits = sum(1 for o in scores.outcomes if o.kind == "tp" and getattr(o, attr))
        lines.append(f"| {label} | {scores.rate(attr):.3f} ({hits}/{tps}) |")
    flagged_related = sum(1 for o in scores.outcomes if o.kind == "related" and o.predicted)
    lines.append(f"| related items flagged (not scored) | {flagged_related}/{related} |")
    lines.append("")
    lines.append("Confusion (rows gold, columns predicted; related excluded):")
    lines.append("")
    columns = list(EVENT_TYPES) + [NONE]
    table = scores.confusion()
    lines.append("| gold \\ predicted | " + " | ".join(columns) + " |")
    lines.append("| --- " * (len(columns) + 1) + "|")
    for row in columns:
        counts = table.get(row, Counter())
        lines.append(f"| {row} | " + " | ".join(str(counts.get(c, 0)) for c in columns) + " |")
    worst = worst_errors(scores, errors)
    if worst:
        lines.append("")
        lines.append(f"{len(worst)} worst errors:")
        lines.append("")
    for k, (label, o) in enumerate(worst, 1):
        evidence = f' [evidence: "{o.top["evidence"]}" conf {o.top["confidence"]:.2f}]' if o.top else ""
        lines.append(f"{k}. {label}: gold {_fmt_gold(o.gold)}; predicted {_fmt_event(o.top)}{evidence}")
        lines.append(f"   {o.record.get('outlet', '?')} {o.record.get('id', '')}: {_short(o.record.get('title', ''), 160)}")
        if o.record.get("summary"):
            lines.append(f"   | {_short(o.record['summary'], 220)}")
    return "\n".join(lines)


def as_json(scores: Scores, labels: Path, split: str) -> dict:
    return {
        "labels": str(labels),
        "split": split,
        "items": len(scores.outcomes),
        "tp": scores.count("tp"), "fp": scores.count("fp"), "fn": scores.count("fn"), "tn": scores.count("tn"),
        "related": scores.count("related"),
        "non_english": scores.non_english,
        "precision": round(scores.precision, 4),
        "recall": round(scores.recall, 4),
        "f1": round(scores.f1, 4),
        "type_accuracy": round(scores.rate("type_ok"), 4),
        "partner_exact": round(scores.rate("partners_ok"), 4),
        "concern_exact": round(scores.rate("concerns_ok"), 4),
        "confusion": {gold: dict(counts) for gold, counts in scores.confusion().items()},
        "errors": [
            {"kind": label, "id": o.record.get("id"), "gold": o.gold, "predicted": o.top,
             "title": o.record.get("title"), "summary": o.record.get("summary")}
            for label, o in worst_errors(scores, 10_000)
        ],
        "seconds": round(scores.seconds, 3),
    }


def fit_and_write_calibration(records: Sequence[dict], path: Path, split: str, spacy_model: str | None = None) -> int:
    """Fit confidence = P(the item is a labelled event of the predicted type | rule score).

    Every item the extractor flags counts, `related` ones included (as not events): an
    analyst sees those alerts too, so the confidence must price them in.
    """
    from transforms.extraction import Extractor
    from transforms.extraction.calibration import fit_calibration
    from transforms.extraction.extractor import item_text

    extractor = Extractor(spacy_model)
    scores: list[float] = []
    correct: list[bool] = []
    texts = (item_text(r.get("title") or "", r.get("summary") or "") for r in records)
    for record, doc in zip(records, extractor.nlp.pipe(texts)):
        candidates = doc._.event_candidates
        if not candidates:
            continue
        top = candidates[0]
        gold = record["gold"]
        scores.append(top.score)
        correct.append(gold["rel"] == "event" and gold.get("type") == (top.event_type or top.rule.type))
    points = fit_calibration(scores, correct)
    payload = {
        "_doc": f"Score -> confidence, fitted by `allywatch eval extraction LABELS --split {split} "
                f"--fit-calibration` on {len(scores)} flagged items ({sum(correct)} correct); see calibration.py.",
        "points": points,
    }
    path.write_text(json.dumps(payload) + "\n", encoding="utf-8")
    print(f"calibration: {len(scores)} flagged items, {sum(correct)} correct -> {points} written to {path}")
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("labels", type=Path, metavar="LABELS.jsonl", help="labelled items (dev.jsonl format)")
    parser.add_argument("--split", choices=SPLITS, default="all",
                        help="deterministic split by event: tune (70%%), holdout (30%%) or all (default)")
    parser.add_argument("--spacy-model", default=None, help="trained spaCy pipeline to add (default: blank English)")
    parser.add_argument("--errors", type=int, default=20, help="how many worst errors to print (default 20)")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON instead of the report")
    parser.add_argument("--fit-calibration", type=Path, default=None, metavar="CALIBRATION.json",
                        help="fit the score->confidence map on these items (use --split tune) and write it")


def run(args: argparse.Namespace) -> int:
    try:
        records = load_labels(args.labels, args.split)
    except (OSError, ValueError) as exc:
        print(f"eval extraction: {exc}", file=sys.stderr)
        return 2
    if not records:
        print(f"eval extraction: no labelled items in {args.labels} (split {args.split})", file=sys.stderr)
        return 2
    if args.fit_calibration:
        return fit_and_write_calibration(records, args.fit_calibration, args.split, args.spacy_model)
    predictions, non_english, seconds = predict(records, args.spacy_model)
    scores = score(records, predictions)
    scores.non_english = non_english
    scores.seconds = seconds
    if args.json:
        print(json.dumps(as_json(scores, args.labels, args.split), indent=2, ensure_ascii=False))
    else:
        print(report(scores, args.labels, args.split, args.errors))
    return 0


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="allywatch eval extraction", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(list(argv) if argv is not None else None))
