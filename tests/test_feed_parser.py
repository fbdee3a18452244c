"""The feed connector maps feedparser's view of a feed to FeedItems and survives bad input."""

from __future__ import annotations

import io
from pathlib import Path

import feedparser
import pytest

from connectors.feed_parser import MAX_FEED_BYTES, parse_feed
from transforms.text import html_to_text
from transforms.model import FeedItem

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"
FETCHED = "2020-07-08T10:05:00+00:00"


def test_atom_entry_is_mapped_with_plain_text_and_utc_dates():
    parsed = parse_feed((FIXTURES / "atom_sample.xml").read_bytes(), outlet="b", fetched_at=FETCHED)
    assert parsed.ok
    assert len(parsed.items) == 1 and parsed.entries_skipped == 1
    [item] = parsed.items
    assert item.title == "UK to resume arms sales to Saudi Arabia & allies"
    assert item.summary == 'Ministers found violations were "isolated".'
    assert item.link == "http://127.0.0.1/b/uk-saudi"
    assert item.published == "2020-07-08T10:00:00+00:00"
    assert item.first_seen == FETCHED
    assert item.language == "en"
    assert item.item_id == FeedItem.make_id("b", "urn:outlet-b:1")


def test_item_id_is_stable_across_snapshots_and_distinct_across_outlets():
    body = (FIXTURES / "outlet_a_v1.xml").read_bytes()
    first = parse_feed(body, outlet="a", fetched_at=FETCHED).items[0]
    later = parse_feed(body, outlet="a", fetched_at="2020-07-09T00:00:00+00:00").items[0]
    other = parse_feed(body, outlet="z", fetched_at=FETCHED).items[0]
    assert first.item_id == later.item_id != other.item_id


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"<html><body><h1>502 Bad Gateway</h1></body></html>", "not a feed"),
        (b"\x00\xff\xfe garbage \x00", "not a feed"),
        (b"x" * (MAX_FEED_BYTES + 1), "exceeds"),
    ],
)
def test_broken_bodies_give_an_error_not_an_exception(body, reason):
    parsed = parse_feed(body, outlet="x", fetched_at=FETCHED)
    assert not parsed.ok and reason in parsed.error
    assert parsed.items == []


def test_a_well_formed_empty_feed_is_not_an_error():
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet day</title></channel></rss>'
    parsed = parse_feed(body, outlet="st", fetched_at=FETCHED)
    assert parsed.ok and parsed.items == [] and parsed.error is None


def test_truncated_feed_keeps_the_entries_it_could_read():
    body = (FIXTURES / "atom_sample.xml").read_bytes()
    cut = body[: body.index(b"<entry>", body.index(b"<entry>") + 1) + 20]
    parsed = parse_feed(cut, outlet="b", fetched_at=FETCHED)
    assert [i.title for i in parsed.items] == ["UK to resume arms sales to Saudi Arabia & allies"]
    assert parsed.ok and parsed.warning.startswith("broken feed, 1 entries salvaged")


def test_a_url_looking_body_is_never_fetched(tmp_path):
    secret = tmp_path / "secret.xml"
    secret.write_bytes((FIXTURES / "outlet_a_v1.xml").read_bytes())
    parsed = parse_feed(str(secret).encode(), outlet="x", fetched_at=FETCHED)
    assert parsed.items == []


def test_html_to_text_drops_markup_scripts_and_entities():
    assert html_to_text("<p>One&nbsp;<b>two</b></p><script>x()</script><br/>three &amp; four") == (
        "One\xa0two three & four".replace("\xa0", " ")
    )


def _case_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.xml"))


@pytest.mark.shared_data
def test_every_feedparser_case_parses_like_feedparser(shared_data):
    """On feedparser's own 2,106 test feeds we never crash and keep every titled entry as it reads it."""
    cases = _case_files(shared_data / "feedparser-cases")
    assert len(cases) > 2000
    checked = 0
    for path in cases:
        body = path.read_bytes()
        ours = parse_feed(body, outlet="t", fetched_at=FETCHED)
        reference = feedparser.parse(io.BytesIO(body), sanitize_html=True)
        titled = [e for e in reference.entries if html_to_text(e.get("title", ""))]
        assert len(ours.items) == len(titled), path
        for item, entry in zip(ours.items, titled):
            assert item.title == html_to_text(entry.get("title", ""))[:1000], path
            assert item.link == str(entry.get("link", "")), path
            checked += 1
    assert checked > 150


def test_cleaning_twice_keeps_plain_text_comparisons():
    """Feed items are cleaned by the parser and again by extraction: text must survive it."""
    from transforms.extraction.extractor import item_text

    once = html_to_text("<p>Missiles with a range &lt;500 km, not &gt;300 km</p>")
    assert once == "Missiles with a range <500 km, not >300 km"
    assert html_to_text(once) == once
    assert item_text(once, "") == f"{once}\n\n"
