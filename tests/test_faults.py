"""Faults: ingests killed at random moments, damaged index folders, another embedding model,
an unreachable Chroma server. Each must end in the same index as a clean ingest, or in one
clear line that names the rebuild command; never a traceback, a hang or a silently empty index.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from qa import Assistant
from qa.embed import MODEL_ID
from qa.retrieve import KeywordIndex
from qa.store import Store, _forget_client

from .conftest import ROOT, SEEDS, run_qa
from .test_cli import assert_clean_error

CHUNKING = "cl100k_base/200/40"
WORDS = (
    "council mayor river bridge budget storm harbour school vote minister court police rail farm energy "
    "price market strike border treaty election museum hospital factory drought flood festival bank tax "
    "port coal wind solar village airport union teacher judge senator ship forest mine coast"
).split()
NAMES = "Ada Bram Cleo Dov Esme Femi Gus Hana Ivo Jun Kai Lia Milo Nia Omar Pia".split()


# -- a corpus that changes between runs ----------------------------------------------------------


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(7, 13))]
    words.insert(rng.randrange(len(words)), rng.choice(NAMES))
    words.insert(rng.randrange(len(words)), str(rng.randint(2, 9999)))
    return " ".join(words).capitalize() + "."


def article(rng: random.Random) -> str:
    n = rng.choice([2, 3, 4, 4, 5, 20])  # some span two or three chunks
    return " ".join(sentence(rng) for _ in range(n))


def write_article(path: Path, rng: random.Random, body: str | None = None) -> None:
    title = f"{rng.choice(NAMES)} and the {rng.choice(WORDS)} {rng.randint(1, 999)}"
    path.write_text(f"title: {title}\ndate: 2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}\n\n{body or article(rng)}\n")


def write_feed(path: Path, rng: random.Random, n: int) -> None:
    import json

    lines = [
        json.dumps({"title": f"Feed {i}", "text": article(rng), "url": f"https://example.com/{i}"}) for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n")


def make_corpus(folder: Path, rng: random.Random, n: int = 32) -> None:
    (folder / "desk").mkdir(parents=True)
    for i in range(n):
        write_article(folder / "desk" / f"{i:03d}.txt", rng)
    write_feed(folder / "feed.jsonl", rng, 6)
    shutil.copy(folder / "desk" / "003.txt", folder / "copy-of-003.txt")  # one article, two names


def mutate(folder: Path, rng: random.Random, n: int) -> list[str]:
    """``n`` random changes of the kinds a user makes between ingests."""
    done = []
    for _ in range(n):
        files = sorted(folder.rglob("*.txt"))
        kind = rng.choice(["edit", "edit", "header", "delete", "add", "add", "dup", "feed", "append"])
        f = rng.choice(files)
        if kind == "edit":
            write_article(f, rng)
        elif kind == "header":  # same body, new title and date
            body = f.read_text().split("\n\n", 1)[1]
            write_article(f, rng, body.strip())
        elif kind == "delete" and len(files) > 5:
            f.unlink()
        elif kind == "add":
            write_article(folder / "desk" / f"new-{rng.randrange(10**6)}.txt", rng)
        elif kind == "dup":
            shutil.copy(f, folder / f"dup-{rng.randrange(10**6)}-{f.name}")
        elif kind == "feed":  # lines move, some change
            lines = (folder / "feed.jsonl").read_text().splitlines()
            rng.shuffle(lines)
            lines.insert(rng.randrange(len(lines) + 1), "")
            if rng.random() < 0.5:
                import json

                lines[rng.randrange(len(lines))] = json.dumps({"title": "Feed x", "text": article(rng)})
            (folder / "feed.jsonl").write_text("\n".join(lines) + "\n")
        elif kind == "append":
            f.write_text(f.read_text() + sentence(rng) + "\n")
        done.append(kind)
    return done


# -- what an index holds ---------------------------------------------------------------------------


def snapshot(index: Path) -> dict:
    _forget_client(index / "chroma")  # other processes wrote it: read it afresh
    store = Store.open(index, embedding_model=MODEL_ID, chunking=CHUNKING)
    got = store.chunks.get(include=["metadatas", "documents", "embeddings"])
    chunks = {}
    for cid, meta, doc, vec in zip(got["ids"], got["metadatas"], got["documents"], got["embeddings"]):
        chunks[cid] = (doc, {k: v for k, v in meta.items() if k != "source"}, meta["source"], np.asarray(vec))
    articles = store.article_records(text=True)
    return {
        "store": store,
        "state": store.state(),
        "chunks": chunks,
        "articles": {a: (r.title, r.date, r.url, r.chunks, r.text, frozenset(r.sources)) for a, r in articles.items()},
        "heads": {a: r.sources[0] for a, r in articles.items()},
        "files": {p: r.articles for p, r in store.file_records().items()},
    }


def assert_same_index(got: dict, clean: dict) -> tuple[int, int]:
    """The index after crashes equals the clean one; returns (lost, duplicated) chunk counts."""
    assert got["state"]["dirty"] is False
    lost = set(clean["chunks"]) - set(got["chunks"])
    extra = set(got["chunks"]) - set(clean["chunks"])
    assert not lost and not extra, f"{len(lost)} chunks lost, {len(extra)} orphan or duplicate chunks"
    for cid, (doc, meta, _source, vec) in clean["chunks"].items():
        gdoc, gmeta, gsource, gvec = got["chunks"][cid]
        assert (gdoc, gmeta) == (doc, meta), cid
        assert gsource == got["heads"][meta["article_id"]]  # names a source that still holds it
        assert float(gvec @ vec) > 0.999, cid  # the same text's vector, not an old one
    assert got["articles"] == clean["articles"]  # titles, dates, texts, chunk counts, every source
    assert got["files"] == clean["files"]
    per_article = {a: n for a, (_, _, _, n, _, _) in got["articles"].items()}
    assert len(got["chunks"]) == sum(per_article.values())  # no article half old, half new
    # Every vector is in the vector index: each chunk finds itself. The search is approximate (HNSW), so
    # a chunk not among its own 3 nearest is looked for again among its 50 nearest: missing there too,
    # its vector is not in the graph (a write lost), and the message shows what was found instead.
    ids = list(got["chunks"])

    def nearest(cids: list[str], n: int) -> dict[str, list[tuple[str, float]]]:
        hits = got["store"].chunks.query(
            query_embeddings=[got["chunks"][c][3] for c in cids], n_results=n, include=["distances"]
        )
        return {c: list(zip(found, dist)) for c, found, dist in zip(cids, hits["ids"], hits["distances"])}

    def finds_itself(cid: str, found: list[tuple[str, float]]) -> bool:
        return any(f == cid or d < 1e-4 for f, d in found)

    missed = [c for c, found in nearest(ids, 3).items() if not finds_itself(c, found)]
    if missed:
        deeper = nearest(missed, min(50, len(ids)))
        lost_vectors = {c: deeper[c][:3] for c in missed if not finds_itself(c, deeper[c])}
        assert not lost_vectors, f"{len(lost_vectors)} chunks' vectors not found among their 50 nearest: {lost_vectors}"
    return len(lost), len(extra)


# -- killing real ingests --------------------------------------------------------------------------


def holds_lock(pid: int, lock: Path) -> bool:
    """The process has the index's ingest lock open: imports are done and writing can begin."""
    try:
        return any(os.readlink(f"/proc/{pid}/fd/{fd}") == str(lock) for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


def ingest_process(index: Path, corpus: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "QA_INGEST_BATCH": "4", "QA_THREADS": "1"}  # small batches: many commit points
    return subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "ingest", "--prune", *extra, "--index", str(index), str(corpus)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_during_ingest(index: Path, corpus: Path, rng: random.Random, window: float, *extra: str) -> bool:
    """Start an ingest and SIGKILL it at a random moment after it takes the lock; False if it finished first."""
    proc = ingest_process(index, corpus, *extra)
    lock = index / "ingest.lock"
    deadline = time.monotonic() + 60
    while not holds_lock(proc.pid, lock) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(rng.uniform(0, window))
    finished = proc.poll() is not None
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate(timeout=30)
    assert "Traceback" not in err, err
    return not finished


def completed_ingest(index: Path, corpus: Path) -> float:
    t0 = time.monotonic()
    proc = ingest_process(index, corpus)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and "Traceback" not in err, (out, err)
    return time.monotonic() - t0


def test_killed_ingests_end_in_the_index_a_clean_ingest_gives(tmp_path):
    rng = random.Random(20241122)
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    make_corpus(corpus, rng)
    window = max(completed_ingest(index, corpus) - 2.5, 1.0)  # roughly the time after start-up
    kills = attempts = changes = 0
    for round_ in range(2):
        killed = 0
        while killed < 5 and attempts < 30:
            changes += len(mutate(corpus, rng, 15 if killed == 0 else rng.randint(0, 8)))
            rebuild = ("--rebuild",) if round_ == 1 and killed == 0 else ()
            attempts += 1
            if kill_during_ingest(index, corpus, rng, window, *rebuild):
                killed += 1
            else:  # it finished first: aim earlier
                window = max(window * 0.6, 0.2)
        kills += killed
        completed_ingest(index, corpus)
        clean_dir = tmp_path / f"clean-{round_}"
        Assistant(clean_dir).ingest([corpus], prune=True)
        assert assert_same_index(snapshot(index), snapshot(clean_dir)) == (0, 0)  # lost, duplicated
        # The keyword index follows the chunks too.
        keyword = Assistant(index).retriever.keyword_index()
        assert sorted(keyword.ids) == sorted(snapshot(index)["chunks"])
    print(
        f"\nkill test: {kills} of {attempts} ingests killed mid-way, {changes} corpus changes, "
        "2 comparisons with a clean index: 0 chunks lost or duplicated"
    )
    assert kills >= 10


# -- interrupting real ingests (Ctrl-C, SIGTERM) ----------------------------------------------------

INTERRUPTED = re.compile(r"qa: interrupted: (\d+) of (\d+) articles kept; run the same command to finish")


def interrupt_ingest(index: Path, corpus: Path, signals: tuple[int, ...], delay: float):
    """Start an ingest, send it ``signals`` ``delay`` seconds after it takes the lock; None if it finished first."""
    proc = ingest_process(index, corpus)
    lock = index / "ingest.lock"
    deadline = time.monotonic() + 60
    while not holds_lock(proc.pid, lock) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(delay)
    if proc.poll() is not None:
        proc.communicate()
        return None
    for signum in signals:
        proc.send_signal(signum)
        time.sleep(0.05)
    out, err = proc.communicate(timeout=60)  # it stops, it does not hang
    return proc.returncode, out, err


def in_index(index: Path) -> tuple[int, int]:
    """(sources of live articles, their chunks): what an interrupted ingest kept."""
    _forget_client(index / "chroma")
    records = Store.open(index, embedding_model=MODEL_ID, chunking=CHUNKING).article_records()
    return sum(len(r.sources) for r in records.values()), sum(r.chunks for r in records.values())


def test_interrupted_ingests_keep_their_work_and_the_next_one_finishes_it(tmp_path):
    """Ctrl-C and SIGTERM (once, or twice: then at once) at several points of real ingests, each
    taking up where the last stopped; then one to the end: the index a clean ingest gives, and
    what the interrupted ones kept is not embedded again."""
    rng = random.Random(1414)
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    make_corpus(corpus, rng, n=250)
    articles = 250 + 6 + 1  # files, feed lines, the copy
    clean_dir = tmp_path / "clean"
    Assistant(clean_dir).ingest([corpus], prune=True)
    clean = snapshot(clean_dir)
    plan = [  # signals, and seconds after the ingest takes the lock (the model loads first)
        ((signal.SIGINT,), 1.0),
        ((signal.SIGTERM,), 2.0),
        ((signal.SIGINT,), 1.5),
        ((signal.SIGTERM,), 2.5),
        ((signal.SIGINT, signal.SIGINT), 1.5),
    ]
    kept_before, late, stops = 0, 0.0, []
    for signals, delay in plan:
        got = interrupt_ingest(index, corpus, signals, delay + late)
        if got is None or got[0] == 0:  # it finished first: nothing left to interrupt
            assert got is None or "chunks written" in got[1], got
            break
        code, out, err = got
        assert code == 130 and out == "" and "Traceback" not in err, (code, out, err)
        lines = err.splitlines()
        assert len(lines) == 1, err  # exactly one line
        if lines == ["qa: interrupted"]:  # before it began writing: it leaves at once
            late += 0.5
            continue
        match = INTERRUPTED.fullmatch(lines[0])
        assert match, err
        kept, total = int(match[1]), int(match[2])
        sources, chunks = in_index(index)
        assert total == articles
        assert kept >= kept_before  # nothing kept before was lost
        assert kept == sources if len(signals) == 1 else kept <= sources  # twice: it leaves at once, maybe mid-write
        stops.append((signals, kept, chunks))
        kept_before = kept
    assert len(stops) >= 3 and stops[-1][1] > stops[0][1], stops  # several stops, and the later ones kept more
    _, kept_chunks = in_index(index)
    proc = ingest_process(index, corpus)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and "Traceback" not in err, (out, err)
    written = int(re.search(r"(\d+) chunks written", out)[1])  # type: ignore[index]
    assert written == len(clean["chunks"]) - kept_chunks  # what was kept is not embedded again
    assert assert_same_index(snapshot(index), clean) == (0, 0)  # lost, duplicated
    print(f"\ninterrupted ingests (signals, articles kept, chunks kept): {stops}; then {written} chunks written")


def test_keyword_cache_of_an_old_index_is_not_reused_after_rebuild(tmp_path, seeds_copy):
    a = Assistant(tmp_path / "index")
    a.ingest([seeds_copy])
    a.search("troops")  # the keyword cache is on disk now
    only = tmp_path / "only"
    only.mkdir()
    shutil.copy(next(seeds_copy.glob("000_*.txt")), only)
    b = Assistant(tmp_path / "index")
    b.ingest([only], rebuild=True)
    ids = set(b.store.chunk_article_ids())
    assert set(b.retriever.keyword_index().ids) == ids
    saved = KeywordIndex.load(tmp_path / "index" / "keyword")
    assert saved is None or set(saved.ids) == ids


# -- another embedding model ----------------------------------------------------------------------


def test_other_embedding_model_is_a_clear_error_and_rebuild_works(tmp_path, seeds_copy):
    index = tmp_path / "index"
    Assistant(index).ingest([seeds_copy])
    # A qa that embeds with another model opens it: the store says what is wrong, the Assistant the command.
    with pytest.raises(Exception) as e:
        Store.open(index, embedding_model="other-model-v2", chunking=CHUNKING)
    msg = str(e.value)
    assert MODEL_ID in msg and "other-model-v2" in msg
    newer = Assistant(index)
    newer.embedder.model_id = "other-model-v2"
    with pytest.raises(Exception) as e:
        newer.stats()
    msg = str(e.value)
    assert MODEL_ID in msg and "other-model-v2" in msg and f"qa ingest --rebuild --index {index}" in msg
    # Now as a user meets it: an index built by a qa with another model.
    other = tmp_path / "other"
    Store.open(other, embedding_model="other-model-v2", chunking=CHUNKING)
    for args in (["info"], ["ask", "How many US troops are in Iraq?"], ["ingest", str(seeds_copy)]):
        assert_clean_error(run_qa(*args, "--index", str(other)), 1, "other-model-v2", MODEL_ID, "--rebuild")
    r = run_qa("ingest", "--rebuild", "--index", str(other), str(seeds_copy))
    assert r.returncode == 0 and "2 added" in r.stdout, r.stderr
    r = run_qa("ask", "--json", "--index", str(other), "How many US troops are in Iraq?")
    assert r.returncode == 0 and "2,500" in r.stdout


# -- a damaged index folder -----------------------------------------------------------------------


def _segment(index: Path) -> Path:
    """The chunks' vector segment: the biggest (384 numbers a vector)."""
    return max(
        (p for p in (index / "chroma").iterdir() if p.is_dir()), key=lambda p: (p / "data_level0.bin").stat().st_size
    )


DAMAGE = {
    "sqlite truncated to 0": lambda ix: os.truncate(ix / "chroma" / "chroma.sqlite3", 0),
    "sqlite truncated half-way": lambda ix: os.truncate(
        ix / "chroma" / "chroma.sqlite3", (ix / "chroma" / "chroma.sqlite3").stat().st_size // 2
    ),
    "sqlite deleted": lambda ix: (ix / "chroma" / "chroma.sqlite3").unlink(),
    "chroma folder deleted": lambda ix: shutil.rmtree(ix / "chroma"),
    "vector segment deleted": lambda ix: shutil.rmtree(_segment(ix)),
    "vector file truncated": lambda ix: os.truncate(_segment(ix) / "data_level0.bin", 1000),
    "vector header cut": lambda ix: os.truncate(_segment(ix) / "header.bin", 10),
}


@pytest.fixture(scope="module")
def big_index(tmp_path_factory) -> Path:
    """An index whose vectors Chroma has persisted to segment files (over 1,000 per collection)."""
    index = tmp_path_factory.mktemp("big") / "index"
    store = Store.open(index, embedding_model=MODEL_ID, chunking=CHUNKING)
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(1500, 384)).astype("float32")
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    ids = [f"a{i}:0" for i in range(1500)]
    meta = [
        {"article_id": f"a{i}", "title": "t", "source": "s", "start": 0, "end": 4, "index": 0, "tokens": 1}
        for i in range(1500)
    ]
    store.add_chunks(ids, vecs, ["text"] * 1500, meta)
    from qa.store import ArticleRecord

    store.put_articles([ArticleRecord(f"a{i}", "t", None, None, ["s"], 1, "text") for i in range(1500)])
    store.set_state(generation=1)
    return index


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_index_is_a_clear_error_never_an_empty_index(damage, big_index, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(big_index, index)
    DAMAGE[damage](index)
    before = sorted(str(p.relative_to(index)) for p in index.rglob("*"))
    args = [["ask", "--json", "text"], ["info"], ["ingest", str(SEEDS)]][list(DAMAGE).index(damage) % 3]
    assert_clean_error(run_qa(*args, "--index", str(index)), 1, "damaged", f"qa ingest --rebuild --index {index}")
    after = sorted(str(p.relative_to(index)) for p in index.rglob("*") if p.name != "ingest.lock")
    assert after == before  # nothing created over the damage


def test_rebuild_replaces_a_damaged_index(tmp_path):
    index = tmp_path / "index"
    assert run_qa("ingest", "--index", str(index), str(SEEDS)).returncode == 0
    os.truncate(index / "chroma" / "chroma.sqlite3", 0)
    assert_clean_error(run_qa("ingest", "--index", str(index), str(SEEDS)), 1, "damaged", "--rebuild")
    r = run_qa("ingest", "--rebuild", "--index", str(index), str(SEEDS))
    assert r.returncode == 0 and "2 added" in r.stdout, r.stderr
    r = run_qa("ask", "--json", "--index", str(index), "How many US troops are in Iraq?")
    assert r.returncode == 0 and "2,500" in r.stdout


# -- an unreachable Chroma server -----------------------------------------------------------------


def test_closed_chroma_port_is_a_clear_error(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends
    for args in (["info"], ["ask", "Who won?"], ["ingest", str(SEEDS)]):
        t0 = time.monotonic()
        r = run_qa(*args, "--chroma-url", f"http://127.0.0.1:{port}", timeout=60)
        assert_clean_error(r, 1, "cannot reach the Chroma server", str(port))
        assert time.monotonic() - t0 < 50  # bounded (a generous bound, not a speed test)


def test_silent_chroma_server_times_out(tmp_path):
    """A server that accepts connections and never answers: an error, not a hang."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        port = s.getsockname()[1]
        r = run_qa(
            "info", "--chroma-url", f"http://127.0.0.1:{port}", env={**os.environ, "QA_CHROMA_TIMEOUT": "2"}, timeout=60
        )
    assert_clean_error(r, 1, "cannot reach the Chroma server", "timed out")
