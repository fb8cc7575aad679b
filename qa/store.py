"""The index: chunks and their vectors in Chroma, plus a manifest of articles and files.

Three collections live in one Chroma database (embedded on disk, or a Chroma server):

- ``<name>_chunks``: one record per chunk, id ``<article id>:<n>``, with its vector.
- ``<name>_articles``: the manifest. An article is live exactly when its record exists;
  it is written after all of its chunks, so readers never see half an article.
- ``<name>_files``: each ingested file's size, mtime and articles, so an unchanged file is
  skipped without reading it; plus one ``state`` record (generation, whether an ingest
  was interrupted).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .config import setup_offline
from .errors import QAError

STATE_ID = "\x00state"
_GET_PAGE = 5000


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk: its text and where in which article it stands."""

    id: str
    article_id: str
    text: str
    start: int
    end: int
    title: str
    date: str | None
    source: str
    url: str | None = None
    score: float = 0.0  # fused rank score (higher is better)
    dense: float = 0.0  # cosine similarity to the question
    keyword: float = 0.0  # BM25 score for the question


@dataclass
class ArticleRecord:
    id: str
    title: str
    date: str | None
    url: str | None
    sources: list[str]
    chunks: int
    text: str = ""

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"title": self.title, "sources": json.dumps(self.sources), "chunks": self.chunks}
        if self.date:
            meta["date"] = self.date
        if self.url:
            meta["url"] = self.url
        return meta

    @classmethod
    def from_chroma(cls, id: str, meta: dict[str, Any], text: str | None) -> ArticleRecord:
        return cls(
            id=id,
            title=meta.get("title", ""),
            date=meta.get("date"),
            url=meta.get("url"),
            sources=json.loads(meta.get("sources", "[]")),
            chunks=int(meta.get("chunks", 0)),
            text=text or "",
        )


@dataclass
class FileRecord:
    path: str
    size: int
    mtime_ns: int
    articles: list[str] = field(default_factory=list)


class Store:
    """Chroma collections for one index. Open with :meth:`open`."""

    def __init__(self, client: Any, name: str, embedding_model: str, location: str, chunking: str = ""):
        self.client = client
        self.name = name
        self.location = location
        self.embedding_model = embedding_model
        self.chunking = chunking
        space = {"hnsw:space": "cosine"}
        try:
            self.chunks = client.get_or_create_collection(
                f"{name}_chunks", embedding_function=None, metadata={**space, "embedding_model": embedding_model, "chunking": chunking}
            )
            self.articles = client.get_or_create_collection(f"{name}_articles", embedding_function=None, metadata=space)
            self.files = client.get_or_create_collection(f"{name}_files", embedding_function=None, metadata=space)
        except Exception as e:  # chromadb raises many types for a damaged or unreachable store
            raise QAError(f"cannot open the index at {location}: {_short(e)}; rebuild it with: qa ingest --rebuild PATH...") from e
        found = (self.chunks.metadata or {}).get("embedding_model")
        if found and found != embedding_model:
            raise QAError(
                f"the index at {location} was built with embedding model {found!r}, not {embedding_model!r}; "
                f"rebuild it with: qa ingest --rebuild PATH..."
            )
        found = (self.chunks.metadata or {}).get("chunking")
        if found and chunking and found != chunking:
            raise QAError(
                f"the index at {location} was chunked as {found!r}, not {chunking!r}; "
                f"rebuild it with: qa ingest --rebuild PATH..."
            )

    @classmethod
    def open(
        cls,
        index_dir: Path | None = None,
        chroma_url: str | None = None,
        token: str | None = None,
        embedding_model: str = "",
        chunking: str = "",
        name: str = "qa",
    ) -> Store:
        setup_offline()
        import chromadb
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False)
        if chroma_url:
            client = _http_client(chroma_url, token)
            return cls(client, name, embedding_model, chroma_url, chunking)
        assert index_dir is not None
        index_dir.mkdir(parents=True, exist_ok=True)
        try:
            client = chromadb.PersistentClient(path=str(index_dir / "chroma"), settings=settings)
        except Exception as e:
            raise QAError(f"cannot open the index at {index_dir}: {_short(e)}; rebuild it with: qa ingest --rebuild PATH...") from e
        return cls(client, name, embedding_model, str(index_dir), chunking)

    def reset(self) -> None:
        """Drop everything in this index (for ``--rebuild``)."""
        for col in (self.chunks, self.articles, self.files):
            self.client.delete_collection(col.name)
        self.__init__(self.client, self.name, self.embedding_model, self.location, self.chunking)  # type: ignore[misc]

    # -- manifest ---------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        got = self.files.get(ids=[STATE_ID], include=["metadatas"])
        return dict(got["metadatas"][0]) if got["ids"] else {"generation": 0, "dirty": False}

    def set_state(self, **values: Any) -> None:
        state = {**self.state(), **values}
        self.files.upsert(ids=[STATE_ID], embeddings=[[1.0]], metadatas=[state], documents=[""])

    def file_records(self) -> dict[str, FileRecord]:
        out = {}
        for id, meta, _ in self._iter(self.files, include=["metadatas"]):
            if id != STATE_ID:
                out[id] = FileRecord(id, int(meta["size"]), int(meta["mtime_ns"]), json.loads(meta["articles"]))
        return out

    def put_file(self, rec: FileRecord) -> None:
        meta = {"size": rec.size, "mtime_ns": rec.mtime_ns, "articles": json.dumps(rec.articles)}
        self.files.upsert(ids=[rec.path], embeddings=[[1.0]], metadatas=[meta], documents=[""])

    def delete_file(self, path: str) -> None:
        self.files.delete(ids=[path])

    def article_records(self, ids: Sequence[str] | None = None, text: bool = False) -> dict[str, ArticleRecord]:
        include = ["metadatas", "documents"] if text else ["metadatas"]
        if ids is not None:
            if not ids:
                return {}
            got = self.articles.get(ids=list(dict.fromkeys(ids)), include=include)
            rows = zip(got["ids"], got["metadatas"], got["documents"] or [None] * len(got["ids"]))
        else:
            rows = self._iter(self.articles, include=include)
        return {id: ArticleRecord.from_chroma(id, meta, doc) for id, meta, doc in rows}

    def put_article(self, rec: ArticleRecord) -> None:
        self.articles.upsert(ids=[rec.id], embeddings=[[1.0]], metadatas=[rec.metadata()], documents=[rec.text])

    def delete_article(self, article_id: str) -> None:
        """Retire the article first (readers stop seeing it), then drop its chunks."""
        self.articles.delete(ids=[article_id])
        self.chunks.delete(where={"article_id": article_id})

    # -- chunks -----------------------------------------------------------------------------

    def add_chunks(self, ids: list[str], vectors: Any, documents: list[str], metadatas: list[dict[str, Any]]) -> None:
        step = self.client.get_max_batch_size()
        for i in range(0, len(ids), step):
            self.chunks.upsert(
                ids=ids[i : i + step],
                embeddings=vectors[i : i + step],
                documents=documents[i : i + step],
                metadatas=metadatas[i : i + step],
            )

    def chunk_count(self) -> int:
        return self.chunks.count()

    def chunk_article_ids(self) -> dict[str, str]:
        """chunk id -> article id, for every chunk stored."""
        return {id: meta["article_id"] for id, meta, _ in self._iter(self.chunks, include=["metadatas"])}

    def all_chunks(self) -> Iterator[tuple[str, dict[str, Any], str]]:
        yield from self._iter(self.chunks, include=["metadatas", "documents"])

    def get_passages(self, ids: Sequence[str]) -> list[Passage]:
        if not ids:
            return []
        got = self.chunks.get(ids=list(ids), include=["metadatas", "documents"])
        by_id = {id: to_passage(id, m, d) for id, m, d in zip(got["ids"], got["metadatas"], got["documents"])}
        return [by_id[i] for i in ids if i in by_id]

    def dense_search(self, vector: Sequence[float], k: int, where: dict[str, Any] | None = None) -> list[Passage]:
        # No count() first: Chroma returns fewer than k when it holds fewer, and one call is faster.
        got = self.chunks.query(
            query_embeddings=[list(vector)], n_results=k, where=where, include=["metadatas", "documents", "distances"]
        )
        # While another process replaces an article, the vector index can still return ids whose
        # records are already deleted (metadata None): they belong to no live article, so skip them.
        return [
            to_passage(id, m, d, dense=1.0 - dist)
            for id, m, d, dist in zip(got["ids"][0], got["metadatas"][0], got["documents"][0], got["distances"][0])
            if m is not None and d is not None
        ]

    def _iter(self, collection: Any, include: list[str]) -> Iterator[tuple[str, dict[str, Any], str | None]]:
        offset = 0
        while True:
            got = collection.get(include=include, limit=_GET_PAGE, offset=offset)
            docs = got.get("documents") or [None] * len(got["ids"])
            yield from zip(got["ids"], got["metadatas"], docs)
            if len(got["ids"]) < _GET_PAGE:
                return
            offset += _GET_PAGE


def to_passage(id: str, meta: dict[str, Any], text: str, dense: float = 0.0) -> Passage:
    return Passage(
        id=id,
        article_id=meta["article_id"],
        text=text,
        start=int(meta["start"]),
        end=int(meta["end"]),
        title=meta.get("title", ""),
        date=meta.get("date"),
        source=meta.get("source", ""),
        url=meta.get("url"),
        dense=dense,
    )


def _http_client(chroma_url: str, token: str | None) -> Any:
    """A client for the Chroma server at ``chroma_url``; a path names the database (made on first use).

    Example: ``http://chroma.internal:8000/newsroom`` -> host ``chroma.internal``, port 8000,
    database ``newsroom``; ``localhost:8000`` -> the server's default database.
    """
    import chromadb
    from chromadb.config import DEFAULT_DATABASE, Settings

    url = urlparse(chroma_url if "://" in chroma_url else f"http://{chroma_url}")
    host, ssl = url.hostname or "localhost", url.scheme == "https"
    try:
        port = url.port or (443 if ssl else 8000)
    except ValueError:
        raise QAError(f"the Chroma URL {chroma_url!r} has a bad port; write it like http://localhost:8000") from None
    database = url.path.strip("/") or DEFAULT_DATABASE  # Chroma wants 3 or more characters
    # Token auth is what a proxy in front of the server checks (Chroma 1.x's own server has none):
    # the standard bearer header, plus Chroma's own header for proxies configured the Chroma way.
    headers = {"Authorization": f"Bearer {token}", "X-Chroma-Token": token} if token else None

    def connect() -> Any:
        settings = Settings(anonymized_telemetry=False)  # a fresh one: HttpClient writes into it
        return chromadb.HttpClient(host=host, port=port, ssl=ssl, headers=headers, settings=settings, database=database)

    try:
        try:
            return connect()
        except Exception as e:
            missing = any(w in str(e).lower() for w in ("not found", "does not exist"))
            if database == DEFAULT_DATABASE or not missing:
                raise
            admin = chromadb.AdminClient(Settings(
                anonymized_telemetry=False, chroma_api_impl="chromadb.api.fastapi.FastAPI", chroma_server_host=host,
                chroma_server_http_port=port, chroma_server_ssl_enabled=ssl, chroma_server_headers=headers,
            ))
            admin.create_database(database)
            return connect()
    except Exception as e:  # noqa: BLE001 - chromadb raises many types; all become one clean line
        reason = _short(e).replace(token, "***") if token else _short(e)
        if any(w in reason.lower() for w in ("401", "403", "unauthorized", "forbidden")):
            what = "refused the token in QA_CHROMA_TOKEN" if token else "wants a token: set QA_CHROMA_TOKEN"
            raise QAError(f"the Chroma server at {_public(chroma_url)} {what}") from None
        raise QAError(
            f"cannot use the Chroma server at {_public(chroma_url)}: {reason}; is it running, and is the URL right?"
        ) from None


def _public(url: str) -> str:
    """The URL without any user:password part, fit for messages."""
    parts = urlparse(url if "://" in url else f"http://{url}")
    if not parts.password:
        return url
    return parts._replace(netloc=(parts.hostname or "") + (f":{parts.port}" if parts.port else "")).geturl()


def _short(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
