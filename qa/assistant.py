"""The Python API: an :class:`Assistant` opens an index, ingests articles and answers questions.

    >>> from qa import Assistant
    >>> a = Assistant(index="/tmp/my-index")
    >>> a.ingest(["seeds/"])
    >>> a.ask("How many US troops are in Iraq?").answer
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
from collections.abc import Iterable, Iterator
from functools import cached_property
from pathlib import Path

from .answer import Answer, refusal
from .chunk import Chunker
from .cite import resolve
from .config import ChunkSettings, cache_dir, default_index_dir
from .embed import MiniLMEmbeddings
from .errors import QAError, UsageError
from .ingest import Ingester, IngestReport, Progress
from .retrieve import Filter, HybridRetriever, keyword_dir_for, parse_as_of
from .store import Passage, Store

MAX_QUESTION_CHARS = 2000


def check_question(question: str) -> str:
    """The question stripped, or a UsageError saying what is wrong with it."""
    q = (question or "").strip()
    if not q:
        raise UsageError("the question is empty; type a question, e.g. qa ask \"Who won the election?\"")
    if len(q) > MAX_QUESTION_CHARS:
        raise UsageError(f"the question is {len(q):,} characters long; keep it under {MAX_QUESTION_CHARS:,}")
    return q


class Assistant:
    """Question answering over one index, embedded on disk or in a Chroma server."""

    def __init__(
        self,
        index: str | os.PathLike[str] | None = None,
        *,
        chroma_url: str | None = None,
        chroma_token: str | None = None,
        llm: str | None = None,
        k: int = 6,
        chunk_settings: ChunkSettings = ChunkSettings(),
        **llm_options: object,
    ):
        self.chroma_url = chroma_url if chroma_url is not None else os.environ.get("QA_CHROMA_URL") or None
        self.chroma_token = chroma_token if chroma_token is not None else os.environ.get("QA_CHROMA_TOKEN") or None
        self.index_dir = Path(index).expanduser() if index else default_index_dir()
        self.llm = llm or os.environ.get("QA_LLM") or "extractive"
        self.llm_options = llm_options
        self.k = k
        self.chunk_settings = chunk_settings

    @property
    def location(self) -> str:
        return self.chroma_url or str(self.index_dir)

    @cached_property
    def embedder(self) -> MiniLMEmbeddings:
        return MiniLMEmbeddings()

    @cached_property
    def store(self) -> Store:
        return self._open_store()

    def _open_store(self, fresh: bool = False) -> Store:
        s = self.chunk_settings
        return Store.open(
            None if self.chroma_url else self.index_dir,
            chroma_url=self.chroma_url,
            token=self.chroma_token,
            embedding_model=self.embedder.model_id,
            chunking=f"{s.encoding}/{s.size}/{s.overlap}",
            fresh=fresh,
        )

    @cached_property
    def retriever(self) -> HybridRetriever:
        keyword_dir = keyword_dir_for(None if self.chroma_url else self.index_dir, self.chroma_url, self.store.name, cache_dir())
        return HybridRetriever(store=self.store, embedder=self.embedder, keyword_dir=keyword_dir, k=self.k)

    @cached_property
    def generator(self):
        from .generators import get_generator

        return get_generator(self.llm, embedder=self.embedder, **self.llm_options)

    # -- ingest -------------------------------------------------------------------------------

    def ingest(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        prune: bool = False,
        rebuild: bool = False,
        progress: Progress | None = None,
    ) -> IngestReport:
        """Add new and changed articles under ``paths``; with ``prune``, drop those whose files are gone."""
        with self._writer_lock():
            if rebuild:  # works on a damaged index or one of another embedding model too
                self.__dict__.pop("retriever", None)
                self.store = self._open_store(fresh=True)
            report = Ingester(self.store, Chunker(self.chunk_settings), self.embedder).run(paths, prune=prune, progress=progress)
            if report.chunks or report.removed or rebuild:
                self.retriever.keyword_index()  # build it now, not on the first question
        return report

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

    def search(self, question: str, k: int | None = None, filter: Filter | None = None,
               as_of: dt.date | str | None = None) -> list[Passage]:
        """The passages retrieved for ``question``; ``as_of`` (the day it is asked, a date or
        ``YYYY-MM-DD``) prefers articles dated near it. None: no date preference."""
        return self.retriever.search(check_question(question), k=k, filter=filter, as_of=parse_as_of(as_of))

    def stream(self, question: str, filter: Filter | None = None, search_query: str | None = None,
               as_of: dt.date | str | None = None) -> Iterator[str | Answer]:
        """Yield the answer text in pieces as it is generated, then the checked :class:`Answer`."""
        question = check_question(question)
        day = parse_as_of(as_of)
        query = search_query or question
        passages = self.retriever.search(query, filter=filter, as_of=day)
        prepare = getattr(self.generator, "prepare", None)
        if passages and prepare is not None:
            # LLM generators: refuse without a model call when nothing is relevant; pack the token budget.
            passages = prepare(query, passages)
        if not passages:
            yield refusal(question, search_query=query)
            return
        pieces: list[str] = []
        for piece in self.generator.stream(query, passages):
            pieces.append(piece)
            yield piece
        yield resolve(question, "".join(pieces), passages, search_query=query)

    def ask(self, question: str, filter: Filter | None = None, search_query: str | None = None,
            as_of: dt.date | str | None = None) -> Answer:
        """Answer ``question`` with citations, or refuse when the articles do not support an answer.

        ``as_of``: the day the question is asked (``qa ask`` and ``qa chat`` pass today); articles
        dated near it are preferred, softly. None: no date preference.
        """
        for item in self.stream(question, filter=filter, search_query=search_query, as_of=as_of):
            if isinstance(item, Answer):
                return item
        raise AssertionError("stream ended without an answer")

    def stats(self) -> tuple[int, int]:
        """(articles, chunks) in the index."""
        return self.store.articles.count(), self.store.chunk_count()
