"""Is anything retrieved relevant enough to hand to a language model?

Retrieval always returns its top passages, even for a question the articles know nothing
about. Rather than pay for a model call (and risk a made-up answer), an LLM generator first
asks :func:`is_relevant`. The retrieved passages count as relevant when

- the best cosine similarity between the question and a passage (``Passage.dense``, the
  MiniLM embedding) is at least ``STRONG_DENSE`` (0.5): a close paraphrase; or
- the best cosine is at least ``MIN_DENSE`` (0.2) *and* one passage (with its title) holds at
  least ``MIN_COVERAGE`` (0.5) of the question's content words, weighted as in
  :func:`qa.cite.content_words` (names and numbers count double).

On the seed articles, questions they answer score cosine 0.37-0.80 with coverage 0.67-1.0;
off-topic questions ("What is the capital of France?", "Who won the 2022 FIFA World Cup?")
score cosine 0.07-0.14 with coverage 0.
"""

from __future__ import annotations

from collections.abc import Sequence

from .cite import content_words
from .text import FRAME_WORDS
from .types import Passage

STRONG_DENSE = 0.5
MIN_DENSE = 0.2
MIN_COVERAGE = 0.5


def coverage(question: str, text: str) -> float:
    """Weighted share of the question's content words found in ``text``, 0..1.

    Example: coverage("How many US troops are in Iraq?", "Iraq hosts 2,500 US troops.") -> 1.0
    (content words "us" 2, "troops" 1, "iraq" 2: all present)
    """
    words = {w: v for w, v in content_words(question).items() if w not in FRAME_WORDS}
    if not words:
        return 0.0
    have = set(content_words(text))
    return sum(v for w, v in words.items() if w in have) / sum(words.values())


def is_relevant(question: str, passages: Sequence[Passage]) -> bool:
    """True when the passages are worth giving a model to answer ``question`` (see module doc)."""
    if not passages:
        return False
    best_dense = max(p.dense for p in passages)
    if best_dense >= STRONG_DENSE:
        return True
    if best_dense < MIN_DENSE:
        return False
    return max(coverage(question, f"{p.title}. {p.text}") for p in passages) >= MIN_COVERAGE
