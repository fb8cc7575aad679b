"""``qa mcp``: qa as an MCP server over stdio, so that another assistant or an editor can use it as a tool.

It speaks the Model Context Protocol with the official ``mcp`` SDK (``pip install 'qa[mcp]'``) and
serves three tools, each a thin layer over one :class:`qa.Assistant` that lives as long as the server
(the model, the index, the keyword index and spaCy's worker stay loaded between calls):

- ``ask(question, since, until, source, top_k)`` -> :class:`AskResult`: the answer with its ``[n]``
  markers, the short answer when there is one, the confidence and the numbered citations (title, date,
  url or file, the exact quote). A refusal is a normal result (``refused``, with a ``note`` saying that
  nothing relevant was found), not an error.
- ``search(query, since, until, source, top_k)`` -> :class:`SearchResult`: the retrieved passages alone.
- ``list_articles()`` -> :class:`ArticleList`: every article, as ``qa articles --json`` lists them.

Results are typed (pydantic models): clients get the JSON in ``structuredContent`` with an
``outputSchema``, and the same JSON as text. An expected failure (a bad date, an empty question, an
index that is missing) is a tool error (``isError``) carrying qa's one-line message; the server keeps
serving. stdout carries the protocol only: the SDK points file descriptor 1 at stderr while it serves,
and everything qa and the SDK log goes to stderr.

The SDK runs each tool on a worker thread; a lock makes the calls take turns, since the Assistant builds
its parts lazily and spaCy's worker reads one request at a time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import signal
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any

from .assistant import Assistant, check_question
from .errors import QAError
from .retrieve import Filter, make_filter
from .types import Answer, Citation, Passage

try:
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp_types import ToolAnnotations
    from pydantic import BaseModel, Field
except ImportError:
    raise QAError("qa mcp needs the MCP SDK; install it with: pip install 'qa[mcp]'") from None

TOOLS = ("ask", "search", "list_articles")
MAX_TOP_K = 50

# -- what the tools return ------------------------------------------------------------------------


class AskCitation(BaseModel):
    n: int = Field(description="The number that marks this source in the answer: [n]")
    title: str = Field(description="The article's title")
    date: str | None = Field(description="The article's date, YYYY-MM-DD; null when it has none")
    url: str | None = Field(description="The article's web address; null when it has none")
    path: str | None = Field(
        description="The file it was ingested from (path#line in a JSONL file); null for a web page"
    )
    quote: str = Field(description="The exact words of the article the cited claim rests on")


class AskResult(BaseModel):
    question: str
    answer: str = Field(
        description="The answer, each claim marked [n] with its citation; the refusal sentence when the articles do not say"
    )
    short_answer: str | None = Field(
        description="The name, number, date or short phrase that answers, copied from a cited passage; null when none"
    )
    refused: bool = Field(description="True when nothing relevant was found: the answer is then the refusal sentence")
    confidence: float | None = Field(description="0..1, how likely the answer is right, when the generator can say")
    citations: list[AskCitation]
    note: str | None = Field(default=None, description="Why nothing was found, with the filter that was applied")


class SearchPassage(BaseModel):
    n: int = Field(description="Its rank, best first")
    title: str
    date: str | None = Field(description="YYYY-MM-DD; null when undated")
    url: str | None
    path: str | None = Field(description="The file it was ingested from; null for a web page")
    text: str = Field(description="The passage: whole sentences of the article")
    score: float = Field(description="The fused dense and keyword score (higher is better)")
    article_id: str = Field(description="The article's id, as list_articles gives it")


class SearchResult(BaseModel):
    query: str
    passages: list[SearchPassage]
    note: str | None = Field(default=None, description="Why no passage was found, with the filter that was applied")


class ArticleInfo(BaseModel):
    id: str
    title: str
    date: str | None = Field(description="YYYY-MM-DD; null when undated")
    url: str | None
    publisher: str | None = Field(default=None, description="The publisher an article file's source: line names")
    sources: list[str] = Field(description="The files (or web pages) that hold it")
    chunks: int = Field(description="The passages it is indexed as")


class ArticleList(BaseModel):
    articles: list[ArticleInfo] = Field(description="Every article in the index, newest first (undated last)")


# -- the tools' arguments --------------------------------------------------------------------------

Since = Annotated[
    str | None, Field(description="Only articles dated on or after this day: YYYY-MM-DD, or YYYY-MM (its first day)")
]
Until = Annotated[
    str | None, Field(description="Only articles dated on or before this day: YYYY-MM-DD, or YYYY-MM (its last day)")
]
Source = Annotated[str | None, Field(description="Only articles whose file, URL or title contains this text, any case")]
TopK = Annotated[
    int | None, Field(ge=1, le=MAX_TOP_K, description="How many passages to retrieve (default: QA_K, 6 unless set)")
]

_URL = re.compile(r"[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def _where(source: str, url: str | None) -> tuple[str | None, str | None]:
    """(url, path) of a passage or citation: a source that is a web address is its url, else its file."""
    if _URL.match(source):
        return url or source, None
    return url, source or None


def _citation(c: Citation, passages: dict[str, Passage]) -> AskCitation:
    passage = passages.get(c.passage_id)
    url, path = _where(c.source, passage.url if passage else None)
    return AskCitation(n=c.n, title=c.title, date=c.date, url=url, path=path, quote=c.quote)


def ask_result(answer: Answer, filter: Filter | None) -> AskResult:
    """The ``ask`` tool's result for ``answer``."""
    by_id = {p.id: p for p in answer.passages}
    note = None
    if answer.refused:
        searched = f"articles matching {filter.describe()}" if filter else "the articles"
        note = f"Nothing relevant was found in {searched}."
    return AskResult(
        question=answer.question,
        answer=answer.answer,
        short_answer=answer.short_answer,
        refused=answer.refused,
        confidence=None if answer.confidence is None else round(answer.confidence, 4),
        citations=[_citation(c, by_id) for c in answer.citations],
        note=note,
    )


def search_result(query: str, passages: list[Passage], filter: Filter | None) -> SearchResult:
    """The ``search`` tool's result for ``passages``."""
    out = []
    for n, p in enumerate(passages, start=1):
        url, path = _where(p.source, p.url)
        out.append(
            SearchPassage(
                n=n, title=p.title, date=p.date, url=url, path=path, text=p.text, score=round(p.score, 6),
                article_id=p.article_id,
            )
        )  # fmt: skip
    note = None
    if not out:
        note = f"No passage was found in {f'articles matching {filter.describe()}' if filter else 'the articles'}."
    return SearchResult(query=query, passages=out, note=note)


def _checked(value: str, what: str, example: str) -> str:
    """``value`` stripped; empty or too long is a one-line tool error."""
    if not (value or "").strip():
        raise QAError(f'the {what} is empty; give one, e.g. "{example}"')
    return check_question(value)


class QAServer:
    """One :class:`Assistant` served as MCP tools; :meth:`run` serves it over stdio until stdin ends."""

    def __init__(self, assistant: Assistant, as_of: dt.date | None = None):
        self.assistant = assistant
        self.as_of = as_of  # None: each question is asked today
        self.lock = threading.Lock()
        self.mcp = MCPServer(
            "qa",
            version=_version(),
            instructions=(
                "Answers questions about the news articles in a qa index, with citations that quote the exact "
                "passages. ask: an answer with citations (or a refusal when the articles do not say); search: "
                "the passages alone; list_articles: what the index holds. Dates are YYYY-MM-DD or YYYY-MM."
            ),
            lifespan=self._lifespan,
        )
        reads = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
        self.mcp.add_tool(self.ask, name="ask", title="Ask the articles", annotations=reads)
        self.mcp.add_tool(self.search, name="search", title="Search the articles", annotations=reads)
        self.mcp.add_tool(self.list_articles, name="list_articles", title="List the articles", annotations=reads)

    def ask(
        self, question: str, since: Since = None, until: Until = None, source: Source = None, top_k: TopK = None
    ) -> AskResult:
        """Answer a question from the news articles in the index, with numbered citations that quote the
        articles. When the articles do not support an answer, the result says so (refused) instead of guessing.
        """
        with self._call():
            question = _checked(question, "question", "Who won the election?")
            search_filter = make_filter(since, until, source)
            answer = self.assistant.ask(question, filter=search_filter, as_of=self._day(), k=top_k)
            return ask_result(answer, search_filter)

    def search(
        self, query: str, since: Since = None, until: Until = None, source: Source = None, top_k: TopK = None
    ) -> SearchResult:
        """Find the passages of the news articles that best match a query (dense and keyword search), best
        first, without answering."""
        with self._call():
            query = _checked(query, "query", "election results")
            search_filter = make_filter(since, until, source)
            a = self.assistant
            if a.missing:
                raise QAError(a.empty_message())
            passages = a.search(query, k=top_k, filter=search_filter, as_of=self._day())
            if not passages and not a.stats()[0]:
                raise QAError(a.empty_message())
            return search_result(query, passages, search_filter)

    def list_articles(self) -> ArticleList:
        """List every article in the index, newest first: id, title, date, url, publisher, source files, chunks."""
        with self._call():
            records = self.assistant.articles()
            return ArticleList(
                articles=[
                    ArticleInfo(
                        id=r.id,
                        title=r.title,
                        date=r.date,
                        url=r.url,
                        publisher=r.publisher,
                        sources=r.sources,
                        chunks=r.chunks,
                    )
                    for r in records
                ]
            )

    def _day(self) -> dt.date:
        return self.as_of or dt.date.today()

    @contextlib.contextmanager
    def _call(self) -> Iterator[None]:
        """One call at a time; an expected failure is a tool error with its one-line message."""
        with self.lock:
            try:
                yield
            except QAError as e:
                raise ToolError(str(e)) from None

    @contextlib.asynccontextmanager
    async def _lifespan(self, _server: MCPServer) -> AsyncIterator[None]:
        """Start loading everything the first call needs, while the client sets up; close it at the end.

        It runs inside the SDK's stdio transport, so anything started here writes nowhere near stdout.
        """
        if self.assistant.llm == "extractive":
            from .reader.nlp import start_worker

            start_worker()  # spaCy in a child process, loaded from now on and kept for every call
        threading.Thread(target=self._warm, daemon=True, name="qa-mcp-warm").start()
        try:
            yield
        finally:
            self._close()

    def _warm(self) -> None:
        from .embed import preload

        preload().join()
        with self.lock:
            try:
                if not self.assistant.missing:
                    self.assistant.retriever.keyword_index()  # opens the index and loads the keyword index
                self.assistant.generator  # noqa: B018 - built now (e.g. a GGUF server started), not on the first call
            except QAError as e:
                log(f"{e} (each call will say so until it is fixed)")

    def _close(self) -> None:
        from .reader.nlp import stop_worker

        stop_worker()
        if "generator" in self.assistant.__dict__:
            self.assistant.generator.close()

    def run(self) -> None:
        """Serve over stdin and stdout until the client closes stdin, or Ctrl-C."""
        log(f"serving {self.assistant.location} over stdio (tools: {', '.join(TOOLS)}); stop with Ctrl-C")
        signal.signal(signal.SIGINT, self._interrupted)
        self.mcp.run("stdio")

    def _interrupted(self, _signum: int, _frame: Any) -> None:
        """Ctrl-C: leave at once. The SDK reads stdin on a worker thread that nothing can cancel, so the
        usual KeyboardInterrupt would wait for one more line of input; nothing here has a write to finish."""
        self._close()
        print("qa: interrupted", file=sys.stderr, flush=True)
        os._exit(130)


def log(message: str) -> None:
    print(f"qa mcp: {message}", file=sys.stderr, flush=True)


def _version() -> str:
    try:
        return version("qa")
    except PackageNotFoundError:
        return "0"
