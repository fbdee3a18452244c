"""Turn one fetched feed body into `FeedItem`s.

Pure: the live poller and batch replay both call `parse_feed` on raw bytes, so a snapshot
parsed in replay yields exactly the items the live monitor would have published. Broken
feeds (HTML error pages, truncated XML, empty bodies) are the norm in the wild: they give
a `ParsedFeed` with an `error` and whatever entries could be salvaged, never an exception.
"""

from __future__ import annotations

import calendar
import io
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

import feedparser

from transforms.model import FeedItem
from transforms.text import html_to_text

# A feed bigger than this is not a news feed; refuse it instead of parsing it.
MAX_FEED_BYTES = 10 * 1024 * 1024
MAX_TITLE_CHARS = 1_000
MAX_SUMMARY_CHARS = 5_000

@dataclass
class ParsedFeed:
    """What one feed body gave: its items, and why it was (partly) unusable, if it was."""

    items: list[FeedItem] = field(default_factory=list)
    error: str | None = None
    # Set when the body was broken (e.g. truncated XML) but entries could still be read.
    warning: str | None = None
    entries_skipped: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None


def _iso_from_struct(parsed: Any) -> str | None:
    if not parsed:
        return None
    try:
        # feedparser normalises every date to a UTC struct_time.
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc).isoformat(timespec="seconds")
    except (OverflowError, ValueError, TypeError):
        return None


def _published(entry: Mapping[str, Any]) -> str | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        iso = _iso_from_struct(entry.get(key))
        if iso:
            return iso
    raw = entry.get("published") or entry.get("updated")
    return str(raw) if raw else None


def _language(entry: Mapping[str, Any], feed_language: str | None) -> str | None:
    for key in ("title_detail", "summary_detail"):
        detail = entry.get(key) or {}
        if detail.get("language"):
            return str(detail["language"]).lower()
    return feed_language.lower() if feed_language else None


def _entry_key(entry: Mapping[str, Any], title: str) -> str:
    """What identifies an entry within its outlet: guid, else link, else title."""
    return str(entry.get("id") or entry.get("link") or title)


def parse_feed(
    body: bytes,
    *,
    outlet: str,
    fetched_at: str,
    feed_url: str = "",
    content_type: str | None = None,
) -> ParsedFeed:
    """Parse a feed body; never raises on bad input."""
    if not body or not body.strip():
        return ParsedFeed(error="empty body")
    if len(body) > MAX_FEED_BYTES:
        return ParsedFeed(error=f"body of {len(body)} bytes exceeds the {MAX_FEED_BYTES}-byte limit")
    headers = {"content-location": feed_url} if feed_url else {}
    if content_type:
        headers["content-type"] = content_type
    try:
        # A stream, never a str: feedparser would treat a str as a URL or path to open.
        parsed = feedparser.parse(io.BytesIO(body), response_headers=headers, sanitize_html=True)
    except Exception as exc:  # feedparser is defensive, but a parser bug must not stop a run
        return ParsedFeed(error=f"parser failure: {type(exc).__name__}: {exc}")

    result = ParsedFeed()
    feed_language = parsed.feed.get("language")
    for entry in parsed.entries:
        title = html_to_text(entry.get("title", ""))[:MAX_TITLE_CHARS]
        if not title:
            result.entries_skipped += 1
            continue
        summary = html_to_text(entry.get("summary", ""))[:MAX_SUMMARY_CHARS]
        result.items.append(
            FeedItem(
                item_id=FeedItem.make_id(outlet, _entry_key(entry, title)),
                outlet=outlet,
                title=title,
                summary=summary,
                link=str(entry.get("link", "")),
                published=_published(entry),
                first_seen=fetched_at,
                feed_url=feed_url,
                language=_language(entry, feed_language),
            )
        )
    exc = parsed.get("bozo_exception")
    if parsed.entries and parsed.get("bozo") and not isinstance(exc, feedparser.NonXMLContentType):
        result.warning = f"broken feed, {len(result.items)} entries salvaged: {type(exc).__name__}: {exc}"
    if not parsed.entries and not parsed.get("version"):
        # No entries and no RSS/Atom structure: an error page, garbage, or XML of another kind.
        # (A well-formed feed with no entries is fine, even when it came without a content type.)
        result.error = f"not a feed: {type(exc).__name__}: {exc}" if exc else "not a feed: no RSS/Atom structure found"
    return result
