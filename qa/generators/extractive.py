"""The offline default: answer with the passage sentences that best answer the question.

No model weights beyond the embedder. Each sentence of the retrieved passages is scored by

- its cosine similarity to the question (the bundled MiniLM embedder),
- the share of the question's content words found in the sentence and in its passage
  (numbers and capitalised names weigh double, see :func:`qa.cite.content_words`),
- whether it holds the kind of thing asked for: a number for "how many", a name for "who",
  a date for "when"; and whether it says anything the question does not already say.

The share of the question's key terms (its names and numbers) missing from the passage costs
up to ``MISSING_KEY_PENALTY``. A sentence's share of question words is read partly
(``CONTEXT_SHARE``) with the sentence before it, which an elliptical sentence leans on; words match up to inflection ("Israeli" meets "Israel") and month
abbreviations. A "how many" or "when" question is only answered by a sentence holding a number
or a time expression. When another article's sentence of the kind asked for scores nearly as
well, it is added, so that two reports of one fact (five injured, "several" injured) both show. When the best score is under ``MIN_SCORE`` the generator
refuses with the fixed refusal sentence instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..chunk import split_sentences
from ..cite import content_words, place_markers, support
from ..embed import MiniLMEmbeddings
from ..types import REFUSAL, Passage
from . import Generator

#: How a sentence's score is made: cosine to the question, shares of the question's words in the
#: sentence and in its passage, and whether it holds the kind of thing asked for.
WEIGHTS = {"dense": 0.45, "sentence": 0.3, "passage": 0.15, "kind": 0.1}
MIN_SCORE = 0.5
MISSING_KEY_PENALTY = 0.2
CONTEXT_SHARE = 0.3  # of the sentence's word share, read with the sentence before it
SECOND_SENTENCE_MARGIN = 0.04
OTHER_ARTICLE_MARGIN = 0.1
MAX_SENTENCES = 2
CACHE_SIZE = 20_000

_QUESTION_WORDS = {"many", "much", "according", "report", "reported", "happened", "name", "kind", "type"}
_NUMBER_WORDS = re.compile(
    r"\b(\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?|thousands?|"
    r"millions?|billions?|half|several)\b",
    re.IGNORECASE,
)
_DATE_WORDS = re.compile(
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|may(?= \d)|june|july|"
    r"august|september|october|november|december|jan|feb|aug|sept?|oct|nov|dec|yesterday|today|tonight|tomorrow|"
    r"weekends?|weeks?|months?|years?|decades?|century|centuries|ago|spring|summer|fall|autumn|winter|morning|afternoon|evening|"
    r"(1[5-9]|20)\d\d|\d{1,2}(:\d\d)? ?[ap]\.?m)\b",
    re.IGNORECASE,
)


@dataclass
class _Candidate:
    passage: int  # 1-based
    text: str
    score: float
    article: str = ""


class ExtractiveGenerator(Generator):
    name = "extractive"
    relevance_gate = False  # its own scores refuse (MIN_SCORE)

    def __init__(self, embedder: MiniLMEmbeddings | None = None, min_score: float = MIN_SCORE):
        self.embedder = embedder or MiniLMEmbeddings()
        self.min_score = min_score
        self._cache: dict[str, Any] = {}  # sentence -> its vector

    def stream(self, question: str, passages: Sequence[Passage]) -> Iterator[str]:
        chosen = self.select(question, passages)
        if not chosen:
            yield REFUSAL
            return
        for i, c in enumerate(chosen):
            yield ("" if i == 0 else " ") + place_markers(c.text, [c.passage])

    def select(self, question: str, passages: Sequence[Passage]) -> list[_Candidate]:
        """The sentences to answer with, best first; empty when the passages do not answer."""
        q_words = {w: v for w, v in content_words(question).items() if w not in _QUESTION_WORDS}
        if not q_words or not passages:
            return []
        # Names and numbers of the question; its first word is capitalised anyway, so it does not count.
        rest = question.split(None, 1)[1] if len(question.split(None, 1)) > 1 else ""
        keys = {w for w, v in content_words(rest).items() if v > 1 and w in q_words}
        total = sum(q_words.values())
        wants = _wanted_kind(question)
        texts: list[str] = []
        meta: list[tuple[int, float, float, float, str]] = []  # passage, lexical sentence/passage, missing, article
        for n, p in enumerate(passages, start=1):
            p_words = set(content_words(f"{p.title}. {p.text}"))
            lex_p = sum(v for w, v in q_words.items() if _found(w, p_words)) / total
            missing = sum(1 for k in keys if not _found(k, p_words)) / len(keys) if keys else 0.0
            prev = ""
            for a, b in split_sentences(p.text):
                s, before, prev = p.text[a:b], prev, p.text[a:b]
                if len(s) < 20 or len(s) > 600:
                    continue
                s_words = content_words(s)
                if not any(w not in q_words for w in s_words):
                    continue  # says nothing the question does not already say
                if _INSTRUCTION.match(s):
                    continue  # tells the reader what to do: not a report of a fact (articles are data)
                if wants in _REQUIRED_KINDS and not _has_kind(s, wants, q_words):
                    continue  # a "how many" answered without a number is no answer
                # An elliptical sentence ("An additional 900 are stationed in Syria.") leans on the one
                # before it ("Iraq hosts 2,500 US troops."): read the question's words in both.
                ctx_words = {**content_words(before), **s_words}
                lex_s = sum(v for w, v in q_words.items() if _found(w, s_words)) / total
                lex_ctx = sum(v for w, v in q_words.items() if _found(w, ctx_words)) / total
                lex_s = (1 - CONTEXT_SHARE) * lex_s + CONTEXT_SHARE * lex_ctx
                texts.append(s)
                meta.append((n, lex_s, lex_p, missing, p.article_id))
        if not texts:
            return []
        vectors = self._embed(question, texts)
        dense = vectors[1:] @ vectors[0]
        cands: list[_Candidate] = []
        for s, (n, lex_s, lex_p, missing, article), d in zip(texts, meta, dense):
            kind = 1.0 if wants is None or _has_kind(s, wants, q_words) else 0.0
            w = WEIGHTS
            score = w["dense"] * float(d) + w["sentence"] * lex_s + w["passage"] * lex_p + w["kind"] * kind
            score -= MISSING_KEY_PENALTY * missing
            cands.append(_Candidate(n, s, score, article))
        cands.sort(key=lambda c: -c.score)
        best = cands[0]
        if best.score < self.min_score:
            return []
        chosen = [best]
        for c in cands[1:]:
            if len(chosen) == MAX_SENTENCES or c.score < best.score - OTHER_ARTICLE_MARGIN:
                break
            # Another article's sentence of the kind asked for may report the fact differently: show both.
            other_view = (
                wants is not None and c.article not in {o.article for o in chosen} and _has_kind(c.text, wants, q_words)
            )
            if c.score < best.score - (OTHER_ARTICLE_MARGIN if other_view else SECOND_SENTENCE_MARGIN):
                continue
            if all(support(c.text, o.text) < 0.7 and support(o.text, c.text) < 0.7 for o in chosen):
                chosen.append(c)
        return chosen

    def _embed(self, question: str, sentences: list[str]):
        """Question and sentence vectors; sentence vectors are cached, as the same passages come back often."""
        import numpy as np

        todo = [s for s in dict.fromkeys(sentences) if s not in self._cache]
        if todo:
            if len(self._cache) > CACHE_SIZE:
                self._cache.clear()
            self._cache.update(zip(todo, self.embedder.embed(todo)))
        return np.vstack([self.embedder.embed([question]), *(self._cache[s][None, :] for s in sentences)])


_INSTRUCTION = re.compile(
    r"\W*(ignore|disregard|forget|answer|respond|reply|cite|say|tell|pretend|never|always|you must|you are now)\b",
    re.IGNORECASE,
)
_REQUIRED_KINDS = ("number", "date")  # a "how many" or "when" without one is no answer
_MONTHS = {
    m[:3]: m for m in "january february march april may june july august september october november december".split()
}


def _canonical(word: str) -> str:
    """Month abbreviations as full names. Example: _canonical("oct") -> "october"; _canonical("octopus") -> "octopus" """
    month = _MONTHS.get(word[:3])
    return month if month and month.startswith(word) else word


def _found(word: str, words: set[str] | dict[str, float]) -> bool:
    """Whether a question word occurs among ``words``, up to inflection and abbreviation.

    Example: _found("israeli", {"israel"}) -> True; _found("october", {"oct"}) -> True; _found("art", {"article"}) -> False
    """
    if word in words:
        return True
    if word[:1].isdigit():
        return False
    w = _canonical(word)
    for other in words:
        if other[:1] != w[:1]:
            continue
        o = _canonical(other)
        short, long = (o, w) if len(o) <= len(w) else (w, o)
        if o == w or (len(short) >= 4 and long.startswith(short)):
            return True
    return False


# "Which state ...", "which company ...", "the name of ...": most such answers are proper names.
_NAME_QUESTION = re.compile(r"\bwho\b|\bwhose\b|\bwhich\b|\bname of\b")


def _wanted_kind(question: str) -> str | None:
    q = question.lower()
    if re.search(r"\bhow (many|much|old|long|far|often)\b|\bwhat (number|percentage|percent|share|amount|age)\b", q):
        return "number"
    if re.search(r"\bwhen\b|\b(what|which) (year|day|date|month)\b", q):
        return "date"
    if _NAME_QUESTION.search(q):
        return "name"
    if re.search(r"\bwhere\b", q):
        return "name"
    return None


def _has_kind(sentence: str, kind: str, q_words: dict[str, float]) -> bool:
    if kind == "number":
        return any(m.group(0).lower() not in q_words for m in _NUMBER_WORDS.finditer(sentence))
    if kind == "date":
        return bool(_DATE_WORDS.search(sentence))
    words = content_words(sentence)
    return any(v > 1 and w not in q_words and not w[:1].isdigit() for w, v in list(words.items())[1:])
