"""The one seam for writing answers. A :class:`Generator` turns a question and numbered passages
into a draft whose claims cite passages as ``[n]`` (1-based), or into the refusal sentence.

Generators are chosen by name: ``extractive`` (offline default, no model weights), ``openai``
(any OpenAI-compatible endpoint), ``gguf:PATH`` (a local GGUF model). The :class:`qa.Assistant`
drives every one the same way: retrieve, refuse without a call when the generator asks for the
relevance gate and nothing retrieved is relevant (:mod:`qa.relevance`), ``prepare`` (fit the
passages to the token budget), ``stream``, then check the citations (:mod:`qa.cite`).

A new generator subclasses :class:`Generator`, implements :meth:`Generator.stream`, and is
registered with :func:`register` (see ARCHITECTURE.md).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..types import DraftInfo, Passage

if TYPE_CHECKING:
    from ..embed import MiniLMEmbeddings
    from ..settings import Settings

#: Options a generator takes beyond :class:`qa.settings.Settings`: ``Assistant(..., temperature=0.2)``.
EXTRA_OPTIONS = ("temperature", "extra_body")


class Generator(ABC):
    """Writes answer drafts. Subclasses implement :meth:`stream`; the other methods have defaults."""

    name: str = ""
    #: The Assistant refuses without calling :meth:`stream` when nothing retrieved is relevant
    #: (:func:`qa.relevance.is_relevant`). The extractive generator scores relevance itself.
    relevance_gate: bool = True

    def prepare(self, question: str, passages: Sequence[Passage]) -> list[Passage]:
        """The passages to give :meth:`stream` (e.g. packed into a token budget); all of them by default."""
        return list(passages)

    @abstractmethod
    def stream(
        self, question: str, passages: Sequence[Passage], as_of: date | None = None
    ) -> Iterator[str | DraftInfo]:
        """Yield the draft in pieces as it is written; ``[n]`` cites the n-th of ``passages``."""

    def rewrite(self, question: str, history: Sequence[tuple[str, str]]) -> str:
        """``question`` made standalone with the conversation ``[(question, answer), ...]``, for chat.

        By default without a model (:func:`qa.followup.rewrite_offline`).
        """
        from ..followup import rewrite_offline

        return rewrite_offline(question, *history[-1]) if history else question.strip()

    def close(self) -> None:  # noqa: B027 - a hook with a default, not abstract
        """Free what the generator holds (a server, a connection); nothing by default."""


#: ``factory(argument, settings, embedder, options)``: ``argument`` is what follows ``name:`` ("" if nothing).
Factory = Callable[[str, "Settings", "MiniLMEmbeddings | None", Mapping[str, Any]], Generator]

_FACTORIES: dict[str, tuple[Factory, bool]] = {}


def register(name: str, factory: Factory, *, argument: bool = False) -> None:
    """Make ``--llm NAME`` (with ``argument``: ``--llm NAME:ARGUMENT``) build a generator with ``factory``."""
    _FACTORIES[name] = (factory, argument)


def unregister(name: str) -> None:
    _FACTORIES.pop(name, None)


def get_generator(
    name: str | None,
    settings: Settings | None = None,
    embedder: MiniLMEmbeddings | None = None,
    options: Mapping[str, Any] | None = None,
) -> Generator:
    """The generator called ``name`` (``extractive`` when None): ``extractive``, ``openai`` or ``gguf:PATH``.

    ``settings`` give the model, endpoint, key, token budget, timeout and threads; ``options`` the
    :data:`EXTRA_OPTIONS`.
    """
    from ..settings import Settings

    name = (name or "extractive").strip()
    key, colon, argument = name.partition(":")
    factory, takes_argument = _FACTORIES.get(key, (None, False))
    if factory is None or bool(colon) != takes_argument:
        choices = [f"{n}:PATH" if arg else n for n, (_, arg) in _FACTORIES.items()]
        raise UsageError(f"unknown generator {name!r}; choose {', '.join(choices[:-1])} or {choices[-1]}")
    return factory(argument, settings or Settings.resolve(), embedder, dict(options or {}))


def _extractive(argument: str, settings: Settings, embedder: MiniLMEmbeddings | None, options: Mapping[str, Any]):
    from .extractive import ExtractiveGenerator

    return ExtractiveGenerator(
        embedder=embedder,
        min_confidence=settings.min_confidence,
        short_answers=settings.short_answers,
        model_path=settings.answer_model,
    )


def _openai(argument: str, settings: Settings, embedder: MiniLMEmbeddings | None, options: Mapping[str, Any]):
    from .openai import OpenAIGenerator

    return OpenAIGenerator.from_settings(settings, **options)


def _gguf(argument: str, settings: Settings, embedder: MiniLMEmbeddings | None, options: Mapping[str, Any]):
    from .gguf import GGUFGenerator

    return GGUFGenerator.from_settings(argument, settings, **options)


register("extractive", _extractive)
register("openai", _openai)
register("gguf", _gguf, argument=True)
