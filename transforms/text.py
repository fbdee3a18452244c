"""Plain text from the HTML fragments feeds carry: one function for the poller, replay and
extraction, so every stage reads an item the same way.

Only markup that looks like a tag (`<` then a letter, `/`, `!` or `?`) is dropped, so text
that is already plain keeps its comparisons ("range <500 km, not >300 km") when it is
cleaned again. Entities are decoded each time: feeds that escape twice ("AT&amp;amp;T")
are common, and a second decode gives what their writers meant.
"""

from __future__ import annotations

import html
import re

_TAG = re.compile(r"<[A-Za-z/!?][^>]{0,2000}>")
_SPACE = re.compile(r"\s+")
_BLOCK_TAGS = re.compile(r"</?(p|br|div|li|ul|ol|h[1-6]|tr|td|blockquote)\b[^>]{0,2000}>", re.I)
_SCRIPTS = re.compile(r"<(script|style)\b.*?</\1\s*>", re.I | re.S)


def html_to_text(value: str | None) -> str:
    """One line of plain text: scripts and tags dropped, blocks spaced, entities decoded."""
    if not value:
        return ""
    if "<" in value:
        value = _SCRIPTS.sub(" ", value)
        value = _BLOCK_TAGS.sub(" ", value)
        value = _TAG.sub("", value)
    if "&" in value:
        value = html.unescape(value)
    return _SPACE.sub(" ", value).strip()
