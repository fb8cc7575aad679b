"""The index: chunks and their vectors in Chroma, plus a manifest of articles and files.

Three collections live in one Chroma database (embedded on disk, or a Chroma server):

- ``<name>_chunks``: one record per chunk, id ``<article id>:<n>``, with its vector.
- ``<name>_articles``: the manifest. An article is live exactly when its record exists;
  it is written after all of its chunks, so readers never see half an article.
- ``<name>_files``: each ingested file's size, mtime and articles, so an unchanged file is
  skipped without reading it, and each web page's ETag, Last-Modified and body hash, so an
  unchanged page is not read again (its id is the URL); plus one ``state`` record
  (generation, whether an ingest was interrupted).

An index on disk also has a marker file, ``qa-index.json``, written once its collections
exist. With the marker present, missing collections or a missing or truncated Chroma
file mean the index is damaged: opening it fails with the rebuild command, never
silently starts an empty index over the old one. Every Chroma call goes through
:class:`_Guarded`, so damage found later (a segment file cut short) is the same one-line
error, and a Chroma server that is down or hangs fails within ``timeout`` seconds.

The store says what is wrong; what to do about it (``rebuild_hint``: the command that rebuilds
this index) is worded by its caller, :class:`qa.Assistant`.
"""

from __future__ import annotations

import functools
import importlib
import itertools
import json
import os
import shutil
import sqlite3
import struct
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlparse

import numpy as np

from .config import setup_offline
from .errors import QAError
from .text import mask_credentials
from .types import Passage

if TYPE_CHECKING:
    from .embed import EmbedderRecord

STATE_ID = "\x00state"
DEFAULT_HINT = "rebuild it from its articles"  # the Assistant gives the command
DEFAULT_TIMEOUT = 30.0  # seconds a Chroma server call may take
MARKER = "qa-index.json"  # in the index folder: "this folder holds a qa index"
_GET_PAGE = 5000
#: hnswlib's search breadth (Chroma's ``ef_search``; its default, 100, is under the 150 chunks the
#: fusion asks for). On 2024-08's 12,066 chunks, for 60 of its questions, the default's 150 held 145.3
#: of the nearest 150 (as few as 120); 500's hold 149.7 (at least 142), in the same 13 ms.
SEARCH_EF = 500
#: The chunks collection's search settings, set when it is made. One thread adds vectors to the graph:
#: Chroma adds the chunks written since it last saved its graph again each time it opens the index, and
#: with two threads in no fixed order, so on 2024-08's vectors one question found other chunks in a
#: quarter of the processes that asked it; with one, the same in all 22, and adding the 12,066 vectors
#: took as long (4 s). Changed later (metadata or configuration), Chroma does not take the threads up.
CHUNK_SEARCH = {"hnsw:search_ef": SEARCH_EF, "hnsw:num_threads": 1}
# What the index's vectors and keyword index are made of; recorded in the chunks collection's metadata.
# 1 (never recorded): the chunk text alone. 2: the article's title and date, then the chunk
# (qa.ingest.indexed_text). An index of another format is an error naming the rebuild command.
INDEX_FORMAT = 2
_HNSW_FILES = ("header.bin", "data_level0.bin", "length.bin", "link_lists.bin", "index_metadata.pickle")


class Header(NamedTuple):
    """What one source of an article says about it (an article stored under several names has several)."""

    title: str
    date: str | None
    url: str | None
    publisher: str | None = None  # a "source:" header line: who published it
    titled: bool = True  # False: the source gave no title; ``title`` is the article's first sentence


@dataclass
class ArticleRecord:
    id: str
    title: str
    date: str | None
    url: str | None
    sources: list[str]
    chunks: int
    text: str | None = None  # None: not loaded (``article_records(text=False)``); writing it keeps the stored text
    # Each source's own header: the article shows that of its first source in sorted order.
    headers: dict[str, Header] = field(default_factory=dict)
    publisher: str | None = None
    titled: bool = True  # False: ``title`` is the first sentence of an article that came with none

    def header(self, source: str) -> Header:
        return self.headers.get(source) or Header(self.title, self.date, self.url, self.publisher, self.titled)

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "title": self.title,
            "sources": json.dumps(self.sources),
            "chunks": self.chunks,
            "headers": json.dumps({s: self.header(s) for s in self.sources}),
        }
        if self.date:
            meta["date"] = self.date
        if self.url:
            meta["url"] = self.url
        if self.publisher:
            meta["publisher"] = self.publisher
        meta["untitled"] = not self.titled  # always written: an update merges keys, and a title may come later
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
            text=text,
            headers={k: Header(*v[:5]) for k, v in json.loads(meta.get("headers", "{}")).items()},
            publisher=meta.get("publisher"),
            titled=not meta.get("untitled", False),
        )


@dataclass
class FileRecord:
    """What the last ingest read from one file or URL, so that an unchanged one is skipped."""

    path: str  # the file's absolute path, or the URL
    size: int
    mtime_ns: int  # -1: read it again next time (0 for a URL)
    articles: list[str] = field(default_factory=list)
    kind: str = "file"  # "file"; "page": a web page; "summary": a feed item's own text (its page failed)
    etag: str = ""  # a page's ETag and Last-Modified, sent back in a conditional GET
    last_modified: str = ""
    digest: str = ""  # a page's body hash: a page fetched again unchanged is not parsed again
    feed: str = ""  # the feed a page or summary came from
    # Articles the file holds that ``qa remove`` took out: an ingest of its folder leaves them out.
    removed: list[str] = field(default_factory=list)

    @property
    def is_web(self) -> bool:
        return self.kind != "file"

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"size": self.size, "mtime_ns": self.mtime_ns, "articles": json.dumps(self.articles),
                                "removed": json.dumps(self.removed)}  # fmt: skip
        if self.is_web:
            meta.update(
                kind=self.kind, etag=self.etag, last_modified=self.last_modified, digest=self.digest, feed=self.feed
            )
        return meta

    @classmethod
    def from_chroma(cls, path: str, meta: dict[str, Any]) -> FileRecord:
        web = {k: str(meta.get(k, "")) for k in ("etag", "last_modified", "digest", "feed")}
        return cls(
            path,
            int(meta["size"]),
            int(meta["mtime_ns"]),
            json.loads(meta["articles"]),
            meta.get("kind", "file"),
            **web,
            removed=json.loads(meta.get("removed", "[]")),
        )


_FORMATS = {1: "by their text alone", 2: "with their article's title and date"}


class Store:
    """Chroma collections for one index. Open with :meth:`open`."""

    def __init__(
        self,
        client: Any,
        name: str,
        embedding_model: str,
        location: str,
        chunking: str = "",
        rebuild_hint: str = DEFAULT_HINT,
        create: bool = True,
        check: bool = True,
    ):
        self.client = client
        self.name = name
        self.location = location
        self.embedding_model = embedding_model
        self.chunking = chunking
        self.rebuild_hint = rebuild_hint
        self.remote = "fastapi" in str(getattr(client.get_settings(), "chroma_api_impl", "")).lower()
        space = {"hnsw:space": "cosine"}
        try:
            if create:
                chunks = client.get_or_create_collection(
                    f"{name}_chunks",
                    embedding_function=None,
                    metadata={
                        **space,
                        **CHUNK_SEARCH,
                        "embedding_model": embedding_model,
                        "chunking": chunking,
                        "index_format": INDEX_FORMAT,
                    },
                )
                articles = client.get_or_create_collection(f"{name}_articles", embedding_function=None, metadata=space)
                files = client.get_or_create_collection(f"{name}_files", embedding_function=None, metadata=space)
            else:  # the marker says these exist: a missing one is damage, not a new index
                chunks, articles, files = (
                    client.get_collection(f"{name}_{kind}", embedding_function=None)
                    for kind in ("chunks", "articles", "files")
                )
        except QAError:
            raise
        except Exception as e:  # chromadb raises many types for a damaged or unreachable store
            raise self._failure(e) from e
        self.chunks, self.articles, self.files = (_Guarded(c, self._failure) for c in (chunks, articles, files))
        found = (chunks.metadata or {}).get("embedding_model")
        if check and found and found != embedding_model:
            record = self.embedder_record()
            built = f" ({record.options})" if record and record.options else ""
            raise QAError(
                f"the index at {location} was built with embedding model {found!r}{built}, but this qa embeds with "
                f"{embedding_model!r}; vectors of two models cannot be mixed: use the embedder it was built with, "
                f"or {rebuild_hint}"
            )
        found = (chunks.metadata or {}).get("chunking")
        if check and found and chunking and found != chunking:
            raise QAError(f"the index at {location} was chunked as {found!r}, not {chunking!r}; {rebuild_hint}")
        found = (chunks.metadata or {}).get("index_format", 1)  # indexes made before it was recorded: format 1
        if check and found != INDEX_FORMAT:
            raise QAError(
                f"the index at {location} has index format {found} "
                f"(chunks indexed {_FORMATS.get(found, 'some other way')}), "
                f"but this qa reads format {INDEX_FORMAT} ({_FORMATS[INDEX_FORMAT]}); {rebuild_hint}"
            )

    def _failure(self, e: BaseException) -> QAError:
        """The one-line error for a Chroma call that failed."""
        if self.remote:
            if _is_connection_error(e):
                return QAError(f"cannot reach the Chroma server at {self.location} ({_short(e)}); is it running?")
            return QAError(f"the Chroma server at {self.location} failed: {_short(e)}")
        return QAError(f"the index at {self.location} is damaged ({_short(e)}); {self.rebuild_hint}")

    def widen_search(self) -> None:
        """Give an index made before :data:`SEARCH_EF` that search breadth (a writer's step: ``qa ingest``).
        Its graph's threads (:data:`CHUNK_SEARCH`) stay: Chroma reads them only when it makes the collection."""
        hnsw = (getattr(self.chunks, "configuration_json", None) or {}).get("hnsw") or {}
        if int(hnsw.get("ef_search") or 0) < SEARCH_EF:
            self.chunks.modify(configuration={"hnsw": {"ef_search": SEARCH_EF}})

    @classmethod
    def open(
        cls,
        index_dir: Path | None = None,
        chroma_url: str | None = None,
        token: str | None = None,
        embedding_model: str = "",
        chunking: str = "",
        name: str = "qa",
        fresh: bool = False,
        check: bool = True,
        rebuild_hint: str = DEFAULT_HINT,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Store:
        """Open (or create) the index. ``fresh`` starts it empty, even when the old one is damaged
        or was built with another embedding model (``qa ingest --rebuild``). ``rebuild_hint`` ends the
        message of an index that must be rebuilt; ``timeout`` bounds each call to a Chroma server."""
        setup_offline()
        import_chromadb()
        import chromadb
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False)
        if chroma_url:
            client = _http_client(chroma_url, token, timeout)
            _bound_http_timeouts(client, timeout)
            if not fresh:
                return cls(client, name, embedding_model, chroma_url, chunking, rebuild_hint)
            generation = 0  # carried on, so a keyword cache of the old index is never taken for the new one
            try:
                got = client.get_collection(f"{name}_files").get(ids=[STATE_ID], include=["metadatas"])
                generation = int(got["metadatas"][0]["generation"]) if got["ids"] else 0
            except Exception:  # no old index, or an unreadable one: nothing to carry
                pass
            for kind in ("chunks", "articles", "files"):
                try:
                    client.delete_collection(f"{name}_{kind}")
                except Exception:  # not there: nothing to drop
                    pass
            store = cls(client, name, embedding_model, chroma_url, chunking, rebuild_hint)
            store.set_state(generation=generation + 1)
            return store
        assert index_dir is not None
        chroma_dir, marker = index_dir / "chroma", index_dir / MARKER
        if fresh:
            try:  # an index that opens is emptied through Chroma, which this process may have open
                store = cls.open(
                    index_dir,
                    embedding_model=embedding_model,
                    chunking=chunking,
                    name=name,
                    check=False,
                    rebuild_hint=rebuild_hint,
                )
                store.reset()
                return store
            except QAError:  # damaged: start from nothing. Marker first: a rebuild killed now leaves a new index
                marker.unlink(missing_ok=True)
                _forget_client(chroma_dir)
                shutil.rmtree(chroma_dir, ignore_errors=True)
                shutil.rmtree(index_dir / "keyword", ignore_errors=True)
        damage = _damage(chroma_dir, marker.exists())
        if damage:
            raise QAError(f"the index at {index_dir} is damaged ({damage}); {rebuild_hint}")
        index_dir.mkdir(parents=True, exist_ok=True)
        try:
            client = chromadb.PersistentClient(path=str(chroma_dir), settings=settings)
        except Exception as e:
            raise QAError(f"the index at {index_dir} is damaged ({_short(e)}); {rebuild_hint}") from e
        store = cls(
            client,
            name,
            embedding_model,
            str(index_dir),
            chunking,
            rebuild_hint,
            create=not marker.exists(),
            check=check,
        )
        if not marker.exists():
            tmp = marker.with_name(f"{MARKER}.{os.getpid()}.tmp")
            tmp.write_text(
                json.dumps(
                    {
                        "name": name,
                        "embedding_model": embedding_model,
                        "chunking": chunking,
                        "index_format": INDEX_FORMAT,
                    }
                )
                + "\n"
            )
            os.replace(tmp, marker)
        return store

    def reset(self) -> None:
        """Drop everything in this index and start it again with this store's embedding model.

        The generation moves on, so no keyword cache of the old index is taken for the new one.
        """
        generation = int(self.state().get("generation", 0))
        for col in (self.chunks, self.articles, self.files):
            try:
                self.client.delete_collection(col.name)
            except Exception as e:
                raise self._failure(e) from e
        self.__init__(  # type: ignore[misc]  # the same store, over the new collections
            self.client, self.name, self.embedding_model, self.location, self.chunking, self.rebuild_hint
        )
        self.set_state(generation=generation + 1)

    # -- manifest ---------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        got = self.files.get(ids=[STATE_ID], include=["metadatas"])
        return dict(got["metadatas"][0]) if got["ids"] else {"generation": 0, "dirty": False}

    def set_state(self, **values: Any) -> None:
        state = {**self.state(), **values}
        self.files.upsert(ids=[STATE_ID], embeddings=[[1.0]], metadatas=[state], documents=[""])

    def embedder_record(self) -> EmbedderRecord | None:
        """What the index recorded of the embedder that made its vectors; None for an index made before
        it was recorded (built-in MiniLM, as its ``embedding_model`` says) or with no ingest yet."""
        from .embed import EmbedderRecord

        text = self.state().get("embedder")
        return EmbedderRecord.from_json(text) if text else None

    def record_embedder(self, record: EmbedderRecord) -> None:
        self.set_state(embedder=record.to_json())

    def file_records(self) -> dict[str, FileRecord]:
        out = {}
        for id, meta, _ in self._iter(self.files, include=["metadatas"]):
            if id != STATE_ID:
                out[id] = FileRecord.from_chroma(id, meta)
        return out

    def put_file(self, rec: FileRecord) -> None:
        self.put_files([rec])

    def put_files(self, recs: Sequence[FileRecord]) -> None:
        for i in range(0, len(recs), _GET_PAGE):
            part = recs[i : i + _GET_PAGE]
            self.files.upsert(
                ids=[r.path for r in part],
                embeddings=[[1.0]] * len(part),
                metadatas=[r.metadata() for r in part],
                documents=[""] * len(part),
            )

    def delete_file(self, path: str) -> None:
        self.files.delete(ids=[path])

    def article_records(self, ids: Sequence[str] | None = None, text: bool = False) -> dict[str, ArticleRecord]:
        include = ["metadatas", "documents"] if text else ["metadatas"]
        if ids is not None:
            if not ids:
                return {}
            got = self.articles.get(ids=list(dict.fromkeys(ids)), include=include)
            rows: Iterable[tuple[str, dict[str, Any], str | None]] = zip(
                got["ids"], got["metadatas"], got["documents"] or [None] * len(got["ids"])
            )
        else:
            rows = self._iter(self.articles, include=include)
        return {id: ArticleRecord.from_chroma(id, meta, doc) for id, meta, doc in rows}

    def put_article(self, rec: ArticleRecord) -> None:
        self.put_articles([rec])

    def put_articles(self, recs: Sequence[ArticleRecord]) -> None:
        """Write these records; one whose text was not loaded keeps its stored text."""
        whole = [r for r in recs if r.text is not None]
        for i in range(0, len(whole), _GET_PAGE):
            part = whole[i : i + _GET_PAGE]
            self.articles.upsert(
                ids=[r.id for r in part],
                embeddings=[[1.0]] * len(part),
                metadatas=[r.metadata() for r in part],
                documents=[r.text or "" for r in part],
            )
        for r in recs:
            if r.text is None:  # metadata only; None deletes a date or url that is gone
                self.articles.update(ids=[r.id], metadatas=[{"date": None, "url": None, **r.metadata()}])

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

    def update_chunks(self, ids: list[str], metadata: dict[str, Any]) -> None:
        """Merge ``metadata`` into these chunks' metadata (a None value deletes the key)."""
        for i in range(0, len(ids), _GET_PAGE):
            part = ids[i : i + _GET_PAGE]
            self.chunks.update(ids=part, metadatas=[dict(metadata) for _ in part])

    def update_vectors(self, ids: list[str], vectors: Any) -> None:
        """Replace these chunks' vectors (their documents and metadata stay)."""
        step = self.client.get_max_batch_size()
        for i in range(0, len(ids), step):
            self.chunks.update(ids=ids[i : i + step], embeddings=vectors[i : i + step])

    def delete_chunks(self, ids: list[str]) -> None:
        for i in range(0, len(ids), _GET_PAGE):
            self.chunks.delete(ids=ids[i : i + _GET_PAGE])

    def chunk_count(self) -> int:
        return self.chunks.count()

    def chunk_article_ids(self) -> dict[str, str]:
        """chunk id -> article id, for every chunk stored."""
        return {id: meta["article_id"] for id, meta, _ in self._iter(self.chunks, include=["metadatas"])}

    def all_chunks(self) -> Iterator[tuple[str, dict[str, Any], str | None]]:
        yield from self._iter(self.chunks, include=["metadatas", "documents"])

    def get_passages(self, ids: Sequence[str]) -> list[Passage]:
        if not ids:
            return []
        got = self.chunks.get(ids=list(ids), include=["metadatas", "documents"])
        by_id = {id: to_passage(id, m, d) for id, m, d in zip(got["ids"], got["metadatas"], got["documents"])}
        return [by_id[i] for i in ids if i in by_id]

    def cosines(self, vector: Sequence[float], ids: Sequence[str]) -> dict[str, float]:
        """The cosine between ``vector`` and the stored vector of each chunk in ``ids`` (those the store holds).

        Dense search returns its best ``k``; a chunk that only keyword search found still has a vector.
        Stored vectors are unit length (the embedders normalise), so the cosine is their dot product.
        """
        if not ids:
            return {}
        try:
            got = self.chunks.get(ids=list(ids), include=["embeddings"])
        except QAError:
            # An ingest running beside us removed one of them: Chroma fails the whole call on a vector it
            # cannot find, so ask one by one and leave that one out (it belongs to no live article now).
            if len(ids) == 1:
                return {}
            return {k: v for id in ids for k, v in self.cosines(vector, [id]).items()}
        q = np.asarray(vector, dtype=np.float32)
        return {id: float(np.asarray(v, dtype=np.float32) @ q) for id, v in zip(got["ids"], got["embeddings"])}

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
        publisher=meta.get("publisher"),
    )


def import_chromadb() -> None:
    """Import chromadb without the ``overrides`` package's signature checks of chromadb's own classes.

    At import, ``overrides`` compares each of chromadb's overriding methods with its parent's
    signature: 0.07-0.15 s of the 0.55 s chromadb takes to import on these 2 cores, spent on every
    ``qa ask`` to check chromadb's code, not qa's. The check is put back as soon as chromadb is in;
    with another version of ``overrides`` (no such helper), chromadb is imported as it comes.
    """
    if "chromadb" in sys.modules:
        return
    try:
        checks: Any = importlib.import_module("overrides.overrides")
        check = checks.ensure_signature_is_compatible
    except (ImportError, AttributeError):
        importlib.import_module("chromadb")
        return
    checks.ensure_signature_is_compatible = lambda *args, **kwargs: None
    try:
        importlib.import_module("chromadb")
    finally:
        checks.ensure_signature_is_compatible = check


def _http_client(chroma_url: str, token: str | None, timeout: float = 30.0) -> Any:
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

    _check_reachable(mask_credentials(chroma_url), f"{'https' if ssl else 'http'}://{host}:{port}", headers, timeout)

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
            admin = chromadb.AdminClient(
                Settings(
                    anonymized_telemetry=False,
                    chroma_api_impl="chromadb.api.fastapi.FastAPI",
                    chroma_server_host=host,
                    chroma_server_http_port=port,
                    chroma_server_ssl_enabled=ssl,
                    chroma_server_headers=headers,
                )
            )
            admin.create_database(database)
            return connect()
    except Exception as e:  # chromadb raises many types; all become one clean line
        reason = _short(e).replace(token, "***") if token else _short(e)
        if any(w in reason.lower() for w in ("401", "403", "unauthorized", "forbidden")):
            what = "refused the token in QA_CHROMA_TOKEN" if token else "wants a token: set QA_CHROMA_TOKEN"
            raise QAError(f"the Chroma server at {mask_credentials(chroma_url)} {what}") from None
        raise QAError(
            f"cannot use the Chroma server at {mask_credentials(chroma_url)}: {reason}; is it running, and is the URL right?"
        ) from None


class _Guarded:
    """A Chroma collection whose failures become one-line :class:`QAError` values.

    Errors about the arguments (our own mistakes) keep their traceback; everything else
    (a damaged segment file, a lost server) is the store's failure message.
    """

    def __init__(self, collection: Any, failure: Callable[[BaseException], QAError]):
        self._collection = collection
        self._failure = failure

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._collection, name)
        if not callable(attr):
            return attr

        @functools.wraps(attr)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return attr(*args, **kwargs)
            except (QAError, TypeError, _invalid_argument()):
                raise
            except Exception as e:
                raise self._failure(e) from e

        return call


@functools.cache
def _invalid_argument() -> type[Exception]:
    from chromadb.errors import InvalidArgumentError

    return InvalidArgumentError


def _forget_client(chroma_dir: Path) -> None:
    """Drop chromadb's per-process client for this folder: it would keep writing to deleted files."""
    try:
        from chromadb.api.shared_system_client import SharedSystemClient

        system = SharedSystemClient._identifier_to_system.pop(str(chroma_dir), None)
        SharedSystemClient._identifier_to_refcount.pop(str(chroma_dir), None)
        if system is not None:
            system.stop()
    except Exception:  # chromadb moved things: nothing cached to forget, or nothing we can do
        pass


def _damage(chroma_dir: Path, expected: bool) -> str | None:
    """Why the Chroma folder of an index cannot be right, or None. Cheap: no full scan.

    ``expected``: the marker says an index was made here, so its database must exist.
    A persisted vector segment (one with a ``max_seq_id`` row) must have its files.
    """
    db = chroma_dir / "chroma.sqlite3"
    if not db.exists():
        if expected:
            return "chroma/chroma.sqlite3 is missing"
        if chroma_dir.is_dir() and any(chroma_dir.iterdir()):
            return "chroma/chroma.sqlite3 is missing but segment files are there"
        return None
    if db.stat().st_size == 0:
        return "chroma/chroma.sqlite3 is empty"
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            rows = con.execute(
                "SELECT s.id FROM segments s JOIN max_seq_id m ON m.segment_id = s.id WHERE s.scope = 'VECTOR'"
            ).fetchall()
        finally:
            con.close()
    except sqlite3.DatabaseError as e:
        if "no such table" in str(e):
            return "chroma/chroma.sqlite3 holds no Chroma tables" if expected else None
        if getattr(e, "sqlite_errorname", "") in ("SQLITE_CORRUPT", "SQLITE_NOTADB"):
            return f"chroma/chroma.sqlite3: {e}"
        return None  # busy, or a journal only a writer may replay (after a crash): Chroma opens it
    for (segment,) in rows:
        for name in _HNSW_FILES:
            f = chroma_dir / segment / name
            if not f.exists() or (f.stat().st_size == 0 and name != "link_lists.bin"):
                return f"the vector file chroma/{segment}/{name} is missing or empty"
        header = (chroma_dir / segment / "header.bin").read_bytes()
        if len(header) < 36:
            return f"the vector file chroma/{segment}/header.bin is cut short"
        # hnswlib's header (format 1): element count and bytes per element at bytes 20 and 28.
        if struct.unpack_from("<I", header)[0] == 1:
            count, size = struct.unpack_from("<QQ", header, 20)
            if (chroma_dir / segment / "data_level0.bin").stat().st_size < count * size:
                return f"the vector file chroma/{segment}/data_level0.bin is cut short"
    return None


@dataclass
class Snapshot:
    """An index on disk as its Chroma file shows it, read by :func:`peek` without starting Chroma."""

    articles: int
    chunks: int
    chunk_metadata: dict[str, Any]  # the chunks collection's: embedding model, chunking, index format
    state: dict[str, Any]  # the ``state`` record's metadata (generation, dirty, embedder)
    article_metadata: dict[str, dict[str, Any]] | None = None  # id -> metadata, when asked for


def peek(index_dir: Path, name: str = "qa", articles: bool = False) -> Snapshot | None:
    """What ``qa info`` shows of an index on disk, read straight from Chroma's SQLite file.

    Importing chromadb alone takes 0.6 s; this takes a few milliseconds (``articles``: each article's
    metadata too, for ``qa articles``: 40 ms for 800 articles). It answers only for a whole
    index at rest, in the layout this Chroma writes: None when the marker is missing, the folder is
    damaged, a collection's metadata segment has not caught up with its log, or any table differs;
    the caller then opens the index through Chroma, which gives the real answer or the real error.
    """
    chroma_dir = index_dir / "chroma"
    if not (index_dir / MARKER).exists() or _damage(chroma_dir, True):
        return None
    try:
        con = sqlite3.connect(f"file:{chroma_dir / 'chroma.sqlite3'}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        return _read_snapshot(con, name, articles)
    except sqlite3.Error:  # locked by a writer, or a schema this code does not know
        return None
    finally:
        con.close()


def _read_snapshot(con: sqlite3.Connection, name: str, articles: bool) -> Snapshot | None:
    counts, segments = {}, {}
    metadata: dict[str, Any] = {}
    for kind in ("chunks", "articles", "files"):
        rows = con.execute(
            "SELECT c.id, s.id FROM collections c JOIN segments s ON s.collection = c.id"
            " WHERE c.name = ? AND s.scope = 'METADATA'",
            (f"{name}_{kind}",),
        ).fetchall()
        if len(rows) != 1:
            return None
        collection, segment = rows[0]
        applied = con.execute("SELECT seq_id FROM max_seq_id WHERE segment_id = ?", (segment,)).fetchone()
        logged = con.execute(
            "SELECT max(seq_id) FROM embeddings_queue WHERE topic LIKE ?", (f"%/{collection}",)
        ).fetchone()[0]
        if logged is not None and (applied is None or applied[0] < logged):
            return None  # writes Chroma has logged but not yet applied: only Chroma can read them
        counts[kind] = con.execute("SELECT count(*) FROM embeddings WHERE segment_id = ?", (segment,)).fetchone()[0]
        segments[kind] = segment
        if kind == "chunks":
            metadata = _values(
                con.execute(
                    "SELECT key, str_value, int_value, float_value, bool_value FROM collection_metadata"
                    " WHERE collection_id = ?",
                    (collection,),
                )
            )
    state = _values(
        con.execute(
            "SELECT m.key, m.string_value, m.int_value, m.float_value, m.bool_value FROM embeddings e"
            " JOIN embedding_metadata m ON m.id = e.id WHERE e.segment_id = ? AND e.embedding_id = ?",
            (segments["files"], STATE_ID),
        )
    )
    state.pop("chroma:document", None)
    state.setdefault("generation", 0)
    state.setdefault("dirty", False)
    snap = Snapshot(counts["articles"], counts["chunks"], metadata, state)
    if articles:
        found = con.execute(
            "SELECT e.embedding_id, m.key, m.string_value, m.int_value, m.float_value, m.bool_value FROM embeddings e"
            " JOIN embedding_metadata m ON m.id = e.id WHERE e.segment_id = ? ORDER BY e.embedding_id",
            (segments["articles"],),
        )
        snap.article_metadata = {
            id: {k: v for k, v in _values(row[1:] for row in group).items() if k != "chroma:document"}
            for id, group in itertools.groupby(found, key=lambda row: row[0])
        }
        if len(snap.article_metadata) != snap.articles:
            return None
    return snap


def _values(rows: Iterable[tuple[Any, ...]]) -> dict[str, Any]:
    """key -> value of Chroma's metadata rows (one column per type, the others NULL)."""
    out: dict[str, Any] = {}
    for key, text, integer, real, flag in rows:
        out[key] = bool(flag) if flag is not None else next((v for v in (text, integer, real) if v is not None), None)
    return out


def _check_reachable(shown: str, base: str, headers: dict[str, str] | None, timeout: float) -> None:
    """Fail fast when nothing answers at ``base``: chromadb's own client waits forever."""
    import httpx

    try:
        httpx.get(f"{base}/api/v2/heartbeat", headers=headers, timeout=min(timeout, 10.0))
    except httpx.HTTPError as e:
        raise QAError(
            f"cannot reach the Chroma server at {shown} ({_short(e) or type(e).__name__}); is it running?"
        ) from None


def _bound_http_timeouts(client: Any, timeout: float) -> None:
    """chromadb's HTTP session has no timeout; give it one so a hung server is an error, not a hang."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(timeout, connect=min(timeout, 10.0))


def _is_connection_error(e: BaseException) -> bool:
    import httpx

    return isinstance(e, (httpx.TransportError, ConnectionError)) or "connect" in str(e).lower()


def _short(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
