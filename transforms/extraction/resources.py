"""Loading the data files shipped in `transforms/extraction/data/`.

Everything the rules know (gazetteers, lexicons, codes, calibration) lives in data files so
that analysts can review and extend it without touching code; this module is the only
place that knows their file names.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

DATA_DIR = Path(__file__).resolve().parent / "data"


def data_path(name: str, data_dir: str | Path | None = None) -> Path:
    return Path(data_dir) / name if data_dir else DATA_DIR / name


def read_json(name: str, data_dir: str | Path | None = None) -> Any:
    with data_path(name, data_dir).open(encoding="utf-8") as handle:
        return json.load(handle)


def read_jsonl(name: str, data_dir: str | Path | None = None) -> Iterator[dict]:
    with data_path(name, data_dir).open(encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if line:
                record = json.loads(line)
                if "_comment" not in record:
                    yield record


def read_lines(name: str, data_dir: str | Path | None = None) -> list[str]:
    """Non-empty, non-comment lines of a text file."""
    with data_path(name, data_dir).open(encoding="utf-8") as handle:
        return [ln.strip() for ln in handle if ln.strip() and not ln.lstrip().startswith("#")]


@lru_cache(maxsize=None)
def event_codes() -> dict[str, dict[str, str]]:
    """type -> {"cameo", "cameo_label", "plover", "why"} (see data/codes.json)."""
    return {k: v for k, v in read_json("codes.json").items() if not k.startswith("_")}
