"""A tiny pattern language for the trigger and cue lexicons, compiled to spaCy Matcher patterns.

Why a language of our own: the lexicons are edited by analysts, not programmers, and a
line such as ``@SIGN ~4 @DEF ~2 @PACT`` is reviewable where the equivalent Matcher JSON
(dozens of dicts) is not. Syntax, one element per space-separated word:

- ``@CLASS``: any word of the named class (classes are lower-cased word lists);
- ``a|b|c``: any of these words (case-insensitive); classes may join in (``@SENDV|brings``);
- ``=Word`` or ``=A|=B``: exact, case-sensitive text;
- ``~N``: skip 0..N tokens of anything;
- a trailing ``?`` makes the element optional;
- `` ; `` separates whole alternative patterns ("in support of ; show of support").

spaCy's English tokenizer splits letter-hyphen-letter words ("co-develop" -> co - develop),
so hyphenated words are compiled into extra pattern variants that spell them token by token.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Mapping, Sequence

_HYPHEN_SPLIT = re.compile(r"(?<=[A-Za-z])-(?=[A-Za-z])")
MAX_VARIANTS = 64


class PatternError(ValueError):
    """A lexicon pattern that cannot be compiled; the message names the pattern."""


def _alternatives(element: str, classes: Mapping[str, Sequence[str]]) -> tuple[list[str], bool]:
    """The words an element stands for, and whether they are case-sensitive."""
    parts = element.split("|")
    exact = [p.startswith("=") for p in parts]
    if any(exact) and not all(exact):
        raise PatternError(f"mixes exact and case-insensitive words: {element!r}")
    if all(exact):
        return [p[1:] for p in parts], True
    words: list[str] = []
    for part in parts:
        if part.startswith("@"):
            if part[1:] not in classes:
                raise PatternError(f"unknown class {part}")
            words.extend(w.lower() for w in classes[part[1:]])
        else:
            words.append(part.lower())
    return words, False


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
    if " ; " in pattern:
        return [v for part in pattern.split(" ; ") for v in compile_pattern(part, classes)]
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


# --- The fast matcher -------------------------------------------------------------------
#
# spaCy's Matcher handles `{0,N}` wildcards by tracking every partial match at every
# token, which made the lexicons cost ~1.5 ms per item. Lexicon patterns are short and
# anchored by their first word, so a first-word index plus a tiny backtracking search
# finds the same matches for a few microseconds per item.


@dataclass(frozen=True)
class Element:
    """One pattern position: a set of words (single tokens or token sequences), or a gap."""

    singles: frozenset[str] = frozenset()
    sequences: tuple[tuple[str, ...], ...] = ()
    exact: bool = False
    optional: bool = False
    gap: int = -1  # >= 0 for "~N"


def _split_hyphens(word: str) -> tuple[str, ...]:
    return tuple(p for p in re.split(r"(-)", word) if p) if _HYPHEN_SPLIT.search(word) else (word,)


def parse_pattern(pattern: str, classes: Mapping[str, Sequence[str]]) -> list[tuple[Element, ...]]:
    """The pattern's alternatives as element tuples (the fast matcher's form)."""
    if " ; " in pattern:
        return [alt for part in pattern.split(" ; ") for alt in parse_pattern(part, classes)]
    elements: list[Element] = []
    for element in pattern.split():
        if re.fullmatch(r"~\d+", element):
            if int(element[1:]):
                elements.append(Element(gap=int(element[1:])))
            continue
        optional = element.endswith("?") and len(element) > 1
        if optional:
            element = element[:-1]
        words, exact = _alternatives(element, classes)
        pieces = [_split_hyphens(w) for w in words]
        elements.append(Element(
            singles=frozenset(p[0] for p in pieces if len(p) == 1),
            sequences=tuple(p for p in pieces if len(p) > 1),
            exact=exact,
            optional=optional,
        ))
    while elements and elements[0].gap >= 0:
        elements.pop(0)
    while elements and elements[-1].gap >= 0:
        elements.pop()
    if not elements:
        raise PatternError(f"pattern matches nothing: {pattern!r}")
    if elements[0].optional:  # index on a required first element: expand the optional one
        first = elements[0]
        with_first = (Element(first.singles, first.sequences, first.exact), *elements[1:])
        return [with_first] + parse_pattern_rest(elements[1:], pattern)
    return [tuple(elements)]


def parse_pattern_rest(elements: list[Element], pattern: str) -> list[tuple[Element, ...]]:
    while elements and elements[0].gap >= 0:
        elements = elements[1:]
    if not elements:
        raise PatternError(f"pattern may match nothing: {pattern!r}")
    return [tuple(elements)]


class FastMatcher:
    """Finds lexicon matches in a token list; returns (start, end, label_index) triples.

    Matches never cross a barrier token (the title/summary break, sentence-final
    punctuation); for each (rule, start) the shortest match is kept.
    """

    def __init__(self, key=None) -> None:
        # `key` maps a word to what the token lists hold (e.g. spaCy string hashes, so
        # the component can read tokens with one `doc.to_array` call).
        self.key = key or (lambda word: word)
        self.by_lower: dict = {}
        self.by_orth: dict = {}
        self.required: list[tuple[frozenset, ...]] = []
        self.alternatives: list[tuple[Element, ...]] = []

    def _keyed(self, element: Element) -> Element:
        if element.gap >= 0:
            return element
        return Element(
            singles=frozenset(self.key(w) for w in element.singles),
            sequences=tuple(tuple(self.key(w) for w in seq) for seq in element.sequences),
            exact=element.exact,
            optional=element.optional,
        )

    def add(self, label: int, alternatives: list[tuple[Element, ...]]) -> None:
        for alt in alternatives:
            alt = tuple(self._keyed(e) for e in alt)
            alt_id = len(self.alternatives)
            self.alternatives.append(alt)
            # Words that must all be present for this alternative to match at all: a
            # cheap set test before the search (one set per required element).
            self.required.append(tuple(
                frozenset(e.singles) | frozenset(seq[0] for seq in e.sequences)
                for e in alt[1:] if e.gap < 0 and not e.optional
            ))
            first = alt[0]
            index = self.by_orth if first.exact else self.by_lower
            for word in first.singles:
                index.setdefault(word, []).append((label, alt_id))
            for seq in first.sequences:
                index.setdefault(seq[0], []).append((label, alt_id))

    def __call__(self, lower: Sequence[str], orth: Sequence[str], barrier: Sequence[bool]) -> list[tuple[int, int, int]]:
        best: dict[tuple[int, int], int] = {}
        n = len(lower)
        present = set(lower)
        starts_lower = present.intersection(self.by_lower)
        present.update(orth)
        starts_orth = present.intersection(self.by_orth)
        if not starts_lower and not starts_orth:
            return []
        possible: dict = {}
        required = self.required
        alternatives = self.alternatives
        for index, tokens, starts in ((self.by_lower, lower, starts_lower), (self.by_orth, orth, starts_orth)):
            if not starts:
                continue
            for i in range(n):
                token = tokens[i]
                if token not in starts:
                    continue
                for label, alt_id in index[token]:
                    ok = possible.get(alt_id)
                    if ok is None:
                        ok = possible[alt_id] = all(not words.isdisjoint(present) for words in required[alt_id])
                    if not ok:
                        continue
                    end = _match(alternatives[alt_id], 0, i, lower, orth, barrier, n)
                    if end > i and end < best.get((label, i), n + 1):
                        best[(label, i)] = end
        return sorted((start, end, label) for (label, start), end in best.items())


def _element_ends(element: Element, i: int, lower: Sequence[str], orth: Sequence[str],
                  barrier: Sequence[bool], n: int) -> list[int]:
    if i >= n:
        return []
    # Barrier tokens ("?", the title/summary break) are matched only when asked for by
    # name; gaps never cross them (see _match).
    tokens = orth if element.exact else lower
    ends = [i + 1] if tokens[i] in element.singles else []
    for seq in element.sequences:
        k = len(seq)
        if i + k <= n and tuple(tokens[i : i + k]) == seq and not any(barrier[i + 1 : i + k]):
            ends.append(i + k)
    return ends


def _match(alt: tuple[Element, ...], k: int, i: int, lower: Sequence[str], orth: Sequence[str],
           barrier: Sequence[bool], n: int) -> int:
    """End of the shortest match of alt[k:] starting at token i, or -1."""
    if k == len(alt):
        return i
    element = alt[k]
    if element.gap >= 0:
        for skip in range(element.gap + 1):
            if skip and (i + skip - 1 >= n or barrier[i + skip - 1]):
                break
            end = _match(alt, k + 1, i + skip, lower, orth, barrier, n)
            if end >= 0:
                return end
        return -1
    for end in _element_ends(element, i, lower, orth, barrier, n):
        result = _match(alt, k + 1, end, lower, orth, barrier, n)
        if result >= 0:
            return result
    if element.optional:
        return _match(alt, k + 1, i, lower, orth, barrier, n)
    return -1
