"""Fit the answer model from real news questions: ``python -m qa.train --data DIR`` (or ``qa train``).

``DIR`` is RealTime QA's 2022-2025 training set (``questions.jsonl`` and ``articles.jsonl.gz``,
see ``../shared/training/README.md``). For each question, the articles of its week and the
weeks either side (``--pool-weeks``) are pooled into one corpus (as a reader's index pools weeks
of news), chunked as ingest chunks them and searched with BM25 over the same indexed text; the top
passages then go through the reader's own feature code (:mod:`qa.reader.candidates`), so the
features are the ones answering computes. Labels come from the gold answers: a sentence is right when it holds
one, a span when it is one (token F1 >= 0.5 and one contains the other).

Three models, each fitted with LightGBM and written into
``qa/reader/answer_model.json`` (trees as JSON, walked by numpy at answer time):

1. the sentence model (binary, LightGBM);
2. the span model (binary, LightGBM) on the spans of the best sentences by (1);
3. the confidence (binary, LightGBM) over the question's best candidates, with questions whose
   answer is in no article as negatives; the refusal threshold and the short-answer rule are
   chosen on held-out predictions.

A share of the questions (:data:`NO_DATE_SHARE`, fixed by a hash of their id) is read without its
date, so that the models also know what to do with undated questions, and another
(:data:`MIXED_DATE_SHARE`, with ``--mixed-dates``) with some of its articles undated, as a folder
of dated articles and undated files reads.

Each question is also read a second time in a folder of its own web search's articles alone
(:func:`load_folder_items`, ``--folders``, the default), as a user's folder on one story: those
readings teach the sentence and span models; the confidence, the rules and every figure printed are
fitted and judged on the news pools alone.

Data is held out by whole weeks, never single questions: every figure printed comes from models
that never saw the question's week (5 folds of weeks). The shipped model is then fitted on all
weeks. Sentence vectors and spaCy spans are cached under ``--cache`` so a second run takes minutes.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import pickle
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from . import rerank
from .chunk import Chunker
from .config import ChunkSettings
from .eval import best_f1, normalize, occurs
from .ingest import indexed_text
from .reader import Reader, confidence_features, feature_names, homes, short_span
from .reader import candidates as cand
from .reader.candidates import Question, Sentence, Span
from .reader.model import RULE_GROUPS, AnswerModel, ModelError, Trees, matrix
from .reader.model import load as load_model
from .retrieve import Background, chunk_counts, word_shares
from .text import without_markup
from .types import Passage

K = 6  # passages a question gets, as the assistant's default
FOLDS = 5
LGB_PARAMS = {"objective": "binary", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 20,
              "feature_fraction": 0.9, "bagging_fraction": 0.9, "bagging_freq": 1, "lambda_l2": 1.0,
              "verbose": -1, "num_threads": 2, "seed": 7}  # fmt: skip
ROUNDS = {"sentence": 300, "span": 300, "confidence": 150}
#: The confidence model is small and smooth: few leaves, many questions in each.
CONFIDENCE_PARAMS = {**LGB_PARAMS, "num_leaves": 7, "min_data_in_leaf": 60, "learning_rate": 0.03}
#: Features whose effect may only go one way (+1: more is better, -1: less is better). Trees left free
#: learn odd interactions that carry badly to a folder unlike the training weeks (a sentence lacking
#: the question's names ranked over one holding them all); these constraints are what one expects
#: of any reader, not fitted to a question.
MONOTONE = {
    **dict.fromkeys(("lex_s", "lex_ctx", "lex_p", "lex_title", "keys_s", "keyword_rel", "kind", "dense_s", "rule"), 1),
    **dict.fromkeys(("sent_score", "compatible", "agree_passages", "agree_articles", "agree_sentences"), 1),
    **dict.fromkeys(("window_3", "window_8", "top_sentence", "top_span", "span_margin", "span_compatible"), 1),
    **dict.fromkeys(("span_agree", "max_lex", "max_dense", "best_lex_p", "affinity", "head_near"), 1),
    **dict.fromkeys(("pairs_s", "slot_before", "slot_after"), 1),
    **dict.fromkeys(("missing_keys", "rank", "article_rank", "dense_rank", "lex_rank", "dense_gap", "rule_gap"), -1),
    **dict.fromkeys(("keyword_zero", "date_rel", "sent_rank", "in_question", "dist", "best_missing_keys"), -1),
}
#: Share of the training questions read without a date (articles and questions are not always dated).
NO_DATE_SHARE = 0.15
#: A further share of the questions is read with some of their articles undated (:data:`UNDATED_ARTICLES`
#: of them, by a hash), as a user's folder mixes dated articles with files that carry no date. Every
#: training article has a date: without this, no model ever saw an undated article beside dated ones.
MIXED_DATE_SHARE = 0.15
UNDATED_ARTICLES = 0.3
#: With ``--untitled``, a share of the questions (by another hash) is read with none of its articles
#: titled, as a folder of plain-text files with no title line reads (their titles are first sentences,
#: which the title features do not read: :attr:`qa.types.Passage.headline`).
UNTITLED_SHARE = 0.15
#: Weeks either side of a question's week whose articles its pool also holds (an index pools weeks of news).
POOL_WEEKS = 1
#: A word counts in the background of how common words are (:class:`qa.retrieve.Background`) when at
#: least this many training chunks hold it: a rarer word would add under half a chunk to a filled-up pool.
BACKGROUND_MIN_CHUNKS = 30
#: The refusal threshold is the lowest that refuses at least this share of the held-out questions
#: whose answer is in no article: refusals that hold, at the least cost in right answers refused.
REFUSE_UNANSWERABLE = 0.75
#: The short-answer rules tried (:func:`qa.reader.gives_short`): a span's least probability, and its least
#: share of the best sentence's probability of holding the answer.
RULE_THRESHOLDS = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4)
RULE_RATIOS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5)
#: and no short answer at all (no span is more than certain): the sentences answer alone.
RULE_NEVER = (1.01, 0.0)
#: Pseudo-count pulling a rare key's rate in the affinity table toward its less specific key's.
AFFINITY_PRIOR = 10.0
#: A question head word needs this many candidates in the training questions to get its own row.
AFFINITY_MIN = 5


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


@dataclass
class Item:
    """One training question with what the reader saw and what is right."""

    id: str
    week: str
    question: Question
    answers: list[str]
    passages: list[Passage]  # the fused candidates, then (:func:`fit_reranker`) the K the reader reads
    in_articles: bool  # a gold answer occurs in its pool at all
    sentences: list[Sentence] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    folder: bool = False  # asked again in a folder of its own articles alone (:func:`load_folder_items`)
    own: frozenset[str] = frozenset()  # the articles the question's own web search returned (:func:`mark_own`)
    ranked: list[Passage] = field(default_factory=list)  # every candidate, by a reranker that never saw its week


def _unit(key: str) -> float:
    """A fixed pseudo-random number in [0, 1) for ``key``. Example: _unit("q1") == _unit("q1")"""
    return int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) / 16**8


def _sha256(paths: Sequence[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def _probe() -> str:
    """A new indexed text, fusion or reading of a question's markup, a new cache."""
    from .retrieve import DEFAULT_FUSION

    return hashlib.sha1(
        f"{indexed_text('text', 'Title', '2024-08-02')}/{rerank.CANDIDATES}/{DEFAULT_FUSION}"
        f"/{without_markup('<a href=x>A</a> &amp;')}".encode()
    ).hexdigest()[:8]


#: What every line of a training ``questions.jsonl`` holds, and its type (``date`` and ``articles`` may lack).
QUESTION_FIELDS = {"question_id": str, "question": str, "answers": list, "week": str}


class DataError(ValueError):
    """A training folder qa train cannot read; the message names the file, the line and the fix."""


def _checked_lines(
    path: Path, lines: Iterable[str], fields: Mapping[str, type]
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each line of a JSON-lines file, each an object holding ``fields`` with
    their types; a DataError names the first line that is not, e.g.
    "questions.jsonl line 3 has no "week" (each line needs question_id, question, answers, week)"."""
    need = ", ".join(fields)
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"{path} line {n} is not JSON ({e.msg}): each line is one object with {need}") from None
        if not isinstance(obj, dict):
            raise DataError(f"{path} line {n} is not a JSON object: each line needs {need}")
        for name, kind in fields.items():
            if not isinstance(obj.get(name), kind):
                what = "no" if name not in obj else f"a {type(obj[name]).__name__} for"
                raise DataError(f'{path} line {n} has {what} "{name}" (each line needs {need})')
        yield n, obj


def raw_questions(data: Path) -> list[dict[str, Any]]:
    """The lines of ``data/questions.jsonl``, each checked for :data:`QUESTION_FIELDS`, its answers strings
    and its week named YYYYMMDD; a DataError names the first line that is not."""
    path = data / "questions.jsonl"
    questions = []
    with path.open(encoding="utf-8") as f:
        for n, q in _checked_lines(path, f, QUESTION_FIELDS):
            if not all(isinstance(a, str) for a in q["answers"]):
                raise DataError(f'{path} line {n} has "answers" that are not all strings')
            if not re.fullmatch(r"\d{8}", q["week"]):
                raise DataError(f'{path} line {n} has week "{q["week"]}": weeks are named YYYYMMDD')
            questions.append(q)
    if not questions:
        raise DataError(f"{path} holds no questions")
    return questions


#: What every line of a training ``articles.jsonl.gz`` holds (``title``, ``date`` and ``url`` may be null or lack).
ARTICLE_FIELDS = {"id": str, "week": str, "text": str}


def read_articles(data: Path) -> Iterator[dict[str, Any]]:
    """The articles of ``data/articles.jsonl.gz``, one by one, each checked for :data:`ARTICLE_FIELDS`; a
    DataError names the first line that is not one, or says the file is not gzipped text."""
    path = data / "articles.jsonl.gz"
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for _, a in _checked_lines(path, f, ARTICLE_FIELDS):
                yield a
    except (OSError, EOFError, UnicodeDecodeError) as e:
        raise DataError(f"{path} is not gzipped JSON lines ({e})") from None


def read_questions(data: Path) -> list[dict[str, Any]]:
    """The training questions, each asked as :func:`qa.assistant.check_question` asks one: 36 of them
    carry the quiz's HTML links ("Soaring demand for <a href=...>Dubai</a> chocolate ...")."""
    return [{**q, "question": without_markup(q["question"]).strip()} for q in raw_questions(data)]


def pool_of(weeks: Sequence[str], week: str, width: int = POOL_WEEKS, year_ago: bool = False) -> Sequence[str]:
    """The weeks whose articles a question of ``week`` is searched in: its own and ``width`` either side;
    with ``year_ago``, also the week 52 weeks before (weeks are named YYYYMMDD) and ``width`` either side
    of it, when the data has it.

    Example: pool_of(["w1", "w2", "w3", "w4"], "w1") -> ["w1", "w2"]
    """
    i = weeks.index(week)
    near = list(weeks[max(0, i - width) : i + width + 1])
    if not year_ago:
        return near
    then = (datetime.strptime(week, "%Y%m%d") - timedelta(weeks=52)).strftime("%Y%m%d")
    if then not in weeks:
        return near
    j = weeks.index(then)
    return [*weeks[max(0, j - width) : j + width + 1], *near]


def load_items(
    data: Path, cache: Path, limit_weeks: int | None = None, pool_weeks: int = POOL_WEEKS, year_ago: bool = False
) -> list[Item]:
    """Questions with their BM25-retrieved candidates, the reranker's :data:`qa.rerank.CANDIDATES`
    (chunks and keyword search cached), each searched in a pool of its week's articles and those of
    ``pool_weeks`` weeks either side."""
    import bm25s

    from .retrieve import tokenize

    questions = read_questions(data)
    weeks = sorted({q["week"] for q in questions})
    if limit_weeks:
        keep = set(weeks[:: max(1, len(weeks) // limit_weeks)][:limit_weeks])
        questions = [q for q in questions if q["week"] in keep]
    probe = _probe()
    asked = _sha256([data / "questions.jsonl"])[:8]  # another question set (--split-later's), another cache
    wide = "" if pool_weeks == 1 else f"-w{pool_weeks}"  # files named without a width hold pools of 1
    wide += "-y" if year_ago else ""
    retrieved_file = cache / f"retrieved-{probe}-{asked}-{limit_weeks or 'all'}{wide}.pkl"
    if retrieved_file.exists():
        cached: list[Item] = pickle.loads(retrieved_file.read_bytes())
        for it in cached:  # the question's reading follows the code, not the cache
            it.question = Question.read(it.question.text, it.question.as_of)
        return cached
    chunk_file = cache / "chunks.pkl"
    by_week: dict[str, list[str]]
    passages_by_week: dict[str, list[Passage]]
    if chunk_file.exists():
        by_week, passages_by_week = pickle.loads(chunk_file.read_bytes())
    else:
        log("chunking articles")
        chunker = Chunker(ChunkSettings())
        passages, texts = defaultdict(list), defaultdict(list)
        for a in read_articles(data):
            for c in chunker.chunk(a["text"]):
                passages[a["week"]].append(
                    Passage(
                        f"{a['id']}:{c.index}",
                        a["id"],
                        c.text,
                        c.start,
                        c.end,
                        a.get("title") or "",
                        a.get("date"),
                        a.get("url") or a["id"],
                        a.get("url"),
                    )
                )
            texts[a["week"]].append(a["text"])
        by_week, passages_by_week = dict(texts), dict(passages)
        chunk_file.write_bytes(pickle.dumps((by_week, passages_by_week)))
    token_file = cache / f"tokens-{probe}.pkl"
    if token_file.exists():
        tokens_by_week = pickle.loads(token_file.read_bytes())
    else:
        log("tokenizing chunks for BM25")
        tokens_by_week = {
            w: tokenize([indexed_text(p.text, p.title, p.date) for p in ps]) for w, ps in passages_by_week.items()
        }
        token_file.write_bytes(pickle.dumps(tokens_by_week))
    all_weeks = sorted(passages_by_week)
    items: list[Item] = []
    by_q_week: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for q in questions:
        by_q_week[q["week"]].append(q)
    log(f"retrieving for {len(questions)} questions in {len(by_q_week)} weeks")
    normalised: dict[str, list[str]] = {}
    for week, qs in sorted(by_q_week.items()):
        pooled = pool_of(all_weeks, week, pool_weeks, year_ago)
        pool = [p for w in pooled for p in passages_by_week[w]]
        texts_norm = [t for w in pooled for t in normalised.setdefault(w, [normalize(x) for x in by_week[w]])]
        bm25 = bm25s.BM25()
        bm25.index([t for w in pooled for t in tokens_by_week[w]], show_progress=False)
        for q in qs:
            day = _day(q.get("date"))
            answers = [a for a in q["answers"] if normalize(a)]
            in_articles = any(normalize(a) and _contains(t, normalize(a)) for a in answers for t in texts_norm)
            found = _search(bm25, pool, q["question"], day)
            items.append(Item(q["question_id"], week, Question.read(q["question"], day), answers, found, in_articles))
    retrieved_file.write_bytes(pickle.dumps(items))
    return items


def _search(bm25: Any, pool: Sequence[Passage], question: str, day: date | None) -> list[Passage]:
    """BM25's candidates for ``question`` in ``pool`` (indexed in ``bm25``), fused as the product fuses them
    (no dense list: vectors of every training chunk would take hours), with the same date preference;
    the best :data:`qa.rerank.CANDIDATES`."""
    from .retrieve import DEFAULT_FUSION, age_days, fused_scores, tokenize

    tokens = [t for t in tokenize([question])[0] if t in bm25.vocab_dict]
    if not tokens:
        return []
    fetch = min(DEFAULT_FUSION.fetch_k, len(pool))
    docs, scores = bm25.retrieve([tokens], k=fetch, show_progress=False, n_threads=1)
    hits = [(int(d), float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]
    if not hits:
        return []
    nan = np.full(len(hits), np.nan)
    fused = fused_scores(
        DEFAULT_FUSION,
        nan,
        np.arange(1, len(hits) + 1),
        nan,
        np.array([s for _, s in hits]),
        np.array([age_days(day, pool[d].date) for d, _ in hits]),
    )
    order = np.argsort(-fused, kind="stable")[: rerank.CANDIDATES]
    return [_with(pool[hits[i][0]], hits[i][1], float(fused[i])) for i in order]


def load_folder_items(data: Path, cache: Path, pooled: Sequence[Item], limit_weeks: int | None = None) -> list[Item]:
    """Each question again in a *topical folder*: the articles its own web search returned (one to ten,
    ``articles`` in questions.jsonl), searched alone as a user's folder on one story is. There every
    passage is about the question's story (a news pool's six come from as many stories), and the
    sentence and span models learn how candidates read there from these. ``pooled``: the questions as
    :func:`load_items` read them, whose chunks and BM25 words it reuses (cached)."""
    import bm25s

    questions = read_questions(data)
    kept = {it.id: it for it in pooled}
    folder_file = cache / f"folders-{_probe()}-{_sha256([data / 'questions.jsonl'])[:8]}-{limit_weeks or 'all'}.pkl"
    if folder_file.exists():
        cached: list[Item] = pickle.loads(folder_file.read_bytes())
        for it in cached:
            it.question = Question.read(it.question.text, it.question.as_of)
        return cached
    _, passages_by_week = pickle.loads((cache / "chunks.pkl").read_bytes())
    tokens_by_week = pickle.loads((cache / f"tokens-{_probe()}.pkl").read_bytes())
    chunks: dict[str, list[tuple[Passage, list[str]]]] = defaultdict(list)
    for week, ps in passages_by_week.items():
        for p, tokens in zip(ps, tokens_by_week[week]):
            chunks[p.article_id].append((p, tokens))
    log(f"retrieving {len(kept)} questions in folders of their own articles")
    items: list[Item] = []
    for q in questions:
        base = kept.get(q["question_id"])
        found = [c for a in dict.fromkeys(q.get("articles") or []) for c in chunks.get(a, [])]
        if base is None or not found:
            continue
        pool = [p for p, _ in found]
        bm25 = bm25s.BM25()
        bm25.index([t for _, t in found], show_progress=False)
        texts = [normalize(p.text) for p in pool]
        in_articles = any(_contains(t, n) for a in base.answers if (n := normalize(a)) for t in texts)
        day = _day(q.get("date"))
        found_here = _search(bm25, pool, q["question"], day)
        asked = Question.read(q["question"], day)
        items.append(Item(f"{base.id}#folder", base.week, asked, base.answers, found_here, in_articles, folder=True))
    folder_file.write_bytes(pickle.dumps(items))
    return items


def _contains(text: str, needle: str) -> bool:
    from .eval import contains

    return contains(text, needle)


def own_sources(data: Path, items: Sequence[Item]) -> np.ndarray:
    """Per item, whether a gold answer occurs in one of the articles that the question's own web
    search returned (``articles`` in questions.jsonl): the quiz's sources, where the answer is not a
    chance mention in another week's story. All False when the data names none.

    Example: for "Which food chain launched a redesigned menu?" (gold "Subway") whose search returned
    "Subway is launching a new menu": True; another story of the pool saying "the subway" does not count.
    """
    own = _own_articles(data)
    wanted = {a for ids in own.values() for a in ids}
    texts: dict[str, str] = {}
    if wanted:
        for a in read_articles(data):
            if a["id"] in wanted:
                texts[a["id"]] = normalize(a["text"])
    found = []
    for it in items:
        needles = [n for n in map(normalize, it.answers) if n]
        found.append(any(_contains(texts.get(a, ""), n) for a in own.get(it.id, []) for n in needles))
    return np.array(found, dtype=bool)


def _own_articles(data: Path) -> dict[str, frozenset[str]]:
    """Each question's own search results: ``articles`` in questions.jsonl, by question id (empty when none)."""
    return {q["question_id"]: frozenset(q.get("articles") or []) for q in raw_questions(data)}


def mark_own(data: Path, items: Sequence[Item]) -> None:
    """Give each item the articles its question's own web search returned (``articles`` in
    questions.jsonl; none when the data names none): the reranker learns from passages of those."""
    own = _own_articles(data)
    for it in items:
        it.own = own.get(it.id.removesuffix("#folder"), frozenset())


def undate_some(it: Item) -> None:
    """Take the date off :data:`UNDATED_ARTICLES` of ``it``'s articles (the same ones every run), as
    files without one sit among dated articles in a user's folder.

    Example: undate_some(it); [p.date for p in it.passages] -> ["2024-08-01", None, "2024-08-01", ...]
    """
    it.passages = [
        replace(p, date=None) if _unit(f"{it.id}/{p.article_id}") < UNDATED_ARTICLES else p for p in it.passages
    ]


def untitle(it: Item) -> None:
    """Read ``it`` as a folder of files with no title line: none of its articles has a title of its own.

    Example: untitle(it); [p.headline for p in it.passages] -> ["", "", ...]
    """
    it.passages = [replace(p, titled=False) for p in it.passages]


def _with(p: Passage, keyword: float, score: float) -> Passage:
    return replace(p, keyword=keyword, score=score)


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


# -- features and labels --------------------------------------------------------------------------


class VectorCache:
    """Sentence vectors on disk, keyed by the text's sha1."""

    def __init__(self, path: Path):
        self.path = path
        self.vectors: dict[str, np.ndarray] = {}
        if path.exists():
            data = np.load(path)
            self.vectors = dict(zip(data["keys"].tolist(), data["vectors"]))

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(text.encode()).hexdigest()

    def fill(self, embedder: Any, texts: Sequence[str]) -> None:
        todo = [t for t in dict.fromkeys(texts) if self.key(t) not in self.vectors]
        if not todo:
            return
        log(f"embedding {len(todo)} texts")
        for b in range(0, len(todo), 2048):
            part = todo[b : b + 2048]
            for t, v in zip(part, embedder.embed(part)):
                self.vectors[self.key(t)] = v
            log(f"  {min(b + 2048, len(todo))}/{len(todo)}")
            self.save()

    def save(self) -> None:
        keys = list(self.vectors)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.array(keys), vectors=np.array([self.vectors[k] for k in keys], dtype=np.float32))
        tmp.replace(self.path)

    def get(self, text: str) -> np.ndarray:
        return self.vectors[self.key(text)]


class _CachedEmbedder:
    """An embedder answering from the vector cache (what the reader asks for at training time)."""

    def __init__(self, cache: VectorCache):
        self.cache = cache

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.vstack([self.cache.get(t) for t in texts]) if texts else np.zeros((0, 384), dtype=np.float32)


def sentence_label(s: Sentence, answers: Sequence[str]) -> int:
    return int(any(occurs(a, s.text) for a in answers))


def span_label(text: str, answers: Sequence[str]) -> int:
    """1 when the span is a gold answer: token F1 >= 0.5 and one contains the other.

    Example: span_label("Lloyd Austin", ["Austin"]) -> 1; span_label("Austin", ["Lloyd Austin"]) -> 1;
    span_label("Defense Secretary Lloyd Austin of the US", ["Austin"]) -> 0
    """
    return int(any(best_f1(text, [a]) >= 0.5 and (occurs(a, text) or occurs(text, a)) for a in answers))


def build_sentences(items: list[Item], cache: Path) -> VectorCache:
    """Each question's candidate sentences with their cosines; returns the vector cache it filled."""
    from .embed import MiniLMEmbeddings

    vectors = VectorCache(cache / "vectors.npz")
    texts: list[str] = []
    for it in items:
        texts.append(it.question.text)
        texts += [s.text for s in cand.prefilter(cand.sentences(it.question, it.passages))]
    vectors.fill(MiniLMEmbeddings(), texts)
    reader = Reader(_CachedEmbedder(vectors))
    for it in items:
        it.sentences = reader.sentence_candidates(it.question, it.passages)
    return vectors


def build_spans(items: list[Item], cache: Path, titles: bool = False) -> None:
    """Spans of each question's best sentences (by their held-out scores), with ``titles`` also of their
    articles' titles; spaCy results cached."""
    from .reader import nlp

    span_file = cache / f"spans-{nlp.VERSION}.pkl"
    if span_file.exists():
        nlp._cache.update(pickle.loads(span_file.read_bytes()))
    texts = [t for it in items for t in [*Reader.span_texts(it.sentences, it.passages, titles), it.question.text]]
    todo = [t for t in dict.fromkeys(texts) if t not in nlp._cache]
    if todo:
        log(f"spaCy on {len(todo)} texts")
        for b in range(0, len(todo), 4000):
            nlp.find_spans(todo[b : b + 4000])
            log(f"  {min(b + 4000, len(todo))}/{len(todo)}")
        span_file.write_bytes(pickle.dumps(dict(nlp._cache)))
    for it in items:
        found = nlp.find_spans([*Reader.span_texts(it.sentences, it.passages, titles), it.question.text])
        it.question.head = cand.head_word(it.question.text, found.get(it.question.text, []))
        it.spans = Reader.span_candidates(it.question, it.sentences, it.passages, found, titles)


def build_context(items: list[Item]) -> None:
    """Each span's cosines to the question in MiniLM's token vectors (:func:`qa.reader.candidates.add_context`),
    read as answering reads them; two questions at a time (about two minutes on 2 cores)."""
    from concurrent.futures import ThreadPoolExecutor

    from .embed import MiniLMEmbeddings

    reader = Reader(MiniLMEmbeddings())
    log("reading spans in context")
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda it: reader.add_context(it.question, it.sentences, it.spans), items))


def _read_by_halves(
    items: Sequence[Item], texts: Sequence[Sequence[str]], cache: Path, cloze_data: Path | None, name: str, keep: Any
) -> tuple[list[int], dict[tuple[int, str, str], Any]]:
    """The span reader's scores of each item's ``texts``, read by the reader fitted on the other half of the
    weeks (:func:`qa.train_reader.halves`, fitted first when the cache lacks it), each kept as ``keep(scores)``
    by (half, question, text) in the cache file ``name``, where only the texts it lacks are read; (each
    item's half, the scores)."""
    from concurrent.futures import ThreadPoolExecutor

    from . import train_reader
    from .reader import neural

    folds = _folds(items)
    halves = [1 - f % 2 for f in folds]
    readers = [neural.SpanReader(f) for f in train_reader.halves(items, folds, cache, log, cloze_data)]
    score_file = cache / f"{name}-v{train_reader.VERSION}{train_reader.tag(cloze_data is not None)}.pkl"
    scores: dict[tuple[int, str, str], Any] = pickle.loads(score_file.read_bytes()) if score_file.exists() else {}
    todo: dict[tuple[int, str], dict[str, None]] = defaultdict(dict)  # (half, question): its texts, each once
    for it, h, read in zip(items, halves, texts):
        for t in read:
            if (h, it.question.text, t) not in scores:
                todo[(h, it.question.text)][t] = None
    if todo:
        log(f"the span reader on {sum(len(t) for t in todo.values())} texts of {len(todo)} questions")

        def run(key: tuple[int, str]) -> tuple[tuple[int, str], list[Any]]:
            return key, readers[key[0]].score(key[1], list(todo[key]))

        with ThreadPoolExecutor(2) as pool:
            for (h, q), got in pool.map(run, list(todo)):
                scores.update({(h, q, t): keep(g) for t, g in zip(todo[(h, q)], got)})
        score_file.write_bytes(pickle.dumps(scores))
    return halves, scores


def add_readings(items: list[Item], cache: Path, cloze_data: Path | None = None) -> None:
    """Each span's span-reader features (:func:`qa.reader.neural.add_reading`), read by the reader fitted
    on the other half of the weeks, with the code answering reads them with; the scores are cached."""
    from .reader import neural

    texts = [homes(it.sentences, it.spans) for it in items]
    halves, scores = _read_by_halves(items, texts, cache, cloze_data, "readings", lambda got: got)
    for it, h, read in zip(items, halves, texts):
        neural.add_reading(it.spans, it.sentences, {t: scores[(h, it.question.text, t)] for t in read})


def add_sentence_readings(items: list[Item], cache: Path, cloze_data: Path | None = None) -> None:
    """Each candidate sentence's span-reader features (:func:`qa.reader.neural.add_sentence_reading`), read
    by the reader fitted on the other half of the weeks, as :func:`add_readings` reads the spans; the
    scores (one number a sentence) are cached."""
    from .reader import neural

    texts = [[s.text for s in it.sentences] for it in items]
    halves, best = _read_by_halves(items, texts, cache, cloze_data, "sentence-readings", lambda got: got.best)
    for it, h, read in zip(items, halves, texts):
        neural.add_sentence_reading(it.sentences, [best[(h, it.question.text, t)] for t in read])


def add_pool_commonness(items: Sequence[Item], cache: Path, pool_weeks: int = POOL_WEEKS) -> Background:
    """Each span's commonness (:func:`qa.reader.candidates.add_commonness`) in its question's pool: the
    chunks of its week and ``pool_weeks`` weeks either side (:func:`pool_of`), as :func:`load_items`
    searched them (their BM25 words, cached), as answering counts them over the index searched. Returns the :class:`qa.retrieve.Background`
    it reads them against, which the model keeps: every week's chunks, the words in at least
    :data:`BACKGROUND_MIN_CHUNKS` of them, and the pools' median size."""
    tokens_by_week: dict[str, list[list[str]]] = pickle.loads((cache / f"tokens-{_probe()}.pkl").read_bytes())
    asked = {it.week for it in items}
    weeks = sorted(w for w in tokens_by_week if w in asked)  # the cache may hold more weeks than are trained on
    chunks_with = {w: chunk_counts(tokens_by_week[w]) for w in weeks}
    pools: dict[str, tuple[Counter[str], int]] = {}
    for it in items:
        if it.week not in pools:
            pool = pool_of(weeks, it.week, pool_weeks)
            pools[it.week] = (sum((chunks_with[w] for w in pool), Counter()), sum(len(tokens_by_week[w]) for w in pool))
    everywhere: Counter[str] = Counter()
    for counted in chunks_with.values():  # in place: summing 175 weeks' Counters copies each sum (5 s, not 0.3)
        everywhere.update(counted)
    background = Background(
        {w: n for w, n in sorted(everywhere.items()) if n >= BACKGROUND_MIN_CHUNKS},
        sum(len(tokens_by_week[w]) for w in weeks),
        float(np.median([total for _, total in pools.values()])) if pools else 1.0,
    )
    for it in items:
        counts, total = pools[it.week]
        cand.add_commonness(it.spans, word_shares([sp.text for sp in it.spans], counts.get, total, background))
    return background


def fit_affinity(items: Sequence[Item]) -> dict[str, float]:
    """The affinity table (:func:`qa.reader.candidates.add_affinity`) from the spans of questions
    whose answer is in their articles: each key's share of right candidates, smoothed toward its
    less specific key's share (:data:`AFFINITY_PRIOR`)."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for it in items:
        if not it.in_articles or it.folder:
            continue
        for sp in it.spans:
            right = span_label(sp.text, it.answers)
            for key in cand.affinity_keys(it.question, sp):
                counts[key][0] += right
                counts[key][1] += 1
    right, total = (sum(c[i] for k, c in counts.items() if k.startswith("||")) for i in (0, 1))
    base = right / total if total else 0.0
    table: dict[str, float] = {}
    for level in (2, 1, 0):  # kind alone, then type and kind, then head word, type and kind
        for key, (r, n) in counts.items():
            qtype, head, label = key.split("|", 2)
            if (level == 2) != (not qtype) or (level == 0) != bool(head) or (level == 0 and n < AFFINITY_MIN):
                continue
            parent = base if level == 2 else table.get(f"{qtype}||{label}" if level == 0 else f"||{label}", base)
            table[key] = round((r + AFFINITY_PRIOR * parent) / (n + AFFINITY_PRIOR), 4)
    return table


def add_heldout_affinity(items: Sequence[Item], vectors: VectorCache) -> None:
    """Each question's spans get the affinity of a table fitted on the other folds' weeks, a head
    word that table lacks read through its head words most like it."""
    from .embed import MiniLMEmbeddings

    vectors.fill(MiniLMEmbeddings(), sorted({it.question.head for it in items} - {""}))
    cached = _CachedEmbedder(vectors)
    reader = Reader(cached)
    folds = _folds(items)
    for f in range(FOLDS):
        table = fit_affinity([it for it, fi in zip(items, folds) if fi != f])
        heads = cand.HeadWords.of(table, cached.embed)
        for it, fi in zip(items, folds):
            if fi == f:
                cand.add_affinity(it.question, it.spans, table, reader.near_heads(it.question.head, heads))


# -- the passage reranker ---------------------------------------------------------------------------

#: LightGBM lambdarank over each question's fused candidates; a passage is right when it holds a gold answer.
RERANK_PARAMS = {"objective": "lambdarank", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 50,
                 "feature_fraction": 0.9, "bagging_fraction": 0.9, "bagging_freq": 1, "lambda_l2": 1.0,
                 "lambdarank_truncation_level": 12, "verbose": -1, "num_threads": 2, "seed": 7}  # fmt: skip
RERANK_ROUNDS = 200
#: As for the answer model: what any reader expects, so the trees carry to folders unlike the training weeks.
RERANK_MONOTONE = {
    **dict.fromkeys(("lex_p", "lex_text", "lex_title", "bigrams", "keyword_rel", "article_best_lex", "kind"), 1),
    **dict.fromkeys(("missing_keys", "fused_rank"), -1),
}
#: With :func:`story_label` (``--story-labels``) an older article never counts for more: a question's own
#: search returns background stories of earlier weeks, and left free the ranker learned to prefer them.
STORY_MONOTONE = {**RERANK_MONOTONE, "date_rel": -1}


def passage_label(p: Passage, answers: Sequence[str]) -> int:
    return int(any(occurs(a, p.text) for a in answers))


def story_label(p: Passage, it: Item) -> int:
    """What the reranker learns: a passage is right when it holds a gold answer *and* belongs to one of
    the articles the question's own search returned (:attr:`Item.own`), the story the quiz asked about.
    Another story's chance mention of the answer ("Ireland", "16") teaches the ranker nothing it should
    learn. Without such articles (data that names none), any passage holding a gold answer is right.

    Example: for "Which food chain launched a redesigned menu?" (gold "Subway"), "Subway is launching a
    new menu" from its search is right; "took the subway to work" from another story is not.
    """
    return passage_label(p, it.answers) if not it.own or p.article_id in it.own else 0


def _fit_ranker(
    groups: Sequence[tuple[np.ndarray, np.ndarray]],
    names: Sequence[str],
    monotone: Mapping[str, int] | None = RERANK_MONOTONE,
    params: Mapping[str, Any] = RERANK_PARAMS,
    rounds: int = RERANK_ROUNDS,
) -> Trees:
    """Lambdarank trees over ``groups`` (features, labels) of one question each; ``monotone`` None: no
    constraints at all."""
    import lightgbm as lgb

    x = np.vstack([g[0] for g in groups])
    y = np.concatenate([g[1] for g in groups])
    if monotone is not None:
        params = {**params, "monotone_constraints": [monotone.get(n, 0) for n in names]}
    data = lgb.Dataset(x, y, group=[len(g[1]) for g in groups], feature_name=list(names))
    return Trees.from_lightgbm(lgb.train(dict(params), data, num_boost_round=rounds).dump_model())


def fit_reranker(
    items: list[Item], reorder: bool = True, story: bool = False
) -> tuple[rerank.RerankModel, dict[str, float]]:
    """Fit the reranker on every week, and reorder each question's candidates by a reranker that never saw
    its week (5 folds of weeks), keeping the best :data:`K` for the reader (with ``reorder`` False, the
    fused best K); (model, held-out figures). A passage is right when it holds a gold answer, or with
    ``story`` only in the question's own story (:func:`story_label`). The figures count any passage
    holding a gold answer, as ``qa eval`` does, and ``story_*`` those of the story alone."""
    names = rerank.feature_names()
    rows = [matrix(rerank.features(it.question, it.passages), names) for it in items]
    stories = [np.array([story_label(p, it) for p in it.passages]) for it in items]
    holds = [np.array([passage_label(p, it.answers) for p in it.passages]) for it in items]
    labels = stories if story else holds
    monotone = STORY_MONOTONE if story else RERANK_MONOTONE
    # questions that teach an order: a right passage among wrong ones
    useful = [bool(len(y) > 1 and 0 < y.sum() < len(y)) and not it.folder for y, it in zip(labels, items)]
    folds = _folds(items)
    before = [_first_hit(y) for y in holds]
    story_before = [_first_hit(y) for y in stories]
    order: list[np.ndarray] = [np.arange(len(y)) for y in labels]
    for f in range(FOLDS):
        train_groups = [(x, y) for x, y, u, fi in zip(rows, labels, useful, folds) if u and fi != f]
        if not train_groups:
            continue
        model = _fit_ranker(train_groups, names, monotone)
        for i, fi in enumerate(folds):
            if fi == f and len(labels[i]) > 1:
                order[i] = np.argsort(-model.raw(rows[i]), kind="stable")
    after = [_first_hit(holds[i][order[i]]) for i in range(len(items))]
    story_after = [_first_hit(stories[i][order[i]]) for i in range(len(items))]
    findable = [i for i, it in enumerate(items) if it.in_articles and not it.folder]
    figs = {
        f"{name}_hit_at_{k}": float(np.mean([r is not None and r <= k for r in (ranks[i] for i in findable)]))
        for name, ranks in (
            ("fused", before),
            ("reranked", after),
            ("story_fused", story_before),
            ("story_reranked", story_after),
        )
        for k in (1, K)
    }
    for it, o in zip(items, order):
        it.ranked = [it.passages[i] for i in o]
        it.passages = [it.passages[i] for i in (o if reorder else range(len(o)))[:K]]
    full = _fit_ranker([(x, y) for x, y, u in zip(rows, labels, useful) if u], names, monotone)
    meta = {"heldout": figs, "rounds": RERANK_ROUNDS, "params": RERANK_PARAMS, **({"labels": "story"} if story else {})}
    return rerank.RerankModel(full, meta), figs


#: The reading stage is fitted on this many questions that teach an order (chosen by a hash of their id):
#: the reader reads about 200 sentences for each, some 10 minutes for 1,000 on 2 cores, once (cached).
READ_QUESTIONS = 1000
READ_PARAMS = {"objective": "lambdarank", "learning_rate": 0.05, "num_leaves": 7, "min_data_in_leaf": 20,
               "lambdarank_truncation_level": 10, "verbose": -1, "num_threads": 2, "seed": 0}  # fmt: skip
READ_ROUNDS = 150


def fit_reading(
    items: Sequence[Item],
    cache: Path,
    sample: int = READ_QUESTIONS,
    reorder: bool = True,
    cloze_data: Path | None = None,
) -> tuple[Trees, dict[str, float]]:
    """The reranker's reading stage (:meth:`qa.rerank.RerankModel.read`): the span reader fitted on the other
    half of the weeks (:func:`qa.train_reader.halves`) reads every candidate of ``sample`` questions that
    teach an order, in :func:`fit_reranker`'s held-out order, and a small lambdarank model learns to order
    them again from :func:`qa.rerank.read_features`; (trees, held-out figures by 5 folds of weeks). With
    ``reorder``, every news-pool question's candidates are then read too and put in the order of a stage
    fitted on the other folds, so that the answer model learns from the passages answering will read (a
    question asked in a folder of its own articles keeps the reranker's order). The reader's scores are
    cached."""
    from . import train_reader
    from .reader import neural

    folds = _folds(items)
    readers = [neural.SpanReader(f) for f in train_reader.halves(items, folds, cache, log, cloze_data)]
    chosen = []
    for i, it in enumerate(items):
        y = np.array([passage_label(p, it.answers) for p in it.ranked])
        if not it.folder and len(y) > 1 and 0 < y.sum() < len(y):
            chosen.append((_unit(it.id), i, y))
    chosen = sorted(chosen)[:sample]
    wanted = sorted(
        {i for _, i, _ in chosen} | ({i for i, it in enumerate(items) if not it.folder} if reorder else set())
    )
    score_file = cache / f"passage-readings-v{train_reader.VERSION}{train_reader.tag(cloze_data is not None)}.pkl"
    best: dict[tuple[int, str, str], float] = pickle.loads(score_file.read_bytes()) if score_file.exists() else {}

    def key(i: int, p: Passage) -> tuple[int, str, str]:
        return 1 - folds[i] % 2, items[i].question.text, p.text

    todo = [i for i in wanted if any(key(i, p) not in best for p in items[i].ranked)]
    if todo:
        log(f"the span reader on every candidate of {len(todo)} questions")
        for n, i in enumerate(todo):
            it = items[i]
            read = readers[1 - folds[i] % 2].passage_best(it.question.text, [p.text for p in it.ranked])
            for p, b in zip(it.ranked, read):
                best[key(i, p)] = b
            if n % 200 == 199:
                log(f"  {n + 1}/{len(todo)}")
                score_file.write_bytes(pickle.dumps(best))
        score_file.write_bytes(pickle.dumps(best))
    names = list(rerank.READ_FEATURES)

    def x_of(i: int) -> np.ndarray:
        return matrix(rerank.read_features([best[key(i, p)] for p in items[i].ranked]), names)

    rows = [(x_of(i), y, folds[i]) for _, i, y in chosen]

    def fit(groups: Sequence[tuple[np.ndarray, np.ndarray, int]]) -> Trees:
        return _fit_ranker([(x, y) for x, y, _ in groups], names, None, READ_PARAMS, READ_ROUNDS)

    after: list[int | None] = [None] * len(rows)
    for f in range(FOLDS):
        held = [j for j, r in enumerate(rows) if r[2] == f]
        if not held:
            continue
        model = fit([r for r in rows if r[2] != f])
        for j in held:
            x, y, _ = rows[j]
            after[j] = _first_hit(y[np.argsort(-model.raw(x), kind="stable")])
        if reorder:
            for i in wanted:
                it = items[i]
                if folds[i] == f and len(it.ranked) > 1:
                    it.ranked = [it.ranked[k] for k in np.argsort(-model.raw(x_of(i)), kind="stable")]
                    it.passages = it.ranked[:K]
    before = [_first_hit(y) for _, y, _ in rows]
    figs = {
        f"{name}_hit_at_{k}": float(np.mean([r is not None and r <= k for r in ranks]))
        for name, ranks in (("read_before", before), ("read_after", after))
        for k in (1, K)
    }
    figs["read_questions"] = float(len(rows))
    return fit(rows), figs


def _first_hit(labels: np.ndarray) -> int | None:
    hits = np.flatnonzero(labels)
    return int(hits[0]) + 1 if len(hits) else None


# -- fitting --------------------------------------------------------------------------------------


def _fit_trees(
    x: np.ndarray, y: np.ndarray, names: Sequence[str], rounds: int, params: dict[str, Any] = LGB_PARAMS
) -> Trees:
    import lightgbm as lgb

    params = {**params, "monotone_constraints": [MONOTONE.get(n, 0) for n in names]}
    booster = lgb.train(params, lgb.Dataset(x, y, feature_name=list(names)), num_boost_round=rounds)
    return Trees.from_lightgbm(booster.dump_model())


def _fit_confidence(x: np.ndarray, y: np.ndarray, names: Sequence[str]) -> Trees:
    return _fit_trees(x, y, names, ROUNDS["confidence"], CONFIDENCE_PARAMS)


def _folds(items: Sequence[Item]) -> list[int]:
    weeks = sorted({it.week for it in items})
    fold_of = {w: i % FOLDS for i, w in enumerate(weeks)}
    return [fold_of[it.week] for it in items]


def _score_oof(
    items: list[Item], rows_of: Any, set_score: Any, names: Sequence[str], label_of: Any, rounds: int
) -> None:
    """Held-out scores: each fold's rows scored by a model fitted on the other folds' weeks."""
    folds = _folds(items)
    per_item = [rows_of(it) for it in items]
    for f in range(FOLDS):
        train = [(r, label_of(it, r)) for it, fi, rows in zip(items, folds, per_item) if fi != f for r in rows]
        if not train:
            continue
        x = matrix([r.features for r, _ in train], names)
        y = np.array([lab for _, lab in train])
        model = _fit_trees(x, y, names, rounds)
        held = [r for fi, rows in zip(folds, per_item) if fi == f for r in rows]  # one call: the walker is vectorised
        for r, p in zip(held, model.predict(matrix([r.features for r in held], names)) if held else []):
            set_score(r, float(p))


def _outcome(it: Item, rule: AnswerModel) -> tuple[bool, float, str]:
    """(hit, f1, answer text) of what the reader would say for this item, with the model's short-answer rule."""
    if not it.sentences:
        return False, 0.0, ""
    short = short_span(rule, it.spans, it.sentences, it.question)
    if short is not None:
        text = short.text
    else:
        text = it.sentences[0].text
    hit = any(occurs(a, text) for a in it.answers)
    return hit, best_f1(text, it.answers) if it.answers else 0.0, text


def train(
    data: Path,
    out: Path,
    cache: Path,
    limit_weeks: int | None = None,
    rerank_out: Path | None = None,
    read_fused: bool = False,
    span_context: bool = True,
    commonness: bool = False,
    folders: bool = True,
    story_labels: bool = False,
    pool_weeks: int = POOL_WEEKS,
    span_reader: bool = False,
    reader_rerank: bool = False,
    mixed_dates: bool = False,
    span_pair: bool = False,
    titles: bool = False,
    untitled: bool = False,
    keep_readings: Path | None = None,
    cloze: bool = False,
    sentence_reader: bool = False,
    year_ago: bool = False,
) -> AnswerModel:
    import lightgbm

    s_names, sp_names, c_names = feature_names(
        context=span_context,
        commonness=commonness,
        reading=span_reader,
        titles=titles,
        sentence_reading=sentence_reader,
    )
    if span_pair and not span_reader:
        raise ValueError("a pair of span models needs the span reader: --span-reader")
    plain_names = feature_names(context=span_context, commonness=commonness, titles=titles)[1]
    cache.mkdir(parents=True, exist_ok=True)
    if span_reader or reader_rerank or sentence_reader:
        from . import train_reader

        train_reader.check(cache, cloze)  # before the hours of work that would need them
    cloze_data = data if cloze else None  # the readers' first lesson: cloze questions from its articles
    items = load_items(data, cache, limit_weeks, pool_weeks, year_ago)
    log(f"{len(items)} questions, {sum(it.in_articles for it in items)} with an answer in their articles")
    if folders:
        if commonness:
            raise ValueError("folders and commonness cannot be combined: a folder's word counts are not kept")
        extra = load_folder_items(data, cache, items, limit_weeks)
        log(
            f"{len(extra)} asked again in folders of their own articles, {sum(it.in_articles for it in extra)} answerable"
        )
        items += extra
    mark_own(data, items)
    for it in items:
        if _unit(it.id) < NO_DATE_SHARE:
            it.question = Question.read(it.question.text, None)
        elif mixed_dates and _unit(it.id) < NO_DATE_SHARE + MIXED_DATE_SHARE:
            undate_some(it)
        if untitled and _unit(f"{it.id}/untitled") < UNTITLED_SHARE:
            untitle(it)
    log("fitting the passage reranker")
    reranker, rerank_figs = fit_reranker(items, reorder=not read_fused, story=story_labels)
    if untitled:
        reranker = replace(reranker, meta={**reranker.meta, "untitled": UNTITLED_SHARE})
    if reader_rerank:
        log("fitting the reranker's reading stage")
        reading, read_figs = fit_reading(items, cache, cloze_data=cloze_data)
        reranker = replace(reranker, reading=reading, meta={**reranker.meta, "reading": read_figs})
        rerank_figs = {**rerank_figs, **read_figs}
    for name, value in rerank_figs.items():
        print(f"  {name:34s} {value:.3f}")
    vectors = build_sentences(items, cache)
    if sentence_reader:
        add_sentence_readings(items, cache, cloze_data)

    # 1. sentence model, held-out scores
    _score_oof(
        items,
        lambda it: it.sentences,
        lambda r, p: setattr(r, "score", p),
        s_names,
        lambda it, r: sentence_label(r, it.answers),
        ROUNDS["sentence"],
    )
    for it in items:
        it.sentences.sort(key=lambda s: -s.score)
    build_spans(items, cache, titles)
    add_heldout_affinity(items, vectors)
    if span_context:
        build_context(items)
    background = add_pool_commonness(items, cache, pool_weeks) if commonness else None
    if span_reader:
        add_readings(items, cache, cloze_data)

    # 2. span model, held-out scores (with span_pair, also the model without the reader's features: the
    # confidence reads its scores, the span shown is chosen by the mean of the two, as answering does)
    plain: dict[int, float] = {}
    if span_pair:
        _score_oof(
            items,
            lambda it: it.spans,
            lambda r, p: plain.__setitem__(id(r), p),
            plain_names,
            lambda it, r: span_label(r.text, it.answers),
            ROUNDS["span"],
        )
    _score_oof(
        items,
        lambda it: it.spans,
        lambda r, p: setattr(r, "score", p),
        sp_names,
        lambda it, r: span_label(r.text, it.answers),
        ROUNDS["span"],
    )
    shown: dict[int, float] = {}
    for it in items:
        for sp in it.spans if span_pair else ():
            shown[id(sp)] = (plain[id(sp)] + sp.score) / 2
            sp.score = plain[id(sp)]
        it.spans.sort(key=lambda s: -s.score)

    # 3. short-answer rule and confidence, chosen together by what a person finally gets: each rule's
    # outcomes label a held-out confidence model, its refusal threshold refuses REFUSE_UNANSWERABLE of the
    # questions whose answer is in no article, and the rule with the best held-out accuracy + F1 over all
    # questions (a refusal scores 0) wins. A rule that shows weak spans makes right sentences look
    # unlikely and refuses them; judged on the findable questions alone, that cost did not show.
    # Questions asked again in folders (--folders) taught the sentences and spans; the confidence, the
    # rule, the threshold and every figure are fitted and judged on the news pools alone.
    trained_on, items = items, [it for it in items if not it.folder]
    conf_rows = [confidence_features(it.question, it.sentences, it.spans) for it in items]
    x = matrix(conf_rows, c_names)
    for it in trained_on if span_pair else ():
        for sp in it.spans:
            sp.score = shown[id(sp)]
        it.spans.sort(key=lambda s: -s.score)
    folds = np.array(_folds(items))
    answerable = np.array([bool(it.answers) for it in items])
    findable_mask = np.array([it.in_articles for it in items])

    def held_out(labels: np.ndarray) -> np.ndarray:
        held = np.zeros(len(items))
        for f in range(FOLDS):
            m = _fit_confidence(x[folds != f], labels[folds != f], c_names)
            held[folds == f] = m.predict(x[folds == f])
        return held

    def judged(rule: AnswerModel) -> tuple[float, AnswerModel, np.ndarray, np.ndarray, float]:
        outs = [_outcome(it, rule) for it in items]
        labels = np.array([int(h) for h, _, _ in outs])
        held = held_out(labels)
        threshold = refusal_threshold(held, findable_mask)
        answered = held >= threshold
        quality = float(np.mean(labels * answered) + np.mean(np.array([f for _, f, _ in outs]) * answered))
        return quality, rule, labels, held, threshold

    grid = [(t, r) for t in RULE_THRESHOLDS for r in RULE_RATIOS] + [RULE_NEVER]
    best = max((judged(_rule(t, r)) for t, r in grid), key=lambda b: b[0])
    # then each group of questions its own rule, the others' held (one pass, group by group)
    for group in RULE_GROUPS:
        base = best[1]
        for t, r in grid:
            tried = judged(_rule(base.short_threshold, base.short_ratio, {**base.short_rules, group: (t, r)}))
            if tried[0] > best[0] + 1e-9:
                best = tried
    _, rule, labels, held, threshold = best
    short_threshold, short_ratio = rule.short_threshold, rule.short_ratio
    short_rules = dict(rule.short_rules)
    log(
        f"short-answer rule: threshold {short_threshold}, ratio {short_ratio}, by group {short_rules}; "
        f"refusal threshold {threshold}"
    )
    np.savez(
        cache / "heldout.npz",
        confidence=held,
        right=labels,
        findable=findable_mask,
        span=np.array([it.spans[0].score if it.spans else 0.0 for it in items]),
        weeks=np.array([it.week for it in items]),
    )
    if keep_readings is not None:
        keep(keep_readings, items, held, threshold, rule)
    report = _report(items, held, threshold, rule, labels, answerable, findable_mask, own_sources(data, items))
    for line in report["lines"]:
        print(line)

    # 5. the shipped model: every week
    log("fitting on all weeks")
    sent_rows = [s for it in trained_on for s in it.sentences]
    sentence = _fit_trees(
        matrix([s.features for s in sent_rows], s_names),
        np.array([sentence_label(s, it.answers) for it in trained_on for s in it.sentences]),
        s_names,
        ROUNDS["sentence"],
    )
    span_rows = [(sp, it) for it in trained_on for sp in it.spans]
    span_y = np.array([span_label(sp.text, it.answers) for sp, it in span_rows])
    span = _fit_trees(matrix([sp.features for sp, _ in span_rows], sp_names), span_y, sp_names, ROUNDS["span"])
    span_reading = None
    if span_pair:
        span_reading = span
        span = _fit_trees(
            matrix([sp.features for sp, _ in span_rows], plain_names), span_y, plain_names, ROUNDS["span"]
        )
    confidence = _fit_confidence(x, labels, c_names)
    meta = {
        "data": str(data),
        "data_sha256": _sha256([data / "questions.jsonl", data / "articles.jsonl.gz"]),
        "questions": len(items),
        "weeks": len({it.week for it in items}),
        **({"folders": len(trained_on) - len(items)} if folders else {}),
        **({"pool_weeks": pool_weeks} if pool_weeks != POOL_WEEKS else {}),
        **({"year_ago": True} if year_ago else {}),
        **({"untitled": UNTITLED_SHARE} if untitled else {}),
        "lightgbm": lightgbm.__version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "lgb_params": LGB_PARAMS,
        "rounds": ROUNDS,
        "heldout": report["figures"],
    }
    affinity = fit_affinity(items)
    heads = cand.HeadWords.of(affinity, _CachedEmbedder(vectors).embed)  # head words filled in above
    model = AnswerModel(
        sentence,
        span,
        confidence,
        threshold,
        short_threshold,
        short_ratio,
        meta,
        affinity,
        short_rules,
        heads,
        background,
        span_reading,
    )
    model.save(out)
    log(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")
    rerank_out = rerank_out or out.with_name(f"{out.stem}.rerank.json")
    replace(
        reranker, meta={**reranker.meta, **{k: meta[k] for k in ("data", "data_sha256", "lightgbm", "created")}}
    ).save(rerank_out)
    log(f"wrote {rerank_out} ({rerank_out.stat().st_size / 1e6:.2f} MB)")
    return model


def join_span_reading(base: AnswerModel, reading: AnswerModel) -> AnswerModel:
    """``base`` with ``reading``'s span model as its :attr:`~qa.reader.model.AnswerModel.span_reading`: the
    span shown is chosen by both, the confidence and the refusals stay ``base``'s. ``reading`` must read the
    span reader's scores (``qa train --span-reader``) and ``base`` not; both must read their spans against
    the same affinity table and head words (fitted on the same data by the same code), as answering computes
    those features once for both.
    """
    if "rd_prob" not in reading.span.features:
        raise ValueError("the second model does not read the span reader's scores: fit it with qa train --span-reader")
    if base.reads_spans:
        raise ValueError("the base model reads the span reader already: join a model fitted without --span-reader")
    if dict(base.affinity) != dict(reading.affinity) or (base.heads and base.heads.to_json()) != (
        reading.heads and reading.heads.to_json()
    ):
        raise ValueError("the two models read spans against different affinity tables: fit both on the same data")
    if base.reads_titles != reading.reads_titles:
        raise ValueError(
            "one of the two models reads the titles' spans and the other not: fit both with or without --titles"
        )
    kept = ("created", "data_sha256", "heldout")
    return replace(
        base, span_reading=reading.span, meta={**base.meta, "span_reading": {k: reading.meta.get(k) for k in kept}}
    )


def refusal_threshold(confidence: np.ndarray, findable: np.ndarray) -> float:
    """The lowest threshold (in steps of 0.01) that refuses :data:`REFUSE_UNANSWERABLE` of the
    questions whose answer is in no article.

    Example: refusal_threshold(np.array([0.05, 0.2, 0.3, 0.9]), np.array([False, False, False, True])) -> 0.31
    """
    unanswerable = np.sort(confidence[~findable])
    if not len(unanswerable):
        return 0.0
    quantile = unanswerable[min(len(unanswerable) - 1, int(np.ceil(REFUSE_UNANSWERABLE * len(unanswerable))) - 1)]
    return round(float(np.floor(quantile * 100) / 100 + 0.01), 2)


def _rule(
    short_threshold: float, short_ratio: float, short_rules: dict[str, tuple[float, float]] | None = None
) -> AnswerModel:
    """A model that only carries a short-answer rule (what :func:`short_span` reads)."""
    empty = Trees((), ())
    return AnswerModel(empty, empty, empty, 0.0, short_threshold, short_ratio, {}, {}, short_rules or {})


def keep(path: Path, items: list[Item], held: np.ndarray, threshold: float, rule: AnswerModel) -> None:
    """Write the held-out readings (each question's scored sentences and spans, its held-out confidence,
    the refusal threshold and the short-answer rule) for :func:`replay`: a scratch file for this code's
    classes, not a model to ship."""
    with open(path, "wb") as f:
        pickle.dump({"items": items, "confidence": held, "threshold": threshold, "rule": rule}, f)
    log(f"kept the held-out readings in {path}")


def replay(path: Path) -> dict[str, float]:
    """The held-out figures of readings kept by ``qa train --keep-readings``, each short answer shown
    by today's code (:func:`~qa.reader.short_span`): how a change to the way the chosen span is shown
    ("Biles" as "Simone Biles") carries, measured on 4,288 held-out questions in seconds, no refit.
    The confidence, threshold and short-answer rule are those kept, so only the short answers' text moves."""
    with open(path, "rb") as f:
        try:
            kept = pickle.load(f)
        except Exception as e:  # unpickling a file of anything else may raise almost anything
            raise ValueError(f"not a file of readings: {e or type(e).__name__}") from e
    if not isinstance(kept, dict) or not {"items", "confidence", "threshold", "rule"} <= kept.keys():
        raise ValueError("not a file of readings")
    items, held, threshold = kept["items"], kept["confidence"], kept["threshold"]
    answered = held >= threshold
    outs = [_outcome(it, kept["rule"]) for it in items]
    return {
        "questions": len(items),
        **_answered_figures(outs, answered),
        "right_answered": int(sum(o[0] and a for o, a in zip(outs, answered))),
    }


def _answered_figures(outs: Sequence[tuple[bool, float, str]], answered: np.ndarray) -> dict[str, float]:
    """Accuracy and F1 over all questions, a refused one scoring 0 (what :func:`_report` and :func:`replay` print)."""
    return {
        "accuracy_answerable": float(np.mean([o[0] and a for o, a in zip(outs, answered)])),
        "f1_answerable": float(np.mean([o[1] * a for o, a in zip(outs, answered)])),
    }


def _report(
    items: list[Item],
    held: np.ndarray,
    threshold: float,
    rule: AnswerModel,
    labels: np.ndarray,
    answerable: np.ndarray,
    findable: np.ndarray,
    own: np.ndarray | None = None,
) -> dict[str, Any]:
    answered = held >= threshold
    outs = [_outcome(it, rule) for it in items]
    sent_hit = [bool(it.sentences) and any(occurs(a, it.sentences[0].text) for a in it.answers) for it in items]
    n_find = max(1, int(findable.sum()))
    figs = {
        "questions": len(items),
        "findable": int(findable.sum()),
        "passage_hit_at_k": float(
            np.mean(
                [any(occurs(a, p.text) for a in it.answers for p in it.passages) for it, f in zip(items, findable) if f]
            )
        ),
        "sentence_hit_at_1_findable": float(np.mean([h for h, f in zip(sent_hit, findable) if f])),
        "short_accuracy_findable": float(np.mean([o[0] for o, f in zip(outs, findable) if f])),
        "short_f1_findable": float(np.mean([o[1] for o, f in zip(outs, findable) if f])),
        **_answered_figures(outs, answered),
        "answered_share": float(answered.mean()),
        "refused_when_not_in_articles": float((~answered & ~findable).sum() / max(1, (~findable).sum())),
        "right_answers_lost_to_refusal": float((~answered & (labels == 1)).sum() / n_find),
        "threshold": threshold,
        "short_threshold": rule.short_threshold,
        "short_ratio": rule.short_ratio,
        **{f"short_rule_{g}": f"{t} / {r}" for g, (t, r) in rule.short_rules.items()},
        "short_share_answered": float(
            np.mean([short_span(rule, it.spans, it.sentences, it.question) is not None for it in items if it.sentences])
        ),
    }
    if own is not None and own.any():
        # where the answers are lost, on the questions whose own search results hold the answer
        mine = [(it, o, a) for it, o, a, m in zip(items, outs, answered, own) if m]
        holds = [[sentence_label(s, it.answers) for s in it.sentences] for it, _, _ in mine]
        figs |= {
            "own_sources_share": float(own.mean()),
            "own_passage_hit_at_k": float(
                np.mean([any(passage_label(p, it.answers) for p in it.passages) for it, _, _ in mine])
            ),
            "own_sentence_hit_at_6": float(np.mean([any(h[: cand.SPAN_SENTENCES]) for h in holds])),
            "own_sentence_hit_at_1": float(np.mean([any(h[:1]) for h in holds])),
            "own_short_accuracy": float(np.mean([o[0] for _, o, _ in mine])),
            "own_accuracy_answered": float(np.mean([o[0] and a for _, o, a in mine])),
        }
    lines = ["held-out weeks (5 folds by week), training data:"]
    lines += [f"  {k:34s} {v:.3f}" if isinstance(v, float) else f"  {k:34s} {v}" for k, v in figs.items()]
    return {"figures": figs, "lines": lines}


def split_later(data: Path, weeks: int, to: Path, per_set: int = 5) -> list[Path]:
    """Keep the last ``weeks`` weeks of ``data`` out of training, as benchmark folders.

    Writes ``to/train`` (the questions of the earlier weeks, with the articles of all weeks, as
    ``qa train --data`` reads them) and ``to/later-WEEK`` for each ``per_set`` later weeks, in the
    practice sets' format (``questions.jsonl`` and ``articles/*.txt``), so that ``qa eval`` measures
    a model fitted on ``to/train`` on news it never saw, pooled the way a user's index pools it.
    Returns the later folders. Example: split_later(DIR, 34, OUT) -> [OUT/later-20250509, ...]
    """
    questions = raw_questions(data)
    all_weeks = sorted({q["week"] for q in questions})
    later = all_weeks[-weeks:] if weeks > 0 else []
    groups = [later[i : i + per_set] for i in range(0, len(later), per_set)]
    folder_of = {w: to / f"later-{g[0]}" for g in groups for w in g}
    folders = list(dict.fromkeys(folder_of.values()))
    (to / "train").mkdir(parents=True, exist_ok=True)
    with (to / "train" / "questions.jsonl").open("w", encoding="utf-8") as f:
        f.writelines(json.dumps(q) + "\n" for q in questions if q["week"] not in folder_of)
    articles = to / "train" / "articles.jsonl.gz"
    if not articles.exists():
        articles.symlink_to((data / "articles.jsonl.gz").resolve())
    for folder in folders:
        (folder / "articles").mkdir(parents=True, exist_ok=True)
        with (folder / "questions.jsonl").open("w", encoding="utf-8") as f:
            for q in questions:
                if folder_of.get(q["week"]) == folder:
                    keep = {k: q[k] for k in ("question_id", "question", "date", "answers") if k in q}
                    f.write(json.dumps(keep) + "\n")
    for a in read_articles(data):
        if a["week"] in folder_of:
            head = f"title: {a.get('title') or ''}\nurl: {a.get('url') or ''}\ndate: {a.get('date') or ''}\n\n"
            (folder_of[a["week"]] / "articles" / f"{a['id']}.txt").write_text(head + a["text"] + "\n")
    return folders


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m qa.train", description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, help="the training folder (questions.jsonl, articles.jsonl.gz)")
    ap.add_argument("--out", type=Path, default=None, help="the answer model (default: the shipped one's file)")
    ap.add_argument(
        "--rerank-out", type=Path, default=None, help="the reranker (default: the shipped one's file, or beside --out)"
    )
    ap.add_argument("--cache", type=Path, default=None, help="where to keep vectors and spans (default: qa's cache)")
    ap.add_argument("--limit-weeks", type=int, default=None, help="use only this many weeks (a quick check)")
    ap.add_argument(
        "--read-fused", action="store_true", help="fit the answer model on the fused order, not the reranked one"
    )
    ap.add_argument(
        "--span-context",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="read each span in its sentence against the question (four span features from MiniLM's token vectors;"
        " the shipped model does)",
    )
    ap.add_argument(
        "--span-reader",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="read each span with a fine-tuned span reader (four span features; fits the readers first when the"
        " cache lacks them: torch, pip install -e '.[reader]'; the shipped model joins such a model's span model"
        " to its own: --join-span-reading)",
    )
    ap.add_argument(
        "--year-ago",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="also pool the weeks around the same week a year before (last year's story of a yearly event, as an"
        " index of years of news holds it)",
    )
    ap.add_argument(
        "--sentence-reader",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="let the sentence model read the fine-tuned span reader's score of each candidate sentence (two"
        " sentence features; the same readers as --span-reader)",
    )
    ap.add_argument(
        "--span-pair",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="with --span-reader: fit the span model without the reader's features too, show the span both choose"
        " and let the confidence read the first (answer model 29's way, in one run)",
    )
    ap.add_argument(
        "--reader-rerank",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="let the span reader read every passage the reranker ordered, and order them again by what it"
        " finds (a reading stage in the reranker; the same readers as --span-reader)",
    )
    ap.add_argument(
        "--titles",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="offer the spans of the passages' titles as short answers too, marked as such (one span feature;"
        " measured, not shipped: docs/answers.md)",
    )
    ap.add_argument(
        "--commonness",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="weigh each span by how common its words are in the articles searched (two span features)",
    )
    ap.add_argument(
        "--folders",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also teach the sentence and span models each question asked in a folder of its own articles alone"
        " (the shipped model is so fitted)",
    )
    ap.add_argument(
        "--story-labels",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="teach the reranker only passages of the articles each question's own search returned, an older"
        " article never better (measured, not shipped: docs/answers.md)",
    )
    ap.add_argument(
        "--pool-weeks",
        type=int,
        metavar="N",
        default=POOL_WEEKS,
        help=f"search each question in its week's articles and those of N weeks either side (default {POOL_WEEKS};"
        " wider measured, not shipped: docs/answers.md)",
    )
    ap.add_argument(
        "--mixed-dates",
        action=argparse.BooleanOptionalAction,
        default=False,
        help=f"read {MIXED_DATE_SHARE * 100:.0f}%% of the questions with {UNDATED_ARTICLES * 100:.0f}%% of their articles undated,"
        " as a folder mixes dated articles and files without a date (measured, not shipped: docs/answers.md)",
    )
    ap.add_argument(
        "--cloze",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="fit the span readers first on cloze questions made from the training articles (qa/cloze.py; 40 minutes"
        " more, once; measured, not shipped: docs/answers.md)",
    )
    ap.add_argument(
        "--untitled",
        action=argparse.BooleanOptionalAction,
        default=False,
        help=f"read {UNTITLED_SHARE * 100:.0f}%% of the questions with no article titled, as a folder of files"
        " without a title line reads (measured, not shipped: docs/answers.md)",
    )
    ap.add_argument(
        "--split-later",
        type=int,
        metavar="WEEKS",
        default=None,
        help="write the last WEEKS weeks as benchmark folders and the rest as a training folder (into --to), then stop",
    )
    ap.add_argument("--to", type=Path, default=None, help="where --split-later writes")
    ap.add_argument(
        "--keep-readings",
        type=Path,
        metavar="FILE",
        default=None,
        help="also write the held-out readings to FILE, for --replay (a scratch file, a few hundred MB)",
    )
    ap.add_argument(
        "--replay",
        type=Path,
        metavar="FILE",
        default=None,
        help="print the held-out figures of readings kept by --keep-readings, each short answer shown by this"
        " code, then stop",
    )
    ap.add_argument(
        "--join-span-reading",
        nargs=2,
        type=Path,
        metavar=("BASE", "READING"),
        default=None,
        help="write BASE's answer model with READING's span model (one fitted by --span-reader) beside its own, the"
        " span shown chosen by both (into --out or the shipped file), then stop",
    )
    args = ap.parse_args(argv)
    package = Path(__file__).parent
    if args.replay:
        try:
            figures = replay(args.replay)
        except (OSError, ValueError) as e:
            print(
                f"qa train: error: cannot replay {args.replay} ({e}): keep readings with --keep-readings",
                file=sys.stderr,
            )
            return 2
        for name, value in figures.items():
            print(f"  {name:34s} {value:.4f}" if isinstance(value, float) else f"  {name:34s} {value}")
        return 0
    if args.join_span_reading:
        out = args.out or package / "reader" / "answer_model.json"
        try:
            base, reading = (load_model(p) for p in args.join_span_reading)
            join_span_reading(base, reading).save(out)
        except (ModelError, ValueError) as e:
            print(f"qa train: error: {e}", file=sys.stderr)
            return 2
        log(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")
        return 0
    if args.data is None:
        print("qa train: error: the training folder is needed: --data DIR", file=sys.stderr)
        return 2
    for name in ("questions.jsonl", "articles.jsonl.gz"):
        if not (args.data / name).exists():
            print(f"qa train: error: no {name} in {args.data} (see ../shared/training/README.md)", file=sys.stderr)
            return 2
    try:
        raw_questions(args.data)
    except (DataError, OSError, UnicodeDecodeError) as e:
        print(f"qa train: error: {e}", file=sys.stderr)
        return 2
    if args.pool_weeks < 0:
        print("qa train: error: --pool-weeks takes a number of weeks, 0 or more", file=sys.stderr)
        return 2
    if args.span_pair and not args.span_reader:
        print("qa train: error: --span-pair reads the span reader: add --span-reader", file=sys.stderr)
        return 2
    if args.cloze and not (args.span_reader or args.reader_rerank or args.sentence_reader):
        print("qa train: error: --cloze fits the span readers: add --span-reader", file=sys.stderr)
        return 2
    if args.commonness and args.folders:
        print("qa train: error: --commonness needs --no-folders (a folder's word counts are not kept)", file=sys.stderr)
        return 2
    if args.split_later is not None:
        if args.to is None or args.split_later < 1:
            print("qa train: error: --split-later takes a number of weeks (1 or more) and --to DIR", file=sys.stderr)
            return 2
        try:
            later = split_later(args.data, args.split_later, args.to)
        except DataError as e:
            print(f"qa train: error: {e}", file=sys.stderr)
            return 2
        print(
            f"fit on the earlier weeks: qa train --data {args.to / 'train'} --out M.json --rerank-out R.json "
            f"--cache {args.to / 'cache'}"
        )
        for folder in later:
            print(
                f"measure: QA_ANSWER_MODEL=M.json QA_RERANK_MODEL=R.json qa eval {folder / 'questions.jsonl'} "
                f"--articles {folder / 'articles'} --index {folder / 'index'}"
            )
        return 0
    from .settings import Settings

    cache = args.cache or Settings.resolve().cache_path / "train"
    out = args.out or package / "reader" / "answer_model.json"
    rerank_out = args.rerank_out or (package / rerank.MODEL_FILE if args.out is None else None)
    from .train_reader import NeedsTorch

    try:
        train(
            args.data,
            out,
            cache,
            args.limit_weeks,
            rerank_out,
            args.read_fused,
            args.span_context,
            args.commonness,
            args.folders,
            args.story_labels,
            args.pool_weeks,
            args.span_reader,
            args.reader_rerank,
            args.mixed_dates,
            args.span_pair,
            args.titles,
            args.untitled,
            args.keep_readings,
            args.cloze,
            args.sentence_reader,
            args.year_ago,
        )
    except (NeedsTorch, DataError) as e:
        print(f"qa train: error: {e}", file=sys.stderr)
        return 2
    if (
        args.span_reader or args.reader_rerank or args.sentence_reader
    ) and args.out is None:  # the shipped files: the reader they were fitted with too
        from .train_reader import ship

        ship(cache, cloze=args.cloze)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
