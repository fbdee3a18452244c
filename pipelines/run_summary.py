"""Turn a pipeline result's Beam counters into the summary a user reads at the end of a run.

Every drop or skip in allywatch is a Beam counter, so the summary is also the audit of
what was left out and why.
"""

from __future__ import annotations

from typing import Mapping


def counter_totals(result) -> dict[str, int]:
    """`namespace/name` -> committed (or, where the runner has none, attempted) total."""
    totals: dict[str, int] = {}
    try:
        counters = result.metrics().query()["counters"]
    except Exception:  # a cancelled or failed run may have no metrics to give
        return totals
    for counter in counters:
        key = f"{counter.key.metric.namespace}/{counter.key.metric.name}"
        value = counter.committed if counter.committed is not None else counter.attempted
        totals[key] = totals.get(key, 0) + int(value or 0)
    return totals


def format_counters(totals: Mapping[str, int]) -> str:
    """All counters grouped by stage, one per line, so nothing dropped goes unseen."""
    if not totals:
        return "  (no counters reported)"
    width = max(len(k) for k in totals)
    return "\n".join(f"  {key:<{width}}  {totals[key]:>9,}" for key in sorted(totals))
