"""Ingest into a real Chroma, embedded and server: idempotent, replaces changed files, prunes, dedups."""

import shutil

import pytest

from qa import Assistant
from qa.load import load_file


@pytest.fixture
def assistant(backend):
    return backend.new_assistant()


def chunk_ids(a: Assistant) -> set[str]:
    return set(a.store.chunk_article_ids())


def test_reingest_unchanged_writes_nothing(assistant, seeds_copy):
    first = assistant.ingest([seeds_copy])
    assert (first.added, first.chunks) == (2, assistant.stats()[1]) and first.chunks > 0
    before = chunk_ids(assistant)
    second = assistant.ingest([seeds_copy])
    assert (second.added, second.updated, second.unchanged, second.removed, second.chunks) == (0, 0, 2, 0, 0)
    assert chunk_ids(assistant) == before


def test_touched_but_same_content_is_unchanged(assistant, seeds_copy):
    assistant.ingest([seeds_copy])
    f = next(seeds_copy.glob("000_*.txt"))
    f.write_text(f.read_text())
    report = assistant.ingest([seeds_copy])
    assert (report.unchanged, report.chunks) == (2, 0)


def test_changed_file_replaces_its_chunks(assistant, seeds_copy):
    assistant.ingest([seeds_copy])
    f = next(seeds_copy.glob("004_*.txt"))
    f.write_text(f.read_text() + "\n\nA new closing paragraph about the Zebulon accord.")
    report = assistant.ingest([seeds_copy])
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
    [article], _ = load_file(f)
    live = assistant.store.article_records()
    assert article.id in live and len(live) == 2
    ids = assistant.store.chunk_article_ids()
    assert set(ids.values()) == set(live)  # the old version's chunks are gone
    assert len(ids) == sum(r.chunks for r in live.values())
    hits = assistant.search("Zebulon accord")
    assert hits[0].article_id == article.id and "Zebulon" in hits[0].text


def test_prune_drops_articles_whose_files_are_gone(assistant, seeds_copy):
    assistant.ingest([seeds_copy])
    next(seeds_copy.glob("000_*.txt")).unlink()
    kept = assistant.ingest([seeds_copy])
    assert kept.removed == 0 and assistant.stats()[0] == 2
    pruned = assistant.ingest([seeds_copy], prune=True)
    assert pruned.removed == 1 and assistant.stats()[0] == 1
    assert len(set(assistant.store.chunk_article_ids().values())) == 1


def test_duplicate_article_stored_once_with_both_sources(assistant, seeds_copy, tmp_path):
    src = next(seeds_copy.glob("000_*.txt"))
    shutil.copy(src, seeds_copy / "copy-of-000.txt")
    report = assistant.ingest([seeds_copy])
    assert report.added == 3  # three files, each reported
    records = assistant.store.article_records()
    assert len(records) == 2  # two articles stored
    assert report.chunks == sum(r.chunks for r in records.values()) == assistant.stats()[1]
    [dup] = [r for r in records.values() if len(r.sources) == 2]
    assert {s.rsplit("/", 1)[1] for s in dup.sources} == {src.name, "copy-of-000.txt"}


def test_bad_files_are_reported_and_the_rest_ingested(assistant, seeds_copy):
    (seeds_copy / "image.txt").write_bytes(b"\x00\x01binary")
    (seeds_copy / "empty.md").write_text("\n\n")
    (seeds_copy / "feed.jsonl").write_text('{"title": "Ok", "text": "A fine line."}\n{oops\n')
    report = assistant.ingest([seeds_copy])
    assert report.added == 3
    reasons = sorted(str(p) for p in report.problems)
    assert any("image.txt" in r and "binary" in r for r in reasons)
    assert any("empty.md" in r and "empty" in r for r in reasons)
    assert any("feed.jsonl:2" in r and "malformed JSON" in r for r in reasons)


def test_chunk_metadata_spans_match_article_text(assistant, seeds_copy):
    assistant.ingest([seeds_copy])
    texts = {r.id: r.text for r in assistant.store.article_records(text=True).values()}
    for _, meta, doc in assistant.store.all_chunks():
        assert texts[meta["article_id"]][meta["start"] : meta["end"]] == doc
        assert meta["title"] and meta["source"]
