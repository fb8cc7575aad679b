"""``--llm gguf:PATH``: serve a local GGUF model with llama.cpp (the prebuilt ``xllamacpp`` wheel)
on a free loopback port, and answer through the OpenAI-compatible generator pointed at it.

The server starts on first use and lives as long as the process. It listens on 127.0.0.1 only
and requires a random per-process key, so other users of the machine cannot borrow it.
Threads: the ``threads`` setting (``QA_THREADS``; default: up to 4 of the machine's cores).
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import QAError, UsageError
from ..types import DraftInfo, Passage
from . import Generator
from .openai import OpenAIGenerator

if TYPE_CHECKING:
    from ..settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaServer:
    """llama.cpp's HTTP server in this process (xllamacpp), serving one GGUF file on loopback."""

    def __init__(self, path: Path, *, context_tokens: int, threads: int | None = None, api_key: str | None = None):
        try:
            import xllamacpp
        except ImportError:
            raise QAError("--llm gguf:PATH needs the llama.cpp runtime: pip install 'qa[gguf]' (xllamacpp)") from None
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.hostnames = ["127.0.0.1"]
        params.port = free_port()
        params.n_ctx = context_tokens
        params.n_parallel = 1
        n = threads or min(4, os.cpu_count() or 1)
        params.cpuparams.n_threads = n
        params.cpuparams_batch.n_threads = n
        params.warmup = False
        params.verbosity = 0  # llama.cpp logs every request on stderr otherwise
        params.endpoint_metrics = True
        if api_key:
            params.api_keys = [api_key]
        try:
            self._server = xllamacpp.Server(params)
        except Exception as e:  # the runtime raises plain exceptions for unreadable or non-GGUF files
            raise QAError(f"cannot load the GGUF model {path}: {type(e).__name__}; is it a GGUF chat model?") from None
        self.port = params.port
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    def close(self) -> None:
        self._server = None  # the server's destructor stops its threads


class GGUFGenerator(Generator):
    """``gguf:PATH``: an :class:`OpenAIGenerator` talking to a llama.cpp server started here."""

    def __init__(self, path: str, *, threads: int | None = None, **options: Any):
        self.path = Path(path).expanduser()
        if not self.path.is_file():
            raise UsageError(f"no GGUF model file at {self.path}; give --llm gguf:PATH with the path to a .gguf file")
        self.name = f"gguf:{self.path}"
        self.threads = threads or None
        self._key = secrets.token_urlsafe(16)
        # A loopback URL: no OPENAI_API_KEY needed; the server's own key is passed explicitly.
        self._llm = OpenAIGenerator(
            model=self.path.stem, base_url="http://127.0.0.1:1/v1", api_key=self._key, **options
        )
        self.server: LlamaServer | None = None

    @classmethod
    def from_settings(cls, path: str, settings: Settings, **options: Any) -> GGUFGenerator:
        """The generator for ``--llm gguf:PATH``; the model, endpoint and key settings do not apply."""
        return cls(
            path,
            threads=settings.threads,
            context_tokens=settings.context_tokens,
            answer_tokens=settings.answer_tokens,
            timeout=settings.timeout,
            max_retries=settings.max_retries,
            cache_dir=settings.cache_path,
            **options,
        )

    def _started(self) -> OpenAIGenerator:
        if self.server is None:
            self.server = LlamaServer(
                self.path, context_tokens=self._llm.context_tokens, threads=self.threads, api_key=self._key
            )
            self._llm.retarget(self.server.base_url, f"127.0.0.1:{self.server.port} (gguf:{self.path.name})")
        return self._llm

    @property
    def chain(self):
        return self._started().chain

    def prepare(self, question: str, passages: Sequence[Passage]) -> list[Passage]:
        return self._llm.prepare(question, passages)  # no server needed to count

    def stream(
        self, question: str, passages: Sequence[Passage], as_of: date | None = None
    ) -> Iterator[str | DraftInfo]:
        return self._started().stream(question, passages)

    def rewrite(self, question: str, history: Sequence[tuple[str, str]]) -> str:
        return self._started().rewrite(question, history) if history else question

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
