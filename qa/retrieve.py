"""Hybrid retrieval: dense search in Chroma fused with BM25 keyword search, preferring articles
dated near the question.

Dense search finds paraphrases; BM25 finds the names and numbers dense vectors blur. Both index
each chunk with its article's title and date (:func:`qa.ingest.indexed_text`). Their rankings are
fused by :func:`fused_scores` (weights in :data:`DEFAULT_FUSION`, measured with
``python -m qa.tune_retrieval``); a question asked on a day (``as_of``) gives articles dated near
that day a bonus that fades with the distance in days, and a penalty to articles dated after it.
The preference is soft: a strong match from another week still wins.

Only chunks of live articles (in the manifest) are returned, so a reader never mixes
an article's old and new versions while an ingest runs.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import os
import re
import shutil
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .embed import Embedder
from .errors import UsageError
from .ingest import indexed_text
from .store import Store
from .text import ISO_DAY_OR_MONTH
from .types import Passage

if TYPE_CHECKING:
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever

    from .rerank import RerankModel

_TOKEN_PATTERN = r"(?u)\b\w+\b"


@dataclass(frozen=True)
class Filter:
    """Restrict retrieval to a date range (inclusive, ``YYYY-MM-DD``) and/or a source substring."""

    date_from: str | None = None
    date_to: str | None = None
    source: str | None = None

    def __bool__(self) -> bool:
        return bool(self.date_from or self.date_to or self.source)

    def where(self) -> dict[str, Any] | None:
        parts: list[dict[str, Any]] = []
        if self.date_from:
            parts.append({"day": {"$gte": int(self.date_from.replace("-", ""))}})
        if self.date_to:
            parts.append({"day": {"$lte": int(self.date_to.replace("-", ""))}})
        return None if not parts else parts[0] if len(parts) == 1 else {"$and": parts}

    def matches(self, p: Passage) -> bool:
        if (self.date_from or self.date_to) and not p.date:
            return False
        if self.date_from and p.date and p.date < self.date_from:
            return False
        if self.date_to and p.date and p.date > self.date_to:
            return False
        if self.source:
            needle = self.source.lower()
            return any(needle in (x or "").lower() for x in (p.source, p.url, p.publisher, p.title))
        return True

    def describe(self) -> str:
        parts = []
        if self.date_from or self.date_to:
            parts.append(f"{self.date_from or '…'}..{self.date_to or '…'}")
        if self.source:
            parts.append(f"source~{self.source}")
        return " ".join(parts)

    def changed(
        self, since: str | dt.date | None = None, until: str | dt.date | None = None, source: str | None = None
    ) -> Filter:
        """This filter with what is given replaced: ``since`` and ``until`` a day or a month (``YYYY-MM-DD``
        or ``YYYY-MM``: ``since`` a month's first day, ``until`` its last), ``source`` a substring.

        Example: Filter().changed(since="2024-08", until="2024-09") -> Filter("2024-08-01", "2024-09-30")
        """
        out = replace(
            self,
            date_from=self.date_from if since is None else day_of(since),
            date_to=self.date_to if until is None else day_of(until, last=True),
            source=self.source if source is None else source.strip() or None,
        )
        if out.date_from and out.date_to and out.date_from > out.date_to:
            raise UsageError(f"the range {out.date_from}..{out.date_to} ends before it starts")
        return out


def day_of(value: str | dt.date, last: bool = False) -> str:
    """A day or a month (``YYYY-MM-DD`` or ``YYYY-MM``) as one day: a month's first, or with ``last`` its
    last; anything else is a UsageError that says how to write it.

    Example: day_of("2024-02", last=True) -> "2024-02-29"
    """
    if isinstance(value, dt.date):  # a datetime too: its day
        return value.isoformat()[:10]
    text = str(value).strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}", text):
            year, month = map(int, text.split("-"))
            return dt.date(year, month, calendar.monthrange(year, month)[1] if last else 1).isoformat()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    raise UsageError(f"{text!r} is not a date; write YYYY-MM-DD or YYYY-MM, e.g. 2024-08-06 or 2024-08")


def parse_filter(text: str, current: Filter = Filter()) -> Filter:
    """``current`` with the dates and/or source that ``text`` gives replaced (the chat's ``/filter``).

    Dates are ``YYYY-MM-DD`` or ``YYYY-MM`` (a whole month), alone (that day or month) or as a
    range ``FROM..TO`` with either side left out; any other words name a source.

    Example: parse_filter("2024-08..2024-09-15 reuters")
    -> Filter(date_from="2024-08-01", date_to="2024-09-15", source="reuters")
    """
    dates: tuple[str | None, str | None] | None = None
    words: list[str] = []
    for token in text.split():
        if re.fullmatch(r"[\d-]*\.\.[\d-]*", token):
            start, _, end = token.partition("..")
            dates = (start or None, end or None)
        elif ISO_DAY_OR_MONTH.fullmatch(token):
            dates = (token, token)
        else:
            words.append(token)
    out = current
    if dates:
        out = replace(out, date_from=None, date_to=None).changed(since=dates[0], until=dates[1])
    if words:
        out = out.changed(source=" ".join(words))
    return out


def make_filter(
    since: str | dt.date | None = None,
    until: str | dt.date | None = None,
    source: str | None = None,
    name: str = "{}",
) -> Filter | None:
    """The filter of ``since`` and ``until`` (a day or a month, as :meth:`Filter.changed` reads them) and
    ``source``; None when nothing filters. A bad date is a UsageError that names what gave it: ``name``
    formats "since" or "until" (``"--{}"`` for options: ``--since: '2024-13' is not a date; ...``).

    Example: make_filter(since="2024-08", source="reuters") -> Filter("2024-08-01", None, "reuters")
    """
    try:
        f = Filter().changed(since=since)
    except UsageError as e:
        raise UsageError(f"{name.format('since')}: {e}") from None
    try:
        f = f.changed(until=until)
    except UsageError as e:
        raise UsageError(f"{name.format('until')}: {e}") from None
    return f.changed(source=source) or None


@dataclass(frozen=True)
class Fusion:
    """How the dense and keyword rankings and the article's date make one score (higher is better).

    ``method`` "rrf": weighted reciprocal rank fusion, ``w / (rrf_k + rank)`` from each list that
    holds the chunk (rank 1 = first). "score": weighted normalised scores, the cosine min-max
    scaled over the dense list and BM25 divided by its best, 0 where a list lacks the chunk.
    With a question date, ``date_weight * exp(-|days| / date_days)`` is added (``days`` = as-of
    day minus the article's day), and ``future_penalty`` taken off articles dated more than
    ``future_grace_days`` after it. An article with no date gets the mean bonus of the dated
    candidates (its date is unknown, not old) and no penalty.
    """

    method: str = "rrf"
    dense_weight: float = 1.0
    keyword_weight: float = 1.0
    rrf_k: float = 60.0
    fetch_k: int = 30  # chunks taken from each list before fusing
    date_weight: float = 0.0
    date_days: float = 7.0
    future_grace_days: float = 1.0
    future_penalty: float = 0.0


#: Main's fusion before this was measured: equal RRF, no date preference.
EQUAL_RRF = Fusion()
#: BM25-led normalised-score fusion with a date preference of a week's scale (``QA_FUSION=score``).
#: Fitted with ``python -m qa.tune_retrieval --data ../shared/training/realtimeqa-2022-2025`` (blocks of
#: 4, 2 and 2 weeks in 2022, 2024 and 2025, each pooled into one corpus; grid search, fit on all
#: blocks). Held out block by block it gave hit@1/hit@6/MRR 0.270/0.415/0.335 against equal RRF's
#: 0.260/0.410/0.325 (200 questions: the sample is small, the folds' fits varied); the table is in
#: ``qa/tune_retrieval.py``. Gold passages there are dated a median 45 days before the question and
#: 11% up to 5 days after it, hence the 3 days' grace and the small penalty.
SCORE_FUSION = Fusion(
    method="score",
    dense_weight=0.25,
    keyword_weight=1.0,
    fetch_k=150,
    date_weight=0.625,
    date_days=7.0,
    future_grace_days=3.0,
    future_penalty=0.125,
)
#: Equal RRF with the date preference above carried to RRF's scale (``QA_FUSION=rrf-dates``). On
#: the practice sets its hit@6 was 0.378 / 0.522 against the score fusion's 0.361 / 0.496, but the
#: bonus is worth more than any rank within ``fetch_k``: a chunk dated today ranked 30th in both
#: lists beats one ranked first in both a year ago, which is a date window in all but name.
RRF_DATES = replace(
    EQUAL_RRF,
    date_weight=SCORE_FUSION.date_weight
    / (SCORE_FUSION.dense_weight + SCORE_FUSION.keyword_weight)
    * 2
    / (EQUAL_RRF.rrf_k + 1),
    date_days=SCORE_FUSION.date_days,
    future_grace_days=SCORE_FUSION.future_grace_days,
    future_penalty=SCORE_FUSION.future_penalty
    / (SCORE_FUSION.dense_weight + SCORE_FUSION.keyword_weight)
    * 2
    / (EQUAL_RRF.rrf_k + 1),
)
#: The shipped fusion: the one fitted on the training weeks, whose date preference stays soft.
DEFAULT_FUSION = SCORE_FUSION
#: The fusions ``QA_FUSION`` names.
FUSIONS = {"score": SCORE_FUSION, "rrf-dates": RRF_DATES, "rrf": EQUAL_RRF}


def age_days(as_of: dt.date | None, date: str | None) -> float:
    """Days from the article's date to the question's (negative: the article is later); NaN if either is unknown.

    Example: age_days(date(2024, 8, 9), "2024-08-02") -> 7.0
    """
    if as_of is None or not date:
        return float("nan")
    try:
        return float((as_of - dt.date.fromisoformat(date[:10])).days)
    except ValueError:
        return float("nan")


def parse_as_of(value: str | dt.date | None) -> dt.date | None:
    """The question's day from ``YYYY-MM-DD`` (or a date), or a UsageError saying how to write it."""
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10]) if len(str(value).strip()) == 10 else _bad_date(value)
    except ValueError:
        return _bad_date(value)


def _bad_date(value: object) -> dt.date:
    raise UsageError(f"{value!r} is not a date; write the day the question is asked as YYYY-MM-DD, e.g. 2024-08-02")


def fused_scores(
    f: Fusion,
    dense_rank: np.ndarray,
    keyword_rank: np.ndarray,
    dense_score: np.ndarray,
    keyword_score: np.ndarray,
    age: np.ndarray,
) -> np.ndarray:
    """The fused score of each candidate chunk, along the last axis (one question a row).

    Ranks are 1-based, NaN where that list did not return the chunk; scores are the cosine and
    the BM25 score (NaN where missing); ``age`` from :func:`age_days`. The search and the tuner
    (:mod:`qa.tune_retrieval`, many questions at once) both score with this function.

    Example: fused_scores(Fusion(), [1, nan], [2, 1], [0.5, nan], [3.0, 4.0], [nan, nan])
    -> [1/61 + 1/62, 1/61]
    """
    dense_rank, keyword_rank, dense_score, keyword_score, age = (
        np.asarray(x, dtype=np.float64) for x in (dense_rank, keyword_rank, dense_score, keyword_score, age)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        if f.method == "rrf":
            d = np.nan_to_num(1.0 / (f.rrf_k + dense_rank))
            k = np.nan_to_num(1.0 / (f.rrf_k + keyword_rank))
        elif f.method == "score":
            lo = np.nanmin(np.where(np.isnan(dense_score), np.inf, dense_score), axis=-1, keepdims=True)
            hi = np.nanmax(np.where(np.isnan(dense_score), -np.inf, dense_score), axis=-1, keepdims=True)
            d = np.where(np.isnan(dense_score), 0.0, np.where(hi > lo, (dense_score - lo) / (hi - lo), 1.0))
            best = np.nanmax(np.where(np.isnan(keyword_score), 0.0, keyword_score), axis=-1, keepdims=True)
            k = np.nan_to_num(np.where(best > 0, keyword_score / best, 0.0), nan=0.0)
        else:
            raise ValueError(f"unknown fusion method {f.method!r}")
        out = f.dense_weight * d + f.keyword_weight * k
        if f.date_weight or f.future_penalty:
            near = np.exp(-np.abs(age) / f.date_days)
            dated = ~np.isnan(age)
            count = dated.sum(axis=-1, keepdims=True)
            typical = np.where(count > 0, np.nansum(near, axis=-1, keepdims=True) / np.maximum(count, 1), 0.0)
            near = np.where(dated, near, typical)  # an undated article: the mean bonus of the dated ones
            later = np.nan_to_num(age < -f.future_grace_days, nan=0.0)
            out = out + f.date_weight * near - f.future_penalty * later
    return out


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: list[str]) -> list[list[str]]:
    import bm25s

    return bm25s.tokenize(
        texts, stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False, token_pattern=_TOKEN_PATTERN
    )


#: How many chunks hold a word (stemmed, as :func:`tokenize` reads it), and how many chunks were counted.
WordCounts = tuple[Callable[[str], int | None], int]


@dataclass(frozen=True)
class Background:
    """How common words are in news at large, to read an index's counts against (fitted by ``qa train``).

    ``counts``: how many of a news corpus's ``chunks`` hold each word (the words in at least a few);
    ``pool``: how many chunks a question is typically asked over (a training question's pool). An
    index is read as if it were such a pool: a smaller one is filled up with the corpus's rates (in
    a folder of two articles its subject is in every chunk, and in the news it is not), a larger
    one's counts are read against the pool's size (a story's name stands in its story's chunks, however
    many other stories the index holds).
    """

    counts: Mapping[str, int]
    chunks: int
    pool: float

    def to_json(self) -> dict[str, Any]:
        return {"chunks": self.chunks, "pool": self.pool, "counts": dict(self.counts)}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Background:
        return cls({str(w): int(n) for w, n in d["counts"].items()}, int(d["chunks"]), float(d["pool"]))


def word_shares(
    texts: Sequence[str], count: Callable[[str], int | None], total: int, background: Background
) -> list[tuple[float, float]]:
    """Each text's rarest and commonest word's share of a typical pool's chunks: ``count(word)`` of the
    ``total`` chunks searched hold it, and ``background`` fills a small index up to a pool (see
    :class:`Background`); words as keyword search reads them (stemmed, no stop words). A text of stop
    words alone is as common as can be. The reader weighs a candidate answer by it: "US" stands in a
    third of a news pool's chunks and is seldom what a question asks for.

    Example: word_shares(["Iraq", "US troops", "the"], {"iraq": 8, "us": 5, "troop": 2}.get, 10,
    Background({"us": 100}, 1000, 20)) -> [(0.4, 0.4), (0.1, 0.3), (1.0, 1.0)]
    (the 10 chunks filled up to 20 with the background's rates: "us" in 5 + 10 * 100 / 1000)
    """
    fill = max(0.0, background.pool - total) / background.chunks if background.chunks else 0.0
    out = []
    for words in tokenize(list(texts)) if texts else []:
        shares = [
            min(1.0, ((count(w) or 0) + fill * background.counts.get(w, 0)) / background.pool) for w in words if w
        ]
        out.append((min(shares), max(shares)) if shares else (1.0, 1.0))
    return out


def chunk_counts(tokenized: Iterable[list[str]]) -> Counter[str]:
    """How many of the chunks (as :func:`tokenize` reads them) hold each word, as :func:`word_shares` counts.

    Example: chunk_counts([["iraq", "troop", "iraq"], ["iraq"]]) -> Counter({"iraq": 2, "troop": 1})
    """
    return Counter(w for words in tokenized for w in set(words))


def passage_counts(passages: Sequence[Passage]) -> WordCounts:
    """The :data:`WordCounts` of ``passages`` alone (as indexed), for a reader given no index."""
    counts = chunk_counts(tokenize([indexed_text(p.text, p.title, p.date) for p in passages]))
    return counts.get, len(passages)


class KeywordIndex:
    """BM25 over every chunk, saved beside the index and rebuilt when the index's generation moves.

    ``generation`` is ``<chunks collection id>/<ingest generation>``: a rebuilt or reset index gets a
    new collection id, so a cache left from an earlier index with the same count is never reused.
    """

    def __init__(self, bm25: Any, ids: list[str], generation: str):
        self.bm25 = bm25
        self.ids = ids
        self.generation = generation

    @classmethod
    def build(cls, store: Store, generation: str) -> KeywordIndex:
        ids, texts = [], []
        for id, meta, doc in store.all_chunks():
            ids.append(id)
            texts.append(indexed_text(doc or "", meta.get("title"), meta.get("date")))
        return cls.from_texts(ids, texts, generation)

    @classmethod
    def from_texts(cls, ids: list[str], texts: list[str], generation: str = "") -> KeywordIndex:
        """BM25 over ``texts`` (the chunks' indexed texts), found by ``ids``."""
        import bm25s

        bm25 = bm25s.BM25()
        tokens = tokenize(texts) if texts else []
        if not any(tokens):  # no words at all (only emoji, say): nothing to find by keyword, and bm25s cannot index it
            return cls(bm25, [], generation)
        bm25.index(tokens, show_progress=False)
        return cls(bm25, ids, generation)

    def save(self, folder: Path) -> None:
        """Write to a temporary folder, then swap it in; another process may be doing the same."""
        try:
            self._save(folder)
        except OSError:
            pass  # lost a race with another process saving the same generation: theirs is as good

    def _save(self, folder: Path) -> None:
        tmp = folder.with_name(f"{folder.name}.{os.getpid()}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self.ids:
            self.bm25.save(str(tmp))
        (tmp / "ids.json").write_text(json.dumps({"generation": self.generation, "ids": self.ids}))
        old = folder.with_name(f"{folder.name}.{os.getpid()}.old")
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex | None:
        import bm25s

        try:
            meta = json.loads((folder / "ids.json").read_text())
            bm25 = bm25s.BM25.load(str(folder)) if meta["ids"] else bm25s.BM25()
        except Exception:  # missing, half-swapped by another process, or from another bm25s: rebuild it
            return None
        return cls(bm25, meta["ids"], str(meta["generation"]))

    def word_counts(self) -> WordCounts | None:
        """How many of the index's chunks hold each word (:data:`WordCounts`); None when it has no words."""
        vocab = getattr(self.bm25, "vocab_dict", None)
        scores = getattr(self.bm25, "scores", None)
        if not self.ids or not vocab or not isinstance(scores, dict) or "indptr" not in scores:
            return None
        indptr = scores["indptr"]  # bm25s keeps each word's chunks as a column: their count is its length

        def count(word: str) -> int:
            i = vocab.get(word)
            return int(indptr[i + 1] - indptr[i]) if i is not None and i + 1 < len(indptr) else 0

        return count, len(self.ids)

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        if not self.ids:
            return []
        tokens = tokenize([query])
        if not tokens[0]:
            return []
        vocab = getattr(self.bm25, "vocab_dict", None)
        if vocab is not None:
            tokens = [[t for t in tokens[0] if t in vocab]]
            if not tokens[0]:
                return []
        docs, scores = self.bm25.retrieve(tokens, k=min(k, len(self.ids)), show_progress=False, n_threads=1)
        return [(self.ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]


@dataclass
class HybridRetriever:
    """:meth:`search` returns Passages; :meth:`as_langchain` wraps it as a LangChain retriever.

    Not a LangChain ``BaseRetriever`` itself: importing that costs about a second, which every
    ``qa ask`` would pay before answering.
    """

    store: Store
    embedder: Embedder
    keyword_dir: Path
    k: int = 6
    fusion: Fusion = DEFAULT_FUSION
    rerank: bool = True  # reorder the fused candidates with the learned reranker (qa/rerank.py)
    rerank_model: Path | None = None  # its file (default: the shipped one)
    _keyword: KeywordIndex | None = field(default=None, repr=False)

    def keyword_index(self, loading: Future[KeywordIndex | None] | None = None) -> KeywordIndex:
        """The keyword index of the store's current generation: kept, read from ``keyword_dir`` (or taken
        from ``loading``, a read already under way), or built when neither is current."""
        generation = f"{self.store.chunks.id}/{int(self.store.state().get('generation', 0))}"
        if self._keyword is None or self._keyword.generation != generation:
            index = loading.result() if loading is not None else KeywordIndex.load(self.keyword_dir)
            if index is None or index.generation != generation:
                index = KeywordIndex.build(self.store, generation)
                index.save(self.keyword_dir)
            self._keyword = index
        return self._keyword

    @property
    def fetch_k(self) -> int:
        return self.fusion.fetch_k

    def word_counts(self) -> WordCounts | None:
        """How many of the index's chunks hold each word (:meth:`KeywordIndex.word_counts`), counted by
        the keyword index the last search read."""
        return (self._keyword or self.keyword_index()).word_counts()

    def search(
        self, question: str, k: int | None = None, filter: Filter | None = None, as_of: dt.date | str | None = None
    ) -> list[Passage]:
        """The ``k`` best chunks for ``question``; with ``as_of`` (the day it is asked), articles dated
        near that day are preferred (softly: see :class:`Fusion`)."""
        k = k or self.k
        day = parse_as_of(as_of)
        fetch = self.fetch_k * (4 if filter else 1)
        loading = None
        if self._keyword is None:  # the first search reads the keyword index from disk while the dense one runs
            pool = ThreadPoolExecutor(1)
            loading = pool.submit(KeywordIndex.load, self.keyword_dir)
            pool.shutdown(wait=False)
        vector = self.embedder.embed_query(question)
        dense = self.store.dense_search(vector, fetch, where=filter.where() if filter else None)
        keyword = self.keyword_index(loading).search(question, fetch)
        by_id: dict[str, Passage] = {p.id: p for p in dense}
        missing = [cid for cid, _ in keyword if cid not in by_id]
        for p in self.store.get_passages(missing):
            by_id[p.id] = p
        dense_rank = {p.id: r for r, p in enumerate(dense, start=1)}
        kw_rank = {cid: r for r, (cid, _) in enumerate(keyword, start=1)}
        kw_score = dict(keyword)
        cands = [cid for cid in dict.fromkeys([*dense_rank, *kw_rank]) if cid in by_id]
        if not cands:  # an empty index
            return []
        nan = float("nan")
        scores = fused_scores(
            self.fusion,
            np.array([dense_rank.get(c, nan) for c in cands]),
            np.array([kw_rank.get(c, nan) for c in cands]),
            np.array([by_id[c].dense if c in dense_rank else nan for c in cands]),
            np.array([kw_score.get(c, nan) for c in cands]),
            np.array([age_days(day, by_id[c].date) for c in cands]),
        )
        fused = dict(zip(cands, scores.tolist()))
        ranked = sorted(cands, key=lambda c: -fused[c])
        if filter:
            ranked = [c for c in ranked if filter.matches(by_id[c])]
        if self.rerank:
            from .rerank import CANDIDATES, rerank

        want = max(k, CANDIDATES) if self.rerank else k
        ranked = ranked[: want * 3]
        # Only live articles, with their current titles: the manifest is the commit point.
        live = self.store.article_records(ids=[by_id[c].article_id for c in ranked])
        out: list[Passage] = []
        for cid in ranked:
            p = by_id[cid]
            rec = live.get(p.article_id)
            if rec is None:
                continue
            out.append(
                replace(
                    p,
                    score=fused[cid],
                    keyword=kw_score.get(cid, 0.0),
                    title=rec.title,
                    titled=rec.titled,
                    date=rec.date,
                    url=rec.url,
                    dense_rank=dense_rank.get(cid),
                    keyword_rank=kw_rank.get(cid),
                )
            )
            if len(out) == want:
                break
        # A keyword-only hit's cosine, from its stored vector: the relevance gate reads it.
        found_by_keyword = [p.id for p in out if p.dense_rank is None]
        cosines = self.store.cosines(vector, found_by_keyword)
        out = [replace(p, dense=cosines.get(p.id, -1.0)) if p.dense_rank is None else p for p in out]
        if self.rerank:
            out = rerank(question, out, day, model=self.reranker)
        return out[:k]

    @cached_property
    def reranker(self) -> RerankModel | None:
        """The reranker of :attr:`rerank_model`, read once (None: the shipped one)."""
        from .rerank import load

        return load(self.rerank_model) if self.rerank_model else None

    def as_langchain(self) -> BaseRetriever:
        """A LangChain retriever: ``invoke(question)`` returns Documents."""
        from langchain_core.retrievers import BaseRetriever

        search = self.search

        class _Retriever(BaseRetriever):
            def _get_relevant_documents(self, query: str, *, run_manager: Any) -> list[Document]:
                return [to_document(p) for p in search(query)]

        return _Retriever()


def to_document(p: Passage) -> Document:
    from langchain_core.documents import Document

    meta = {k: v for k, v in p.__dict__.items() if k != "text" and v is not None}
    return Document(page_content=p.text, metadata=meta, id=p.id)


def keyword_dir_for(index_dir: Path | None, chroma_url: str | None, name: str, cache: Path) -> Path:
    if chroma_url:
        return cache / "keyword" / hashlib.sha1(f"{chroma_url}/{name}".encode()).hexdigest()[:16]
    assert index_dir is not None
    return index_dir / "keyword"
