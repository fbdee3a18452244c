"""Benchmark: `Extractor` throughput on one core over the dev labels' title + summary.

Run as a script (pytest does not collect bench_*.py):

    .venv/bin/python tests/benchmarks/bench_extract.py [LABELS.jsonl] [--passes N]

Reports items/s for the first pass (cold tokenizer cache, as a fresh worker sees its
first items) and the best of the following passes (warm: a long-running stream), for
`extract_many` (nlp.pipe) and for one-by-one `extract`, plus the machine it ran on.
The process is pinned to one CPU where the OS allows it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.benchmarks.machine import describe_machine  # noqa: E402
DEFAULT_LABELS = Path(os.environ.get("ALLYWATCH_SHARED_DATA", REPO.parent / "shared" / "data")) / "labels" / "dev.jsonl"




def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("labels", nargs="?", type=Path, default=DEFAULT_LABELS)
    parser.add_argument("--passes", type=int, default=4)
    args = parser.parse_args()
    if not args.labels.is_file():
        print(f"labels not found: {args.labels} (expected ../shared/data/labels/dev.jsonl)", file=sys.stderr)
        return 2
    host = describe_machine()  # before pinning, so nproc reports the machine, not the pin
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    from transforms.extraction import Extractor

    records = [json.loads(line) for line in args.labels.open(encoding="utf-8") if line.strip()]
    pairs = [(r.get("title") or "", r.get("summary") or "") for r in records]
    started = time.perf_counter()
    extractor = Extractor()
    load = time.perf_counter() - started

    def timed(run) -> float:
        start = time.perf_counter()
        events = run()
        seconds = time.perf_counter() - start
        assert len(events) == len(pairs)
        return len(pairs) / seconds

    batch = [timed(lambda: list(extractor.extract_many(pairs))) for _ in range(args.passes)]
    single = [timed(lambda: [extractor.extract(t, s) for t, s in pairs]) for _ in range(max(1, args.passes // 2))]
    chars = sum(len(t) + len(s) for t, s in pairs) / len(pairs)
    print(f"machine: {host}")
    print(f"input: {args.labels} ({len(pairs)} items, mean {chars:.0f} chars of title+summary)")
    print(f"pipeline load: {load:.2f}s; one core")
    print(f"extract_many: first pass {batch[0]:,.0f} items/s; warm (best of {len(batch) - 1}) {max(batch[1:] or batch):,.0f} items/s")
    print(f"extract (one by one): best {max(single):,.0f} items/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
