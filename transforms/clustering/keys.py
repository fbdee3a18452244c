"""Which state key an event lives under: its anchor partner.

Clustering is stateful, so every report of one real event must reach the same key, while
keys must be many so that Dataflow spreads the work. Keying by the full partner set or by
the event type would split one event whenever outlets (or the extractor) disagree on a
partner or a type: one report says ['PHL'], another ['KOR', 'PHL']; one says ['USA'],
another ['RUS', 'USA']. The partner every report of an event does name is, in practice,
its most prominent party (the US in "US says pulling out of Open Skies"), so the key is
that one partner: the highest-ranked by a fixed prominence order, then alphabetical.

The key is type-agnostic (a pact and a suspension of it meet on one key and the type
rules decide), and the cost is load skew: the US key sees every event the US is party to.
That key's per-item cost does not grow with its number of clusters (see
`tests/benchmarks/bench_clustering.py`) and all other partners spread across workers.
"""

from __future__ import annotations

from typing import Iterable

# The actors defense news names most prominently, most prominent first. Partners not listed
# rank after these, alphabetically. Changing this order re-keys state: drain the pipeline first.
PROMINENCE: tuple[str, ...] = (
    "USA",
    "RUS",
    "CHN",
    "GBR",
    "FRA",
    "NATO",
    "UN",
    "EU",
    "DEU",
    "JPN",
    "IND",
    "TUR",
    "ISR",
    "IRN",
    "AUS",
    "KOR",
    "PRK",
)
_RANK = {code: rank for rank, code in enumerate(PROMINENCE)}


def anchor_partner(partners: Iterable[str]) -> str | None:
    """The state key of an event with these partners; None when there are none."""
    codes = [p.strip().upper() for p in partners if p and p.strip()]
    if not codes:
        return None
    return min(codes, key=lambda code: (_RANK.get(code, len(_RANK)), code))
