"""Text fingerprints for clustering: word features for "same story?", character shingles for "same text?".

Two questions are asked of an item's text and they need different features:

* Is this the same *story* told in other words? Outlets paraphrase, so we compare sets of
  crudely stemmed content words (title plus the summary's opening) with `blend`, the mean
  of the overlap coefficient and Jaccard.
* Is this the same *text* (a wire story re-published, an outlet re-posting its own item)?
  Copies share long character runs, so we compare character 5-gram shingles with Jaccard,
  estimated from a 64-value MinHash signature packed into 256 bytes.

Words are kept as a frozenset of 32-bit hashes (fast intersections); MinHash values of the
words also serve as LSH band keys for finding candidate clusters.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from typing import Collection, Sequence

import numpy as np

# Words that carry no information about *which* defense story an item tells: function words,
# newsroom filler, and vocabulary shared by every item in this domain.
STOPWORDS: frozenset[str] = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers him his how i if in into is it its itself just
    me more most my no nor not now of off on once only or other our out over own same she should
    so some such than that the their them then there these they this those through to too under
    until up very was we were what when where which while who whom why will with would you your
    said says say saying told tells according report reports reported new news latest live video
    watch update updated breaking amid after year years day days week weeks monday tuesday
    wednesday thursday friday saturday sunday today yesterday tomorrow am pm mr mrs ms
    subscribe http https www com
    """.split()
)

_WORD = re.compile(r"[^\W_]+(?:[.,'’][^\W_]+)*", re.UNICODE)
_STEM_LENGTH = 6
_SUMMARY_CHARS = 400
_SHINGLE = 5


def normalise(text: str) -> str:
    """Lower-case, strip accents, collapse whitespace: the form both feature kinds start from."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.lower().split())


def _hash(token: str) -> int:
    return zlib.crc32(token.encode("utf-8"))


def story_text(title: str, summary: str) -> str:
    """The text an item is compared by: its title and the opening of its summary (the lede)."""
    return f"{title or ''} . {(summary or '')[:_SUMMARY_CHARS]}"


def words(text: str) -> list[str]:
    """Content words, crudely stemmed by truncation (troops/troop, withdraw/withdrawing)."""
    out = []
    for match in _WORD.finditer(normalise(text)):
        word = match.group(0).replace(",", "").replace("'", "").replace("’", "").replace(".", "")
        if len(word) < 2 or word in STOPWORDS:
            continue
        out.append(word[:_STEM_LENGTH])
    return out


def word_features(title: str, summary: str) -> tuple[int, ...]:
    """Sorted hashes of an item's distinct content words (the paraphrase-tolerant fingerprint)."""
    return tuple(sorted({_hash(w) for w in words(story_text(title, summary))}))


def shingle_features(title: str, summary: str) -> tuple[int, ...]:
    """Sorted hashes of character 5-grams of the normalised text (the copy fingerprint)."""
    text = normalise(f"{title or ''} {summary or ''}")
    text = re.sub(r"[^\w ]+", "", text)
    if len(text) <= _SHINGLE:
        return (_hash(text),) if text else ()
    return tuple(sorted({_hash(text[i : i + _SHINGLE]) for i in range(len(text) - _SHINGLE + 1)}))


def _intersection_size(a: Collection[int], b: Collection[int]) -> int:
    if isinstance(a, (set, frozenset)) and isinstance(b, (set, frozenset)):
        return len(a & b)
    if len(a) > len(b):
        a, b = b, a
    bs = b if isinstance(b, (set, frozenset)) else set(b)
    return sum(1 for x in a if x in bs)


def overlap(a: Collection[int], b: Collection[int]) -> float:
    """Overlap coefficient |A∩B| / min(|A|,|B|): 1.0 when one text's words all occur in the other."""
    if not a or not b:
        return 0.0
    return _intersection_size(a, b) / min(len(a), len(b))


def jaccard(a: Collection[int], b: Collection[int]) -> float:
    """Jaccard similarity |A∩B| / |A∪B| of two feature sets."""
    if not a or not b:
        return 0.0
    inter = _intersection_size(a, b)
    return inter / (len(a) + len(b) - inter)


def blend(a: Collection[int], b: Collection[int]) -> float:
    """The story similarity used for joining: mean of overlap and Jaccard.

    Overlap alone over-rewards a three-word title contained in a long lede; Jaccard alone
    under-rewards a title-only item against a full summary. On the dev labels' same-key
    pairs (24 same-event, 933 different-event) all three rank nearly alike (AUC 0.985 to
    0.988); the mean is kept for its tolerance of uneven lengths.
    """
    if not a or not b:
        return 0.0
    inter = _intersection_size(a, b)
    return 0.5 * (inter / min(len(a), len(b)) + inter / (len(a) + len(b) - inter))


_PRIME = (1 << 31) - 1  # Mersenne prime: a, x < p keep (a*x + b) below 2**62, exact in uint64
_rng = np.random.default_rng(20201231)
_A = _rng.integers(1, _PRIME, size=256, dtype=np.uint64)
_B = _rng.integers(0, _PRIME, size=256, dtype=np.uint64)


def minhash(features: Sequence[int], size: int) -> tuple[int, ...]:
    """MinHash signature of a set of 32-bit feature hashes (`size` <= 256 universal hashes).

    A small own MinHash (numpy, one vectorised pass) rather than a dependency: the
    fraction of equal positions of two signatures estimates their Jaccard similarity.
    Each hash is (a*x + b) mod p with p = 2**31 - 1 and x, a, b < p, the classic universal
    family: the product must be reduced modulo a prime well below its range, or the
    "permutations" stay nearly monotone in x and the minimum is always the smallest x.
    """
    if not features:
        return ()
    x = np.fromiter(features, dtype=np.uint64, count=len(features)) % np.uint64(_PRIME)
    values = (x[:, None] * _A[None, :size] + _B[None, :size]) % np.uint64(_PRIME)
    return tuple(int(v) for v in values.min(axis=0))


def signature_bytes(signature: Sequence[int]) -> bytes:
    """A signature packed as 4 bytes per value: 256 bytes for 64 values, in memory and in state."""
    return np.asarray(signature, dtype=np.uint32).tobytes()


def signature_similarity(a: Sequence[int] | bytes, b: Sequence[int] | bytes) -> float:
    """Estimated Jaccard similarity of two MinHash signatures (tuples or packed bytes) of one size."""
    if not a or not b or len(a) != len(b):
        return 0.0
    if isinstance(a, bytes) and isinstance(b, bytes):
        x, y = np.frombuffer(a, dtype=np.uint32), np.frombuffer(b, dtype=np.uint32)
        return float(np.count_nonzero(x == y)) / len(x)
    return sum(1 for x, y in zip(a, b) if x == y) / len(a)
