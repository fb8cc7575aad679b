"""Measure and fit the retrieval fusion on the training data, holding out whole blocks of weeks.

    python -m qa.tune_retrieval --data ../shared/training/realtimeqa-2022-2025 [--cache DIR]

It takes blocks of consecutive weeks (``--blocks``), pools each block's articles into one corpus
(as the practice sets pool their weeks), chunks them as ingest does and embeds each chunk's
:func:`qa.ingest.indexed_text` once (cached under ``--cache`` as numpy arrays keyed by text hash:
the first run embeds ~9k chunks, 10-25 minutes on 2 shared cores; later runs take about two
minutes, most of it reading the articles and building BM25). Then it
ranks every chunk of the block for each of the block's questions by dense cosine and by BM25
(:class:`qa.retrieve.KeywordIndex`, the product's own), and scores the fusions of
:func:`qa.retrieve.fused_scores`, the product's own function, offline.

A chunk is gold when it holds a normalised gold answer or the question's evidence sentence
(:func:`qa.eval.contains`); questions with no gold chunk in their block count as misses too
(both figures are printed). Fitting is a grid search, first over the fusion weights, then over the
date preference for the best few fusions, maximising hit@6 + MRR. Held out: for each block, the
grid is fitted on the other blocks and scored on it; the table pools the held-out blocks. The
shipped :data:`qa.retrieve.DEFAULT_FUSION` is the fit on all blocks (printed last).

Measured 2026-12-01 (default blocks 20221104:4, 20240202:2, 20250502:2; 200 questions, 131 with a
gold chunk in their block; held out block by block):

    ranking                                 hit@1  hit@6    MRR
    BM25 alone, chunk text only (old)       0.300  0.410  0.348
    BM25 alone (title+date)                 0.290  0.405  0.342
    dense alone (title+date)                0.240  0.410  0.307
    equal RRF (k=60, fetch 30)              0.260  0.410  0.325
    equal RRF + fitted date preference      0.265  0.405  0.326
    fitted fusion, no date                  0.235  0.410  0.308
    fitted fusion + date preference         0.270  0.415  0.335

Differences of 0.005 are one question: on this sample the fusions are within noise of each
other. Fit on all blocks: method "score", dense 0.25, keyword 1.0, fetch 150, date weight 0.625,
7 days, 3 days' grace, penalty 0.125 (in-sample 0.325/0.430/0.371).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import itertools
import json
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np

from .chunk import Chunker
from .config import ChunkSettings
from .embed import MiniLMEmbeddings
from .eval import contains, normalize
from .ingest import indexed_text
from .retrieve import EQUAL_RRF, Fusion, KeywordIndex, age_days, fused_scores
from .settings import Settings

# First week of each block, ":N" for N weeks (default --weeks); spread over the years. The later two
# are 2 weeks long only because embedding on a shared 2-core machine ran at ~6 chunks/s.
DEFAULT_BLOCKS = ("20221104:4", "20240202:2", "20250502:2")
FETCH_MAX = 150  # candidates kept per list; the grid's fetch_k never exceeds it


@dataclass
class Block:
    name: str
    questions: list[dict]
    chunk_ids: list[str]
    chunk_text: list[str]  # the chunk as stored (gold is judged on it)
    indexed: list[str]  # what search sees
    plain: list[str]  # the chunk alone (the old indexed text), for BM25 without title and date
    chunk_date: list[str | None]


def load_blocks(data: Path, starts: list[str], weeks: int) -> list[Block]:
    questions = [json.loads(line) for line in open(data / "questions.jsonl")]
    all_weeks = sorted({q["week"] for q in questions})
    wanted: dict[str, str] = {}
    for spec in starts:
        s, _, n = spec.partition(":")
        i = all_weeks.index(s)
        for w in all_weeks[i : i + (int(n) if n else weeks)]:
            wanted[w] = s
    articles: dict[str, list[dict]] = defaultdict(list)
    with gzip.open(data / "articles.jsonl.gz", "rt") as f:
        for line in f:
            a = json.loads(line)
            if a["week"] in wanted:
                articles[wanted[a["week"]]].append(a)
    chunker = Chunker(ChunkSettings())
    blocks = []
    for s in (spec.partition(":")[0] for spec in starts):
        b = Block(s, [q for q in questions if wanted.get(q["week"]) == s], [], [], [], [], [])
        for a in sorted(articles[s], key=lambda a: a["id"]):
            for c in chunker.chunk(a["text"]):
                b.chunk_ids.append(f"{a['id']}:{c.index}")
                b.chunk_text.append(c.text)
                b.indexed.append(indexed_text(c.text, a.get("title"), a.get("date")))
                b.plain.append(c.text)
                b.chunk_date.append(a.get("date"))
        blocks.append(b)
    return blocks


def cached_vectors(texts: list[str], embedder: MiniLMEmbeddings, folder: Path, label: str) -> np.ndarray:
    """Vectors of ``texts``, from the cache where it has them (by text hash), embedding the rest."""
    keys = [hashlib.sha1(f"{embedder.model_id}\x00{t}".encode()).hexdigest()[:20] for t in texts]
    known: dict[str, np.ndarray] = {}
    for f in sorted(folder.glob("*.npy")) if folder.exists() else []:
        names = f.with_suffix(".keys")
        if names.exists():
            known.update(zip(names.read_text().split(), np.load(f)))
        elif f.name.startswith(f"{label}-"):  # a first run's file: its block's texts, in order
            vecs = np.load(f)
            if len(vecs) == len(keys):
                known.update(zip(keys, vecs))
    todo = [i for i, k in enumerate(keys) if k not in known]
    if todo:
        t0 = time.perf_counter()
        done = [0]

        def progress(n: int) -> None:
            done[0] += n
            if done[0] % 1024 < n:
                print(f"  {label}: {done[0]}/{len(todo)} embedded, {time.perf_counter() - t0:.0f} s", file=sys.stderr)

        vecs = embedder.embed([texts[i] for i in todo], progress=progress)
        folder.mkdir(parents=True, exist_ok=True)
        stem = folder / f"{label}-{hashlib.sha1(''.join(keys[i] for i in todo).encode()).hexdigest()[:12]}"
        np.save(stem.with_suffix(".tmp.npy"), vecs)
        stem.with_suffix(".keys").write_text("\n".join(keys[i] for i in todo))
        stem.with_suffix(".tmp.npy").rename(stem.with_suffix(".npy"))
        known.update((keys[i], v) for i, v in zip(todo, vecs))
    return np.stack([known[k] for k in keys]) if keys else np.zeros((0, 384), dtype=np.float32)


@dataclass
class Candidates:
    """Per question (rows), the union of the dense and keyword top lists (columns), padded with NaN."""

    dense_rank: np.ndarray
    keyword_rank: np.ndarray
    dense_score: np.ndarray
    keyword_score: np.ndarray
    age: np.ndarray
    gold: np.ndarray  # bool
    has_gold: np.ndarray  # the block holds a gold chunk for this question at all


def candidates(
    block: Block, chunk_vecs: np.ndarray, question_vecs: np.ndarray, keyword: KeywordIndex, gold_sets: list[set[int]]
) -> Candidates:
    n = len(block.questions)
    width = 2 * FETCH_MAX
    arrays = {
        k: np.full((n, width), np.nan) for k in ("dense_rank", "keyword_rank", "dense_score", "keyword_score", "age")
    }
    gold = np.zeros((n, width), dtype=bool)
    index = {cid: i for i, cid in enumerate(block.chunk_ids)}
    sims = question_vecs @ chunk_vecs.T
    for qi, q in enumerate(block.questions):
        top = np.argsort(-sims[qi], kind="stable")[:FETCH_MAX]
        kw = keyword.search(q["question"], FETCH_MAX)
        cols: dict[int, int] = {}
        for r, ci in enumerate(top, start=1):
            cols[int(ci)] = len(cols)
            arrays["dense_rank"][qi, cols[int(ci)]] = r
            arrays["dense_score"][qi, cols[int(ci)]] = sims[qi, ci]
        for r, (cid, s) in enumerate(kw, start=1):
            ci = index[cid]
            if ci not in cols:
                cols[ci] = len(cols)
            arrays["keyword_rank"][qi, cols[ci]] = r
            arrays["keyword_score"][qi, cols[ci]] = s
        as_of = date.fromisoformat(q["date"][:10])
        for ci, col in cols.items():
            arrays["age"][qi, col] = age_days(as_of, block.chunk_date[ci])
            gold[qi, col] = ci in gold_sets[qi]
    has_gold = np.array([bool(g) for g in gold_sets])
    return Candidates(**arrays, gold=gold, has_gold=has_gold)


def gold_chunks(block: Block) -> list[set[int]]:
    normed = [normalize(t) for t in block.chunk_text]
    out = []
    for q in block.questions:
        needles = [normalize(a) for a in q["answers"] if isinstance(a, str)]
        if q.get("evidence"):
            needles.append(normalize(q["evidence"]))
        needles = [n for n in needles if n]
        out.append({i for i, t in enumerate(normed) if any(contains(t, n) for n in needles)})
    return out


def first_gold_rank(f: Fusion, c: Candidates) -> np.ndarray:
    """1-based rank of the first gold chunk per question under fusion ``f``; inf when none is fetched."""
    keep_d = c.dense_rank <= f.fetch_k
    keep_k = c.keyword_rank <= f.fetch_k
    nan = np.nan
    scores = fused_scores(
        f,
        np.where(keep_d, c.dense_rank, nan),
        np.where(keep_k, c.keyword_rank, nan),
        np.where(keep_d, c.dense_score, nan),
        np.where(keep_k, c.keyword_score, nan),
        c.age,
    )
    scores = np.where(keep_d | keep_k, scores, -np.inf)
    gold = c.gold & (keep_d | keep_k)
    best = np.where(gold, scores, -np.inf).max(axis=1)
    rank = 1 + (scores > best[:, None]).sum(axis=1)
    return np.where(np.isfinite(best), rank, np.inf)


def figures(ranks: np.ndarray) -> dict[str, float]:
    return {
        "hit@1": float(np.mean(ranks <= 1)),
        "hit@6": float(np.mean(ranks <= 6)),
        "mrr": float(np.mean(np.where(np.isfinite(ranks), 1.0 / ranks, 0.0))),
    }


def objective(ranks: np.ndarray) -> float:
    f = figures(ranks)
    return f["hit@6"] + f["mrr"]


def joined(cs: list[Candidates]) -> Candidates:
    return Candidates(*(np.concatenate([getattr(c, k) for c in cs]) for k in Candidates.__dataclass_fields__))


def fusion_grid() -> list[Fusion]:
    grid = []
    for fetch in (30, 60, 100, 150):
        for rrf_k in (5, 15, 30, 60):
            for dw in (0.0, 0.25, 0.4, 0.55, 0.7, 0.85, 1.0):
                grid.append(Fusion("rrf", dw, 1.0, rrf_k, fetch))
        for dw in (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0):
            grid.append(Fusion("score", dw, 1.0, 60, fetch))
    return grid


def date_grid(base: Fusion) -> list[Fusion]:
    top = base.dense_weight + base.keyword_weight  # the best fused score, roughly
    if base.method == "rrf":
        top /= base.rrf_k + 1
    grid = []
    for c, days, pen, grace in itertools.product(
        (0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0), (2, 4, 7, 14, 30, 60), (0.0, 0.1, 0.25, 0.5, 1.0), (0, 1, 3, 7)
    ):
        if c == 0 and days != 7:
            continue
        grid.append(
            replace(
                base,
                date_weight=round(c * top, 6),
                date_days=days,
                future_penalty=round(pen * top, 6),
                future_grace_days=grace,
            )
        )
    return grid


def fit_date(c: Candidates, bases: list[Fusion]) -> Fusion:
    """The best date preference on top of one of ``bases`` (the first wins ties)."""
    scored = [
        (objective(first_gold_rank(f, c)), -i, f) for i, f in enumerate(f for base in bases for f in date_grid(base))
    ]
    return max(scored, key=lambda t: (t[0], t[1]))[2]


def fit(c: Candidates, with_date: bool = True, keep: int = 3) -> Fusion:
    scored = sorted(
        ((objective(first_gold_rank(f, c)), -i, f) for i, f in enumerate(fusion_grid())), key=lambda t: (-t[0], -t[1])
    )
    if not with_date:
        return scored[0][2]
    return fit_date(c, [f for _, _, f in scored[:keep]])


def ablation(f: Fusion) -> dict[str, Fusion]:
    """``f`` with each of its parts switched off, and main's equal RRF."""
    no_date = replace(f, date_weight=0.0, future_penalty=0.0)
    return {
        "equal RRF (main)": EQUAL_RRF,
        "equal RRF + date preference": replace(
            EQUAL_RRF,
            date_weight=f.date_weight / (f.dense_weight + f.keyword_weight) * 2 / (EQUAL_RRF.rrf_k + 1),
            date_days=f.date_days,
            future_grace_days=f.future_grace_days,
            future_penalty=f.future_penalty / (f.dense_weight + f.keyword_weight) * 2 / (EQUAL_RRF.rrf_k + 1),
        ),
        "fitted fusion, no date": no_date,
        "fitted fusion + date": f,
        "BM25 alone": replace(EQUAL_RRF, dense_weight=0.0),
        "dense alone": replace(EQUAL_RRF, keyword_weight=0.0),
    }


def report(questions_path: Path, index: Path, k: int = 6) -> None:
    """Retrieval figures of each :func:`ablation` fusion, and of two of them reranked (:mod:`qa.rerank`),
    through the product's own search, on an index that ``qa eval --index`` built already (nothing is
    fitted here)."""
    from .assistant import Assistant
    from .eval import first_relevant_rank, hit_at, load_dataset, mean_reciprocal_rank, question_day
    from .retrieve import DEFAULT_FUSION

    questions = [q for q in load_dataset(questions_path) if q.answerable]
    a = Assistant(index)
    print(f"\n{questions_path} ({len(questions)} answerable questions), index {index}")
    print(f"{'ranking':44} {'hit@1':>6} {'hit@6':>6} {'MRR':>6}")
    rows = [(name, f, False) for name, f in ablation(DEFAULT_FUSION).items()]
    rows += [
        ("equal RRF + date preference, reranked", rows[1][1], True),
        ("shipped: fitted fusion + date, reranked", DEFAULT_FUSION, True),
    ]
    for name, f, rerank in rows:
        a.retriever.fusion = f
        a.retriever.rerank = rerank
        ranks = [
            first_relevant_rank(
                [p.text for p in a.retriever.search(q.question, k=k, as_of=question_day(q))], q.answers, q.evidence
            )
            for q in questions
        ]
        print(f"{name:44} {hit_at(ranks, 1):6.3f} {hit_at(ranks, k):6.3f} {mean_reciprocal_rank(ranks):6.3f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m qa.tune_retrieval", description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, help="the training folder (questions.jsonl, articles.jsonl.gz)")
    ap.add_argument("--cache", type=Path, default=None, help="where vectors are cached (default: qa's cache folder)")
    ap.add_argument(
        "--blocks",
        default=",".join(DEFAULT_BLOCKS),
        help="first week of each block, comma-separated, each optionally ':N' weeks long",
    )
    ap.add_argument("--weeks", type=int, default=4, help="consecutive weeks pooled per block")
    ap.add_argument(
        "--report",
        nargs=2,
        action="append",
        metavar=("QUESTIONS", "INDEX"),
        default=[],
        help="only report: retrieval figures of the shipped fusion and its ablations on QUESTIONS "
        "(JSONL) over INDEX (built by qa eval --index); may be repeated",
    )
    args = ap.parse_args(argv)
    if args.report:
        for questions, index in args.report:
            report(Path(questions), Path(index))
        return 0
    if not args.data:
        ap.error("--data DIR is needed (or --report QUESTIONS INDEX)")
    folder = args.cache or Settings.resolve().cache_path / "tune-retrieval"
    t0 = time.perf_counter()
    blocks = load_blocks(args.data, args.blocks.split(","), args.weeks)
    embedder = MiniLMEmbeddings()
    cands: list[Candidates] = []
    plain: list[Candidates] = []
    for b in blocks:
        print(f"block {b.name}: {len(b.questions)} questions, {len(b.chunk_ids)} chunks", file=sys.stderr)
        vecs = cached_vectors(b.indexed, embedder, folder, f"chunks-{b.name}")
        qvecs = cached_vectors([q["question"] for q in b.questions], embedder, folder, f"questions-{b.name}")
        golds = gold_chunks(b)
        cands.append(candidates(b, vecs, qvecs, KeywordIndex.from_texts(b.chunk_ids, b.indexed), golds))
        plain.append(candidates(b, vecs, qvecs, KeywordIndex.from_texts(b.chunk_ids, b.plain), golds))
    print(f"candidates ready in {time.perf_counter() - t0:.0f} s", file=sys.stderr)

    rows: dict[str, list[np.ndarray]] = defaultdict(list)
    chosen: list[tuple[str, Fusion, Fusion]] = []
    for i, b in enumerate(blocks):
        train = joined([c for j, c in enumerate(cands) if j != i])
        no_date, with_date = fit(train, with_date=False), fit(train)
        chosen.append((b.name, no_date, with_date))
        held = cands[i]
        rows["BM25 alone, chunk text only (old)"].append(
            first_gold_rank(replace(EQUAL_RRF, dense_weight=0.0), plain[i])
        )
        rows["BM25 alone (title+date)"].append(first_gold_rank(replace(EQUAL_RRF, dense_weight=0.0), held))
        rows["dense alone (title+date)"].append(first_gold_rank(replace(EQUAL_RRF, keyword_weight=0.0), held))
        rows["equal RRF (k=60, fetch 30)"].append(first_gold_rank(EQUAL_RRF, held))
        rows["equal RRF + fitted date preference"].append(first_gold_rank(fit_date(train, [EQUAL_RRF]), held))
        rows["fitted fusion, no date"].append(first_gold_rank(no_date, held))
        rows["fitted fusion + date preference"].append(first_gold_rank(with_date, held))
    n = sum(len(c.has_gold) for c in cands)
    n_gold = int(sum(c.has_gold.sum() for c in cands))
    print(f"\nHeld out block by block (blocks {args.blocks}, {n} questions, {n_gold} with a gold chunk in their block)")
    print(f"{'ranking':44} {'hit@1':>6} {'hit@6':>6} {'MRR':>6}   (of questions with a gold chunk: hit@1 hit@6)")
    has = np.concatenate([c.has_gold for c in cands])
    for name, parts in rows.items():
        r = np.concatenate(parts)
        f, g = figures(r), figures(r[has])
        print(f"{name:44} {f['hit@1']:6.3f} {f['hit@6']:6.3f} {f['mrr']:6.3f}   {g['hit@1']:.3f} {g['hit@6']:.3f}")
    for name, _nd, wd in chosen:
        print(f"fit without block {name}: {wd}")
    final = fit(joined(cands))
    print(f"\nfit on all blocks (ship this as DEFAULT_FUSION):\n{final}")
    print(f"in-sample: {figures(first_gold_rank(final, joined(cands)))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
