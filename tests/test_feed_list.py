"""Feed lists load from OPML, YAML and JSON, and bad lists say what to fix."""

from __future__ import annotations

import json

import pytest

from connectors.feed_list import FeedListError, default_feeds, load_feed_list, outlet_from_url


def test_builtin_list_has_many_outlets_from_several_regions():
    feeds = default_feeds()
    assert len({f.outlet for f in feeds}) >= 25
    assert len({f.region for f in feeds}) >= 5
    assert all(f.url.startswith(("http://", "https://")) for f in feeds)


def test_opml_export_with_nested_folders(tmp_path):
    path = tmp_path / "export.opml"
    path.write_text(
        """<?xml version="1.0"?><opml version="2.0"><body>
        <outline text="News"><outline text="BBC" type="rss" xmlUrl="https://feeds.bbci.co.uk/news/rss.xml"/>
        <outline text="Deep"><outline title="Defense" xmlUrl="https://example.org/defense.xml"/></outline></outline>
        <outline text="no feed here"/></body></opml>"""
    )
    feeds = load_feed_list(path)
    assert [(f.outlet, f.url) for f in feeds] == [
        ("BBC", "https://feeds.bbci.co.uk/news/rss.xml"),
        ("Defense", "https://example.org/defense.xml"),
    ]


def test_yaml_and_json_lists(tmp_path):
    yaml_path = tmp_path / "feeds.yaml"
    yaml_path.write_text("- https://www.example.com/rss\n- {outlet: x, url: 'https://x.example/feed'}\n")
    assert [f.outlet for f in load_feed_list(yaml_path)] == ["example-com", "x"]
    json_path = tmp_path / "feeds.json"
    json_path.write_text(json.dumps({"feeds": [{"url": "https://a.example/f", "outlet": "a"}]}))
    assert [f.url for f in load_feed_list(json_path)] == ["https://a.example/f"]


@pytest.mark.parametrize(
    "content, message",
    [
        ("- file:///etc/passwd\n", "only http and https"),
        ("feeds: 3\n", "expected a list"),
        ("- {outlet: x}\n", "no 'url'"),
        ("[]\n", "no feeds found"),
        ("<opml><body><outline", "not valid OPML"),
    ],
)
def test_bad_lists_name_the_problem(tmp_path, content, message):
    path = tmp_path / "feeds.yaml"
    path.write_text(content)
    with pytest.raises(FeedListError, match=message):
        load_feed_list(path)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FeedListError, match="cannot read feed list"):
        load_feed_list(tmp_path / "nope.yaml")


def test_outlet_from_url():
    assert outlet_from_url("https://feeds.bbci.co.uk/news/rss.xml") == "bbci-co-uk"
