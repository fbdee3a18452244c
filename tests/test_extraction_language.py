"""The language guard: English items are coded, others are recognised and yield no events."""

from __future__ import annotations

import pytest

from transforms.extraction import Extractor
from transforms.extraction.language import detect_language


@pytest.mark.parametrize(
    "text, expected",
    [
        ("US and Japan hold joint drills in the Pacific amid tensions with China", "en"),
        ("Greece-Turkey tension", "en"),  # no function words at all: English by default
        ("Kung ang pagsasamahan natin ng Vietnam ay ang common enforcement, maganda 'yan. Talagang ginagawa 'yan", "tl"),
        ("El gobierno de España anunció que las tropas se retirarán de la región", "es"),
        ("Le gouvernement a annoncé que les troupes seront retirées de la région", "fr"),
        ("Die Bundesregierung hat angekündigt, dass die Truppen aus der Region abgezogen werden", "de"),
        ("中国和俄罗斯举行联合军事演习", "zh"),
        ("Россия и Китай провели совместные военные учения", "ru"),
        ("الولايات المتحدة والسعودية توقعان صفقة أسلحة", "ar"),
        ("", "en"),
    ],
)
def test_detect_language(text, expected):
    assert detect_language(text) == expected


def test_pipeline_guard_agrees_with_text_detector():
    extractor = Extractor()
    for text in ["Japan and Australia sign defence pact", "Ang mga sundalo ay nasa kampo ng mga ito at hindi pa umaalis"]:
        assert extractor.analyse(text, "")._.language == detect_language(text)


def test_non_english_items_yield_no_events():
    extractor = Extractor()
    title = "Rusia y China firman un acuerdo de defensa"
    summary = "El acuerdo de defensa entre Rusia y China fue firmado por los ministros de las dos naciones."
    assert extractor.language(title, summary) == "es"
    assert extractor.extract(title, summary) == []
