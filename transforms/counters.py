"""Stage counters: Beam metrics, plus a process-local tally the local streaming runner needs.

Every drop or skip in allywatch is counted so the run summary can account for it. On
Dataflow and in batch (FnApiRunner) Beam's metrics are right. On the local streaming
runner (BundleBasedDirectRunner, Beam 2.77) they are not: its StateSampler caches each
step's scoped state together with the MetricsContainer of the step's *first* bundle, so
increments made in later bundles land in that stale container and are never committed;
`result.metrics()` then reports only the first bundle (measured: 10 of 200 messages). The
local runner executes DoFns in this process, so a process-local tally kept beside the Beam
counter gives `allywatch run` a correct summary. Use `stage_counter` wherever a DoFn counts.
"""

from __future__ import annotations

import threading
from collections import Counter

from apache_beam.metrics import Metrics

_LOCK = threading.Lock()
_LOCAL: Counter[str] = Counter()


class StageCounter:
    """A Beam counter that also adds to this process's tally."""

    def __init__(self, namespace: str, name: str):
        self.key = f"{namespace}/{name}"
        self._beam = Metrics.counter(namespace, name)

    def inc(self, n: int = 1) -> None:
        self._beam.inc(n)
        with _LOCK:
            _LOCAL[self.key] += n


def stage_counter(namespace: str, name: str) -> StageCounter:
    return StageCounter(namespace, name)


def local_totals() -> dict[str, int]:
    """A snapshot of this process's tally (`namespace/name` -> total since start)."""
    with _LOCK:
        return dict(_LOCAL)


def totals_since(before: dict[str, int]) -> dict[str, int]:
    """What was counted after `before` was taken: one run's counters in a long-lived process."""
    now = local_totals()
    return {key: value - before.get(key, 0) for key, value in now.items() if value - before.get(key, 0)}
