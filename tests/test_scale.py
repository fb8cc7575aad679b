"""Pieces the speed work changed: LangChain views of the embedder and retriever, the BM25 cache key."""

from __future__ import annotations

from qa import Assistant


def test_langchain_views(seed_assistant):
    from langchain_core.embeddings import Embeddings
    from langchain_core.retrievers import BaseRetriever

    embeddings = seed_assistant.embedder.as_langchain()
    assert isinstance(embeddings, Embeddings) and len(embeddings.embed_query("troops")) == 384
    retriever = seed_assistant.retriever.as_langchain()
    docs = retriever.invoke("How many US troops are in Iraq?")
    assert isinstance(retriever, BaseRetriever) and any("2,500" in d.page_content for d in docs)


def test_rebuild_never_reuses_the_old_keyword_cache(tmp_path, seeds_copy):
    """After --rebuild the generation counts from 1 again; the cache must still not be the old one."""
    index = tmp_path / "index"
    Assistant(index).ingest([seeds_copy])
    other = tmp_path / "other"
    other.mkdir()
    (other / "new.txt").write_text("title: Zorblax\n\nThe Zorblax festival opened in Lisbon on Friday.")
    a = Assistant(index)
    a.ingest([other], rebuild=True)
    assert a.retriever.keyword_index().search("Zorblax festival", 5)
    assert Assistant(index).search("Zorblax festival")[0].title == "Zorblax"
