"""Ingest: files -> articles -> chunks -> vectors -> the index, idempotently and crash-safely.

Order of writes for each batch of changed files (the manifest is the commit point):

1. chunks of new articles are upserted (ids are content addresses, so a retry rewrites
   the same records, never duplicates);
2. the article records are written: from here readers see the new articles;
3. the file records are written;
4. articles that lost their last source are retired: record first, then chunks.

An interrupted ingest leaves ``dirty`` set in the state record; the next ingest then
sweeps: it drops articles no file claims and chunks of articles that are not live.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .chunk import Chunker
from .embed import MiniLMEmbeddings
from .load import Article, Problem, iter_files, load_file
from .store import ArticleRecord, FileRecord, Store

BATCH_CHUNKS = 512  # chunks embedded and written together


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks: int = 0
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, {self.removed} removed; "
            f"{self.chunks} chunks written in {self.seconds:.1f} s"
        )


Progress = Callable[[str, int], None]  # ("files", total) once, then ("file", 1) and ("chunks", n)


@dataclass
class _Pending:
    path: str
    stat: os.stat_result
    articles: list[Article]
    old: FileRecord | None


class Ingester:
    def __init__(self, store: Store, chunker: Chunker, embedder: MiniLMEmbeddings):
        self.store = store
        self.chunker = chunker
        self.embedder = embedder

    def run(self, paths: Iterable[str | os.PathLike[str]], prune: bool = False, progress: Progress | None = None) -> IngestReport:
        t0 = time.perf_counter()
        progress = progress or (lambda kind, n: None)
        report = IngestReport()
        store = self.store
        state = store.state()
        was_dirty = bool(state.get("dirty"))
        store.set_state(dirty=True)

        files = store.file_records()
        live = store.article_records()
        found: list[Path] = []
        for item in iter_files(paths):
            (report.problems.append if isinstance(item, Problem) else found.append)(item)  # type: ignore[arg-type]
        progress("files", len(found))

        pending: list[_Pending] = []
        queued: dict[str, Article] = {}  # new articles waiting to be embedded, by id
        n_queued_chunks = 0
        for path in found:
            key = str(path.resolve())
            try:
                st = path.stat()
            except OSError as e:
                report.problems.append(Problem(str(path), f"cannot read: {e.strerror or e}"))
                progress("file", 1)
                continue
            old = files.get(key)
            if old and old.size == st.st_size and old.mtime_ns == st.st_mtime_ns and all(a in live for a in old.articles):
                report.unchanged += len(old.articles)
                progress("file", 1)
                continue
            articles, problems = load_file(path)
            report.problems.extend(problems)
            articles = [_with_source(a, key, path) for a in articles]
            if old and [a.id for a in articles] == old.articles and all(a in live for a in old.articles):
                store.put_file(FileRecord(key, st.st_size, st.st_mtime_ns, old.articles))
                report.unchanged += len(old.articles)
                progress("file", 1)
                continue
            if not articles and not old:
                progress("file", 1)
                continue
            pending.append(_Pending(key, st, articles, old))
            for a in articles:
                if a.id not in live and a.id not in queued:
                    queued[a.id] = a
                    n_queued_chunks += max(1, len(a.text) // 800)
            if n_queued_chunks >= BATCH_CHUNKS:
                self._flush(pending, queued, live, files, report, progress)
                pending, queued, n_queued_chunks = [], {}, 0
        self._flush(pending, queued, live, files, report, progress)

        if prune:
            for key, rec in list(files.items()):
                if not Path(key).exists():
                    self._retire(key, rec.articles, live)
                    store.delete_file(key)
                    del files[key]
                    report.removed += len(rec.articles)
        if was_dirty:
            self.sweep(live, files)
        store.set_state(dirty=False, generation=int(state.get("generation", 0)) + 1)
        report.seconds = time.perf_counter() - t0
        return report

    def _flush(self, pending: list[_Pending], queued: dict[str, Article], live: dict[str, ArticleRecord],
               files: dict[str, FileRecord], report: IngestReport, progress: Progress) -> None:
        if not pending:
            return
        store = self.store
        # 1. chunks of the new articles
        ids: list[str] = []
        docs: list[str] = []
        metas: list[dict[str, Any]] = []
        n_chunks: dict[str, int] = {}
        for a in queued.values():
            chunks = self.chunker.chunk(a.text)
            n_chunks[a.id] = len(chunks)
            for c in chunks:
                ids.append(f"{a.id}:{c.index}")
                docs.append(c.text)
                meta = {"article_id": a.id, "title": a.title, "source": a.source, "start": c.start, "end": c.end,
                        "index": c.index, "tokens": c.tokens}
                if a.date:
                    meta["date"] = a.date
                    meta["day"] = int(a.date.replace("-", ""))  # Chroma compares numbers only
                if a.url:
                    meta["url"] = a.url
                metas.append(meta)
        if ids:
            vectors = self.embedder.embed(docs, progress=lambda n: progress("chunks", n))
            store.add_chunks(ids, vectors, docs, metas)
            report.chunks += len(ids)
        # 2. article records: new ones go live, known ones gain a source
        for p in pending:
            for a in p.articles:
                rec = live.get(a.id)
                if rec is None:
                    rec = ArticleRecord(a.id, a.title, a.date, a.url, [a.source], n_chunks[a.id], a.text)
                elif a.source not in rec.sources:
                    rec.sources.append(a.source)
                else:
                    continue
                store.put_article(rec)
                live[a.id] = rec
        # 3. file records, and 4. retire what the files no longer hold
        for p in pending:
            new_ids = list(dict.fromkeys(a.id for a in p.articles))
            store.put_file(FileRecord(p.path, p.stat.st_size, p.stat.st_mtime_ns, new_ids))
            files[p.path] = FileRecord(p.path, p.stat.st_size, p.stat.st_mtime_ns, new_ids)
            old_ids = p.old.articles if p.old else []
            gone = [a for a in old_ids if a not in new_ids]
            came = [a for a in new_ids if a not in old_ids]
            self._retire(p.path, gone, live)
            updated = min(len(gone), len(came))
            report.updated += updated
            report.added += len(came) - updated
            report.removed += len(gone) - updated
            report.unchanged += len(new_ids) - len(came)
            progress("file", 1)

    def _retire(self, path: str, article_ids: list[str], live: dict[str, ArticleRecord]) -> None:
        """Take ``path``'s sources off these articles; retire an article left with none."""
        for aid in article_ids:
            rec = live.get(aid)
            if rec is None:
                continue
            rec.sources = [s for s in rec.sources if not _from_file(s, path)]
            if rec.sources:
                self.store.put_article(rec)
            else:
                self.store.delete_article(aid)
                del live[aid]

    def sweep(self, live: dict[str, ArticleRecord], files: dict[str, FileRecord]) -> None:
        """Repair what an interrupted ingest left: unclaimed articles, orphan chunks."""
        for aid, rec in list(live.items()):
            keep = [s for s in rec.sources if aid in files.get(s.split("#", 1)[0], FileRecord("", 0, 0)).articles]
            if not keep:
                self.store.delete_article(aid)
                del live[aid]
            elif keep != rec.sources:
                rec.sources = keep
                self.store.put_article(rec)
        orphans = [cid for cid, aid in self.store.chunk_article_ids().items() if aid not in live]
        for i in range(0, len(orphans), 5000):
            self.store.chunks.delete(ids=orphans[i : i + 5000])


def _with_source(a: Article, key: str, path: Path) -> Article:
    """Record the file's absolute path as the article's source (``path#line`` for JSONL)."""
    suffix = a.source[len(str(path)) :] if a.source.startswith(str(path)) else ""
    return Article(a.text, a.title, key + suffix, a.date, a.url)


def _from_file(source: str, path: str) -> bool:
    return source == path or source.startswith(path + "#")
