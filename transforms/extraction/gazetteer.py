"""The actor gazetteer: every name by which news text refers to a state or organisation.

States come with names, abbreviations, demonyms, capitals and institution metonyms
("Pentagon", "Kremlin", "Self-Defense Forces", ship prefixes such as "HMS"); the
organisations that can act as a party (NATO, EU, UN, ...) and the people who speak for a
state (leaders, defence and foreign ministers) are separate files because they change at
different speeds. `non_actors.txt` lists phrases that contain a name but are not the
actor ("South China Sea", "Washington Post"); they block overlapping matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from transforms.extraction.resources import read_jsonl, read_lines

SOURCES = ("names", "demonyms", "capitals", "metonyms")
NON_ACTOR = "-"


@dataclass(frozen=True)
class Alias:
    """One surface form and the actor code it stands for."""

    text: str
    code: str
    source: str  # names | demonyms | capitals | metonyms | leaders | non_actor


def _expand(text: str) -> list[str]:
    """Surface variants of one alias: as written; in capitals for all-caps headlines
    ("JAPAN AND AUSTRALIA ..."); acronyms longer than three letters also in title case
    ("Nato")."""
    variants = [text]
    if text.isupper():
        if len(text) > 3 and " " not in text and text.isalpha():
            variants.append(text.title())
    elif len(text) > 3:
        variants.append(text.upper())
    return variants


def load_aliases(data_dir: str | Path | None = None) -> list[Alias]:
    """All aliases from the gazetteer files, in a stable order."""
    aliases: list[Alias] = []
    for filename in ("states.jsonl", "organisations.jsonl"):
        for record in read_jsonl(filename, data_dir):
            for source in SOURCES:
                for text in record.get(source, ()):
                    for variant in _expand(text):
                        aliases.append(Alias(variant, record["code"], source))
    for record in read_jsonl("leaders.jsonl", data_dir):
        for text in record["names"]:
            aliases.append(Alias(text, record["code"], "leaders"))
    for text in read_lines("non_actors.txt", data_dir):
        aliases.append(Alias(text, NON_ACTOR, "non_actor"))
    return aliases


def alias_index(aliases: Iterable[Alias]) -> dict[str, set[str]]:
    """surface text -> codes; more than one code means the alias is ambiguous."""
    index: dict[str, set[str]] = {}
    for alias in aliases:
        index.setdefault(alias.text, set()).add(alias.code)
    return index


def resolve(text: str, data_dir: str | Path | None = None) -> str | None:
    """The actor code of one exact surface form, or None (a convenience for tests and tools)."""
    codes = alias_index(load_aliases(data_dir)).get(text)
    if not codes or NON_ACTOR in codes or len(codes) != 1:
        return None
    return next(iter(codes))
