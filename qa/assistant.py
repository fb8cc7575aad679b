"""The Python API: an :class:`Assistant` opens an index, ingests articles and answers questions.

    >>> from qa import Assistant
    >>> a = Assistant(index="/tmp/my-index")
    >>> a.ingest(["seeds/"])
    >>> a.ask("How many US troops are in Iraq?").answer

Settings (:class:`qa.settings.Settings`) come from the arguments, else the environment, else
defaults: ``Assistant(llm="openai", base_url=..., context_tokens=2048)``, or a whole ``settings=``.
``Assistant(embeddings=...)`` embeds the index with any LangChain ``Embeddings`` instead of the
embedder the settings choose (``QA_EMBEDDER``: the built-in MiniLM, or an OpenAI-compatible server).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import re
import shlex
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

from .chunk import Chunker
from .cite import resolve
from .config import ChunkSettings
from .embed import Embedder, EmbedderRecord, MiniLMEmbeddings, embedder_from_settings
from .errors import QAError, UsageError
from .generators import EXTRA_OPTIONS, Generator, get_generator
from .ingest import Ingester, IngestReport, Progress, indexed_text
from .relevance import is_relevant
from .retrieve import FUSIONS, Filter, Fusion, HybridRetriever, keyword_dir_for, parse_as_of
from .settings import Settings, setting_names
from .store import INDEX_FORMAT, MARKER, ArticleRecord, FileRecord, Snapshot, Store, peek
from .text import mask_credentials, without_markup
from .types import Answer, DraftInfo, Passage, refusal
from .web import WebOptions, check_url, is_url

MAX_QUESTION_CHARS = 2000


def check_question(question: str) -> str:
    """The question stripped (of HTML markup too), or a UsageError saying what is wrong with it."""
    q = without_markup(question or "").strip()
    if not q:
        raise UsageError('the question is empty; type a question, e.g. qa ask "Who won the election?"')
    if len(q) > MAX_QUESTION_CHARS:
        raise UsageError(f"the question is {len(q):,} characters long; keep it under {MAX_QUESTION_CHARS:,}")
    return q


def narrowed(
    filter: Filter | None, since: dt.date | str | None, until: dt.date | str | None, source: str | None
) -> Filter | None:
    """``filter`` with the dates and source given replaced (:meth:`Filter.changed`); None when nothing filters."""
    if since is not None or until is not None or source is not None:
        filter = (filter or Filter()).changed(since=since, until=until, source=source)
    return filter or None


def matching_articles(
    item: str, live: dict[str, ArticleRecord], files: dict[str, FileRecord] | None = None
) -> list[str]:
    """The ids of the articles ``item`` names: an id, the start of exactly one id (6 or more characters),
    a file or folder that holds them, or a web page's or a feed's URL (every item ingested from it,
    as ``files``, the file records, tell).

    Example: matching_articles("seeds/", live) -> the ids of every article from a file under seeds/
    """
    if is_url(item):
        url = check_url(item)
        if not isinstance(url, str):
            return []
        pages = {url} | {key for key, f in (files or {}).items() if f.feed == url}
        return [a for a, rec in live.items() if pages & set(rec.sources)]
    if re.fullmatch(r"[0-9a-f]{6,}", item.lower()):
        ids = [a for a in live if a.startswith(item.lower())]
        if len(ids) == 1:
            return ids
    path = str(Path(item).expanduser().resolve())
    return [a for a, rec in live.items() if any(_holds_source(path, s) for s in rec.sources)]


def _holds_source(path: str, source: str) -> bool:
    """``source`` (``file`` or ``file#line``) is the file ``path`` or lies in the folder ``path``."""
    file = source.rpartition("#")[0] if source.rpartition("#")[2].isdigit() else source
    return file == path or file.startswith(path.rstrip(os.sep) + os.sep)


@dataclass(frozen=True)
class RemoveReport:
    removed: list[ArticleRecord]  # the articles taken out
    unknown: list[str]  # the items that named no article

    @property
    def chunks(self) -> int:
        return sum(r.chunks for r in self.removed)


class Assistant:
    """Question answering over one index, embedded on disk or in a Chroma server."""

    def __init__(
        self,
        index: str | os.PathLike[str] | None = None,
        *,
        chroma_url: str | None = None,
        chroma_token: str | None = None,
        llm: str | None = None,
        k: int | None = None,
        chunk_settings: ChunkSettings | None = None,
        settings: Settings | None = None,
        embeddings: Any = None,
        **options: Any,
    ):
        """``options`` are the other settings (``model``, ``base_url``, ``context_tokens``, ``threads``,
        ``embedder``, ``embed_url``...) and the generator's :data:`qa.generators.EXTRA_OPTIONS`; any other
        name is a UsageError. ``embeddings``: any LangChain ``Embeddings`` to embed the index with."""
        unknown = sorted(set(options) - set(setting_names()) - set(EXTRA_OPTIONS))
        if unknown:
            known = ", ".join(
                sorted({*setting_names(), *EXTRA_OPTIONS} - {"index", "chroma_url", "chroma_token", "llm", "k"})
            )
            raise UsageError(f"unknown generator option {unknown[0]!r}; known: {known}")
        arguments = {k_: v for k_, v in options.items() if k_ not in EXTRA_OPTIONS}
        arguments.update(index=index or None, chroma_url=chroma_url, chroma_token=chroma_token, llm=llm, k=k)
        self.settings = settings.with_arguments(**arguments) if settings else Settings.resolve(arguments)
        #: What goes to the generator beyond the settings (temperature, extra_body).
        self.generator_options = {k_: v for k_, v in options.items() if k_ in EXTRA_OPTIONS}
        self.chunk_settings = chunk_settings or ChunkSettings()
        self._embeddings = embeddings
        self._embedder_checked = False

    # The settings under their old names, for the CLI, the chat and API users.
    @property
    def chroma_url(self) -> str | None:
        return self.settings.chroma_url

    @property
    def index_dir(self) -> Path:
        return self.settings.index_dir

    @property
    def llm(self) -> str:
        return self.settings.llm

    @property
    def model(self) -> str | None:
        return self.settings.model

    @property
    def k(self) -> int:
        return self.settings.k

    @property
    def location(self) -> str:
        return self.chroma_url or str(self.index_dir)

    @cached_property
    def embedder(self) -> Embedder:
        """What embeds the index's passages and the questions searched (``QA_EMBEDDER``, or ``embeddings=``)."""
        return embedder_from_settings(self.settings, self._embeddings)

    @cached_property
    def reader_embedder(self) -> MiniLMEmbeddings:
        """The built-in MiniLM: the reader's features and the relevance gate were fitted on its cosines."""
        if isinstance(self.embedder.embeddings, MiniLMEmbeddings):
            return self.embedder.embeddings
        return MiniLMEmbeddings(threads=self.settings.threads)

    def check_embedder(self, record: bool = False) -> None:
        """Make sure this embedder's vectors may join the index's: a QAError naming both when not.

        The index records its embedder's name, dimensions and fingerprint (:class:`EmbedderRecord`) at
        its first ingest (``record``); an index made before that has none and was built with MiniLM,
        which its ``embedding_model`` (checked when the store opens) says.
        """
        if self._embedder_checked:
            return
        found = self.store.embedder_record()
        mine = self.embedder.record
        if found is None:
            if not record:
                return  # an index made before the record, or empty: checked again until an ingest records it
            self.store.record_embedder(mine)
        elif (why := found.difference(mine)) is not None:
            raise QAError(self.mismatch_message(found, mine, why))
        self._embedder_checked = True

    def mismatch_message(self, found: EmbedderRecord, mine: EmbedderRecord, why: str) -> str:
        return (
            f"the index at {mask_credentials(self.location)} was built with embedder {found.describe()}"
            f"{f' ({found.options})' if found.options else ''}, but this qa embeds with {mine.describe()}: {why}; "
            f"vectors of two models cannot be mixed: use the embedder it was built with, "
            f"or rebuild it with: {self.rebuild_command()}"
        )

    def embedder_info(self) -> str:
        """What embedded the index, as ``qa info`` shows it."""
        return self._describe_embedder(self.store.embedder_record(), self.store.chunks.metadata or {})

    def _describe_embedder(self, record: EmbedderRecord | None, chunk_metadata: dict[str, Any]) -> str:
        if record is None:
            name = chunk_metadata.get("embedding_model") or self.embedder.model_id
            return f"{name!r} (no fingerprint recorded yet)"
        return f"{record.describe()}{f', chosen with {record.options}' if record.options else ''}"

    def info(self) -> tuple[int, int, str]:
        """(articles, chunks, what embedded them): what ``qa info`` shows.

        An index on disk at rest, made with this qa's embedder and chunking, is read without starting
        Chroma (:func:`qa.store.peek`); any other is opened as every command opens it, with its errors.
        """
        snap = self._peek()
        if snap is not None:
            text = snap.state.get("embedder")
            record = EmbedderRecord.from_json(text) if text else None
            return snap.articles, snap.chunks, self._describe_embedder(record, snap.chunk_metadata)
        articles, chunks = self.stats()
        return articles, chunks, self.embedder_info()

    def _peek(self, articles: bool = False) -> Snapshot | None:
        """The index read without starting Chroma, when it is on disk, at rest, and one that opening
        it would not refuse (made with this qa's embedder, chunking and index format); else None."""
        snap = None if self.chroma_url else peek(self.index_dir, articles=articles)
        s = self.chunk_settings
        if snap is not None and (
            snap.chunk_metadata.get("embedding_model") == self.embedder.model_id
            and snap.chunk_metadata.get("chunking") in (None, f"{s.encoding}/{s.size}/{s.overlap}")
            and snap.chunk_metadata.get("index_format", 1) == INDEX_FORMAT
        ):
            return snap
        return None

    @cached_property
    def store(self) -> Store:
        return self._open_store()

    def _open_store(self, fresh: bool = False) -> Store:
        s = self.chunk_settings
        return Store.open(
            None if self.chroma_url else self.index_dir,
            chroma_url=self.chroma_url,
            token=self.settings.chroma_token,
            embedding_model=self.embedder.model_id,
            chunking=f"{s.encoding}/{s.size}/{s.overlap}",
            fresh=fresh,
            rebuild_hint=f"rebuild it with: {self.rebuild_command()}",
            timeout=self.settings.chroma_timeout,
        )

    def rebuild_command(self) -> str:
        """The command that rebuilds this index, as error messages show it."""
        return self._ingest_command("--rebuild ")

    def _ingest_command(self, options: str = "") -> str:
        if self.chroma_url:
            return f"qa ingest {options}--chroma-url {shlex.quote(mask_credentials(self.chroma_url))} PATH..."
        if self.settings.source("index") == "environment":  # QA_INDEX names it already
            return f"qa ingest {options}PATH..."
        return f"qa ingest {options}--index {shlex.quote(str(self.index_dir))} PATH..."

    def empty_message(self) -> str:
        """What to say about an index with no articles."""
        return f"the index {mask_credentials(self.location)} has no articles; add some with: {self._ingest_command()}"

    @cached_property
    def retriever(self) -> HybridRetriever:
        keyword_dir = keyword_dir_for(
            None if self.chroma_url else self.index_dir, self.chroma_url, self.store.name, self.settings.cache_path
        )
        return HybridRetriever(
            store=self.store,
            embedder=self.embedder,
            keyword_dir=keyword_dir,
            k=self.k,
            fusion=self.fusion,
            rerank=self.settings.rerank,
            rerank_model=self.settings.rerank_model,
        )

    @property
    def fusion(self) -> Fusion:
        """The fusion the settings ask for (``QA_FUSION``, ``QA_DATE_PREFERENCE``)."""
        if self.settings.fusion not in FUSIONS:
            raise UsageError(f"QA_FUSION must be one of {', '.join(FUSIONS)}, got {self.settings.fusion!r}")
        fusion = FUSIONS[self.settings.fusion]
        return fusion if self.settings.date_preference else replace(fusion, date_weight=0.0, future_penalty=0.0)

    @cached_property
    def generator(self) -> Generator:
        generator = get_generator(self.llm, self.settings, self.reader_embedder, self.generator_options)
        reader = getattr(generator, "reader", None)
        if reader is not None:  # the extractive reader weighs a candidate by how common its words are here
            reader.word_counts = lambda: self.retriever.word_counts()
        return generator

    # -- ingest -------------------------------------------------------------------------------

    def ingest(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        prune: bool = False,
        rebuild: bool = False,
        progress: Progress | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> IngestReport:
        """Add new and changed articles under ``paths``: files, folders, and http(s) URLs of web pages
        and RSS/Atom feeds (see :mod:`qa.web`); with ``prune``, drop those whose files are gone (articles
        from URLs stay until :meth:`remove` takes them out).

        When ``stop()`` turns true (``qa ingest`` on Ctrl-C) the ingest stops at its next safe point and
        raises :class:`qa.ingest.IngestInterrupted` (a ``KeyboardInterrupt``): what it wrote stays, and
        the same ingest again embeds only the rest."""
        with self._writer_lock():
            if rebuild:  # works on a damaged index or one of another embedding model too
                self.__dict__.pop("retriever", None)
                self.store = self._open_store(fresh=True)
                self._embedder_checked = False
            self.check_embedder(record=True)
            self.store.widen_search()
            report = self._ingester().run(paths, prune=prune, progress=progress, stop=stop)
            if report.chunks or report.removed or rebuild:
                self.retriever.keyword_index()  # build it now, not on the first question
        return report

    def _ingester(self) -> Ingester:
        return Ingester(
            self.store,
            Chunker(self.chunk_settings, self.settings.cache_path),
            self.embedder,
            self.settings.ingest_batch,
            WebOptions(timeout=self.settings.web_timeout, max_bytes=self.settings.web_max_bytes),
        )

    # -- the articles in the index --------------------------------------------------------------

    @property
    def missing(self) -> bool:
        """No index is there yet (a folder never ingested into); asking about it need not create one."""
        if self.chroma_url or "store" in self.__dict__:
            return False
        return not (self.index_dir / MARKER).exists() and not (self.index_dir / "chroma").exists()

    def articles(self) -> list[ArticleRecord]:
        """Every article in the index, newest first (undated last): ``id``, ``title``, ``date``, ``url``,
        ``publisher`` (a ``source:`` header), ``sources`` (the files that hold it, ``path#line`` in a
        JSONL file) and ``chunks``."""
        if self.missing:
            return []
        snap = self._peek(articles=True)
        if snap is not None and snap.article_metadata is not None:
            found = [ArticleRecord.from_chroma(id, meta, None) for id, meta in snap.article_metadata.items()]
        else:
            found = list(self.store.article_records().values())
        records = sorted(found, key=lambda r: (r.title.lower(), r.id))
        return sorted(records, key=lambda r: r.date or "", reverse=True)

    def remove(self, items: Iterable[str | os.PathLike[str]]) -> RemoveReport:
        """Take articles out of the index, with their chunks and their keyword index entries.

        Each item is an article's id (or its first 6 or more characters, as ``qa articles`` shows it),
        a file or folder (every article from it), or a web page's URL (its article) or a feed's (every
        article ingested from its items); an article held by several files goes as a whole.
        Items that name no article are in ``report.unknown``; the others are removed all the same.
        They stay out of later ingests of their folders; an ingest that names a file adds its
        articles back (as does ``rebuild=True``, which starts afresh).
        """
        names = [str(i) for i in items]
        if self.missing:
            return RemoveReport([], names)
        with self._writer_lock():
            live = self.store.article_records()
            files = self.store.file_records() if any(is_url(n) for n in names) else {}
            wanted: dict[str, None] = {}
            unknown = []
            for name in names:
                found = matching_articles(name, live, files)
                wanted.update(dict.fromkeys(found))
                if not found:
                    unknown.append(name)
            removed = self._ingester().remove(wanted)  # with nothing wanted: the sweep a crash may have left
            if removed:
                self.retriever.keyword_index()  # rebuild it now, not on the first question
        return RemoveReport(removed, unknown)

    @contextlib.contextmanager
    def _writer_lock(self) -> Iterator[None]:
        if self.chroma_url:
            yield
            return
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with open(self.index_dir / "ingest.lock", "w") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise QAError(f"another 'qa ingest' is writing to {self.index_dir}; wait for it to finish") from None
            yield

    # -- ask ----------------------------------------------------------------------------------

    def search(
        self,
        question: str,
        k: int | None = None,
        filter: Filter | None = None,
        as_of: dt.date | str | None = None,
        *,
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
        source: str | None = None,
    ) -> list[Passage]:
        """The passages retrieved for ``question``; ``as_of`` (the day it is asked, a date or
        ``YYYY-MM-DD``) prefers articles dated near it. None: no date preference.
        ``since``, ``until`` and ``source`` narrow ``filter`` (see :meth:`ask`)."""
        filter = narrowed(filter, since, until, source)
        question = check_question(question)
        self.check_embedder()
        return self.retriever.search(question, k=k, filter=filter, as_of=parse_as_of(as_of))

    def stream(
        self,
        question: str,
        filter: Filter | None = None,
        search_query: str | None = None,
        as_of: dt.date | str | None = None,
        *,
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
        source: str | None = None,
        k: int | None = None,
    ) -> Iterator[str | Answer]:
        """Yield the answer text in pieces as it is generated, then the checked :class:`Answer`.

        ``as_of`` (the day the question is asked) prefers articles dated near it in retrieval; the
        reader reads the articles' dates against it (against today when it is None).
        ``since``, ``until`` and ``source`` narrow ``filter`` (see :meth:`ask`); ``k`` passages are
        retrieved (None: the ``k`` setting). An index that is missing or holds no articles is a
        QAError that says how to add some.
        """
        question = check_question(question)
        day = parse_as_of(as_of)
        filter = narrowed(filter, since, until, source)
        query = search_query or question
        if self.missing:  # say so, and make no index
            raise QAError(self.empty_message())
        self.check_embedder()
        passages = self.retriever.search(query, k=k, filter=filter, as_of=day)
        if not passages and not self.store.articles.count():
            raise QAError(self.empty_message())
        # The one relevance gate: refuse without calling a generator that asks for it when nothing is relevant.
        if self.generator.relevance_gate and not is_relevant(query, self._gate_view(query, passages)):
            passages = []
        if passages:
            passages = self.generator.prepare(query, passages)  # e.g. packed into the token budget, once
        if not passages:
            yield refusal(question, search_query=query)
            return
        pieces: list[str] = []
        confidence = None
        for piece in self.generator.stream(query, passages, as_of=day or date.today()):
            if isinstance(piece, DraftInfo):
                confidence = piece.confidence
                continue
            pieces.append(piece)
            yield piece
        yield resolve(question, "".join(pieces), passages, search_query=query, confidence=confidence)

    def _gate_view(self, query: str, passages: list[Passage]) -> list[Passage]:
        """The passages with MiniLM's cosine to the query, on which the relevance gate's thresholds were set.

        With the built-in embedder that is the retrieval's own cosine; another model's cosines have
        another scale (E5's unrelated texts score 0.7), so the passages are embedded again with MiniLM.
        """
        if self.embedder.builtin or not passages:
            return passages
        texts = [query, *(indexed_text(p.text, p.title, p.date) for p in passages)]
        vectors = self.reader_embedder.embed(texts)
        return [replace(p, dense=float(v @ vectors[0])) for p, v in zip(passages, vectors[1:])]

    def ask(
        self,
        question: str,
        filter: Filter | None = None,
        search_query: str | None = None,
        as_of: dt.date | str | None = None,
        *,
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
        source: str | None = None,
        k: int | None = None,
    ) -> Answer:
        """Answer ``question`` with citations, or refuse when the articles do not support an answer.

        ``as_of``: the day the question is asked (``qa ask`` and ``qa chat`` pass today); articles
        dated near it are preferred, softly. None: no date preference.

        Only articles that ``filter`` lets through are searched; ``since`` and ``until`` (a date,
        ``YYYY-MM-DD`` or ``YYYY-MM``: ``until`` a month's last day) and ``source`` (in the article's
        file, URL or title, any case) replace its dates and source, as ``qa ask --since`` does:
        ``ask("Who?", since="2024-08", source="reuters")``. ``k``: the passages retrieved (None: the
        ``k`` setting, ``QA_K``).
        """
        filter = narrowed(filter, since, until, source)
        for item in self.stream(question, filter=filter, search_query=search_query, as_of=as_of, k=k):
            if isinstance(item, Answer):
                return item
        raise AssertionError("stream ended without an answer")

    def stats(self) -> tuple[int, int]:
        """(articles, chunks) in the index."""
        return self.store.articles.count(), self.store.chunk_count()
