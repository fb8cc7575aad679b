"""Web pages and RSS/Atom feeds to articles: what ``qa ingest URL...`` reads.

A URL is fetched with httpx: only http and https, at most ``MAX_REDIRECTS`` redirects, the
``web_timeout`` setting bounding the whole fetch (a server that trickles is cut off too) and the
``web_max_bytes`` setting capping the body (checked as it arrives, after decompression). What
comes back is one of:

- a page (HTML): its article text, as :func:`qa.load.parse_html` extracts it (trafilatura:
  navigation, ads and footers dropped); its title and date are the page's, its url the URL asked for;
- a feed (RSS or Atom, read by feedparser; told apart from a page by its first tag, whatever its
  Content-Type says): each item is a :class:`FeedItem`, and the ingest fetches the item's page in
  turn. The item's title, date and link win over the page's. When the page cannot be read, the
  item's own text (its content, else its summary) stands in if it has at least
  ``MIN_FALLBACK_WORDS`` words: a full-text feed item is an article, a teaser is not.

Every failure is a :class:`qa.load.Problem` with a short reason (``HTTP 404 Not Found``, ``no
answer within 20 s``...), never an exception. Nothing here writes the index:
:class:`qa.ingest.Ingester` decides what is unchanged (a 304 to a conditional GET, or the same
body hash) and stores the rest. httpx is imported only when a URL is fetched, so an ingest of
local files never loads it and never opens a socket.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from .load import Article, Problem, decode, make_article, parse_html, parse_text
from .text import ISO_DATE

MAX_REDIRECTS = 5
MIN_FALLBACK_WORDS = 50  # a feed item's own text stands in for its page from this many words
WORKERS = 4  # a feed's item pages fetched at once
USER_AGENT = "qa/{version} (a news question-answering tool)"
ACCEPT = "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,application/xml;q=0.9,*/*;q=0.5"

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# A feed's first tag, after an XML declaration, processing instructions, comments and a doctype.
_FEED_START = re.compile(rb"^(?:\s|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)*<(?:rss|feed|rdf:RDF)\b", re.DOTALL | re.I)
_HTML_TYPES = {"text/html", "application/xhtml+xml"}
_FEED_TYPES = {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml"}


def is_url(item: object) -> bool:
    """``item`` is written as a URL (``scheme://...``), not as a path.

    >>> is_url("https://example.com/a"), is_url("ftp://host/x"), is_url("news/a.html")
    (True, True, False)
    """
    return isinstance(item, str) and bool(_SCHEME.match(item))


def check_url(raw: str) -> str | Problem:
    """The URL as qa keeps it (its #fragment dropped: it names a place in the page, not another page),
    or the Problem with it.

    >>> check_url("https://Example.com/news/a.html#comments")
    'https://example.com/news/a.html'
    >>> str(check_url("ftp://example.com/a"))
    'ftp://example.com/a: only http and https URLs are fetched'
    """
    parts = urlsplit(raw.strip())
    if parts.scheme.lower() not in ("http", "https"):
        return Problem(raw, "only http and https URLs are fetched")
    if not parts.hostname:
        return Problem(raw, "the URL names no host")
    netloc = parts.netloc.rsplit("@", 1)
    netloc[-1] = netloc[-1].lower()
    return urlunsplit((parts.scheme.lower(), "@".join(netloc), parts.path or "/", parts.query, ""))


@dataclass(frozen=True)
class WebOptions:
    """How URLs are fetched (the ``web_timeout`` and ``web_max_bytes`` settings)."""

    timeout: float = 20.0  # seconds for the whole fetch of one URL
    max_bytes: int = 5_000_000  # the largest body read
    max_redirects: int = MAX_REDIRECTS


@dataclass(frozen=True)
class Response:
    """What one GET gave: a body (``not_modified`` False) or a 304 to a conditional GET."""

    url: str  # the URL asked for
    body: bytes = b""
    content_type: str = ""  # lower case, no parameters: "text/html"
    charset: str | None = None
    etag: str = ""
    last_modified: str = ""
    not_modified: bool = False

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.body).hexdigest()[:32]

    @property
    def is_feed(self) -> bool:
        """RSS or Atom: its first tag says so (servers often call a feed text/html, or a page text/xml)."""
        return bool(_FEED_START.match(self.body[:4096].lstrip(b"\xef\xbb\xbf")))


class Fetcher:
    """GETs over one httpx client (kept-alive connections, safe to share between threads)."""

    def __init__(self, options: WebOptions | None = None):
        import httpx

        self.options = options or WebOptions()
        self._client = httpx.Client(
            follow_redirects=True,
            max_redirects=self.options.max_redirects,
            timeout=httpx.Timeout(self.options.timeout),
            headers={"User-Agent": USER_AGENT.format(version=_version()), "Accept": ACCEPT},
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()

    def get(self, url: str, etag: str = "", last_modified: str = "") -> Response | Problem:
        """GET ``url``; with ``etag`` or ``last_modified`` (from the last fetch) a 304 is ``not_modified``."""
        import time

        import httpx

        o = self.options
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        deadline = time.monotonic() + o.timeout
        too_big = f"bigger than {_size(o.max_bytes)}, the most qa fetches (QA_WEB_MAX_BYTES)"
        too_slow = f"no answer within {o.timeout:g} s (QA_WEB_TIMEOUT)"
        try:
            with self._client.stream("GET", url, headers=headers) as r:
                validators = {"etag": r.headers.get("etag", ""), "last_modified": r.headers.get("last-modified", "")}
                if r.status_code == 304 and headers:
                    return Response(
                        url, etag=validators["etag"] or etag, last_modified=last_modified, not_modified=True
                    )
                if r.status_code != 200:
                    return Problem(url, f"HTTP {r.status_code} {r.reason_phrase}".strip())
                length = r.headers.get("content-length", "")
                if length.isdigit() and int(length) > o.max_bytes:
                    return Problem(url, too_big)
                parts: list[bytes] = []
                size = 0
                for part in r.iter_bytes():
                    size += len(part)
                    if size > o.max_bytes:
                        return Problem(url, too_big)
                    if time.monotonic() > deadline:
                        return Problem(url, too_slow)
                    parts.append(part)
                kind = r.headers.get("content-type", "").partition(";")[0]
                return Response(
                    url,
                    b"".join(parts),
                    kind.strip().lower(),
                    r.charset_encoding,
                    validators["etag"],
                    validators["last_modified"],
                )
        except httpx.TooManyRedirects:
            return Problem(url, f"more than {o.max_redirects} redirects")
        except httpx.TimeoutException:
            return Problem(url, too_slow)
        except httpx.UnsupportedProtocol:
            return Problem(url, "redirected to a URL that is not http or https")
        except httpx.HTTPError as e:
            return Problem(url, f"cannot fetch it ({_reason(e)})")

    def get_all(self, requests: list[tuple[str, str, str]]) -> Iterator[Response | Problem]:
        """:meth:`get` of each ``(url, etag, last_modified)``, ``WORKERS`` at a time, in order."""
        with ThreadPoolExecutor(WORKERS) as pool:
            yield from pool.map(lambda r: self.get(*r), requests)


def page_article(response: Response, title: str | None = None, date: str | None = None) -> Article | Problem:
    """The article of a fetched page; ``title`` and ``date`` (a feed item's) win over the page's own.

    Its source and url are the URL asked for, so citations link to the page the user named.
    """
    url = response.url
    if response.content_type in _HTML_TYPES or not response.content_type or response.content_type in _FEED_TYPES:
        raw: str | bytes = response.body  # trafilatura finds the encoding of the bytes (a <meta charset> too)
        if response.charset:
            try:
                raw = response.body.decode(response.charset)
            except (LookupError, UnicodeDecodeError):
                pass
        article = parse_html(raw, url, url=url)
    elif response.content_type == "text/plain":
        text, problem = decode(response.body, url)
        article = problem or parse_text(text or "", url)
    else:
        return Problem(url, f"not a web page or feed ({response.content_type})")
    if isinstance(article, Problem):
        return article
    return replace(article, title=title or article.title, date=date or article.date, url=url)


@dataclass(frozen=True)
class FeedItem:
    """One item of a feed: its link, title and date, and its own text (content, else summary), as plain text."""

    link: str | None
    title: str | None
    date: str | None
    text: str

    def article(self) -> Article | None:
        """The item's own text as the article, when it is long enough to be one (its page could not be read)."""
        if not self.link or len(self.text.split()) < MIN_FALLBACK_WORDS:
            return None
        article = make_article(self.text, self.link, title=self.title, date=self.date, url=self.link)
        return article if isinstance(article, Article) else None


def feed_items(response: Response) -> list[FeedItem] | Problem:
    """The items of an RSS or Atom feed, links made absolute and each link once, in the feed's order."""
    import feedparser

    headers = {"content-location": response.url}  # the base for relative links
    if response.content_type:
        headers["content-type"] = response.content_type + (f"; charset={response.charset}" if response.charset else "")
    # A stream, never bytes or str: feedparser fetches a str that looks like a URL and opens one that names a file.
    parsed: Any = feedparser.parse(io.BytesIO(response.body), response_headers=headers)
    if not parsed.entries:
        if parsed.get("bozo"):
            return Problem(response.url, f"not a feed qa can read ({_reason(parsed.get('bozo_exception'))})")
        return Problem(response.url, "the feed has no items")
    items: list[FeedItem] = []
    seen: set[str] = set()
    for entry in parsed.entries:
        link = entry.get("link") or (entry.get("id") if is_url(entry.get("id")) else None)
        checked = check_url(urljoin(response.url, link)) if link else None
        link = checked if isinstance(checked, str) else None
        if link in seen:
            continue
        if link:
            seen.add(link)
        items.append(FeedItem(link, (entry.get("title") or "").strip() or None, _entry_date(entry), _entry_text(entry)))
    return items


def _entry_date(entry: Any) -> str | None:
    """The item's day as the publisher wrote it (``published``, else ``updated``), not moved to UTC."""
    for key in ("published", "updated", "created"):
        raw = entry.get(key)
        if not raw:
            continue
        if m := ISO_DATE.search(raw):  # Atom: 2024-08-06T23:30:00-05:00
            return m.group(0)
        try:  # RSS: Tue, 06 Aug 2024 23:30:00 -0500
            return parsedate_to_datetime(raw).date().isoformat()
        except (TypeError, ValueError):
            pass
        parsed = entry.get(f"{key}_parsed")
        if parsed:
            return f"{parsed.tm_year:04d}-{parsed.tm_mon:02d}-{parsed.tm_mday:02d}"
    return None


def _entry_text(entry: Any) -> str:
    """The longest of the item's contents and its summary, as plain text (feedparser has sanitized the HTML)."""
    values = [(c.get("value") or "", c.get("type") or "") for c in entry.get("content") or []]
    if entry.get("summary"):
        values.append((entry.get("summary") or "", (entry.get("summary_detail") or {}).get("type", "text/html")))
    texts = [_html_text(v) if "html" in kind else v.strip() for v, kind in values if v.strip()]
    return max(texts, key=len, default="")


def _html_text(fragment: str) -> str:
    """A feed item's HTML as text, a paragraph a line."""
    import trafilatura

    page = f"<html><body><article>{fragment}</article></body></html>"
    text = trafilatura.extract(page, favor_recall=True, include_comments=False, include_tables=False)
    return (text or trafilatura.html2txt(page) or "").strip()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("qa")
    except PackageNotFoundError:  # run from a checkout that is not installed
        return "dev"


def _reason(e: BaseException | None) -> str:
    text = (str(e).strip().splitlines() or [""])[0] if e else ""
    return text[:200] or type(e).__name__


def _size(n: int) -> str:
    return f"{n / 1e6:g} MB" if n >= 1_000_000 else f"{n / 1e3:g} kB" if n >= 1000 else f"{n} bytes"
