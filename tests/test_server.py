"""A Chroma server behind a proxy that requires a token (Chroma 1.x's own server checks none)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from qa.retrieve import keyword_dir_for

from .conftest import SEEDS, run_qa

TOKEN = "tok-3f9a1c-do-not-print"


@pytest.fixture(scope="module")
def token_proxy(chroma_server):
    """URL of a loopback proxy to the test server that answers 401 without ``Authorization: Bearer TOKEN``."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                status, data = 401, b'{"error": "Unauthorized", "message": "missing or wrong token"}'
            else:
                req = urllib.request.Request(
                    chroma_server + self.path,
                    data=body or None,
                    method=self.command,
                    headers={"Content-Type": self.headers.get("Content-Type") or "application/json"},
                )
                try:
                    with urllib.request.urlopen(req, timeout=60) as r:
                        status, data = r.status, r.read()
                except urllib.error.HTTPError as e:
                    status, data = e.code, e.read()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = forward

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tokened"
    server.shutdown()


def test_ingest_and_ask_with_token(token_proxy, tmp_path):
    env = {"QA_CHROMA_URL": token_proxy, "QA_CHROMA_TOKEN": TOKEN}
    r = run_qa("ingest", str(SEEDS), env=env)
    assert r.returncode == 0, r.stderr
    assert "2 added" in r.stdout and TOKEN not in r.stdout + r.stderr
    r = run_qa("ask", "--json", "How many US troops are in Iraq?", env=env)
    assert r.returncode == 0, r.stderr
    assert "2,500" in json.loads(r.stdout)["answer"] and TOKEN not in r.stdout + r.stderr
    # the BM25 cache for a server lives in the cache folder, one per server URL
    import os

    assert (keyword_dir_for(None, token_proxy, "qa", Path(os.environ["QA_CACHE_DIR"])) / "ids.json").exists()


@pytest.mark.parametrize("token, words", [("wrong-token-do-not-print", "refused the token"), (None, "wants a token")])
def test_wrong_or_missing_token_is_one_clean_line(token_proxy, token, words):
    env = {"QA_CHROMA_URL": token_proxy, "QA_CHROMA_TOKEN": token or ""}
    r = run_qa("ask", "How many US troops are in Iraq?", env=env)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert words in r.stderr and "QA_CHROMA_TOKEN" in r.stderr
    assert not token or token not in r.stdout + r.stderr


def test_server_that_is_not_running(tmp_path):
    from .conftest import free_port

    r = run_qa("info", "--chroma-url", f"http://127.0.0.1:{free_port()}")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "Chroma server" in r.stderr and "running" in r.stderr
