"""A small, fast language guard: is this item English?

The extraction rules are English-only, so items in other languages must be recognised and
counted rather than mis-coded. Feed items are short (a headline and a sentence or two), so a
function-word vote plus a script check is as accurate as a statistical detector here and
costs microseconds; no extra dependency is needed.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from transforms.extraction.resources import read_json

_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_LATIN = re.compile(r"[A-Za-z\u00C0-\u024F]")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)
SUPPORTED = ("en",)

# Non-Latin scripts and the language we report for them (a script is not a language, but
# for routing "not English" that is all that matters).
_SCRIPTS = {
    "CJK": "zh", "HIRAGANA": "ja", "KATAKANA": "ja", "HANGUL": "ko", "ARABIC": "ar",
    "CYRILLIC": "ru", "DEVANAGARI": "hi", "THAI": "th", "HEBREW": "he", "GREEK": "el",
    "BENGALI": "bn", "TAMIL": "ta", "GEORGIAN": "ka", "ARMENIAN": "hy",
}


@lru_cache(maxsize=1)
def _stopwords() -> dict[str, frozenset[str]]:
    data = read_json("stopwords.json")
    return {lang: frozenset(words) for lang, words in data.items() if not lang.startswith("_")}


def _script_language(text: str) -> str | None:
    """The language of a mostly non-Latin text, or None when it is mostly Latin script."""
    if text.isascii():
        return None
    letters_all = len(_LETTER.findall(text))
    if not letters_all or len(_LATIN.findall(text)) / letters_all > 0.7:
        return None
    counts: dict[str, int] = {}
    letters = 0
    for char in text:
        if not char.isalpha():
            continue
        letters += 1
        if ord(char) < 0x250:  # Basic Latin .. Latin Extended-B
            continue
        name = unicodedata.name(char, "")
        for script, lang in _SCRIPTS.items():
            if name.startswith(script):
                counts[lang] = counts.get(lang, 0) + 1
                break
    if not letters:
        return None
    lang, count = max(counts.items(), key=lambda kv: kv[1], default=(None, 0))
    return lang if count / letters > 0.3 else None


@lru_cache(maxsize=1)
def word_languages() -> dict[str, tuple[str, ...]]:
    """word -> languages it is a function word of (one lookup per word instead of one per language)."""
    table: dict[str, list[str]] = {}
    for lang, words in _stopwords().items():
        for word in words:
            table.setdefault(word, []).append(lang)
    return {word: tuple(langs) for word, langs in table.items()}


def vote(words, table: dict | None = None) -> str:
    """The language function words vote for ("en" unless another has clear evidence).

    `table` maps a word (or its spaCy hash, for the pipeline component) to its languages;
    by default the word table."""
    table = word_languages() if table is None else table
    votes: dict[str, int] = {}
    for word in words:
        langs = table.get(word)
        if langs:
            for lang in langs:
                votes[lang] = votes.get(lang, 0) + 1
    english = votes.pop("en", 0)
    if not votes:
        return "en"
    other, count = max(votes.items(), key=lambda kv: kv[1])
    # Another language wins only with clear evidence: short English headlines often have
    # no function words at all, and single shared words prove nothing.
    if count >= 2 and count > english * 1.2:
        return other
    return "en"


def script_language(text: str) -> str | None:
    """Public form of the script check, for callers that vote on tokens themselves."""
    return _script_language(text)


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language ("en" when in doubt about a Latin-script text)."""
    if not text or not text.strip():
        return "en"
    script = _script_language(text)
    if script:
        return script
    return vote(w.lower() for w in _WORD.findall(text))


def is_supported(lang: str) -> bool:
    return lang in SUPPORTED
