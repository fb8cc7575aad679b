"""What flows between the stages: a retrieved :class:`Passage`, and an :class:`Answer` with its
numbered :class:`Citation` values (exact article spans) and per-:class:`Sentence` support."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk: its text and where in which article it stands."""

    id: str
    article_id: str
    text: str
    start: int
    end: int
    title: str
    date: str | None
    source: str
    url: str | None = None
    score: float = 0.0  # fused rank score (higher is better)
    dense: float = 0.0  # cosine similarity to the question
    keyword: float = 0.0  # BM25 score for the question


#: The one refusal sentence, shared by generators, prompts, the CLI and the tests.
REFUSAL = "I cannot answer that from the articles."


@dataclass(frozen=True)
class Citation:
    """``quote == article_text[start:end]`` of the cited article."""

    n: int
    title: str
    date: str | None
    source: str
    quote: str
    start: int
    end: int
    article_id: str = ""
    passage_id: str = ""


@dataclass(frozen=True)
class Sentence:
    """One sentence of the answer, the citations it carries, and whether they support it."""

    text: str
    citations: tuple[int, ...] = ()
    supported: bool = True


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    refused: bool
    citations: tuple[Citation, ...] = ()
    sentences: tuple[Sentence, ...] = ()
    passages: tuple[Passage, ...] = field(default=(), repr=False, compare=False)
    search_query: str | None = None  # the standalone question searched, when it differs

    @property
    def verified(self) -> bool:
        """Every sentence is supported by the passages it cites."""
        return all(s.supported for s in self.sentences)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "citations": [
                {k: v for k, v in asdict(c).items() if k not in ("article_id", "passage_id")} for c in self.citations
            ],
            "sentences": [
                {"text": s.text, "citations": list(s.citations), "supported": s.supported} for s in self.sentences
            ],
        }
        if self.search_query and self.search_query != self.question:
            out["search_query"] = self.search_query
        return out


def refusal(question: str, passages: tuple[Passage, ...] = (), search_query: str | None = None) -> Answer:
    return Answer(question, REFUSAL, True, passages=passages, search_query=search_query)
