"""`allywatch replay MANIFEST.json --out ALERTS.jsonl`: what the monitor would have alerted."""

from __future__ import annotations

import argparse
import os
import sys
import time

from pipelines.run_summary import counter_totals, format_counters


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="run the monitor's transforms over recorded feed snapshots (batch)",
        description=(
            "Replay recorded feed snapshots in fetched_at order through the same extraction and "
            "clustering the live monitor runs, and write every alert it would have published. "
            "Manifest format: a JSON list of {outlet, url, fetched_at, file} with files "
            "(.xml or .xml.gz) relative to the manifest."
        ),
    )
    parser.add_argument("manifest", help="replay manifest (JSON list of snapshots)")
    parser.add_argument("--out", required=True, help="where to write the alerts, one JSON object per line")
    parser.add_argument("--spacy-model", default=None, help="optional installed spaCy pipeline to add to extraction")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipelines.replay import ManifestError, load_manifest, run_replay
    from pipelines.stages import StageOptions

    try:
        snapshots = load_manifest(args.manifest)
    except ManifestError as exc:
        print(f"allywatch replay: {exc}", file=sys.stderr)
        return 2
    out_dir = os.path.dirname(os.path.abspath(args.out))
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as exc:
        print(f"allywatch replay: cannot create {out_dir} for --out: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if not os.access(out_dir, os.W_OK) or os.path.isdir(args.out):
        print(f"allywatch replay: cannot write {args.out}; choose another --out", file=sys.stderr)
        return 2
    print(f"replaying {len(snapshots):,} snapshots from {args.manifest} ...", file=sys.stderr)
    started = time.monotonic()
    result = run_replay(snapshots, args.out, StageOptions(spacy_model=args.spacy_model))
    totals = counter_totals(result)
    elapsed = time.monotonic() - started
    errors = totals.get("replay/snapshots_unreadable", 0) + totals.get("replay/snapshots_not_a_feed", 0)
    print(
        f"replay finished in {elapsed:.1f}s\n"
        f"  snapshots {totals.get('replay/snapshots_read', 0):,} read, {errors:,} unusable, "
        f"{totals.get('replay/snapshots_salvaged', 0):,} broken but salvaged\n"
        f"  items     {totals.get('replay/items_unique', 0):,} distinct "
        f"({totals.get('replay/item_sightings', 0):,} sightings)\n"
        f"  events    {totals.get('extraction/events_extracted', 0):,}\n"
        f"  alerts    {totals.get('replay/alerts_written', 0):,} written to {args.out}\n"
        f"  errors    {errors + totals.get('extraction/items_failed', 0):,}\n"
        f"all counters:\n{format_counters(totals)}"
    )
    return 0
