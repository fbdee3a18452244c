"""A conforming example alert (shipped as `alert.v1.example.json`), for docs and tests.

Tests build variants from it (`example_alert(kind="new", ...)`) so that every test alert
starts valid and differs only where the test says.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from importlib import resources
from typing import Any

from transforms.alert_schema import SCHEMA_VERSION


@lru_cache(maxsize=1)
def _example() -> dict[str, Any]:
    text = resources.files("transforms.alert_schema").joinpath(f"alert.v{SCHEMA_VERSION}.example.json").read_text("utf-8")
    return json.loads(text)


def example_alert(**overrides: Any) -> dict[str, Any]:
    """A deep copy of the example alert with top-level fields replaced by `overrides`."""
    alert = copy.deepcopy(_example())
    alert.update(copy.deepcopy(overrides))
    return alert
