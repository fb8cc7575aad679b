"""A real news site on loopback for the web-ingest tests: saved pages, an RSS and an Atom feed.

``Site`` serves ``tests/web/`` (``{base}`` in a file is the site's own address) with ETag and
Last-Modified as each page is set up to have, answers conditional GETs with 304, and records
every request's path and status. Besides the pages: ``/slow`` (answers after 3 s),
``/trickle`` (a byte every 0.2 s), ``/big`` (2 MB with a Content-Length), ``/big-unsized`` (2 MB
with none), ``/loop`` (redirects to itself), ``/moved`` (redirects to the strike story),
``/logo.png`` (an image); anything else is a 404.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PAGES = Path(__file__).resolve().parent / "web"
LAST_MODIFIED = "Tue, 06 Aug 2024 10:00:00 GMT"


@dataclass
class Resource:
    body: bytes
    content_type: str
    etag: bool = True  # sends an ETag (a hash of the body)
    last_modified: bool = True  # sends LAST_MODIFIED

    @property
    def tag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


class Site:
    def __init__(self) -> None:
        self.resources: dict[str, Resource] = {}
        self.hits: list[tuple[str, int]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
                site.hits.append((self.path, status))
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                if "Content-Length" not in (headers or {}) and status != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                path = self.path
                if path == "/slow":
                    time.sleep(3)
                    return self.send(200, b"<html><body><p>Late.</p></body></html>", {"Content-Type": "text/html"})
                if path == "/trickle":
                    site.hits.append((path, 200))
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.end_headers()
                    for _ in range(50):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(0.2)
                    return None
                if path in ("/big", "/big-unsized"):
                    body = b"<html><body>" + b"<p>Filler text for a page far too big.</p>" * 50_000 + b"</body></html>"
                    headers = {"Content-Type": "text/html"}
                    if path == "/big-unsized":  # HTTP/1.0: the body ends when the connection closes
                        site.hits.append((path, 200))
                        self.send_response(200)
                        self.send_header("Content-Type", "text/html")
                        self.end_headers()
                        self.wfile.write(body)
                        return None
                    return self.send(200, body, headers)
                if path == "/loop":
                    return self.send(302, headers={"Location": "/loop"})
                if path == "/moved":
                    return self.send(301, headers={"Location": "/news/strike.html"})
                if path == "/logo.png":
                    return self.send(200, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, {"Content-Type": "image/png"})
                r = site.resources.get(path)
                if r is None:
                    return self.send(
                        404, b"<html><body><h1>Not found</h1></body></html>", {"Content-Type": "text/html"}
                    )
                headers = {"Content-Type": r.content_type}
                if r.etag:
                    headers["ETag"] = r.tag
                if r.last_modified:
                    headers["Last-Modified"] = LAST_MODIFIED
                match = self.headers.get("If-None-Match")
                since = self.headers.get("If-Modified-Since")
                if (r.etag and match == r.tag) or (not match and r.last_modified and since == LAST_MODIFIED):
                    return self.send(304, headers=headers)
                return self.send(200, r.body, headers)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return self.base + path

    def serve(self, path: str, file: str, content_type: str = "text/html; charset=utf-8", **validators: bool) -> None:
        body = (PAGES / file).read_text().replace("{base}", self.base).encode()
        self.resources[path] = Resource(body, content_type, **validators)

    def statuses(self, path: str) -> list[int]:
        return [status for p, status in self.hits if p == path]

    def __enter__(self) -> Site:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def news_site() -> Site:
    """The site as the tests use it: three stories and two feeds.

    The strike story sends an ETag and Last-Modified, the tram story only Last-Modified, the
    storm story neither (a re-run can only compare its body). The RSS feed lists the storm story and
    a glacier story that is gone (a 404 with a one-line summary); the Atom feed lists the tram story
    and a bridge story that is gone but whose full text the feed carries.
    """
    site = Site()
    site.serve("/news/strike.html", "strike.html")
    site.serve("/news/tram.html", "tram.html", etag=False)
    site.serve("/news/storm.html", "storm.html", etag=False, last_modified=False)
    site.serve("/feeds/rss.xml", "rss.xml", "application/rss+xml")
    site.serve("/feeds/atom.xml", "atom.xml", "text/xml")
    return site
