"""What flows between the stages: a retrieved :class:`Passage`, and an :class:`Answer` with its
numbered :class:`Citation` values (exact article spans) and per-:class:`Sentence` support."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
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
    dense_rank: int | None = None  # 1-based rank in the dense list, None when it did not return this chunk
    keyword_rank: int | None = None  # 1-based rank in the BM25 list, None when it did not return this chunk
    publisher: str | None = None  # the article's "source:" header: who published it
    titled: bool = True  # False: the article came with no title, and ``title`` is its first sentence

    @property
    def headline(self) -> str:
        """The article's own title, "" when it came with none: what the reader's and reranker's title
        features read (a first sentence standing in for a title is not a headline), for models fitted
        with ``qa train --untitled``; the others read every title as the article's own (:func:`as_fitted`),
        except where they name the short answer (:meth:`qa.reader.Reader.read`)."""
        return self.title if self.titled else ""


def as_fitted(passages: Sequence[Passage], reads_untitled: bool) -> list[Passage]:
    """``passages`` as a model reads them: one fitted without untitled articles (``qa train --untitled``)
    reads a first sentence standing in for a title as the title (:attr:`Passage.headline`)."""
    return list(passages) if reads_untitled else [p if p.titled else replace(p, titled=True) for p in passages]


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
    reason: str | None = None  # why it is not supported: "number 3,500 not in [1]"


@dataclass(frozen=True)
class ConflictValue:
    """One side of a :class:`Conflict`: the value as its passage writes it, and the citation quoting it."""

    text: str
    citation: int


@dataclass(frozen=True)
class Conflict:
    """Articles that answer the question give different values: "at least five" [1], "several" [2]."""

    claim: str  # what the values are of (the question they answer)
    values: tuple[ConflictValue, ...]

    def sentence(self, markers: bool = True) -> str:
        """Example: "The sources differ: at least five [1], several [2]." (without ``markers``: no "[n]")"""
        return f"{CONFLICT_PREFIX} {', '.join(f'{v.text} [{v.citation}]' if markers else v.text for v in self.values)}."


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    refused: bool
    citations: tuple[Citation, ...] = ()
    sentences: tuple[Sentence, ...] = ()
    passages: tuple[Passage, ...] = field(default=(), repr=False, compare=False)
    search_query: str | None = None  # the standalone question searched, when it differs
    short_answer: str | None = None  # the name, number, date or phrase that answers, verbatim from a cited passage
    short_citation: int | None = None  # the citation the short answer comes from
    confidence: float | None = None  # 0..1, P(the answer is right), when the generator can say
    conflicts: tuple[Conflict, ...] = ()  # where the articles disagree (qa.conflicts), each side cited

    @property
    def verified(self) -> bool:
        """Every sentence is supported by the passages it cites."""
        return all(s.supported for s in self.sentences)

    @property
    def said(self) -> str:
        """The answer as it is shown: the short answer and its citation on the first line, when there is
        one, then the sentences. What a follow-up's "he" or "it" may point back at (:mod:`qa.followup`).

        Example: "Lloyd Austin [2]\nUS Secretary of Defense Lloyd Austin spoke ... [2]."
        """
        if not self.short_answer:
            return self.answer
        marker = f" [{self.short_citation}]" if self.short_citation else ""
        return f"{self.short_answer}{marker}\n{self.answer}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "question": self.question,
            "short_answer": self.short_answer,
            "short_answer_citation": self.short_citation,
            "answer": self.answer,
            "refused": self.refused,
            "citations": [
                {k: v for k, v in asdict(c).items() if k not in ("article_id", "passage_id")} for c in self.citations
            ],
            "sentences": [
                {"text": s.text, "citations": list(s.citations), "supported": s.supported, "reason": s.reason}
                for s in self.sentences
            ],
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "conflicts": [
                {"claim": c.claim, "values": [{"text": v.text, "citation": v.citation} for v in c.values]}
                for c in self.conflicts
            ],
        }
        if self.search_query and self.search_query != self.question:
            out["search_query"] = self.search_query
        return out


#: How an answer says where its articles disagree: "The sources differ: at least five [1], several [2]."
CONFLICT_PREFIX = "The sources differ:"

#: How a draft gives its short answer: a first line "Short answer: Lloyd Austin [1]".
SHORT_PREFIX = "Short answer:"


@dataclass(frozen=True)
class DraftInfo:
    """What a generator may yield after its draft's text: how sure it is (0..1), when it can say."""

    confidence: float | None = None


def refusal(
    question: str, passages: tuple[Passage, ...] = (), search_query: str | None = None, confidence: float | None = None
) -> Answer:
    return Answer(question, REFUSAL, True, passages=passages, search_query=search_query, confidence=confidence)
