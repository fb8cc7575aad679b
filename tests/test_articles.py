"""``qa articles`` and ``qa remove``: the real command over a real index of the seed articles, embedded
and on a Chroma server; a remove cut short at any write is finished by running it again."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

from qa import Assistant
from qa.store import _forget_client

from .conftest import run_qa
from .test_cli import assert_clean_error
from .test_faults import assert_same_index, make_corpus, snapshot

CARRIER = "Which carrier strike group did the U.S. move to the Middle East?"  # only the 004_ seed says
CARRIER_SEED = "004_5ac8039a6aa0238a.txt"
DATED_SEED = "000_3fec42b9180752d3.txt"


def cites_carrier(answer: dict) -> bool:
    return any(c["source"].endswith(CARRIER_SEED) for c in answer["citations"])


DATED_TITLE = "At least five US personnel were injured in an attack against a military base in Iraq on Monday…"
UNDATED_TITLE = "A suspected rocket attack on Monday has injured several U.S. personnel in Iraq…"


def listed(*index_args: str) -> list[dict]:
    r = run_qa("articles", "--json", *index_args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def ask(backend, question: str) -> dict:
    r = run_qa("ask", "--json", *backend.cli_args, question)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_list_remove_ask_and_ingest_again(backend, seeds_copy):
    assert run_qa("ingest", *backend.cli_args, str(seeds_copy)).returncode == 0
    before = listed(*backend.cli_args)
    assert [Path(a["sources"][0]).name for a in before] == [DATED_SEED, CARRIER_SEED]  # newest first, undated last
    assert [a["date"] for a in before] == ["2024-08-06", None]
    assert all(set(a) == {"id", "title", "date", "url", "publisher", "sources", "chunks"} for a in before)
    assert all(a["chunks"] > 0 for a in before)
    assert sum(a["chunks"] for a in before) == backend.new_assistant().stats()[1]
    r = run_qa("articles", *backend.cli_args)
    assert r.returncode == 0 and before[0]["id"][:12] in r.stdout and "2024-08-06" in r.stdout
    assert "undated" in r.stdout and CARRIER_SEED in r.stdout and "2 articles, " in r.stdout
    # The probe is what the answer cites: answer model 27 answers this question from the carrier seed's
    # first sentence, not the one naming the USS Abraham Lincoln (model 26 showed both).
    assert cites_carrier(ask(backend, CARRIER))

    r = run_qa("remove", *backend.cli_args, str(seeds_copy / CARRIER_SEED))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"removed {before[1]['id'][:12]} ") and f"({before[1]['chunks']} chunks)" in r.stdout
    assert "qa ingest of their folders leaves them out from now on; qa ingest FILE adds" in r.stdout
    assert [a["id"] for a in listed(*backend.cli_args)] == [before[0]["id"]]
    answer = ask(backend, CARRIER)
    assert "Abraham Lincoln" not in answer["answer"] and not cites_carrier(answer)
    assert backend.new_assistant().stats() == (1, before[0]["chunks"])  # its chunks are gone too
    hits = backend.new_assistant().search("USS Abraham Lincoln carrier strike group", k=20)
    assert hits and all(p.source.endswith(DATED_SEED) for p in hits)  # neither vectors nor keywords find it

    # Its folder ingested again (as a daily job does): it stays out, and the summary says so.
    r = run_qa("ingest", *backend.cli_args, str(seeds_copy))
    assert r.returncode == 0 and "0 added" in r.stdout and "1 unchanged" in r.stdout, r.stdout
    assert "1 left out, as qa remove took them out (name the file to add them back)" in r.stdout
    assert [a["id"] for a in listed(*backend.cli_args)] == [before[0]["id"]]
    (seeds_copy / CARRIER_SEED).write_text((seeds_copy / CARRIER_SEED).read_text())  # touched: read again
    r = run_qa("ingest", *backend.cli_args, str(seeds_copy))
    assert r.returncode == 0 and "0 added" in r.stdout and "1 left out" in r.stdout, r.stdout
    assert not cites_carrier(ask(backend, CARRIER))
    # The file named: it comes back.
    r = run_qa("ingest", *backend.cli_args, str(seeds_copy / CARRIER_SEED))
    assert r.returncode == 0 and "1 added" in r.stdout and "left out" not in r.stdout, r.stdout
    assert listed(*backend.cli_args) == before
    assert cites_carrier(ask(backend, CARRIER))
    r = run_qa("ingest", *backend.cli_args, str(seeds_copy))
    assert r.returncode == 0 and "2 unchanged" in r.stdout and "left out" not in r.stdout, r.stdout


def test_a_source_header_is_kept_beside_the_url(tmp_path):
    """``source: Reuters`` and ``url: ...`` both kept: listed, and --source finds the article by either."""
    folder, index = tmp_path / "news", ["--index", str(tmp_path / "index")]
    folder.mkdir()
    (folder / "a.txt").write_text(
        "title: Rockets hit Al-Asad\nurl: https://news.test/asad\nsource: Reuters\ndate: 2024-08-05\n\n"
        "Rockets hit the Al-Asad airbase in western Iraq on Monday, wounding five US personnel.\n"
    )
    (folder / "b.txt").write_text("title: Storm\nsource: AP\n\nA storm closed the harbour of Ostend on Monday.\n")
    assert run_qa("ingest", *index, str(folder)).returncode == 0
    by_title = {a["title"]: a for a in json.loads(run_qa("articles", "--json", *index).stdout)}
    assert (by_title["Rockets hit Al-Asad"]["url"], by_title["Rockets hit Al-Asad"]["publisher"]) == (
        "https://news.test/asad",
        "Reuters",
    )
    assert (by_title["Storm"]["url"], by_title["Storm"]["publisher"]) == (None, "AP")
    listing = run_qa("articles", *index).stdout
    assert "Reuters: https://news.test/asad" in listing and f"AP: {(folder / 'b.txt').resolve()}" in listing
    question = "Which airbase was hit by rockets?"
    for source in ("reuters", "news.test"):  # the publisher, the url
        r = run_qa("ask", "--json", "--source", source, "--as-of", "2024-08-06", *index, question)
        assert r.returncode == 0, r.stderr
        answer = json.loads(r.stdout)
        assert not answer["refused"] and answer["citations"][0]["source"] == "https://news.test/asad"
    r = run_qa("ask", "--json", "--source", "AP", "--as-of", "2024-08-06", *index, question)
    assert json.loads(r.stdout)["refused"]  # only the storm story is searched


def test_remove_by_id_or_its_start_and_unknown_ones(tmp_path, seeds_copy):
    index = ["--index", str(tmp_path / "index")]
    assert run_qa("ingest", *index, str(seeds_copy)).returncode == 0
    dated, undated = (a["id"] for a in json.loads(run_qa("articles", "--json", *index).stdout))
    r = run_qa("remove", *index, "deadbeef0000", dated[:8], str(tmp_path / "gone.txt"))
    assert_clean_error(r, 1, "not in the index", "'deadbeef0000'", "gone.txt", "qa articles")
    assert "removed" in r.stdout and dated[:12] in r.stdout  # the one that was there is out all the same
    assert [a["id"] for a in json.loads(run_qa("articles", "--json", *index).stdout)] == [undated]
    assert run_qa("remove", *index, undated).returncode == 0
    r = run_qa("articles", *index)
    assert r.returncode == 0 and "has no articles; add some with: qa ingest --index" in r.stdout


def test_the_python_api(tmp_path, seeds_copy):
    a = Assistant(tmp_path / "index")
    assert a.articles() == [] and not (tmp_path / "index").exists()  # listing does not make an index
    feed = seeds_copy / "feed.jsonl"
    feed.write_text(
        json.dumps({"title": "Bridge", "text": "The mayor opened the Kessel bridge.", "date": "2024-08-01"})
        + "\n"
        + json.dumps({"title": "Storm", "text": "A storm closed the harbour of Ostend.", "date": "2024-08-02"})
        + "\n"
    )
    a.ingest([seeds_copy])
    assert [r.title for r in a.articles()] == [DATED_TITLE, "Storm", "Bridge", UNDATED_TITLE]  # newest first
    bridge = next(r for r in a.articles() if r.title == "Bridge")
    assert bridge.sources == [f"{feed.resolve()}#1"]
    report = a.remove([bridge.id, "no-such-article"])
    assert [r.id for r in report.removed] == [bridge.id] and report.unknown == ["no-such-article"]
    assert report.chunks == bridge.chunks
    assert [r.title for r in a.articles()] == [DATED_TITLE, "Storm", UNDATED_TITLE]
    assert all("Kessel" not in p.text for p in a.search("Kessel bridge mayor"))
    report = a.ingest([seeds_copy])  # the folder again: the line stays out
    assert (report.added, report.left_out) == (0, 1) and len(a.articles()) == 3
    feed.write_text(feed.read_text() + json.dumps({"title": "Fair", "text": "The fair opened in Ghent."}) + "\n")
    report = a.ingest([seeds_copy])  # the feed changed: read again, its new line added, the removed one still out
    assert (report.added, report.left_out) == (1, 1) and "Bridge" not in [r.title for r in a.articles()]
    assert a.ingest([feed]).added == 1  # the feed named: its line comes back
    assert len(a.articles()) == 5 and a.ingest([seeds_copy]).left_out == 0
    assert [r.title for r in a.remove([seeds_copy]).removed] != [] and a.articles() == []  # a folder: all of it
    assert a.search("Kessel bridge") == []


# -- remove, cut short at every write -----------------------------------------------------------------


class Crash(BaseException):
    """The process dies here: raised inside a Chroma write, past every ``except Exception``."""


def test_a_remove_cut_short_at_any_write_ends_as_a_clean_remove(tmp_path, monkeypatch):
    from chromadb.api.models.Collection import Collection

    corpus, ingested = tmp_path / "corpus", tmp_path / "ingested"
    make_corpus(corpus, random.Random(20241202), n=6)
    assert run_qa("ingest", "--index", str(ingested), str(corpus)).returncode == 0  # not opened by this process
    feed_line = next(a["id"] for a in listed("--index", str(ingested)) if a["sources"][0].endswith("feed.jsonl#3"))
    items = [str(corpus / "desk"), feed_line]  # a folder (one of its articles has a copy outside it), a JSONL line
    clean = tmp_path / "clean"
    shutil.copytree(ingested, clean)
    assert run_qa("remove", "--index", str(clean), *items).returncode == 0
    expected = snapshot(clean)
    assert len(expected["articles"]) == 5 and not any(ids for f, ids in expected["files"].items() if "/desk/" in f)

    writes, crash_at = 0, 0

    def counted(real):
        def write(self, *args, **kwargs):
            nonlocal writes
            writes += 1
            if writes == crash_at:
                raise Crash
            return real(self, *args, **kwargs)

        return write

    for name in ("upsert", "update", "delete"):
        monkeypatch.setattr(Collection, name, counted(getattr(Collection, name)))
    while True:
        crash_at += 1
        index = tmp_path / f"cut-at-{crash_at}"
        shutil.copytree(ingested, index)
        writes = 0
        try:
            report = Assistant(index).remove(items)
            break  # it got past every write
        except Crash:
            pass
        _forget_client(index / "chroma")  # as a new process finds it
        saved, crash_at = crash_at, 0
        again = Assistant(index).remove(items)  # a remove cut short is finished by running it again
        assert set(again.unknown) <= set(items)
        assert assert_same_index(snapshot(index), expected) == (0, 0), f"cut at write {saved}"
        assert sorted(Assistant(index).retriever.keyword_index().ids) == sorted(expected["chunks"])
        crash_at = saved
    # Every write was a place to cut it: the state twice, the file records, each article's record and chunks.
    assert len(report.removed) == 7 and crash_at > 3 + 2 * 7

    # Ingesting the corpus folder again leaves the removed articles out; naming their files adds them
    # back, and then the index is the one a clean ingest of the corpus gives.
    r = run_qa("ingest", "--prune", "--index", str(clean), str(corpus))
    assert r.returncode == 0 and "0 added" in r.stdout and "7 left out" in r.stdout, r.stdout
    files = [str(f) for f in sorted(corpus.rglob("*")) if f.is_file()]
    r = run_qa("ingest", "--index", str(clean), *files)
    assert r.returncode == 0 and "0 added" not in r.stdout and "left out" not in r.stdout, r.stdout
    fresh = tmp_path / "fresh"
    assert run_qa("ingest", "--index", str(fresh), str(corpus)).returncode == 0
    assert assert_same_index(snapshot(clean), snapshot(fresh)) == (0, 0)


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_articles_of_a_missing_index_creates_nothing(tmp_path, extra):
    r = run_qa("articles", "--index", str(tmp_path / "none"), *extra)
    assert r.returncode == 0 and not (tmp_path / "none").exists()
    assert r.stdout.strip() == "[]" if extra else "has no articles; add some with: qa ingest" in r.stdout
