"""Everything a user can set, in one typed object resolved once at the edge.

The CLI and :class:`qa.Assistant` build :class:`Settings` with :meth:`Settings.resolve`: each
value comes from an argument, else its environment variable, else its default; nothing below
them reads the environment. A bad value is one line naming the variable and what it takes:

    >>> Settings.resolve(environ={"QA_THREADS": "auto"})
    UsageError: QA_THREADS must be a whole number of at least 0, got 'auto'

To add a setting, add one line to the class: name, type, default, environment variable and a
one-line description, e.g. ``as_of: str | None = setting(None, "QA_AS_OF", "answer as of this day")``;
``qa info --settings`` lists it from then on.
"""

from __future__ import annotations

import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .errors import UsageError
from .text import mask_credentials

ARGUMENT, ENVIRONMENT, DEFAULT = "argument", "environment", "default"


def setting(
    default: Any,
    env: str,
    help: str,
    *,
    secret: bool = False,
    minimum: float | None = None,
    unit: str = "",
    spaces: bool = False,
) -> Any:
    """A field of :class:`Settings`: its default, environment variable and one-line description.

    ``secret`` values are masked when shown; ``minimum`` bounds a number; ``unit`` names what a number counts;
    ``spaces`` keeps a text's leading and trailing spaces (a prefix such as ``"query: "``).
    """
    meta = {"env": env, "help": help, "secret": secret, "minimum": minimum, "unit": unit, "spaces": spaces}
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Settings:
    index: Path | None = setting(None, "QA_INDEX", "the index folder (default: a per-user data folder)")
    chroma_url: str | None = setting(None, "QA_CHROMA_URL", "keep the index in this Chroma server instead of a folder")
    chroma_token: str | None = setting(None, "QA_CHROMA_TOKEN", "token for the Chroma server's proxy", secret=True)
    chroma_timeout: float = setting(
        30.0, "QA_CHROMA_TIMEOUT", "seconds a Chroma server call may take", minimum=0.1, unit="seconds"
    )
    cache_dir: Path | None = setting(None, "QA_CACHE_DIR", "where caches go (default: a per-user cache folder)")
    llm: str = setting("extractive", "QA_LLM", "the generator: extractive, openai or gguf:PATH")
    model: str | None = setting(None, "QA_MODEL", "chat model for --llm openai (default gpt-4o-mini)")
    base_url: str | None = setting(None, "OPENAI_BASE_URL", "OpenAI-compatible endpoint (default: OpenAI's own)")
    api_key: str | None = setting(None, "OPENAI_API_KEY", "key for the endpoint", secret=True)
    context_tokens: int = setting(4096, "QA_CONTEXT_TOKENS", "the model's context size in tokens", minimum=1)
    answer_tokens: int = setting(512, "QA_ANSWER_TOKENS", "tokens of the context kept for the answer", minimum=1)
    timeout: float = setting(
        60.0, "QA_LLM_TIMEOUT", "seconds to wait for the model server", minimum=0.001, unit="seconds"
    )
    max_retries: int = setting(2, "QA_LLM_RETRIES", "retries of a failed model call", minimum=0)
    threads: int | None = setting(None, "QA_THREADS", "CPU threads (default: all cores; gguf up to 4)", minimum=0)
    k: int = setting(6, "QA_K", "passages retrieved for each question", minimum=1)
    ingest_batch: int = setting(128, "QA_INGEST_BATCH", "chunks embedded and written together", minimum=1)
    web_timeout: float = setting(
        20.0, "QA_WEB_TIMEOUT", "seconds a web page or feed may take to fetch", minimum=0.1, unit="seconds"
    )
    web_max_bytes: int = setting(
        5_000_000, "QA_WEB_MAX_BYTES", "the largest web page or feed fetched, in bytes", minimum=1000
    )
    embedder: str = setting(
        "builtin",
        "QA_EMBEDDER",
        "the embedder: builtin (all-MiniLM-L6-v2, offline) or openai (a /v1/embeddings server)",
    )
    embed_url: str | None = setting(
        None, "QA_EMBED_URL", "the embeddings server for --embedder openai (default: OpenAI's own)"
    )
    embed_model: str | None = setting(
        None, "QA_EMBED_MODEL", "embedding model for --embedder openai (default text-embedding-3-small)"
    )
    embed_key: str | None = setting(
        None, "QA_EMBED_KEY", "key for the embeddings server (default: OPENAI_API_KEY)", secret=True
    )
    embed_dimensions: int | None = setting(
        None, "QA_EMBED_DIMENSIONS", "ask the embeddings server for vectors of this many dimensions", minimum=1
    )
    embed_query_prefix: str | None = setting(
        None, "QA_EMBED_QUERY_PREFIX", "text put before each question embedded (E5: 'query: ')", spaces=True
    )
    embed_passage_prefix: str | None = setting(
        None, "QA_EMBED_PASSAGE_PREFIX", "text put before each passage embedded (E5: 'passage: ')", spaces=True
    )
    embed_query_type: str | None = setting(
        None, "QA_EMBED_QUERY_TYPE", "input_type sent with questions (e.g. query), for servers that take one"
    )
    embed_passage_type: str | None = setting(
        None, "QA_EMBED_PASSAGE_TYPE", "input_type sent with passages (e.g. passage or document)"
    )
    embed_batch_tokens: int = setting(
        8192, "QA_EMBED_BATCH_TOKENS", "tokens sent in one embeddings request at most (32 texts at most)", minimum=1
    )
    embed_requests: int = setting(4, "QA_EMBED_REQUESTS", "embeddings requests in flight at once", minimum=1)
    embed_timeout: float = setting(
        60.0, "QA_EMBED_TIMEOUT", "seconds to wait for the embeddings server", minimum=0.001, unit="seconds"
    )
    embed_retries: int = setting(
        4, "QA_EMBED_RETRIES", "retries of a failed embeddings request (429, 5xx, connection), with backoff", minimum=0
    )
    answer_model: Path | None = setting(None, "QA_ANSWER_MODEL", "the answer model file (default: the shipped one)")
    min_confidence: float | None = setting(
        None,
        "QA_MIN_CONFIDENCE",
        "refuse under this confidence, 0-1 (default: the answer model's threshold)",
        minimum=0,
    )
    short_answers: bool = setting(True, "QA_SHORT_ANSWERS", "give a short answer before the sentences (extractive)")
    fusion: str = setting(
        "score", "QA_FUSION", "how dense and keyword search are fused: score (BM25-led, fitted), rrf-dates or rrf"
    )
    date_preference: bool = setting(True, "QA_DATE_PREFERENCE", "prefer articles dated near the question's day")
    rerank: bool = setting(
        True, "QA_RERANK", "reorder the fused passages with the reranker learned from news questions (qa/rerank.py)"
    )
    rerank_model: Path | None = setting(None, "QA_RERANK_MODEL", "the reranker file (default: the shipped one)")

    #: Where each value came from: "argument", "environment" or "default".
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def resolve(cls, arguments: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``arguments`` (None means not given), else ``environ`` (default: the process's), else defaults.

        Example: Settings.resolve({"llm": "openai"}, {"QA_LLM": "gguf:m.gguf", "QA_K": "4"})
        -> llm "openai" (argument), k 4 (environment), everything else its default.
        """
        arguments = dict(arguments or {})
        environ = os.environ if environ is None else environ
        unknown = sorted(set(arguments) - set(setting_names()))
        if unknown:
            raise UsageError(f"unknown setting {unknown[0]!r}; known: {', '.join(setting_names())}")
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        for f in _fields():
            if arguments.get(f.name) is not None:
                values[f.name], sources[f.name] = _convert(f.name, f.name, arguments[f.name]), ARGUMENT
            elif environ.get(f.metadata["env"]):
                values[f.name], sources[f.name] = (
                    _convert(f.name, f.metadata["env"], environ[f.metadata["env"]]),
                    ENVIRONMENT,
                )
            else:
                sources[f.name] = DEFAULT
        return cls(**values, sources=MappingProxyType(sources))

    def with_arguments(self, **arguments: Any) -> Settings:
        """These settings with the arguments that are not None put over them."""
        given = {k: v for k, v in arguments.items() if v is not None}
        if not given:
            return self
        unknown = sorted(set(given) - set(setting_names()))
        if unknown:
            raise UsageError(f"unknown setting {unknown[0]!r}; known: {', '.join(setting_names())}")
        values = {k: _convert(k, k, v) for k, v in given.items()}
        return replace(self, **values, sources=MappingProxyType({**self.sources, **dict.fromkeys(values, ARGUMENT)}))

    # -- derived --------------------------------------------------------------------------------

    @property
    def index_dir(self) -> Path:
        return (self.index or _user_dir("data") / "index").expanduser()

    @property
    def cache_path(self) -> Path:
        return (self.cache_dir or _user_dir("cache")).expanduser()

    def source(self, name: str) -> str:
        return self.sources.get(name, DEFAULT)

    def rows(self) -> list[tuple[str, str, str, str, str]]:
        """(name, value as shown, source, environment variable, description) of each setting; secrets masked."""
        out = []
        for f in _fields():
            value = getattr(self, f.name)
            if value is None and f.name in _DERIVED:
                shown = str(getattr(self, _DERIVED[f.name]))  # the folder the default resolves to
            elif value is None:
                shown = "-"
            elif f.metadata["secret"]:
                shown = "***"
            elif f.metadata["spaces"]:
                shown = repr(value)  # the spaces show
            else:
                shown = mask_credentials(str(value)) if f.name.endswith("url") else str(value)
            out.append((f.name, shown, self.source(f.name), f.metadata["env"], f.metadata["help"]))
        return out


_TRUE, _FALSE = frozenset({"1", "true", "yes", "on"}), frozenset({"0", "false", "no", "off"})

#: Settings whose default is worked out: shown as the value it resolves to.
_DERIVED = {"index": "index_dir", "cache_dir": "cache_path"}


@cache
def _fields() -> tuple[Any, ...]:
    return tuple(f for f in fields(Settings) if "env" in f.metadata)


@cache
def setting_names() -> tuple[str, ...]:
    return tuple(f.name for f in _fields())


@cache
def _kind(name: str) -> type:
    """The type a setting holds, without its ``| None``."""
    hint = typing.get_type_hints(Settings)[name]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if args else hint


def _convert(name: str, label: str, value: Any) -> Any:
    """``value`` as the setting ``name`` holds it; a UsageError naming ``label`` when it cannot be.

    Example: _convert("threads", "QA_THREADS", "2") -> 2; _convert("threads", "QA_THREADS", "auto") -> UsageError
    """
    kind = _kind(name)
    f = next(f for f in _fields() if f.name == name)
    minimum = f.metadata["minimum"]
    if kind is int:
        what = "a whole number" if minimum is None else f"a whole number of at least {minimum:g}"
        try:
            number = int(value.strip()) if isinstance(value, str) else value
        except ValueError:
            raise UsageError(f"{label} must be {what}, got {value!r}") from None
        if isinstance(number, bool) or not isinstance(number, int) or (minimum is not None and number < minimum):
            raise UsageError(f"{label} must be {what}, got {value!r}")
        return number
    if kind is bool:
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in _TRUE | _FALSE:
            return word in _TRUE
        raise UsageError(f"{label} must be on or off (1/0, true/false, yes/no), got {value!r}")
    if kind is float:
        what = "a number" if minimum is None else f"a number of at least {minimum:g}"
        unit = f" ({f.metadata['unit']})" if f.metadata["unit"] else ""
        try:
            number = float(value.strip()) if isinstance(value, str) else float(value)
        except (TypeError, ValueError):
            raise UsageError(f"{label} must be {what}{unit}, got {value!r}") from None
        if minimum is not None and not number >= minimum:
            raise UsageError(f"{label} must be {what}{unit}, got {value!r}")
        return number
    if kind is Path:
        if not isinstance(value, (str, os.PathLike)):
            raise UsageError(f"{label} must be a folder path, got {value!r}")
        return Path(value).expanduser()
    if not isinstance(value, str):
        raise UsageError(f"{label} must be text, got {value!r}")
    return value if f.metadata["spaces"] else value.strip()


def _user_dir(kind: str) -> Path:
    import platformdirs

    if kind == "data":
        return Path(platformdirs.user_data_dir("qa", appauthor=False))
    return Path(platformdirs.user_cache_dir("qa", appauthor=False))
