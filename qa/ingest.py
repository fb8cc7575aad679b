"""Ingest: files -> articles -> chunks -> vectors -> the index, idempotently and crash-safely.

Order of writes, in batches of about ``batch_chunks`` chunks (the ``ingest_batch`` setting) (the manifest is the commit point):

1. chunks of new articles are upserted (ids are content addresses, so a retry rewrites
   the same records, never duplicates);
2. the article records are written: from here readers see the new articles (a big file's
   articles may go live over several batches);
3. once all of a file's articles are live, the article records are reconciled with the
   file (its sources added, its line numbers moved, its header changes applied: chunk
   metadata before the record) and then the file record is written. The file record is
   the file's commit: until it is written, the next ingest reads the file again;
4. articles the file no longer holds lose its sources; one left with none is retired:
   record first, then chunks.

An interrupted ingest leaves ``dirty`` set in the state record; the next ingest then
sweeps: it drops sources that no file record claims, articles left with none, and chunks
of articles that are not live. The result is the index a clean ingest of the same files
gives (tests/test_faults.py kills real ingests to check it).

A file is read between two ``stat`` calls and read again if it changed meanwhile, so a file
record never claims a version that was not stored. A file modified within ``RACY_SECONDS``
of being read is recorded with no mtime, so the next ingest reads it again: a rewrite in
the same clock tick with the same size is not missed.

Web pages (:mod:`qa.web`) go the same way. A page's record is keyed by its URL and holds, instead
of a size and mtime, the ETag, Last-Modified and body hash its fetch gave: the next ingest asks
for the page conditionally, and a 304 or the same body again is unchanged. A feed has no record of
its own; each item's page has one, naming the feed. A page that fails keeps what was stored before.

An article stored under several names keeps every source with its own header (title, date,
url) and shows the header of its first source in sorted order; its chunks name that source.

An ingest asked to stop (``stop``, which ``qa ingest`` sets on Ctrl-C or SIGTERM) stops at its
next safe point: between two files, or between two of the embedder's calls while a batch is
embedded. The batch being embedded is dropped (nothing of it is written yet); what was written
stays, ``dirty`` stays set as after a crash, and :class:`IngestInterrupted` says how many of the
articles are kept. The next ingest of the same paths embeds only the rest.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .chunk import Chunk, Chunker
from .embed import Embedder
from .load import JSONL_SUFFIXES, Article, Problem, iter_files, load_file
from .store import ArticleRecord, FileRecord, Header, Store
from .web import FeedItem, Fetcher, Response, WebOptions, check_url, feed_items, is_url, page_article

BATCH_CHUNKS = 128  # chunks embedded and written together (the ingest_batch setting): what a stop may drop
RACY_SECONDS = 2.0  # coarser than any file system's mtime clock tick
READ_ATTEMPTS = 3  # a file that changes under every read is reported, not stored half-written


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks: int = 0
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)
    left_out: int = 0  # articles of files read again that qa remove took out: they stay out
    total: int = 0  # articles in the paths given (a file not read yet is estimated: a line of JSONL, else 1)
    kept: int = 0  # of those, how many are in the index (unchanged, or written by this ingest)

    def summary(self) -> str:
        text = (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, {self.removed} removed; "
            f"{self.chunks} chunks written in {self.seconds:.1f} s"
        )
        if self.left_out:
            text += f"; {self.left_out} left out, as qa remove took them out (name the file to add them back)"
        return text

    def interrupted(self) -> str:
        """Example: "interrupted: 312 of 886 articles kept; run the same command to finish"."""
        return f"interrupted: {self.kept} of {self.total} articles kept; run the same command to finish"


class IngestInterrupted(KeyboardInterrupt):
    """An ingest stopped on request at a safe point; ``report`` counts what it kept."""

    def __init__(self, report: IngestReport):
        super().__init__(report.interrupted())
        self.report = report


# ("files", total) and ("articles", total) first, again when a total changes; then ("file", 1) as each
# file is done, ("article", n) as articles are in the index (kept) and ("chunks", n) as chunks are embedded.
Progress = Callable[[str, int], None]


@dataclass
class _Pending:
    """A file read whose articles are queued; its record is written once they are live."""

    path: str
    record: FileRecord
    articles: list[Article]
    old: FileRecord | None


@dataclass
class _Batch:
    files: list[_Pending] = field(default_factory=list)
    new: dict[str, tuple[Article, list[Chunk]]] = field(default_factory=dict)  # articles to embed, by id
    unsourced: int = 0  # articles of its files whose records name them only once the files are written
    n_chunks: int = 0

    def __bool__(self) -> bool:
        return bool(self.files or self.new)


class Ingester:
    def __init__(
        self,
        store: Store,
        chunker: Chunker,
        embedder: Embedder,
        batch_chunks: int = BATCH_CHUNKS,
        web: WebOptions | None = None,
    ):
        self.store = store
        self.chunker = chunker
        self.embedder = embedder
        self.batch_chunks = batch_chunks
        self.web = web or WebOptions()
        self._stop: Callable[[], bool] = lambda: False
        self._report = IngestReport()
        self._progress: Progress = lambda kind, n: None
        self._prior: dict[str, int] = {}  # live articles naming each file or URL as a source
        self._estimates: dict[str, int] = {}  # what each file or URL is counted for in report.total

    def run(
        self,
        paths: Iterable[str | os.PathLike[str]],
        prune: bool = False,
        progress: Progress | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> IngestReport:
        """Ingest the files and folders in ``paths``, and the web pages and feeds among them (http(s) URLs).

        When ``stop()`` turns true it stops at the next safe point and raises :class:`IngestInterrupted`."""
        t0 = time.perf_counter()
        progress = self._progress = progress or (lambda kind, n: None)
        report = self._report = IngestReport()
        self._stop = stop or (lambda: False)
        try:
            self._run(paths, prune, progress, report)
        except IngestInterrupted:
            report.seconds = time.perf_counter() - t0
            raise
        report.seconds = time.perf_counter() - t0
        return report

    # How many articles the paths hold (``report.total``) and how many of them are in the index
    # (``report.kept``), counted by source (a file, a JSONL line, a URL) as the progress bar and an
    # interrupted ingest show them. A file or URL starts counted for what the index holds of it
    # (``_prior``) and, when it has none, for an estimate (:func:`_estimate`); once it is read its
    # own count replaces the estimate, and its articles count as kept as each goes live.

    def _expect(self, n: int) -> None:
        """``n`` more (or fewer) articles in the paths than counted so far."""
        if n:
            self._report.total += n
            self._progress("articles", self._report.total)

    def _keep(self, n: int) -> None:
        """``n`` more (or fewer) of them are in the index."""
        if n:
            self._report.kept += n
            self._progress("article", n)

    def _count(self, key: str, estimate: int = 1) -> None:
        """Count the file or URL ``key`` for what the index holds of it, else for ``estimate`` articles."""
        if key not in self._estimates:
            prior = self._prior.get(key, 0)
            self._estimates[key] = prior or estimate
            self._expect(prior or estimate)
            self._keep(prior)

    def _unwritten(self, key: str) -> None:
        """``key`` is done and nothing of it written (unchanged, or it failed): what the index holds of it stays."""
        self._count(key)
        self._expect(self._prior.get(key, 0) - self._estimates[key])
        self._estimates[key] = self._prior.get(key, 0)

    def _written(self, key: str, n: int) -> None:
        """``key`` holds ``n`` articles, about to be written: each counts as kept once it is live."""
        self._count(key)
        self._expect(n - self._estimates[key])
        self._keep(-self._prior.get(key, 0))
        self._estimates[key] = n

    def _check(self) -> None:
        """A safe point: stop here if asked to."""
        if self._stop():
            raise IngestInterrupted(self._report)

    def _run(
        self, paths: Iterable[str | os.PathLike[str]], prune: bool, progress: Progress, report: IngestReport
    ) -> None:
        store = self.store
        with self._writing() as (files, live):
            found: list[Path] = []
            urls: list[str] = []
            given = list(paths)
            local = [p for p in given if not is_url(p)]  # never a network call for these
            for raw in given:
                if is_url(raw):
                    url = check_url(str(raw))
                    (report.problems.append if isinstance(url, Problem) else urls.append)(url)  # type: ignore[arg-type]
            for item in iter_files(local) if local else ():
                (report.problems.append if isinstance(item, Problem) else found.append)(item)  # type: ignore[arg-type]
            urls = list(dict.fromkeys(urls))
            named = {str(Path(p).resolve()) for p in local if Path(p).is_file()}  # named, not found in a folder
            left_out: set[str] = set()
            total = [len(found) + len(urls)]
            progress("files", total[0])
            self._prior = _sources_per_key(live)
            self._estimates = {}
            self._progress = lambda kind, n: None  # counted first, then told once
            for path in found:
                key = str(path.resolve())
                self._count(key, 1 if key in self._prior else _estimate(path, files.get(key)))
            for url in urls:
                self._count(url)
            self._progress = progress
            progress("articles", report.total)
            progress("article", report.kept)

            def more(n: int) -> None:  # a feed's items join the count
                total[0] += n
                progress("files", total[0])

            batch = _Batch()
            for pending in itertools.chain(
                self._read_files(found, files, live, report, progress, named, left_out),
                self._read_web(urls, files, live, report, progress, more),
            ):
                self._written(pending.path, len(pending.articles))
                batch.files.append(pending)
                for a in pending.articles:  # each counts as kept once its record names this source
                    if a.id in live or a.id in batch.new:
                        if a.id in live and a.source in live[a.id].sources:
                            self._keep(1)
                        else:  # another file's, or queued from another file: this source is added by _flush
                            batch.unsourced += 1
                        continue
                    chunks = self.chunker.chunk(a.text)
                    batch.new[a.id] = (a, chunks)
                    batch.n_chunks += len(chunks)
                    if batch.n_chunks >= self.batch_chunks:  # also inside one big file: memory stays bounded
                        self._publish_new(batch, live, report, progress)
                if batch.n_chunks >= self.batch_chunks or len(batch.files) >= self.batch_chunks:
                    self._flush(batch, live, files, report, progress)
                    batch = _Batch()
            self._flush(batch, live, files, report, progress)
            self._check()  # all written; what is left (prune, sweep) the next ingest does as well

            if prune:  # files that are gone; a URL's articles stay until they are removed (qa remove URL)
                for key, rec in list(files.items()):
                    if not rec.is_web and not Path(key).exists():
                        store.delete_file(key)  # the claim goes first: a crash here leaves work for the sweep
                        del files[key]
                        report.removed += self._reconcile(key, [], rec.articles, live)
                self._retire_unsourced(live)
            report.left_out = len(left_out - set(live))  # an article another file holds is in all the same

    def _read_files(
        self,
        found: list[Path],
        files: dict[str, FileRecord],
        live: dict[str, ArticleRecord],
        report: IngestReport,
        progress: Progress,
        named: set[str],
        left_out: set[str],
    ) -> Iterator[_Pending]:
        """Each new or changed file, read; unchanged and unreadable ones are counted and reported here.

        Articles ``qa remove`` took out of a file stay out (and join ``left_out``) unless the file is
        among those ``named`` itself rather than found in a folder."""
        for path in found:
            self._check()
            key = str(path.resolve())
            try:
                st = path.stat()
            except OSError as e:
                report.problems.append(Problem(str(path), f"cannot read: {e.strerror or e}"))
                progress("file", 1)
                self._unwritten(key)
                continue
            old = files.get(key)
            restore = bool(old and old.removed and key in named)  # naming the file brings them back
            if (
                old
                and not restore
                and old.size == st.st_size
                and old.mtime_ns == st.st_mtime_ns
                and _holds(live, key, old.articles)
            ):
                report.unchanged += len(old.articles)
                left_out.update(old.removed)
                progress("file", 1)
                self._unwritten(key)
                continue
            record, articles, problems = _read_stable(path, key)
            report.problems.extend(problems)
            if record is not None and old and old.removed and not restore:
                record.removed = [a for a in old.removed if a in record.articles]
                record.articles = [a for a in record.articles if a not in old.removed]
                articles = [a for a in articles if a.id not in old.removed]
                left_out.update(record.removed)
            if record is None or (not articles and not old):
                progress("file", 1)
                self._unwritten(key)
                continue
            yield _Pending(key, record, articles, old)

    def _read_web(
        self,
        urls: list[str],
        files: dict[str, FileRecord],
        live: dict[str, ArticleRecord],
        report: IngestReport,
        progress: Progress,
        more: Callable[[int], None],
    ) -> Iterator[_Pending]:
        """Each web page that is new or changed, fetched; a feed's items' pages, fetched in turn.

        A page already ingested is asked for with its ETag and Last-Modified: a 304, or the same body
        again, is unchanged. A page that fails is reported and keeps what an earlier ingest stored;
        a feed item's page that fails is stood in for by the item's own text when it is long enough.
        """
        if not urls:
            return
        seen = set(urls)
        with Fetcher(self.web) as fetcher:
            for url in urls:
                self._check()
                old = files.get(url)
                response = fetcher.get(url, *_validators(old, live))
                if isinstance(response, Response) and response.is_feed:
                    items = feed_items(response)
                    if isinstance(items, Problem):
                        report.problems.append(items)
                        progress("file", 1)
                        self._unwritten(url)
                        continue
                    items = [i for i in items if not (i.link and i.link in seen)]
                    seen.update(i.link for i in items if i.link)
                    more(len(items) - 1)
                    for item in items:
                        if not item.link:
                            title = f" ({item.title})" if item.title else ""
                            report.problems.append(Problem(url, f"an item{title} has no link"))
                    linked = [i for i in items if i.link]
                    requests = [(i.link or "", *_validators(files.get(i.link or ""), live)) for i in linked]
                    self._unwritten(url)  # the feed itself is no article; its items' pages are
                    for item, got in zip(linked, fetcher.get_all(requests)):
                        self._check()
                        yield from self._web_page(item.link or "", got, files, live, report, progress, item, url)
                    progress("file", len(items) - len(linked))
                    continue
                yield from self._web_page(url, response, files, live, report, progress)

    def _web_page(
        self,
        url: str,
        response: Response | Problem,
        files: dict[str, FileRecord],
        live: dict[str, ArticleRecord],
        report: IngestReport,
        progress: Progress,
        item: FeedItem | None = None,
        feed: str = "",
    ) -> Iterator[_Pending]:
        old = files.get(url)
        kept = _kept(old, live)
        if isinstance(response, Response):
            if response.not_modified or (kept and old is not None and response.digest == old.digest):
                assert old is not None
                report.unchanged += len(old.articles)
                if feed and old.feed != feed:  # remembered, so that qa remove FEED finds it
                    old.feed = feed
                    self.store.put_file(old)
                progress("file", 1)
                self._unwritten(url)
                return
            article = page_article(response, item.title, item.date) if item else page_article(response)
            if isinstance(article, Article):
                feed = feed or (old.feed if old else "")
                etag, modified, digest = response.etag, response.last_modified, response.digest
                record = FileRecord(url, len(response.body), 0, [article.id], "page", etag, modified, digest, feed)
                yield _Pending(url, record, [article], old)
                return
            problem = article
        else:
            problem = response
        # The page failed. What an earlier ingest stored from it stays; else a feed item's own text may stand in.
        standin = item.article() if item and not kept else None
        if standin is None:
            if item and item.text and not kept:
                problem = Problem(problem.source, f"{problem.reason}; the feed's own text for it is too short to use")
            report.problems.append(problem)
            progress("file", 1)
            self._unwritten(url)
            return
        record = FileRecord(url, 0, -1, [standin.id], "summary", feed=feed)  # its page is asked for again next time
        yield _Pending(url, record, [standin], old)

    def remove(self, article_ids: Iterable[str]) -> list[ArticleRecord]:
        """Take these articles out, whichever files hold them; returns the records of those that were live.

        Crash-safe as :meth:`run` is, in the order its prune uses: ``dirty`` is set, then the file
        records stop claiming the articles and note them as removed (so an ingest of the file's
        folder leaves them out; one that names the file adds them back), then each article is
        retired, record first, then its chunks. An interrupted remove leaves work for the sweep,
        which every ingest or remove after it runs (called with no ids, this is only that sweep);
        the generation moves on, so the keyword index is rebuilt.
        """
        with self._writing() as (files, live):
            gone = [live[a] for a in dict.fromkeys(article_ids) if a in live]
            ids = {r.id for r in gone}
            claims = [f for f in files.values() if ids & set(f.articles)]
            for f in claims:
                f.removed = [*f.removed, *(a for a in f.articles if a in ids and a not in f.removed)]
                f.articles = [a for a in f.articles if a not in ids]
            self.store.put_files(claims)  # the claims go first: a crash here leaves work for the sweep
            for rec in gone:
                rec.sources = []
            self._retire_unsourced(live)
        return gone

    @contextmanager
    def _writing(self) -> Iterator[tuple[dict[str, FileRecord], dict[str, ArticleRecord]]]:
        """One crash-safe write of the index (an ingest or a remove): ``dirty`` is set first, and the file
        and article records are read; when the block ends without an error, what an earlier interrupted
        write left is swept, then ``dirty`` is cleared and the generation moves on (the keyword index
        is rebuilt). An error leaves ``dirty`` set, for the next write's sweep."""
        state = self.store.state()
        was_dirty = bool(state.get("dirty"))
        self.store.set_state(dirty=True)
        files = self.store.file_records()
        live = self.store.article_records()
        try:
            yield files, live
        except IngestInterrupted:  # stopped at a safe point: dirty stays, for the next write's sweep,
            self.store.set_state(generation=int(state.get("generation", 0)) + 1)  # and keyword search sees it
            raise
        if was_dirty:
            self.sweep(live, files)
        self.store.set_state(dirty=False, generation=int(state.get("generation", 0)) + 1)

    def _publish_new(
        self, batch: _Batch, live: dict[str, ArticleRecord], report: IngestReport, progress: Progress
    ) -> None:
        """Steps 1 and 2 for the queued new articles: chunks, then their records."""
        if not batch.new:
            return
        ids: list[str] = []
        docs: list[str] = []
        metas: list[dict[str, Any]] = []
        records: list[ArticleRecord] = []
        for a, chunks in batch.new.values():
            header = Header(a.title, a.date, a.url, a.publisher, a.titled)
            rec = ArticleRecord(
                a.id, a.title, a.date, a.url, [a.source], len(chunks), a.text, {a.source: header}, a.publisher, a.titled
            )
            common = chunk_metadata(rec)
            for c in chunks:
                ids.append(f"{a.id}:{c.index}")
                docs.append(c.text)
                metas.append(
                    {"article_id": a.id, **common, "start": c.start, "end": c.end, "index": c.index, "tokens": c.tokens}
                )
            records.append(rec)
        if ids:
            texts = [indexed_text(d, m["title"], m.get("date")) for d, m in zip(docs, metas)]

            done = 0

            def embedded(n: int) -> None:
                nonlocal done
                done += n
                progress("chunks", n)
                if done < len(texts):  # between two of the embedder's calls: the batch is dropped, none of it written
                    self._check()

            vectors = self.embedder.embed(texts, progress=embedded)
            self.store.add_chunks(ids, vectors, docs, metas)
            report.chunks += len(ids)
        self.store.put_articles(records)
        live.update((r.id, r) for r in records)
        self._keep(len(records))  # each record names the source it was queued from
        batch.new.clear()
        batch.n_chunks = 0

    def _flush(
        self,
        batch: _Batch,
        live: dict[str, ArticleRecord],
        files: dict[str, FileRecord],
        report: IngestReport,
        progress: Progress,
    ) -> None:
        if not batch:
            return
        self._publish_new(batch, live, report, progress)
        for p in batch.files:
            old_ids = p.old.articles if p.old else []
            gone = self._reconcile(p.path, p.articles, old_ids, live)
            came = [a for a in p.record.articles if a not in old_ids]
            updated = min(gone, len(came))
            report.updated += updated
            report.added += len(came) - updated
            report.removed += gone - updated
            report.unchanged += len(p.record.articles) - len(came)
        self.store.put_files([p.record for p in batch.files])
        files.update((p.path, p.record) for p in batch.files)
        self._keep(batch.unsourced)
        for _ in batch.files:
            progress("file", 1)
        self._retire_unsourced(live)

    def _reconcile(self, path: str, articles: list[Article], old_ids: list[str], live: dict[str, ArticleRecord]) -> int:
        """Make the records say exactly which of their sources are in the file ``path`` now.

        Returns how many of ``old_ids`` the file no longer holds. Articles left with no
        source are only marked (``sources == []``); :meth:`_retire_unsourced` drops them after
        the file record is written.
        """
        here: dict[str, dict[str, Header]] = {}
        for a in articles:
            here.setdefault(a.id, {})[a.source] = Header(a.title, a.date, a.url, a.publisher, a.titled)
        for aid in dict.fromkeys([*old_ids, *here]):
            rec = live.get(aid)
            if rec is None:
                continue
            headers = {s: rec.header(s) for s in rec.sources if not _from_file(s, path)}
            headers.update(here.get(aid, {}))
            self._rewrite(rec, headers)
        return sum(1 for aid in old_ids if aid not in here)

    def _rewrite(self, rec: ArticleRecord, headers: dict[str, Header]) -> None:
        """Give ``rec`` these sources (sorted: the first one's header is the article's).

        Chunk metadata is written first, then the record, so a crash in between is redone.
        """
        sources = sorted(headers)
        shown = Header(rec.title, rec.date, rec.url, rec.publisher, rec.titled)
        first = headers[sources[0]] if sources else shown
        if sources == rec.sources and first == shown and all(rec.headers.get(s) == h for s, h in headers.items()):
            return
        head_before = chunk_metadata(rec)
        rec.sources, rec.headers = sources, headers
        rec.title, rec.date, rec.url, rec.publisher, rec.titled = first
        if not sources:
            return  # retired by _retire_unsourced once the file record is written
        head = chunk_metadata(rec)
        if head != head_before:
            change: dict[str, Any] = {k: head.get(k) for k in {*head, *head_before}}  # None deletes a key
            ids = [f"{rec.id}:{i}" for i in range(rec.chunks)]
            self.store.update_chunks(ids, change)
            if (head.get("title"), head.get("date")) != (head_before.get("title"), head_before.get("date")):
                # The vectors embed the title and date (indexed_text): a new header needs new vectors.
                passages = self.store.get_passages(ids)
                vectors = self.embedder.embed([indexed_text(p.text, rec.title, rec.date) for p in passages])
                self.store.update_vectors([p.id for p in passages], vectors)
        self.store.put_article(rec)

    def _retire_unsourced(self, live: dict[str, ArticleRecord]) -> None:
        for aid in [aid for aid, rec in live.items() if not rec.sources]:
            self.store.delete_article(aid)
            del live[aid]

    def sweep(self, live: dict[str, ArticleRecord], files: dict[str, FileRecord]) -> None:
        """Repair what an interrupted ingest left: unclaimed sources and articles, orphan chunks."""
        for aid, rec in list(live.items()):
            self._rewrite(rec, {s: rec.header(s) for s in rec.sources if aid in _claimed_by(s, files)})
        self._retire_unsourced(live)
        orphans = [cid for cid, aid in self.store.chunk_article_ids().items() if aid not in live]
        self.store.delete_chunks(orphans)


_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def indexed_text(text: str, title: str | None, date: str | None) -> str:
    """What search sees of a chunk: its article's title and date, then the chunk's own text.

    Dense search (the vector made at ingest) and BM25 (:meth:`qa.retrieve.KeywordIndex.build`) both
    index this; the stored document stays the exact chunk text, so citations still quote
    ``article_text[start:end]``. The date is written out in words, as questions write dates.

    Example: indexed_text("Iran said yes.", "Talks resume", "2024-08-02")
    -> "Talks resume\nAugust 2, 2024\n\nIran said yes."
    """
    head = [(title or "").strip()]
    if date:
        try:
            y, m, d = (int(x) for x in date[:10].split("-"))
            head.append(f"{_MONTHS[m - 1]} {d}, {y}")
        except (ValueError, IndexError):
            head.append(date)
    head = [h for h in head if h]
    return "\n".join(head) + "\n\n" + text if head else text


def chunk_metadata(rec: ArticleRecord) -> dict[str, Any]:
    """What each chunk repeats of its article, so dense search can filter and show it."""
    meta: dict[str, Any] = {"title": rec.title, "source": rec.sources[0] if rec.sources else ""}
    if rec.date:
        meta["date"] = rec.date
        meta["day"] = int(rec.date.replace("-", ""))  # Chroma compares numbers only
    if rec.url:
        meta["url"] = rec.url
    if rec.publisher:
        meta["publisher"] = rec.publisher
    return meta


def _sources_per_key(live: dict[str, ArticleRecord]) -> dict[str, int]:
    """How many live articles name each file (a JSONL file once a line) or URL as a source."""
    out: dict[str, int] = {}
    for rec in live.values():
        for source in rec.sources:
            path, _, line = source.rpartition("#")
            key = path if line.isdigit() and path else source
            out[key] = out.get(key, 0) + 1
    return out


def _estimate(path: Path, old: FileRecord | None) -> int:
    """How many articles ``path`` holds, before it is read: as many as last time, else a JSONL file's
    lines that are not blank, else one."""
    if old is not None:
        return len(old.articles)
    if path.suffix.lower() not in JSONL_SUFFIXES:
        return 1
    try:
        with open(path, "rb") as f:
            return sum(1 for line in f if line.strip())
    except OSError:
        return 1


def _read_stable(path: Path, key: str) -> tuple[FileRecord | None, list[Article], list[Problem]]:
    """The file's articles and the record that may claim them, read between two stats."""
    for _ in range(READ_ATTEMPTS):
        try:
            before = path.stat()
            articles, problems = load_file(path)
            after = path.stat()
        except OSError as e:
            return None, [], [Problem(str(path), f"cannot read: {e.strerror or e}")]
        if (before.st_size, before.st_mtime_ns, before.st_ino) == (after.st_size, after.st_mtime_ns, after.st_ino):
            articles = [_with_source(a, key, path) for a in articles]
            racy = time.time_ns() - before.st_mtime_ns < RACY_SECONDS * 1e9
            ids = list(dict.fromkeys(a.id for a in articles))
            return FileRecord(key, before.st_size, -1 if racy else before.st_mtime_ns, ids), articles, problems
    return None, [], [Problem(str(path), "it kept changing while it was read; ingest it again once it is written")]


def _kept(old: FileRecord | None, live: dict[str, ArticleRecord]) -> bool:
    """``old`` is a web page stored by an earlier fetch whose article is still live (not a stand-in, not removed)."""
    return old is not None and old.kind == "page" and bool(old.articles) and _holds(live, old.path, old.articles)


def _validators(old: FileRecord | None, live: dict[str, ArticleRecord]) -> tuple[str, str]:
    """The ETag and Last-Modified to send back for ``old``'s URL: none unless its article is kept."""
    return (old.etag, old.last_modified) if old is not None and _kept(old, live) else ("", "")


def _holds(live: dict[str, ArticleRecord], key: str, article_ids: list[str]) -> bool:
    """Every article is live and knows this file as a source."""
    return all(a in live and any(_from_file(s, key) for s in live[a].sources) for a in article_ids)


def _claimed_by(source: str, files: dict[str, FileRecord]) -> list[str]:
    """The article ids the file record of ``source`` claims (``path`` or ``path#line``)."""
    if source in files:
        return files[source].articles
    path, _, line = source.rpartition("#")
    return files[path].articles if line.isdigit() and path in files else []


def _with_source(a: Article, key: str, path: Path) -> Article:
    """Record the file's absolute path as the article's source (``path#line`` for JSONL)."""
    suffix = a.source[len(str(path)) :] if a.source.startswith(str(path)) else ""
    return Article(a.text, a.title, key + suffix, a.date, a.url, a.publisher, a.titled)


def _from_file(source: str, path: str) -> bool:
    return source == path or (source.startswith(path + "#") and source[len(path) + 1 :].isdigit())
