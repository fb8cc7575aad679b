"""Hybrid retrieval: dense search in Chroma fused with BM25 keyword search (reciprocal rank fusion).

Dense search finds paraphrases; BM25 finds the names and numbers dense vectors blur.
Only chunks of live articles (in the manifest) are returned, so a reader never mixes
an article's old and new versions while an ingest runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .embed import MiniLMEmbeddings
from .store import Store
from .types import Passage

if TYPE_CHECKING:
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever

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
            return any(needle in (x or "").lower() for x in (p.source, p.url, p.title))
        return True

    def describe(self) -> str:
        parts = []
        if self.date_from or self.date_to:
            parts.append(f"{self.date_from or '…'}..{self.date_to or '…'}")
        if self.source:
            parts.append(f"source~{self.source}")
        return " ".join(parts)


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: list[str]) -> list[list[str]]:
    import bm25s

    return bm25s.tokenize(
        texts, stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False, token_pattern=_TOKEN_PATTERN
    )


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
        import bm25s

        ids, texts = [], []
        for id, _, doc in store.all_chunks():
            ids.append(id)
            texts.append(doc or "")
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
    embedder: MiniLMEmbeddings
    keyword_dir: Path
    k: int = 6
    fetch_k: int = 30
    rrf_k: int = 60
    _keyword: KeywordIndex | None = field(default=None, repr=False)

    def keyword_index(self) -> KeywordIndex:
        generation = f"{self.store.chunks.id}/{int(self.store.state().get('generation', 0))}"
        if self._keyword is None or self._keyword.generation != generation:
            index = KeywordIndex.load(self.keyword_dir)
            if index is None or index.generation != generation:
                index = KeywordIndex.build(self.store, generation)
                index.save(self.keyword_dir)
            self._keyword = index
        return self._keyword

    def search(self, question: str, k: int | None = None, filter: Filter | None = None) -> list[Passage]:
        k = k or self.k
        fetch = self.fetch_k * (4 if filter else 1)
        dense = self.store.dense_search(
            self.embedder.embed_query(question), fetch, where=filter.where() if filter else None
        )
        keyword = self.keyword_index().search(question, fetch)
        by_id: dict[str, Passage] = {p.id: p for p in dense}
        missing = [cid for cid, _ in keyword if cid not in by_id]
        for p in self.store.get_passages(missing):
            by_id[p.id] = p
        fused: dict[str, float] = {}
        for rank, p in enumerate(dense):
            fused[p.id] = fused.get(p.id, 0.0) + 1.0 / (self.rrf_k + rank + 1)
        kw_score = dict(keyword)
        for rank, (cid, _) in enumerate(keyword):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (self.rrf_k + rank + 1)
        ranked = sorted((cid for cid in fused if cid in by_id), key=lambda c: -fused[c])
        if filter:
            ranked = [c for c in ranked if filter.matches(by_id[c])]
        ranked = ranked[: k * 3]
        # Only live articles, with their current titles: the manifest is the commit point.
        live = self.store.article_records(ids=[by_id[c].article_id for c in ranked])
        out: list[Passage] = []
        for cid in ranked:
            p = by_id[cid]
            rec = live.get(p.article_id)
            if rec is None:
                continue
            if p.dense == 0.0:  # keyword-only hit: its cosine is still wanted for relevance checks
                p = replace(p, dense=-1.0)
            out.append(
                replace(
                    p, score=fused[cid], keyword=kw_score.get(cid, 0.0), title=rec.title, date=rec.date, url=rec.url
                )
            )
            if len(out) == k:
                break
        return out

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
