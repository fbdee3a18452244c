"""A tiny pattern language for the trigger and cue lexicons, compiled to spaCy Matcher patterns.

Why a language of our own: the lexicons are edited by analysts, not programmers, and a
line such as ``@SIGN ~4 @DEF ~2 @PACT`` is reviewable where the equivalent Matcher JSON
(dozens of dicts) is not. Syntax, one element per space-separated word:

- ``@CLASS``: any word of the named class (classes are lower-cased word lists);
- ``a|b|c``: any of these words (case-insensitive);
- ``=Word`` or ``=A|=B``: exact, case-sensitive text;
- ``~N``: skip 0..N tokens of anything;
- a trailing ``?`` makes the element optional.

spaCy's English tokenizer splits letter-hyphen-letter words ("co-develop" -> co - develop),
so hyphenated words are compiled into extra pattern variants that spell them token by token.
"""

from __future__ import annotations

import itertools
import re
from typing import Mapping, Sequence

_HYPHEN_SPLIT = re.compile(r"(?<=[A-Za-z])-(?=[A-Za-z])")
MAX_VARIANTS = 64


class PatternError(ValueError):
    """A lexicon pattern that cannot be compiled; the message names the pattern."""


def _alternatives(element: str, classes: Mapping[str, Sequence[str]]) -> tuple[list[str], bool]:
    """The words an element stands for, and whether they are case-sensitive."""
    if element.startswith("@"):
        name = element[1:]
        if name not in classes:
            raise PatternError(f"unknown class @{name}")
        return [w.lower() for w in classes[name]], False
    parts = element.split("|")
    exact = [p.startswith("=") for p in parts]
    if any(exact) and not all(exact):
        raise PatternError(f"mixes exact and case-insensitive words: {element!r}")
    if all(exact):
        return [p[1:] for p in parts], True
    return [p.lower() for p in parts], False


def _token_specs(words: list[str], exact: bool, optional: bool) -> list[list[dict]]:
    """Variants for one element: the single-token words together, each hyphenated word apart."""
    attr = "ORTH" if exact else "LOWER"
    plain = [w for w in words if not _HYPHEN_SPLIT.search(w)]
    hyphenated = [w for w in words if _HYPHEN_SPLIT.search(w)]
    variants: list[list[dict]] = []
    if plain:
        spec: dict = {attr: {"IN": sorted(set(plain))}}
        if optional:
            spec["OP"] = "?"
        variants.append([spec])
    for word in hyphenated:
        pieces = [p for p in re.split(r"(-)", word) if p]
        variants.append([{attr: piece} for piece in pieces])
    if optional:
        variants.append([])
    return variants


def compile_pattern(pattern: str, classes: Mapping[str, Sequence[str]]) -> list[list[dict]]:
    """Compile one pattern string into one or more spaCy Matcher token patterns."""
    elements = pattern.split()
    if not elements:
        raise PatternError("empty pattern")
    per_element: list[list[list[dict]]] = []
    for element in elements:
        if re.fullmatch(r"~\d+", element):
            n = int(element[1:])
            if n:
                per_element.append([[{"OP": f"{{0,{n}}}"}]])
            continue
        optional = element.endswith("?") and len(element) > 1
        if optional:
            element = element[:-1]
        words, exact = _alternatives(element, classes)
        per_element.append(_token_specs(words, exact, optional))
    variants: list[list[dict]] = []
    for combo in itertools.product(*per_element):
        tokens = [spec for part in combo for spec in part]
        if tokens and not all(set(t) == {"OP"} for t in tokens):
            variants.append(tokens)
        if len(variants) >= MAX_VARIANTS:
            break
    if not variants:
        raise PatternError(f"pattern matches nothing: {pattern!r}")
    # A pattern may not start or end with a wildcard: spaCy would stretch the span.
    return [_trim_wildcards(v) for v in variants]


def _trim_wildcards(tokens: list[dict]) -> list[dict]:
    start, end = 0, len(tokens)
    while start < end and set(tokens[start]) == {"OP"}:
        start += 1
    while end > start and set(tokens[end - 1]) == {"OP"}:
        end -= 1
    return tokens[start:end]


def words_of(class_names: Sequence[str], classes: Mapping[str, Sequence[str]]) -> frozenset[str]:
    """All words of the named classes, lower-cased (for sentence-level `require` checks)."""
    out: set[str] = set()
    for name in class_names:
        out.update(w.lower() for w in classes[name])
    return frozenset(out)
