"""A generator tests script in-process, in the spirit of simonw/llm's MockModel.

    gen = assistant.generator          # with Assistant(..., llm="fake")
    gen.enqueue("Iraq hosts 2,500 US troops [1].")
    answer = assistant.ask("How many US troops are in Iraq?")
    assert gen.history[0].question == "How many US troops are in Iraq?"

A response is a string (streamed word by word), a list of pieces (streamed as they are), or an
exception (raised when the generator is called). With nothing queued it answers with the first
sentence of the first passage, cited. ``rewrites`` are the standalone questions :meth:`rewrite`
returns, one a call; with none queued it rewrites offline like the base class.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from qa.chunk import split_sentences
from qa.generators import Generator, register, unregister
from qa.types import DraftInfo, Passage

Response = str | list[str] | BaseException


@dataclass
class Call:
    """One call of the fake: what it was asked and given, and what it answered."""

    question: str
    passages: list[Passage]
    response: str = ""


@dataclass
class RewriteCall:
    question: str
    history: list[tuple[str, str]]
    standalone: str = ""


class FakeGenerator(Generator):
    name = "fake"

    def __init__(self, relevance_gate: bool = True, options: dict[str, Any] | None = None):
        self.relevance_gate = relevance_gate
        self.options = dict(options or {})
        self.responses: list[Response] = []
        self.rewrites: list[str] = []
        self.history: list[Call] = []
        self.rewrite_history: list[RewriteCall] = []
        self.prepared: list[list[Passage]] = []

    def enqueue(self, *responses: Response) -> FakeGenerator:
        self.responses.extend(responses)
        return self

    def enqueue_rewrite(self, *standalone: str) -> FakeGenerator:
        self.rewrites.extend(standalone)
        return self

    def prepare(self, question: str, passages: Sequence[Passage]) -> list[Passage]:
        self.prepared.append(list(passages))
        return list(passages)

    def stream(
        self, question: str, passages: Sequence[Passage], as_of: date | None = None
    ) -> Iterator[str | DraftInfo]:
        call = Call(question, list(passages))
        self.history.append(call)
        response = self.responses.pop(0) if self.responses else self._default(passages)
        if isinstance(response, BaseException):
            raise response
        pieces = response if isinstance(response, list) else [w + " " for w in response.split(" ")]
        for piece in pieces:
            call.response += piece
            yield piece

    def rewrite(self, question: str, history: Sequence[tuple[str, str]]) -> str:
        call = RewriteCall(question, list(history))
        self.rewrite_history.append(call)
        call.standalone = self.rewrites.pop(0) if self.rewrites else super().rewrite(question, history)
        return call.standalone

    @staticmethod
    def _default(passages: Sequence[Passage]) -> str:
        text = passages[0].text
        a, b = split_sentences(text)[0]
        return text[a:b].rstrip(".") + " [1]."


def register_fake() -> None:
    """``Assistant(..., llm="fake")`` builds a :class:`FakeGenerator` in this process."""
    register("fake", lambda argument, settings, embedder, options: FakeGenerator(options=options))


def unregister_fake() -> None:
    unregister("fake")
