"""Rerank the fused candidates: a model learned from real news questions picks the passages to read.

Fusion (:mod:`qa.retrieve`) ranks chunks by their BM25 score, their cosine and their date, one
chunk at a time. What it cannot see is what a reader of the news looks at: does the passage name
*every* person, place and number the question names, or only one rare word of it many times? Is
its article about the story (several of its chunks match), is the question's phrasing there word
for word, does it hold the kind of thing asked for (a number for "how many")? The reranker reads
the best :data:`CANDIDATES` fused chunks with such features and orders them by a LightGBM
lambdarank model fitted by :mod:`qa.train` on four years of news questions (a passage is right when
it holds a gold answer), held out by whole weeks.

The features come from one function, :func:`features`, at training and at answer time. They use no
embedding: the training pool of 300,000 chunks has no vectors (embedding it would take hours on 2
cores), so the dense list only brings candidates in, and its order reaches the model through the
fused rank. The model is ``qa/rerank_model.json`` (trees walked with numpy, as the answer model's);
``QA_RERANK=off`` keeps the fused order.

    passages = rerank("Who won the Tour de France?", fused_passages, as_of=date(2024, 7, 26))  # the shipped model
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .cite import content_words
from .errors import QAError
from .reader.candidates import Question, bigrams, date_rels, days_between, found, has_kind, question_bigrams, share
from .reader.model import Trees, matrix, mismatch
from .reader.question import TYPES
from .types import Passage, as_fitted

#: Fused chunks the reranker reads (the gold passage of a practice question lies in the fused top 30
#: for 9 of 10 of those that have it in the top 60).
CANDIDATES = 30
MODEL_FILE = "rerank_model.json"
FORMAT = 1
REBUILD = "python -m qa.train --data ../shared/training/realtimeqa-2022-2025"


class RerankError(QAError):
    pass


def features(q: Question, passages: Sequence[Passage]) -> list[dict[str, float]]:
    """One feature dict per passage, ``passages`` in fused order (best first).

    Example: features(Question.read("Who won the Tour de France?"), [p1, p2])[0]["lex_p"] -> 0.75
    """
    if not passages:
        return []
    q_bigrams = question_bigrams(q)
    top_keyword = max((p.keyword for p in passages), default=0.0) or 1.0
    rels = date_rels(q.as_of, [p.date for p in passages])
    rows: list[dict[str, float]] = []
    per_article: dict[str, list[int]] = {}
    article_order: dict[str, int] = {}
    for n, p in enumerate(passages):
        per_article.setdefault(p.article_id, []).append(n)
        article_order.setdefault(p.article_id, len(article_order) + 1)
        text_words = _words(p.text)
        title_words = _words(p.headline)
        words = {**text_words, **title_words}
        keys_missing = sum(1 for k in q.keys if not found(k, words)) / len(q.keys) if q.keys else 0.0
        pairs = bigrams(f"{p.headline}. {p.text}")
        gap = days_between(q.as_of, p.date)
        rows.append(
            {
                "fused_rank": math.log(n + 1),
                "keyword_rel": p.keyword / top_keyword,
                "keyword_zero": float(p.keyword <= 0),
                "lex_p": share(q, words),
                "lex_text": share(q, text_words),
                "lex_title": share(q, title_words),
                "missing_keys": keys_missing,
                "bigrams": len(q_bigrams & pairs) / len(q_bigrams) if q_bigrams else 0.0,
                "kind": _kind(p.text, text_words, q),
                "date_rel": rels[n],
                "date_future": float(gap is not None and gap < -3),
                "date_unknown": float(gap is None),
                "position": math.log1p(p.start),
                "article_order": math.log(article_order[p.article_id]),
                **{f"q_{t}": float(q.type == t) for t in TYPES},
            }
        )
    for ids in per_article.values():  # what the article's matching chunks say together
        best = max(rows[i]["lex_p"] for i in ids)
        for i in ids:
            rows[i]["article_chunks"] = math.log(len(ids))
            rows[i]["article_best_lex"] = best
    return rows


#: A passage's content words, kept: training reads a week's chunks for each of its questions, a chat
#: the same story's chunks for each follow-up. Callers never change the dict.
_words = lru_cache(maxsize=1 << 16)(content_words)


def _kind(text: str, words: Mapping[str, float], q: Question) -> float:
    """Whether the passage holds the kind of thing asked for (:func:`has_kind`), names read off ``words``."""
    if q.type in ("PERSON", "PLACE", "ORG"):
        return float(any(v > 1 and w not in q.words and not w[:1].isdigit() for w, v in words.items()))
    return has_kind(text, q.type, q)


@lru_cache(maxsize=1)
def feature_names() -> tuple[str, ...]:
    """The feature names, as :func:`features` computes them, read off a tiny example."""
    p = Passage("a:0", "a", "Lloyd Austin spoke in Baghdad about 2,500 troops.", 0, 49, "Austin", "2024-08-01", "x")
    return tuple(features(Question.read("Who spoke about troops?", date(2024, 8, 2)), [p])[0])


#: The reading stage's features (:func:`read_features`), when a model has one.
READ_FEATURES = ("rr_rank", "rd_best", "rd_rank", "rd_gap")


def read_features(best: Sequence[float]) -> list[dict[str, float]]:
    """The reading stage's features of passages in the reranker's order, from each one's best span
    against "no answer" (:meth:`qa.reader.neural.SpanReader.passage_best`): its rank by the reranker and
    by the reader, its score and how far below the best of the question's passages it lies.

    Example: read_features([0.5, 2.0])[0] -> {"rr_rank": 0.0, "rd_best": 0.5, "rd_rank": 0.69..., "rd_gap": -1.5}
    """
    b = np.asarray(best, dtype=float)
    by_reader = np.argsort(np.argsort(-b, kind="stable"), kind="stable")
    top = float(b.max()) if len(b) else 0.0
    return [
        {"rr_rank": math.log1p(i), "rd_best": float(v), "rd_rank": math.log1p(int(r)), "rd_gap": float(v) - top}
        for i, (v, r) in enumerate(zip(b, by_reader))
    ]


@dataclass(frozen=True)
class RerankModel:
    trees: Trees
    meta: Mapping[str, Any] = field(default_factory=dict)
    #: The reading stage (``qa train --reader-rerank``): the fine-tuned span reader (:mod:`qa.reader.neural`)
    #: reads every candidate the trees ordered, and these trees order them again by what it found.
    reading: Trees | None = None

    def check(self, where: str = MODEL_FILE) -> None:
        detail = mismatch(self.trees.features, feature_names())
        if not detail and self.reading is not None:
            detail = mismatch(self.reading.features, READ_FEATURES)
        if detail:
            raise RerankError(
                f"the rerank model {where} does not fit this code (features {detail}); rebuild it with: {REBUILD}"
            )

    @property
    def reads_untitled(self) -> bool:
        """Whether it was fitted with untitled articles (``qa train --untitled``): see :func:`qa.types.as_fitted`."""
        return bool(self.meta.get("untitled"))

    def scores(self, q: Question, passages: Sequence[Passage]) -> np.ndarray:
        rows = features(q, as_fitted(passages, self.reads_untitled))
        return self.trees.raw(matrix(rows, self.trees.features)) if rows else np.zeros(0)

    def read(self, question: str, passages: Sequence[Passage], reader: Any = None) -> list[Passage]:
        """``passages`` (this model's order) in the reading stage's order, each with that score as ``score``;
        ``reader``: a :class:`qa.reader.neural.SpanReader` (default: the one answering reads)."""
        if self.reading is None or len(passages) < 2:
            return list(passages)
        if reader is None:
            from .reader import neural

            reader = neural.SpanReader(neural.READER_FILE)
        rows = read_features(reader.passage_best(question, [p.text for p in passages]))
        scores = self.reading.raw(matrix(rows, self.reading.features))
        return [replace(passages[i], score=float(scores[i])) for i in np.argsort(-scores, kind="stable")]

    def to_json(self) -> dict[str, Any]:
        out = {"format": FORMAT, "meta": dict(self.meta), "trees": self.trees.to_lists()}
        if self.reading is not None:
            out["reading"] = self.reading.to_lists()
        return out

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), separators=(",", ":")) + "\n")


def load(path: str | Path | None = None) -> RerankModel:
    """The rerank model at ``path``, or the one shipped in the package; a damaged or mismatched one is an error."""
    where = str(path) if path else f"qa/{MODEL_FILE}"
    try:
        text = (
            resources.files("qa").joinpath(MODEL_FILE).read_text(encoding="utf-8")
            if path is None
            else Path(path).read_text(encoding="utf-8")
        )
    except FileNotFoundError:
        raise RerankError(f"no rerank model at {where}; build it with: {REBUILD}") from None
    try:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise RerankError(
                f"the rerank model {where} has format {data.get('format')!r}, not {FORMAT}; rebuild it with: {REBUILD}"
            )
        reading = data.get("reading")
        model = RerankModel(
            Trees.from_dict(data["trees"]),
            data.get("meta", {}),
            Trees.from_dict(reading) if reading is not None else None,
        )
    except (ValueError, KeyError, TypeError) as e:
        raise RerankError(f"the rerank model {where} is damaged ({e}); rebuild it with: {REBUILD}") from None
    model.check(where)
    return model


@lru_cache(maxsize=1)
def shipped() -> RerankModel:
    return load()


def rerank(
    question: str, passages: Sequence[Passage], as_of: date | None = None, model: RerankModel | None = None
) -> list[Passage]:
    """``passages`` (fused order) in the model's order, each with its rerank score as ``score``."""
    if len(passages) < 2:
        return list(passages)
    model = model or shipped()
    q = Question.read(question, as_of)
    if not q.words:
        return list(passages)
    scores = model.scores(q, passages)
    order = np.argsort(-scores, kind="stable")
    return model.read(question, [replace(passages[i], score=float(scores[i])) for i in order])
