"""CAMEO / PLOVER codes per event type come from the documented mapping (data/codes.json)."""

from __future__ import annotations

import re

from transforms.extraction import Extractor
from transforms.extraction.resources import event_codes
from transforms.model import EVENT_TYPES

PLOVER_TYPES = {"AGREE", "CONSULT", "COOPERATE", "AID", "RETREAT", "SANCTION", "SUPPORT", "CONCEDE"}


def test_every_event_type_has_codes():
    codes = event_codes()
    assert set(codes) == set(EVENT_TYPES)
    for etype, mapping in codes.items():
        assert re.fullmatch(r"\d{3,4}", mapping["cameo"]), etype
        assert mapping["plover"].split(":")[0] in PLOVER_TYPES, etype
        assert mapping["cameo_label"] and mapping["why"]


def test_specific_codes():
    codes = event_codes()
    assert codes["agreement"]["cameo"] == "057"
    assert codes["military_aid"]["cameo"] == "072"
    assert codes["dialogue"]["plover"] == "CONSULT"
    assert (codes["setback"]["cameo"], codes["setback"]["plover"]) == ("1622", "SANCTION:military")
    assert codes["agreement"]["plover"] == "SUPPORT:military"  # CAMEO2PLOVER: 057 -> SUPPORT


def test_extracted_events_carry_the_mapped_codes():
    extractor = Extractor()
    for title in ["US to withdraw troops from Germany", "Germany pledges military aid to Ukraine",
                  "Japan and Australia sign defence pact"]:
        (event,) = extractor.extract(title, "")
        assert (event.cameo, event.plover) == (event_codes()[event.type]["cameo"], event_codes()[event.type]["plover"])
