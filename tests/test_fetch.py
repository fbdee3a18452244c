"""Fetching refuses hostile URLs, caps bodies, honours conditional GET and never raises."""

from __future__ import annotations

import gzip
import zlib

import pytest

from connectors.fetch import UnsafeURLError, check_feed_url, fetch_feed
from tests.feed_server import FeedServer


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1/feed.xml",
        "javascript:alert(1)",
        "http://user:pw@127.0.0.1/feed",
        "http:///nohost",
        "http://127.0.0.1:99999/feed",
        "http://127.0.0.1/feed\r\nX-Injected: 1",
        "http://169.254.169.254/computeMetadata/v1/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://[fe80::1]/feed",
        "",
    ],
)
def test_hostile_urls_are_refused(url):
    with pytest.raises(UnsafeURLError):
        check_feed_url(url)
    result = fetch_feed(url)
    assert not result.ok and result.error.startswith("refused")


def test_ok_not_modified_and_server_errors():
    with FeedServer() as server:
        server.set("/feed", b"<rss/>", headers={"Content-Type": "application/rss+xml", "ETag": '"v1"'})
        server.set("/broken", b"oops", status=500)
        first = fetch_feed(server.url("/feed"))
        assert first.ok and first.body == b"<rss/>" and first.etag == '"v1"'
        server.set("/feed", b"", status=304)
        again = fetch_feed(server.url("/feed"), etag=first.etag)
        assert again.not_modified and again.ok
        broken = fetch_feed(server.url("/broken"))
        assert not broken.ok and "HTTP 500" in broken.error


def test_gzip_bodies_are_decoded_and_oversized_bodies_refused():
    with FeedServer() as server:
        server.set("/gz", gzip.compress(b"<rss>hello</rss>"), headers={"Content-Encoding": "gzip"})
        server.set("/big", b"x" * 5000)
        assert fetch_feed(server.url("/gz")).body == b"<rss>hello</rss>"
        big = fetch_feed(server.url("/big"), max_bytes=1000)
        assert not big.ok and "limit" in big.error


def test_compressed_bodies_are_capped_after_decoding_and_deflate_is_read_both_ways():
    raw_deflate = zlib.compressobj(wbits=-15)
    with FeedServer() as server:
        # 50 MB of zeros is ~50 KB gzipped: the cap must hold on the decoded size, without decoding it all
        server.set("/bomb", gzip.compress(b"\0" * 50_000_000), headers={"Content-Encoding": "gzip"})
        server.set("/zlib", zlib.compress(b"<rss>z</rss>"), headers={"Content-Encoding": "deflate"})
        server.set("/raw", raw_deflate.compress(b"<rss>r</rss>") + raw_deflate.flush(), headers={"Content-Encoding": "deflate"})
        server.set("/junk", b"not gzip at all", headers={"Content-Encoding": "gzip"})
        bomb = fetch_feed(server.url("/bomb"), max_bytes=1_000_000)
        assert not bomb.ok and "decompressed body exceeds the 1000000-byte limit" in bomb.error
        assert fetch_feed(server.url("/zlib")).body == b"<rss>z</rss>"
        assert fetch_feed(server.url("/raw")).body == b"<rss>r</rss>"
        junk = fetch_feed(server.url("/junk"))
        assert not junk.ok and "not valid gzip" in junk.error


def test_redirect_to_another_scheme_is_refused():
    with FeedServer() as server:
        server.set("/to-ftp", b"", status=302, headers={"Location": "ftp://127.0.0.1/feed.xml"})
        server.set("/to-file", b"", status=302, headers={"Location": "file:///etc/passwd"})
        to_ftp = fetch_feed(server.url("/to-ftp"))
        assert not to_ftp.ok and to_ftp.error.startswith("refused redirect")
        to_file = fetch_feed(server.url("/to-file"))
        assert not to_file.ok and to_file.body == b""


def test_unreachable_host_is_an_error_not_an_exception():
    result = fetch_feed("http://127.0.0.1:9/feed", timeout=2)
    assert not result.ok and result.error.startswith("unreachable")
