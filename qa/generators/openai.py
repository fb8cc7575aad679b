"""Answers written by a chat model behind any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama,
llama.cpp's server, LM Studio...), built as a LangChain Runnable: prompt | model | parser.

Constructor arguments (from :class:`qa.settings.Settings` when built by name, see :meth:`from_settings`):

- ``model`` (``QA_MODEL``): the chat model (default ``gpt-4o-mini``).
- ``base_url`` (``OPENAI_BASE_URL``): the endpoint (default OpenAI's own).
- ``api_key`` (``OPENAI_API_KEY``): required by OpenAI's endpoint; a local server may run without one.
- ``context_tokens`` (``QA_CONTEXT_TOKENS``, 4096) and ``answer_tokens`` (``QA_ANSWER_TOKENS``, 512):
  the model's context size and the part of it kept for the answer; passages fill the rest
  (see :mod:`qa.budget`), counted with tiktoken.
- ``timeout`` (``QA_LLM_TIMEOUT``, 60 s) and ``max_retries`` (``QA_LLM_RETRIES``, 2): the openai client
  retries connection errors, 408, 429 and 5xx with exponential backoff before we give up with one line.

    >>> gen = OpenAIGenerator(base_url="http://127.0.0.1:8080/v1")
    >>> gen.chain.invoke({"question": "Who won?", "passages": passages})   # or .stream / .batch
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Sequence
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..budget import fit_passages
from ..errors import QAError, UsageError
from ..prompts import load_prompt
from ..text import shorten, strip_markers
from ..types import REFUSAL, DraftInfo, Passage
from . import Generator

if TYPE_CHECKING:
    from ..settings import Settings

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_CONTEXT_TOKENS = 4096
DEFAULT_ANSWER_TOKENS = 512
DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_RETRIES = 2
REWRITE_TOKENS = 48
REWRITE_TURNS = 3  # how many earlier (question, answer) pairs the rewrite prompt sees
# Chat formats wrap each message in a few tokens of their own.
MESSAGE_OVERHEAD = 8
# Other models' tokenizers can count more tokens than tiktoken for the same text: keep a margin.
FOREIGN_TOKENIZER_MARGIN = 0.8


def is_openai_hosted(base_url: str | None) -> bool:
    """OpenAI's own endpoint (no base URL, or a host under openai.com).

    Example: is_openai_hosted(None) -> True; is_openai_hosted("http://127.0.0.1:8080/v1") -> False
    """
    if not base_url:
        return True
    host = (urlsplit(base_url).hostname or "").lower()
    return host == "openai.com" or host.endswith(".openai.com")


def is_loopback(base_url: str | None) -> bool:
    """A server on this machine: localhost, 127.0.0.0/8 or ::1."""
    host = (urlsplit(base_url or "").hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def public_url(base_url: str | None) -> str:
    """The endpoint as it may appear in a message: no credentials, no query string."""
    if not base_url:
        return "api.openai.com"
    parts = urlsplit(base_url)
    host = parts.hostname or base_url
    return f"{host}:{parts.port}" if parts.port else host


def render_passage(n: int, p: Passage) -> str:
    """One passage as the model sees it: numbered and fenced, so article text stays data.

    Example: render_passage(1, Passage(title="Iraq", date="2024-08-06", text="Iraq hosts 2,500 US troops.", ...))
    -> '<passage n="1" title="Iraq" date="2024-08-06">\\nIraq hosts 2,500 US troops.\\n</passage>'
    """
    title = p.title.replace('"', "'")
    date = f' date="{p.date}"' if p.date else ""
    # An article cannot close its own fence: break any closing tag inside it.
    text = re.sub(r"</?\s*passage", lambda m: m.group(0).replace("passage", "passage\u200b"), p.text, flags=re.I)
    return f'<passage n="{n}" title="{title}"{date}>\n{text}\n</passage>'


def render_passages(passages: Sequence[Passage]) -> str:
    return "\n\n".join(render_passage(n, p) for n, p in enumerate(passages, start=1))


class OpenAIGenerator(Generator):
    """A :class:`qa.generators.Generator` backed by an OpenAI-compatible chat endpoint."""

    name = "openai"

    def __init__(
        self,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        context_tokens: int | None = None,
        answer_tokens: int | None = None,
        temperature: float = 0.0,
        timeout: float | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        extra_body: dict[str, Any] | None = None,
        cache_dir: Path | None = None,
    ):
        self.model_name = model or DEFAULT_MODEL
        self.base_url = base_url or None
        key = api_key or None
        if key is None and is_openai_hosted(self.base_url):
            raise QAError(
                "--llm openai needs an API key for api.openai.com: set OPENAI_API_KEY, "
                "or point --base-url / OPENAI_BASE_URL at your own server"
            )
        # A local server ignores the key unless it was started with one; the client insists on some string.
        self._api_key = key or "no-key"
        self.context_tokens = context_tokens or DEFAULT_CONTEXT_TOKENS
        self.answer_tokens = answer_tokens or DEFAULT_ANSWER_TOKENS
        if self.answer_tokens < 16 or self.context_tokens < self.answer_tokens + 128:
            raise UsageError(
                f"context of {self.context_tokens} tokens is too small for an answer reserve of {self.answer_tokens};"
                " raise QA_CONTEXT_TOKENS or lower QA_ANSWER_TOKENS"
            )
        self.temperature = temperature
        self.timeout = timeout or DEFAULT_TIMEOUT
        self.max_retries = max_retries
        self.extra_body = extra_body
        self.cache_dir = cache_dir
        self.where = public_url(self.base_url)

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> OpenAIGenerator:
        """The generator for ``--llm openai``: model, endpoint, key, budget and timeouts from ``settings``."""
        return cls(
            settings.model,
            settings.base_url,
            settings.api_key,
            context_tokens=settings.context_tokens,
            answer_tokens=settings.answer_tokens,
            timeout=settings.timeout,
            max_retries=settings.max_retries,
            cache_dir=settings.cache_path,
            **options,
        )

    def retarget(self, base_url: str, where: str | None = None) -> None:
        """Talk to another endpoint from now on (the gguf generator learns its port late)."""
        self.base_url = base_url
        self.where = where or public_url(base_url)
        for name in ("model", "draft_chain", "chain", "rewrite_chain"):
            self.__dict__.pop(name, None)

    # -- the LangChain pieces -------------------------------------------------------------------

    @cached_property
    def model(self):
        from langchain_openai import ChatOpenAI
        from pydantic import SecretStr

        return ChatOpenAI(
            model=self.model_name,
            base_url=self.base_url,
            api_key=SecretStr(self._api_key),
            temperature=self.temperature,
            max_completion_tokens=self.answer_tokens,  # the field max_tokens, by its alias
            timeout=self.timeout,
            max_retries=self.max_retries,
            extra_body=self.extra_body,
        )

    @cached_property
    def prompt(self):
        from langchain_core.prompts import ChatPromptTemplate

        return ChatPromptTemplate.from_messages(
            [("system", load_prompt("answer_system")), ("human", load_prompt("answer"))]
        ).partial(refusal=REFUSAL)

    @cached_property
    def draft_chain(self):
        """Runnable: {"question", "passages": [Passage]} -> message chunks; the passages as given (see :meth:`prepare`)."""
        from langchain_core.runnables import RunnableLambda

        return RunnableLambda(self._prompt_inputs) | self.prompt | self.model

    @cached_property
    def chain(self):
        """Runnable (invoke/stream/batch): {"question", "passages": [Passage]} -> the draft text (passages packed to fit)."""
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.runnables import RunnableLambda

        fitted: RunnableLambda[dict[str, Any], dict[str, Any]] = RunnableLambda(
            lambda inputs: {**inputs, "passages": self.fit(inputs["question"], inputs["passages"])}
        )
        return fitted | self.draft_chain | StrOutputParser()

    @cached_property
    def rewrite_chain(self):
        """Runnable: {"history": str, "question": str} -> a standalone question."""
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.prompts import ChatPromptTemplate

        prompt = ChatPromptTemplate.from_messages([("human", load_prompt("rewrite"))])
        return prompt | self.model.bind(max_tokens=REWRITE_TOKENS) | StrOutputParser()

    # -- token budget ---------------------------------------------------------------------------

    @cached_property
    def _encoding(self):
        import tiktoken

        from ..config import tiktoken_encoding

        try:
            name = tiktoken.encoding_name_for_model(self.model_name)
        except KeyError:
            name = "cl100k_base"
        return tiktoken_encoding(name, self.cache_dir)

    def count_tokens(self, text: str) -> int:
        return len(self._encoding.encode_ordinary(text))

    def passage_budget(self, question: str) -> int:
        """Tokens left for passages once the instructions, question and answer reserve are counted."""
        fixed = self.count_tokens(load_prompt("answer_system").format(refusal=REFUSAL))
        fixed += self.count_tokens(load_prompt("answer").format(passages="", question=question))
        free = self.context_tokens - self.answer_tokens - fixed - 2 * MESSAGE_OVERHEAD
        margin = 1.0 if is_openai_hosted(self.base_url) else FOREIGN_TOKENIZER_MARGIN
        return max(0, int(free * margin))

    def fit(self, question: str, passages: Sequence[Passage]) -> list[Passage]:
        """The passages that fit the budget, most relevant first, the last one cut at a sentence end."""
        # Passages are joined by a blank line: count it with each one.
        return fit_passages(
            passages, self.passage_budget(question), lambda n, p: self.count_tokens(render_passage(n, p)) + 2
        )

    def prepare(self, question: str, passages: Sequence[Passage]) -> list[Passage]:
        """The passages to give :meth:`stream`: :meth:`fit` to the token budget (once, on the Assistant's path)."""
        return self.fit(question, passages)

    def _prompt_inputs(self, inputs: dict[str, Any]) -> dict[str, str]:
        return {"question": inputs["question"], "passages": render_passages(inputs["passages"])}

    # -- the Generator seam ---------------------------------------------------------------------

    def stream(
        self, question: str, passages: Sequence[Passage], as_of: date | None = None
    ) -> Iterator[str | DraftInfo]:
        """Yield the draft as the model writes it; ``[n]`` is the n-th of ``passages`` (fitted by :meth:`prepare`)."""
        finished = False
        errors = self._errors()
        with errors:
            for chunk in self.draft_chain.stream({"question": question, "passages": list(passages)}):
                if chunk.response_metadata.get("finish_reason"):
                    finished = True
                if isinstance(chunk.content, str) and chunk.content:
                    errors.mid_answer = True
                    yield chunk.content
        if not finished:
            # The server closed a well-formed stream early: what we have may stop mid-sentence.
            raise QAError(f"the model server at {self.where} ended the answer early (stream cut); try again")

    def rewrite(self, question: str, history: Sequence[tuple[str, str]]) -> str:
        """A follow-up question made standalone using the conversation (``[(question, answer), ...]``)."""
        if not history:
            return question
        turns = "\n".join(
            f"User: {q}\nAssistant: {strip_markers(a).strip()[:600]}" for q, a in history[-REWRITE_TURNS:]
        )
        with self._errors():
            out = self.rewrite_chain.invoke({"history": turns, "question": question})
        return clean_rewrite(out) or question

    # -- errors ---------------------------------------------------------------------------------

    def _errors(self):
        return _ErrorTranslator(self.where, self.model_name, self._api_key, self.max_retries, self.timeout)


def clean_rewrite(text: str) -> str:
    """The first line of a model's rewrite, without a label or quotes.

    Example: clean_rewrite('Standalone question: "Who leads Iran?"\\nThanks') -> "Who leads Iran?"
    """
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    line = re.sub(r"^(standalone|rewritten)?\s*question\s*:\s*", "", lines[0], flags=re.I)
    line = line.strip().strip("\"'“”").strip()
    return line if len(line) <= 500 else ""


class _ErrorTranslator:
    """Turn the openai client's and httpx's exceptions into one-line QAErrors with no secret in them."""

    def __init__(self, where: str, model: str, secret: str, retries: int, timeout: float):
        self.where, self.model, self.secret, self.retries, self.timeout = where, model, secret, retries, timeout
        self.mid_answer = False  # set once the answer has started to stream: then no retry can help

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, error: BaseException | None, tb: object) -> None:
        if error is None or isinstance(error, (QAError, GeneratorExit, KeyboardInterrupt)):
            return
        message = self.message(error)
        if message is None:
            return
        if self.secret and self.secret != "no-key":
            message = message.replace(self.secret, "***")
        raise QAError(message) from None

    def message(self, error: BaseException) -> str | None:
        import httpx
        import openai

        where = self.where
        tries = f"after {self.retries + 1} tries" if self.retries else "(no retries)"
        if self.mid_answer and isinstance(error, (httpx.TransportError, openai.APIConnectionError)):
            return f"the model server at {where} broke off the answer mid-way (connection lost); try again"
        if isinstance(error, openai.AuthenticationError):
            return f"the model server at {where} refused the API key (401); check OPENAI_API_KEY"
        if isinstance(error, openai.PermissionDeniedError):
            return f"the model server at {where} denied access (403); check OPENAI_API_KEY and the model's permissions"
        if isinstance(error, openai.NotFoundError):
            return f"model {self.model!r} not found at {where} (404); check --model / QA_MODEL and --base-url"
        if isinstance(error, openai.RateLimitError):
            if "insufficient_quota" in str(error):
                return f"the account's quota at {where} is used up (429); check your plan and billing"
            return f"rate limited by {where} (429) {tries}; wait a moment and try again"
        if isinstance(error, openai.APITimeoutError):
            return f"no answer from the model server at {where} within {self.timeout:g} s {tries}; try again or raise QA_LLM_TIMEOUT"
        if isinstance(error, openai.APIConnectionError):
            return (
                f"cannot reach the model server at {where} {tries}; is it running? check --base-url / OPENAI_BASE_URL"
            )
        if isinstance(error, openai.APIStatusError):
            if error.status_code >= 500:
                return f"the model server at {where} failed (HTTP {error.status_code}) {tries}; try again later"
            detail = shorten(getattr(error, "message", "") or str(error), 160, at_word=False)
            return f"the model server at {where} rejected the request (HTTP {error.status_code}): {detail}"
        if isinstance(error, (httpx.TransportError, openai.APIError)):
            return f"the model server at {where} broke off the answer ({type(error).__name__}); try again"
        return None
