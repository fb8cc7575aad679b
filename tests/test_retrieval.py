"""Retrieval: chunks are indexed with their article's title and date, questions have a day (as-of)
that softly prefers articles dated near it, and an index of the old format says to rebuild."""

import datetime as dt
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from qa import Assistant
from qa.embed import MODEL_ID
from qa.ingest import indexed_text
from qa.retrieve import DEFAULT_FUSION, EQUAL_RRF, age_days, fused_scores, parse_as_of
from qa.store import CHUNK_SEARCH, INDEX_FORMAT, SEARCH_EF

from .conftest import run_qa
from .test_cli import assert_clean_error

CHUNKING = "cl100k_base/200/40"


def write(folder: Path, name: str, title: str, date: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"title: {title}\nurl: https://example.com/{name}\ndate: {date}\n\n{body}\n")
    return path


def test_indexed_text_has_title_and_date_then_the_chunk():
    text = indexed_text("Iran said yes.", "Talks resume", "2024-08-02")
    assert text == "Talks resume\nAugust 2, 2024\n\nIran said yes."
    assert indexed_text("Body.", "", None) == "Body."
    assert indexed_text("Body.", "T", "sometime") == "T\nsometime\n\nBody."


def test_the_first_search_reads_the_saved_keyword_index_beside_the_dense_search(seed_index, monkeypatch):
    """A new process's first search (qa ask's only one) reads the keyword index from disk in another
    thread while the question is embedded and searched densely; it finds what a search finds with the
    index read beforehand, and the saved index is taken, not rebuilt."""
    import threading

    from qa.retrieve import KeywordIndex

    question = "How many US troops does Iraq host?"
    warm = Assistant(seed_index)
    warm.retriever.keyword_index()
    expected = [p.id for p in warm.search(question)]
    in_main_thread = []
    load = KeywordIndex.load.__func__

    def spy(cls, folder):
        in_main_thread.append(threading.current_thread() is threading.main_thread())
        return load(cls, folder)

    monkeypatch.setattr(KeywordIndex, "load", classmethod(spy))
    monkeypatch.setattr(KeywordIndex, "build", classmethod(lambda cls, *a: pytest.fail("the saved index was rebuilt")))
    assert [p.id for p in Assistant(seed_index).search(question)] == expected
    assert in_main_thread == [False]


def test_keyword_and_dense_search_see_the_title_but_passages_quote_the_chunk(tmp_path):
    folder = tmp_path / "in"
    write(
        folder,
        "a.txt",
        "Quorvex strike ends",
        "2024-08-02",
        "Dock workers returned on Monday after a deal on pay was signed by both sides.",
    )
    write(folder, "b.txt", "City budget", "2024-08-01", "The council passed the budget after a long night of debate.")
    a = Assistant(tmp_path / "index")
    a.ingest([folder])
    # The word is only in the title: BM25 finds it there.
    strike = next(r.id for r in a.store.article_records().values() if r.title == "Quorvex strike ends")
    keyword = a.retriever.keyword_index().search("Quorvex", 5)
    assert [cid.split(":")[0] for cid, _ in keyword] == [strike]
    hit = a.search("Quorvex")[0]
    assert hit.article_id == strike and hit.keyword > 0 and hit.keyword_rank == 1
    # The stored chunk is the exact article text, without the title.
    record = a.store.article_records(ids=[hit.article_id], text=True)[hit.article_id]
    assert record.text[hit.start : hit.end] == hit.text and "Quorvex" not in hit.text
    # Its vector is the indexed text's, not the bare chunk's.
    got = a.store.chunks.get(ids=[hit.id], include=["embeddings"])
    stored = np.asarray(got["embeddings"][0])
    assert np.allclose(stored, a.embedder.embed([indexed_text(hit.text, hit.title, hit.date)])[0], atol=1e-5)
    assert not np.allclose(stored, a.embedder.embed([hit.text])[0], atol=1e-3)


def test_a_keyword_only_hit_carries_its_own_cosine(tmp_path):
    """The dense list is the best ``fetch_k``; a chunk only BM25 found gets its cosine from its stored vector."""
    folder = tmp_path / "in"
    for n in range(6):
        write(
            folder, f"f{n}.txt", f"Ferry news {n}", "2024-08-02", f"The harbor ferry number {n} sailed on time today."
        )
    write(folder, "z.txt", "Budget", "2024-08-01", "The council passed the Quorvex budget after a long night.")
    a = Assistant(tmp_path / "index")
    a.ingest([folder])
    a.retriever.fusion = replace(a.retriever.fusion, fetch_k=2)
    question = "When did the harbor ferry sail? Quorvex"  # the ferries by cosine, the budget by its rare word
    hits = a.search(question, k=3)
    keyword_only = [p for p in hits if p.dense_rank is None]
    assert keyword_only and any("Quorvex" in p.text for p in keyword_only)
    q = a.embedder.embed([question])[0]
    for p in hits:
        assert p.dense == pytest.approx(
            float(a.embedder.embed([indexed_text(p.text, p.title, p.date)])[0] @ q), abs=1e-4
        )


def test_cosines_leave_out_a_chunk_whose_vector_an_ingest_just_removed(seed_index, monkeypatch):
    """Chroma fails a whole get when one id's vector is gone mid-write: the others still get their cosine."""
    from types import SimpleNamespace

    from qa.errors import QAError

    a = Assistant(seed_index)
    question = "How many US troops are in Iraq?"
    ids = [p.id for p in a.search(question, k=3)]
    real = a.store.chunks.get

    def get(ids, include):
        if "gone:0" in ids:
            raise QAError("the index is damaged (Error executing plan: Internal error: Error finding id)")
        return real(ids=ids, include=include)

    monkeypatch.setattr(a.store, "chunks", SimpleNamespace(get=get))
    vector = a.embedder.embed_query(question)
    assert set(a.store.cosines(vector, [*ids, "gone:0"])) == set(ids)


def test_an_untitled_articles_first_sentence_is_shown_as_its_title_but_read_as_no_headline(tmp_path):
    """A file with no title line is shown by its first sentence, but the reader and the reranker read
    no headline for it (``Passage.headline``); once the file gains a title line, its title is read,
    and when it loses it again, it is not."""
    folder = tmp_path / "in"
    folder.mkdir()
    f = folder / "a.txt"
    body = "The council approved twelve new ferries for the harbor on Monday. Work starts in May."
    f.write_text(body)
    a = Assistant(tmp_path / "index")
    a.ingest([folder])
    [hit] = a.search("ferries", k=1)
    assert hit.title == "The council approved twelve new ferries for the harbor on Monday."
    assert not hit.titled and hit.headline == ""
    f.write_text(f"title: Ferry order\n\n{body}")
    a.ingest([folder])
    [hit] = a.search("ferries", k=1)
    assert (hit.title, hit.titled, hit.headline) == ("Ferry order", True, "Ferry order")
    f.write_text(body)
    a.ingest([folder])
    [hit] = a.search("ferries", k=1)
    assert not hit.titled and hit.headline == ""
    assert not Assistant(tmp_path / "index").search("ferries", k=1)[0].titled  # as stored, read again


def test_a_new_title_gives_new_vectors(tmp_path):
    folder = tmp_path / "in"
    f = write(folder, "a.txt", "Harbor vote", "2024-08-02", "The council approved twelve new ferries for the harbor.")
    a = Assistant(tmp_path / "index")
    a.ingest([folder])
    f.write_text(f.read_text().replace("title: Harbor vote", "title: Ferry order doubled"))
    a.ingest([folder])
    [hit] = a.search("ferries", k=1)
    assert hit.title == "Ferry order doubled"
    stored = np.asarray(a.store.chunks.get(ids=[hit.id], include=["embeddings"])["embeddings"][0])
    assert np.allclose(
        stored, a.embedder.embed([indexed_text(hit.text, "Ferry order doubled", hit.date)])[0], atol=1e-5
    )


# -- the question's day -----------------------------------------------------------------------


def test_age_days_and_parse_as_of():
    assert age_days(dt.date(2024, 8, 9), "2024-08-02") == 7.0
    assert age_days(dt.date(2024, 8, 1), "2024-08-02") == -1.0
    assert math.isnan(age_days(None, "2024-08-02")) and math.isnan(age_days(dt.date(2024, 8, 1), None))
    assert parse_as_of("2024-08-02") == dt.date(2024, 8, 2) and parse_as_of(None) is None
    for bad in ("2024-13-01", "yesterday", "2024-8-2", ""):
        with pytest.raises(Exception, match="YYYY-MM-DD"):
            parse_as_of(bad)


def test_fused_score_prefers_the_nearer_date_and_penalises_later_articles():
    f = DEFAULT_FUSION
    assert f.date_weight > 0, "the shipped fusion has a date preference"
    ranks = np.array([1.0, 2.0])
    scores = np.array([0.5, 0.5])
    # Same ranks and scores but swapped: the nearer-dated one wins both ways round.
    near_first = fused_scores(f, ranks, ranks, scores, scores, np.array([1.0, 300.0]))
    near_second = fused_scores(f, ranks, ranks, scores, scores, np.array([300.0, 1.0]))
    assert near_first[0] > near_first[1] and near_second[1] > near_second[0]
    # Equal RRF (main's) knows no dates.
    same = fused_scores(EQUAL_RRF, [1, 1], [1, 1], [0.5, 0.5], [2, 2], [0.0, 300.0])
    assert same[0] == same[1]
    # An article dated well after the question loses to one dated as long before it, if the fusion penalises it.
    if f.future_penalty:
        later = fused_scores(f, [1, 1], [1, 1], [0.5, 0.5], [2, 2], [5.0, -5.0 - f.future_grace_days])
        assert later[0] > later[1]


def test_an_undated_article_gets_the_mean_date_bonus_of_the_dated_ones():
    f = DEFAULT_FUSION
    same = dict(dense_rank=[1, 1, 1], keyword_rank=[1, 1, 1], dense_score=[0.5, 0.5, 0.5], keyword_score=[2, 2, 2])
    today, undated, old = fused_scores(f, **same, age=[0.0, math.nan, 400.0])
    assert today > undated > old
    assert undated - old == pytest.approx(
        f.date_weight * (1 + math.exp(-400 / f.date_days)) / 2 - f.date_weight * math.exp(-400 / f.date_days)
    )
    # No date anywhere (or no question date): no bonus for anyone, as before.
    assert list(fused_scores(f, **same, age=[math.nan] * 3)) == list(
        fused_scores(replace(f, date_weight=0.0), **same, age=[math.nan] * 3)
    )


def test_fused_score_is_soft_a_strong_match_beats_a_near_date():
    f = DEFAULT_FUSION
    # The far article is first in both lists; the near one is far down both.
    out = fused_scores(f, [1, f.fetch_k], [1, f.fetch_k], [0.8, 0.2], [20.0, 1.0], [400.0, 0.0])
    assert out[0] > out[1]


def test_a_nearer_dated_article_outranks_an_otherwise_identical_far_one(tmp_path):
    folder = tmp_path / "in"
    body = "The harbor council approved {n} new ferries on Tuesday after a long debate about the cost."
    write(folder, "new.txt", "Harbor council approves ferries", "2024-08-02", body.format(n=12))
    write(folder, "old.txt", "Harbor council approves ferries", "2022-01-10", body.format(n=14))
    a = Assistant(tmp_path / "index")
    a.ingest([folder])
    question = "How many ferries did the harbor council approve?"
    first = a.search(question, as_of="2024-08-05")[0]
    assert first.date == "2024-08-02" and "12" in first.text
    first = a.search(question, as_of=dt.date(2022, 1, 12))[0]
    assert first.date == "2022-01-10" and "14" in first.text
    answer = a.ask(question, as_of="2024-08-05")
    assert answer.passages[0].date == "2024-08-02"


def test_equal_rrf_is_mains_fusion_and_knows_no_dates():
    nan = math.nan
    got = fused_scores(EQUAL_RRF, [1, nan], [2, 1], [0.5, nan], [3.0, 4.0], [0.0, 300.0])
    assert np.allclose(got, [1 / 61 + 1 / 62, 1 / 61])


def test_score_fusion_gives_nothing_for_a_list_that_missed_the_chunk():
    f = DEFAULT_FUSION
    assert f.method == "score"
    nan = math.nan
    # One dense hit only (a tiny index): it is the best dense match; the keyword-only hit gets no dense share.
    got = fused_scores(
        replace(f, date_weight=0.0, future_penalty=0.0), [1, nan], [nan, 1], [0.3, nan], [nan, 2.0], [nan, nan]
    )
    assert np.allclose(got, [f.dense_weight, f.keyword_weight])


def test_eval_passes_each_question_its_own_date():
    from qa.eval import EvalQuestion, run

    class Recorder:
        k = 6

        def __init__(self):
            self.days = []

        def ask(self, question, filter=None, as_of=None):
            from qa.answer import refusal

            self.days.append(as_of)
            return refusal(question)

    rec = Recorder()
    run(rec, [EvalQuestion("1", "Who?", answers=["x"], date="2024-08-02"), EvalQuestion("2", "What?", answers=[])])
    assert rec.days == [dt.date(2024, 8, 2), None]


def test_as_of_bad_value_is_a_one_line_usage_error(seed_index):
    for command in (["ask", "Who?"], ["chat"]):
        r = run_qa(*command, "--index", str(seed_index), "--as-of", "2024-13-45", input="")
        assert_clean_error(r, 2, "--as-of", "YYYY-MM-DD")


def test_as_of_is_accepted_by_ask(seed_index):
    r = run_qa("ask", "--json", "--index", str(seed_index), "--as-of", "2024-08-02", "How many US troops are in Iraq?")
    assert r.returncode == 0 and "2,500" in r.stdout, r.stderr


def test_dense_search_settings_in_new_indexes_and_after_an_ingest_in_old_ones(tmp_path, seeds_copy):
    """Chroma's default search breadth (100) is under the 150 chunks the fusion asks for and misses some
    of the nearest, and its graph is rebuilt in another order by each process unless one thread builds
    it: a new index has both settings, and an index made before gets the breadth when ingested into."""
    import chromadb

    def settings(index: Path) -> tuple[int, dict]:
        chunks = chromadb.PersistentClient(path=str(index / "chroma")).get_collection("qa_chunks")
        return chunks.configuration_json["hnsw"]["ef_search"], chunks.metadata

    store = Assistant(tmp_path / "new").store  # made now
    assert settings(tmp_path / "new")[0] == SEARCH_EF >= DEFAULT_FUSION.fetch_k
    assert CHUNK_SEARCH.items() <= settings(tmp_path / "new")[1].items()
    old = {k: v for k, v in store.chunks.metadata.items() if not k.startswith("hnsw:")}
    store.chunks.modify(metadata=old, configuration={"hnsw": {"ef_search": 100}})  # as an index made before
    del store
    assert settings(tmp_path / "new") == (100, old)
    r = run_qa("ingest", "--index", str(tmp_path / "new"), str(seeds_copy))
    assert r.returncode == 0, r.stderr
    assert settings(tmp_path / "new") == (SEARCH_EF, old)
    r = run_qa("ask", "--json", "--index", str(tmp_path / "new"), "How many US troops are in Iraq?")
    assert r.returncode == 0 and "2,500" in r.stdout


# -- the index format -------------------------------------------------------------------------


def test_old_format_index_says_rebuild(tmp_path, seeds_copy):
    """An index made before chunks were indexed with title and date records no format: rebuild it."""
    import chromadb
    from chromadb.config import Settings

    index = tmp_path / "old"
    client = chromadb.PersistentClient(path=str(index / "chroma"), settings=Settings(anonymized_telemetry=False))
    old = client.get_or_create_collection(
        "qa_chunks",
        embedding_function=None,
        metadata={"hnsw:space": "cosine", "embedding_model": MODEL_ID, "chunking": CHUNKING},
    )
    old.add(
        ids=["x:0"],
        embeddings=[[0.1] * 384],
        documents=["Old text."],
        metadatas=[{"article_id": "x", "start": 0, "end": 9, "index": 0, "title": "Old"}],
    )
    del client, old
    for args in (["info"], ["ask", "How many US troops are in Iraq?"], ["ingest", str(seeds_copy)]):
        assert_clean_error(run_qa(*args, "--index", str(index)), 1, "index format 1", f"{INDEX_FORMAT}", "--rebuild")
    r = run_qa("ingest", "--rebuild", "--index", str(index), str(seeds_copy))
    assert r.returncode == 0 and "2 added" in r.stdout, r.stderr
    r = run_qa("ask", "--json", "--index", str(index), "How many US troops are in Iraq?")
    assert r.returncode == 0 and "2,500" in r.stdout


def test_new_index_records_its_format(tmp_path):
    a = Assistant(tmp_path / "index")
    assert a.store.chunks.metadata["index_format"] == INDEX_FORMAT
    assert f'"index_format": {INDEX_FORMAT}' in (tmp_path / "index" / "qa-index.json").read_text()


def test_word_counts_count_chunks_as_keyword_search_reads_words():
    """How common a candidate answer's words are: the index's chunks that hold each word (stemmed, no
    stop words), the same from the keyword index and from passages."""
    from qa.retrieve import KeywordIndex, passage_counts
    from qa.types import Passage

    texts = ["Iraq hosts 2,500 US troops.", "Troops in Iraq were attacked at Al-Asad.", "The US said nothing."]
    words = ["iraq", "us", "troop", "asad", "airbas", "the"]
    index = KeywordIndex.from_texts(["a", "b", "c"], [indexed_text(t, "", None) for t in texts])
    count, total = index.word_counts()
    assert total == 3 and [count(w) for w in words] == [2, 2, 2, 1, 0, 0]
    passages = [Passage(f"{i}:0", str(i), t, 0, len(t), "", None, "x") for i, t in enumerate(texts)]
    p_count, p_total = passage_counts(passages)
    assert p_total == 3 and [p_count(w) or 0 for w in words] == [count(w) for w in words]
    assert KeywordIndex.from_texts([], []).word_counts() is None  # nothing to count: the reader counts its passages


def test_word_shares_read_an_index_as_a_typical_pool():
    """A small index is filled up to a pool with the background's rates; a large one's counts are read
    against the pool's size, so a story's name is as rare in a quarter's news as in three weeks'."""
    from qa.retrieve import Background, word_shares

    background = Background({"iraq": 50, "us": 300}, 1000, 100.0)
    small = word_shares(["Iraq", "Al-Asad", "US troops", "the"], {"iraq": 7, "asad": 2, "troop": 1}.get, 10, background)
    # 90 chunks more at the background's rates: Iraq in 7 + 90 * 0.05 of 100; "al" in none, "asad" in 2
    assert np.allclose(small, [(0.115, 0.115), (0.0, 0.02), (0.01, 0.27), (1.0, 1.0)])
    large = word_shares(["Al-Asad", "US"], {"asad": 2, "us": 150}.get, 400, background)
    assert large == [(0.0, 0.02), (1.0, 1.0)]  # larger than a pool: the counts alone, capped at every chunk
    assert word_shares([], {}.get, 10, background) == []


def test_seed_assistant_reader_counts_words_over_the_whole_index(seed_assistant):
    reader = seed_assistant.generator.reader
    count, total = reader.word_counts()
    assert total == seed_assistant.info()[1] and 0 < count("austin") < total  # in a few chunks, not all
    index_count, _ = seed_assistant.retriever.keyword_index().word_counts()
    assert count("austin") == index_count("austin")


def test_chromadb_is_imported_without_signature_checks_that_are_then_put_back():
    """Store.open imports chromadb with ``overrides``' import-time signature checks off (a tenth of a
    second of each ``qa ask``) and puts them back; chromadb is whole and the checks work after."""
    import subprocess
    import sys

    code = """
import importlib, sys
checks = importlib.import_module("overrides.overrides")
before = checks.ensure_signature_is_compatible
calls = []
checks.ensure_signature_is_compatible = lambda *a, **k: calls.append(a)
wrapped = checks.ensure_signature_is_compatible
from qa.store import import_chromadb
import_chromadb()
import chromadb
assert chromadb.PersistentClient and "chromadb.api.types" in sys.modules
assert checks.ensure_signature_is_compatible is wrapped and calls == [], len(calls)
import_chromadb()  # imported already: nothing to do
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
