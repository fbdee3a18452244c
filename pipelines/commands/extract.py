"""`allywatch extract INPUT.jsonl [-o OUTPUT.jsonl]`: batch event extraction on feed items.

One output line per non-blank input line, in the same order: `{"id": ..., "events": [...]}`.
A line that is not a JSON object with a string `title` gets an `"error"` field instead (and
is counted on stderr), so output lines always align with input lines. Items that are not in
English get `"events": []` and are counted in the summary.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import IO, Iterator

PROGRESS_EVERY = 1000
CHUNK = 512


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "extract", help="extract defense-cooperation events from items (JSONL)", description=__doc__
    )
    parser.add_argument("input", type=Path, metavar="INPUT.jsonl",
                        help="one item per line with id, title, summary ('-' for stdin)")
    parser.add_argument("-o", "--output", type=Path, default=None, metavar="OUTPUT.jsonl",
                        help="where to write results (default: stdout)")
    parser.add_argument("--spacy-model", default=None, help="trained spaCy pipeline to add (default: blank English)")
    parser.set_defaults(func=run)


def parse_line(line: str) -> tuple[dict | None, str | None]:
    """(item, None) for a usable line, (None, reason) otherwise."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, f"not JSON: {exc.msg} at column {exc.colno}"
    if not isinstance(item, dict):
        return None, f"not a JSON object but {type(item).__name__}"
    if not isinstance(item.get("title"), str):
        return None, "no string 'title'"
    if item.get("summary") is not None and not isinstance(item.get("summary"), str):
        return None, "'summary' is not a string"
    return item, None


def _lines(handle: IO[str]) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(handle, 1):
        if line.strip():
            yield number, line


def _process(chunk, extractor, sink, counts: dict, name, started: float) -> None:
    """Extract a chunk of parsed lines through `nlp.pipe` and write one line per input line."""
    good = [(number, item) for number, item, error in chunk if error is None]
    pairs = [(item["title"], item.get("summary") or "") for _, item in good]
    failures: dict[int, Exception] = {}
    try:
        results = dict(zip((n for n, _ in good), extractor.extract_many(pairs)))
    except Exception:
        # Find the bad item(s) one by one so that only they fail, not the whole chunk.
        results = {}
        for (number, _), (title, summary) in zip(good, pairs):
            try:
                results[number] = extractor.extract(title, summary)
            except Exception as exc:
                failures[number] = exc
    for number, item, error in chunk:
        if error is not None:
            counts["errors"] += 1
            print(f"extract: {name}:{number}: {error}", file=sys.stderr)
            sink.write(json.dumps({"id": None, "line": number, "error": error, "events": []}) + "\n")
            continue
        counts["items"] += 1
        if number in failures:
            counts["errors"] += 1
            print(f"extract: {name}:{number}: extraction failed: {failures[number]!r}", file=sys.stderr)
            sink.write(json.dumps({"id": item.get("id"), "error": f"extraction failed: {failures[number]}", "events": []}) + "\n")
            continue
        events = results[number]
        if not events and extractor.language(item["title"], item.get("summary") or "") != "en":
            counts["non_english"] += 1
        counts["with_events"] += bool(events)
        counts["events"] += len(events)
        sink.write(json.dumps({"id": item.get("id"), "events": [e.to_dict() for e in events]}, ensure_ascii=False) + "\n")
        if counts["items"] % PROGRESS_EVERY == 0:
            rate = counts["items"] / max(time.perf_counter() - started, 1e-9)
            print(f"extract: {counts['items']} items, {counts['events']} events ({rate:,.0f} items/s)", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from transforms.extraction import Extractor

    try:
        source = sys.stdin if str(args.input) == "-" else args.input.open(encoding="utf-8")
    except OSError as exc:
        print(f"extract: cannot read {args.input}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        sink_ctx = args.output.open("w", encoding="utf-8") if args.output else nullcontext(sys.stdout)
    except OSError as exc:
        print(f"extract: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return 2
    extractor = Extractor(args.spacy_model)
    counts = {"items": 0, "errors": 0, "non_english": 0, "with_events": 0, "events": 0}
    started = time.perf_counter()
    with source, sink_ctx as sink:
        chunk: list[tuple[int, dict | None, str | None]] = []
        for number, line in _lines(source):
            item, error = parse_line(line)
            chunk.append((number, item, error))
            if len(chunk) >= CHUNK:
                _process(chunk, extractor, sink, counts, args.input, started)
                chunk = []
        if chunk:
            _process(chunk, extractor, sink, counts, args.input, started)
    seconds = time.perf_counter() - started
    print(
        f"extract: done: {counts['items']} items, {counts['with_events']} with events, {counts['events']} events, "
        f"{counts['non_english']} not English, {counts['errors']} errors, {seconds:.1f}s",
        file=sys.stderr,
    )
    return 1 if counts["errors"] and not counts["items"] else 0
