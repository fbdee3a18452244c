"""Load the list of feeds to poll: OPML (what feed readers export), YAML or JSON.

An analyst's existing feed-reader export should just work, so OPML outlines are walked
recursively and any outline with an `xmlUrl` is a feed. Errors name the file and the
entry so the user knows what to fix.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlsplit

import yaml

from connectors.fetch import UnsafeURLError, check_feed_url


class FeedListError(ValueError):
    """A feed list that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Feed:
    outlet: str
    url: str
    region: str = ""


def outlet_from_url(url: str) -> str:
    """A readable outlet id for feeds listed without one: the host without www."""
    host = (urlsplit(url).hostname or "feed").lower()
    host = re.sub(r"^(www|rss|feeds?)\.", "", host)
    return re.sub(r"[^a-z0-9]+", "-", host).strip("-") or "feed"


def _feed_from_entry(entry: Any, where: str) -> Feed:
    if isinstance(entry, str):
        entry = {"url": entry}
    if not isinstance(entry, dict):
        raise FeedListError(f"{where}: expected a URL or a mapping with 'url', got {type(entry).__name__}")
    url = entry.get("url") or entry.get("xmlUrl")
    if not url:
        raise FeedListError(f"{where}: entry has no 'url'")
    try:
        url = check_feed_url(str(url))
    except UnsafeURLError as exc:
        raise FeedListError(f"{where}: {exc}") from exc
    outlet = str(entry.get("outlet") or entry.get("name") or outlet_from_url(url)).strip()
    return Feed(outlet=outlet, url=url, region=str(entry.get("region", "")))


def _dedupe(feeds: Iterable[Feed], source: str) -> list[Feed]:
    seen: set[str] = set()
    result: list[Feed] = []
    for feed in feeds:
        if feed.url in seen:
            continue
        seen.add(feed.url)
        result.append(feed)
    if not result:
        raise FeedListError(f"{source}: no feeds found")
    return result


def parse_structured(data: Any, source: str) -> list[Feed]:
    """Feeds from decoded YAML/JSON: a list, or a mapping with a `feeds` list."""
    if isinstance(data, dict):
        data = data.get("feeds")
    if not isinstance(data, list):
        raise FeedListError(f"{source}: expected a list of feeds or a mapping with a 'feeds' list")
    return _dedupe((_feed_from_entry(e, f"{source} entry {i + 1}") for i, e in enumerate(data)), source)


def parse_opml(text: str, source: str) -> list[Feed]:
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise FeedListError(f"{source}: not valid OPML/XML: {exc}") from exc
    feeds = []
    for index, outline in enumerate(root.iter("outline")):
        if outline.get("xmlUrl"):
            feeds.append(
                _feed_from_entry(
                    {"url": outline.get("xmlUrl"), "outlet": outline.get("title") or outline.get("text")},
                    f"{source} outline {index + 1}",
                )
            )
    return _dedupe(feeds, source)


def load_feed_list(path: str | Path) -> list[Feed]:
    """Read a feed list file, choosing the format by content (OPML starts with '<')."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FeedListError(f"cannot read feed list {path}: {exc.strerror or exc}") from exc
    if text.lstrip().startswith("<"):
        return parse_opml(text, str(path))
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise FeedListError(f"{path}: not valid {path.suffix.lstrip('.').upper() or 'YAML'}: {exc}") from exc
    return parse_structured(data, str(path))


def default_feeds() -> list[Feed]:
    """The built-in list of world-news and defense-news feeds."""
    text = resources.files("connectors").joinpath("data/default_feeds.yaml").read_text(encoding="utf-8")
    return parse_structured(yaml.safe_load(text), "built-in feed list")
