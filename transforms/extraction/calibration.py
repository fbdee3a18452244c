"""Mapping a rule score to a calibrated confidence.

The assembler's score orders candidates but is not a probability. `data/calibration.json`
holds a monotone piecewise-linear map from score to the observed precision of extracted
events, fitted on the *tune* split of the dev labels by `fit_calibration` (isotonic
regression by pool-adjacent-violators over score bins); `tests/test_extraction_calibration.py`
checks the map is monotone and inside [0, 1].
"""

from __future__ import annotations

import bisect
from typing import Sequence

from transforms.extraction.resources import read_json


class Calibrator:
    """Monotone piecewise-linear score -> probability map."""

    def __init__(self, points: Sequence[Sequence[float]]):
        if not points:
            raise ValueError("calibration needs at least one point")
        ordered = sorted((float(x), float(y)) for x, y in points)
        self.xs = [x for x, _ in ordered]
        self.ys = [min(1.0, max(0.0, y)) for _, y in ordered]

    @classmethod
    def load(cls, name: str = "calibration.json") -> "Calibrator":
        return cls(read_json(name)["points"])

    def __call__(self, score: float) -> float:
        xs, ys = self.xs, self.ys
        if score <= xs[0]:
            return ys[0]
        if score >= xs[-1]:
            return ys[-1]
        j = bisect.bisect_right(xs, score)
        x0, x1, y0, y1 = xs[j - 1], xs[j], ys[j - 1], ys[j]
        return y0 if x1 == x0 else y0 + (y1 - y0) * (score - x0) / (x1 - x0)


def fit_calibration(scores: Sequence[float], correct: Sequence[bool], bins: int = 6) -> list[list[float]]:
    """Isotonic (pool-adjacent-violators) fit of correctness on score, returned as points.

    Bins hold equal counts; each bin's point is (mean score, precision), with Laplace
    smoothing so a small bin never claims 0 or 1.
    """
    pairs = sorted(zip(scores, correct))
    if not pairs:
        return [[0.0, 0.5], [1.0, 0.5]]
    size = max(1, len(pairs) // bins)
    blocks: list[list[float]] = []  # [sum_score, sum_correct, n]
    for k in range(0, len(pairs), size):
        chunk = pairs[k : k + size]
        blocks.append([sum(s for s, _ in chunk), sum(1 for _, c in chunk if c), len(chunk)])
    merged: list[list[float]] = []
    for block in blocks:
        merged.append(block)
        while len(merged) > 1 and (merged[-2][1] + 1) / (merged[-2][2] + 2) > (merged[-1][1] + 1) / (merged[-1][2] + 2):
            b = merged.pop()
            merged[-1] = [merged[-1][0] + b[0], merged[-1][1] + b[1], merged[-1][2] + b[2]]
    return [[round(s / n, 4), round((c + 1) / (n + 2), 4)] for s, c, n in merged]
