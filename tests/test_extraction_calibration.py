"""Confidence calibration: monotone, bounded, and fitted by isotonic regression."""

from __future__ import annotations

from transforms.extraction.calibration import Calibrator, fit_calibration


def test_shipped_calibration_is_monotone_and_bounded():
    calibrate = Calibrator.load()
    values = [calibrate(x / 100) for x in range(0, 121)]
    assert all(0.0 <= v <= 1.0 for v in values)
    assert all(a <= b + 1e-12 for a, b in zip(values, values[1:]))


def test_interpolation_and_clamping():
    calibrate = Calibrator([[0.5, 0.2], [1.0, 0.8]])
    assert calibrate(0.0) == 0.2 and calibrate(2.0) == 0.8
    assert abs(calibrate(0.75) - 0.5) < 1e-9


def test_fit_is_isotonic():
    scores = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 0.99]
    correct = [False, True, False, False, True, False, True, True, True, True, True, True]
    points = fit_calibration(scores, correct, bins=4)
    ys = [y for _, y in points]
    assert ys == sorted(ys)
    assert all(0.0 < y < 1.0 for y in ys)
