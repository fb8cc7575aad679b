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


def test_progress_counts_the_articles_kept_of_all(assistant, seeds_copy):
    shutil.copy(next(seeds_copy.glob("000_*.txt")), seeds_copy / "copy-of-000.txt")
    (seeds_copy / "feed.jsonl").write_text(
        '{"title": "One", "text": "A first line about the harbour."}\n\n'
        '{"title": "Two", "text": "A second line about the bridge."}\n{oops\n'
    )
    for first in (6, 5):  # a first ingest, then one with nothing to do
        events: list[tuple[str, int]] = []
        report = assistant.ingest([seeds_copy], progress=lambda kind, n, seen=events: seen.append((kind, n)))
        totals = [n for kind, n in events if kind == "articles"]
        kept = sum(n for kind, n in events if kind == "article")
        assert (report.total, report.kept) == (totals[-1], kept) == (5, 5)  # 3 files, 2 good JSONL lines
        assert totals[0] == first  # a JSONL line is counted as an article until the file is read, then as stored


def test_a_stopped_ingest_keeps_its_written_batches_and_the_next_one_embeds_the_rest(tmp_path):
    import random

    from qa.ingest import IngestInterrupted

    from .test_faults import make_corpus

    make_corpus(tmp_path / "corpus", random.Random(7), n=12)
    a = Assistant(tmp_path / "index", ingest_batch=4)
    embedded = 0

    def progress(kind: str, n: int) -> None:
        nonlocal embedded
        embedded += n if kind == "chunks" else 0

    with pytest.raises(IngestInterrupted) as stopped:
        a.ingest([tmp_path / "corpus"], progress=progress, stop=lambda: embedded >= 10)
    report = stopped.value.report
    assert str(stopped.value) == f"interrupted: {report.kept} of 19 articles kept; run the same command to finish"
    live = a.store.article_records()
    assert 0 < report.kept == sum(len(r.sources) for r in live.values()) < 19
    assert 0 < report.chunks == a.store.chunk_count() == sum(r.chunks for r in live.values())
    assert a.store.state()["dirty"] is True  # as after a crash: the next ingest sweeps
    finished = Assistant(tmp_path / "index").ingest([tmp_path / "corpus"])
    clean = Assistant(tmp_path / "clean").ingest([tmp_path / "corpus"])
    assert finished.chunks == clean.chunks - report.chunks  # the kept part is not embedded again
    assert (finished.kept, finished.total) == (19, 19)
    assert Assistant(tmp_path / "index").store.chunk_count() == clean.chunks
