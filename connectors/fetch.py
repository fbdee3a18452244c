"""Fetch one feed over HTTP(S), politely and defensively.

Feeds come from a user-supplied list, so a URL may be hostile (another scheme, a
credential-bearing URL, an endless body). Only http/https are fetched, bodies are capped,
redirects may not change scheme, and every failure is returned as a `FetchResult` with an
`error` rather than raised, so one bad feed never stops the poller.
"""

from __future__ import annotations

import ipaddress
import urllib.error
import urllib.parse
import urllib.request
import zlib
from dataclasses import dataclass
from email.message import Message

from connectors.feed_parser import MAX_FEED_BYTES

USER_AGENT = "allywatch/0.1 (+defense-cooperation news monitor; feed reader)"
ALLOWED_SCHEMES = ("http", "https")
# Cloud metadata servers: a feed list must never make a worker fetch its own credentials.
METADATA_HOSTS = ("metadata.google.internal", "metadata", "instance-data")


class UnsafeURLError(ValueError):
    """A feed URL allywatch refuses to fetch."""


@dataclass(frozen=True)
class FetchResult:
    url: str
    status: int | None = None
    body: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def ok(self) -> bool:
        return self.error is None


def check_feed_url(url: str) -> str:
    """Return the URL if allywatch may fetch it; raise UnsafeURLError saying why not."""
    if not isinstance(url, str) or not url.strip():
        raise UnsafeURLError("empty feed URL")
    url = url.strip()
    if any(ch in url for ch in "\r\n\t\x00 "):
        raise UnsafeURLError(f"feed URL contains whitespace or control characters: {url!r}")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise UnsafeURLError(f"only http and https feeds are fetched, not {parts.scheme or 'no scheme'!r}: {url}")
    if not parts.hostname:
        raise UnsafeURLError(f"feed URL has no host: {url}")
    if parts.username or parts.password:
        raise UnsafeURLError(f"feed URL carries credentials; put them elsewhere: {parts.hostname}")
    try:
        parts.port
    except ValueError as exc:
        raise UnsafeURLError(f"feed URL has a bad port: {url}") from exc
    host = parts.hostname.lower().rstrip(".")
    if host in METADATA_HOSTS or _is_link_local(host):
        raise UnsafeURLError(f"feed URL points at a cloud metadata or link-local address: {host}")
    return url


def _is_link_local(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_link_local
    except ValueError:
        return False


class _SafeRedirects(urllib.request.HTTPRedirectHandler):
    max_redirections = 5

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[override]
        check_feed_url(urllib.parse.urljoin(req.full_url, newurl))
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_SafeRedirects())


def _decode_body(raw: bytes, encoding: str | None, limit: int) -> bytes:
    """Undo the Content-Encoding without ever holding more than `limit` decoded bytes:
    a small compressed body can expand a thousandfold (a decompression bomb)."""
    if encoding not in ("gzip", "deflate"):
        return raw
    # 47 = 32 + 15: gzip or zlib header, detected; -15: raw deflate (some servers send it)
    for wbits in ((47,) if encoding == "gzip" else (47, -15)):
        try:
            decoder = zlib.decompressobj(wbits=wbits)
            body = decoder.decompress(raw, limit + 1)
        except zlib.error:
            continue
        if len(body) > limit or decoder.unconsumed_tail:
            raise ValueError(f"decompressed body exceeds the {limit}-byte limit")
        return body
    raise ValueError(f"body is not valid {encoding} data")


def _read_capped(response, limit: int) -> bytes:
    body = response.read(limit + 1)
    if len(body) > limit:
        raise ValueError(f"body exceeds the {limit}-byte limit")
    return body


def fetch_feed(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    timeout: float = 20.0,
    max_bytes: int = MAX_FEED_BYTES,
) -> FetchResult:
    """GET a feed with conditional headers; never raises for network or server faults."""
    try:
        url = check_feed_url(url)
    except UnsafeURLError as exc:
        return FetchResult(url=str(url), error=f"refused: {exc}")
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
        "Accept-Encoding": "gzip, deflate",
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    request = urllib.request.Request(url, headers=headers)
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            raw = _read_capped(response, max_bytes)
            info: Message = response.headers
            body = _decode_body(raw, (info.get("Content-Encoding") or "").lower() or None, max_bytes)
            return FetchResult(
                url=url,
                status=response.status,
                body=body,
                content_type=info.get("Content-Type"),
                etag=info.get("ETag"),
                last_modified=info.get("Last-Modified"),
            )
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return FetchResult(url=url, status=304, etag=etag, last_modified=last_modified)
        return FetchResult(url=url, status=exc.code, error=f"HTTP {exc.code} {exc.reason}")
    except UnsafeURLError as exc:
        return FetchResult(url=url, error=f"refused redirect: {exc}")
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return FetchResult(url=url, error=f"unreachable: {reason}")
    except (ValueError, zlib.error, EOFError) as exc:
        return FetchResult(url=url, error=f"bad response: {exc}")
    except Exception as exc:  # http.client oddities (bad status line, incomplete read)
        return FetchResult(url=url, error=f"bad response: {type(exc).__name__}: {exc}")
