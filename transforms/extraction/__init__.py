"""Defense-cooperation event extraction (spaCy components + data-driven gazetteers and lexicons).

    from transforms.extraction import Extractor, extract_events
    extract_events("Japan and Australia sign defense pact", "")
"""

from transforms.extraction.extractor import Extractor, extract_events, item_text
from transforms.extraction.language import SUPPORTED as SUPPORTED_LANGUAGES

__all__ = ["Extractor", "extract_events", "item_text", "SUPPORTED_LANGUAGES"]
