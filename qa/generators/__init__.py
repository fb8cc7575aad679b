"""The one seam for writing answers. A generator turns a question and numbered passages into
a draft whose claims cite passages as ``[n]`` (1-based), or into the refusal sentence.

Generators are chosen by name: ``extractive`` (offline default, no model weights),
``openai`` (any OpenAI-compatible endpoint), ``gguf:PATH`` (a local GGUF model).
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
    """The generator called ``name`` (``extractive`` when None)."""
    from ..errors import UsageError

    name = (name or "extractive").strip()
    if name == "extractive":
        from .extractive import ExtractiveGenerator

        return ExtractiveGenerator(embedder=options.get("embedder"))
    raise UsageError(f"unknown generator {name!r}; choose extractive, openai or gguf:PATH")
