"""`Extractor`: the extraction pipeline behind one object, loaded once per process or worker."""

from __future__ import annotations

from functools import lru_cache
from typing import Iterable, Iterator

import spacy
from spacy.attrs import IDS
from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex

from transforms.extraction import components  # noqa: F401  (registers the factories)
from transforms.extraction.language import detect_language
from transforms.model import CooperationEvent
from transforms.text import html_to_text

MAX_SUMMARY_CHARS = 1200

# Feed items arrive as plain text already; `extract` and the evaluation read raw files,
# so the extractor cleans again with the same function (a second pass keeps plain text intact).
clean = html_to_text


def item_text(title: str | None, summary: str | None) -> str:
    """The text the pipeline reads: the title, a blank line, then the (bounded) summary."""
    return f"{clean(title)}\n\n{clean(summary)[:MAX_SUMMARY_CHARS]}"


# A headline tokenizer: English tokenizer exceptions ("U.S.", "Mr.", "don't") with small
# affix rules. spaCy's full English affix regexes cover far more (emoticons, units,
# currencies in every script) and cost a third of the pipeline's time; news headlines
# and summaries need only these.
PREFIXES = [r"""^[\["'(“‘«¡¿$£€¥#@*~]"""]
SUFFIXES = [
    r"""[\]"'),;:!?”’»*]$""",
    r"(?<![A-Z])\.$",  # a full stop, but not after an initial ("N. Korea")
    r"(?<=[A-Z][A-Z])\.$",  # "... to the UK."
    r"\.\.\.$",
    r"(?<=\w)['’]s$",
    r"(?<=\w)s['’]$",
    r"(?<=[0-9])%$",
]
INFIXES = [
    r"(?<=[A-Za-z])-(?=[A-Za-z])",  # co-develop -> co - develop (as spaCy's English does)
    r"(?<=[A-Z]\.)-(?=[A-Za-z])",  # U.S.-South Korea
    r"(?<=[A-Za-z0-9])[/—–](?=[A-Za-z0-9])",
    r"(?<=[a-z])[,;:](?=[A-Za-z])",
    r"(?<=[A-Za-z])\.\.\.+(?=[A-Za-z])",
    r"(?<=[a-z])\.(?=[A-Z][a-z])",  # "ended.The" glued sentences
]


# Lexeme attributes the components read. spaCy computes every getter for each new word it
# meets (shape, like_num, like_url, ...), which is most of the cost of a word seen for the
# first time; the rules read only these.
KEPT_LEXEME_ATTRS = ("LOWER", "NORM", "IS_ASCII", "IS_SPACE", "IS_PUNCT", "IS_ALPHA", "IS_DIGIT",
                     "IS_TITLE", "IS_UPPER", "IS_LOWER", "LANG")


def _slim_lexeme_attributes(nlp: Language) -> None:
    keep = {IDS[name] for name in KEPT_LEXEME_ATTRS}
    getters = nlp.vocab.lex_attr_getters
    nlp.vocab.lex_attr_getters = {k: v for k, v in getters.items() if k in keep}


def headline_tokenizer(nlp: Language) -> Tokenizer:
    return Tokenizer(
        nlp.vocab,
        rules=nlp.Defaults.tokenizer_exceptions,
        prefix_search=compile_prefix_regex(PREFIXES).search,
        suffix_search=compile_suffix_regex(SUFFIXES).search,
        infix_finditer=compile_infix_regex(INFIXES).finditer,
    )


def build_pipeline(spacy_model: str | None = None) -> Language:
    """spaCy pipeline with the allywatch components appended.

    The default is `spacy.blank("en")`: no trained pipeline is needed. With a trained
    pipeline its own components run first (their output is on the Doc for anyone who
    wants it) on the same tokens, and events are decided by the same data-driven
    components; the only thing it adds is its PERSON entities vetoing state names that are
    also people's names ("Chad Smith"), so it cannot make the default worse elsewhere.
    """
    if spacy_model:
        nlp = spacy.load(spacy_model)
        # Same tokenisation as the default, so gazetteer and lexicon matches are the same;
        # the trained components keep their lexeme features (no slimming here).
        nlp.tokenizer = headline_tokenizer(nlp)
    else:
        nlp = spacy.blank("en")
        _slim_lexeme_attributes(nlp)
        nlp.tokenizer = headline_tokenizer(nlp)
    nlp.add_pipe("allywatch_language")
    nlp.add_pipe("allywatch_actors")
    nlp.add_pipe("allywatch_patterns", name="allywatch_triggers")
    nlp.add_pipe(
        "allywatch_patterns",
        name="allywatch_cues",
        config={"lexicon": "cues.json", "target": "cues", "label_field": "kind", "skip_unless": "triggers"},
    )
    nlp.add_pipe("allywatch_events")
    return nlp


class Extractor:
    """Finds defense-cooperation events in an item's title and summary.

    Build one per process (or per Beam worker in `setup()`): loading compiles the
    gazetteer and lexicons (about 0.3 s); extraction is then a fraction of a millisecond
    per item.
    """

    def __init__(self, spacy_model: str | None = None, batch_size: int = 256):
        self.spacy_model = spacy_model
        self.batch_size = batch_size
        self.nlp = build_pipeline(spacy_model)

    def extract(self, title: str, summary: str) -> list[CooperationEvent]:
        """Events reported by one item ([] for none, and for items not in English)."""
        return list(self.nlp(item_text(title, summary))._.cooperation_events)

    def extract_with_language(self, title: str, summary: str) -> tuple[str, list[CooperationEvent]]:
        """(language, events) in one pass: what a caller that counts non-English items needs."""
        doc = self.nlp(item_text(title, summary))
        return doc._.language or "en", list(doc._.cooperation_events)

    def extract_many(self, pairs: Iterable[tuple[str, str]]) -> Iterator[list[CooperationEvent]]:
        """Events per (title, summary) pair, in order, batched through `nlp.pipe`."""
        texts = (item_text(title, summary) for title, summary in pairs)
        for doc in self.nlp.pipe(texts, batch_size=self.batch_size):
            yield list(doc._.cooperation_events)

    def analyse(self, title: str, summary: str) -> Doc:
        """The full Doc (actors, triggers, cues, candidates) for debugging and evaluation."""
        return self.nlp(item_text(title, summary))

    @staticmethod
    def language(title: str, summary: str) -> str:
        """ISO 639-1 code of the item's language; only "en" items are coded."""
        return detect_language(f"{clean(title)} {clean(summary)[:MAX_SUMMARY_CHARS]}")


@lru_cache(maxsize=1)
def default_extractor() -> Extractor:
    return Extractor()


def extract_events(title: str, summary: str) -> list[CooperationEvent]:
    """Convenience: extraction with a cached default `Extractor`."""
    return default_extractor().extract(title, summary)
