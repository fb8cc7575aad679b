"""The one seam for writing answers. A generator turns a question and numbered passages into
a draft whose claims cite passages as ``[n]`` (1-based), or into the refusal sentence.

Generators are chosen by name: ``extractive`` (offline default, no model weights),
``openai`` (any OpenAI-compatible endpoint), ``gguf:PATH`` (a local GGUF model).

Optional hooks a generator may have, used when present:

- ``prepare(question, passages) -> passages``: the passages to give it (packed into its token
  budget); an empty list means nothing retrieved is relevant enough, and the Assistant
  refuses without calling the model (LLM generators; see :mod:`qa.relevance`).
- ``rewrite(question, history) -> str``: a follow-up question made standalone, for chat.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from ..store import Passage


class Generator(Protocol):
    name: str

    def stream(self, question: str, passages: Sequence[Passage]) -> Iterator[str]:
        """Yield the draft in pieces as it is written."""
        ...


def generate(generator: Generator, question: str, passages: Sequence[Passage]) -> str:
    return "".join(generator.stream(question, passages))


def get_generator(name: str | None, **options) -> Generator:
    """The generator called ``name`` (``extractive`` when None): ``extractive``, ``openai`` or ``gguf:PATH``.

    ``options`` go to the generator: ``embedder`` (extractive); ``model``, ``base_url``, ``api_key``,
    ``context_tokens``, ``answer_tokens``, ``timeout``, ``max_retries``... (openai, gguf).
    """
    from ..errors import UsageError

    name = (name or "extractive").strip()
    if name == "extractive":
        from .extractive import ExtractiveGenerator

        return ExtractiveGenerator(embedder=options.get("embedder"))
    if name == "openai":
        from .openai import OpenAIGenerator

        return OpenAIGenerator(**options)
    if name.startswith("gguf:"):
        from .gguf import GGUFGenerator

        return GGUFGenerator(name[len("gguf:") :], **options)
    raise UsageError(f"unknown generator {name!r}; choose extractive, openai or gguf:PATH")
