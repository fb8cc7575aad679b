"""LLM answers against real OpenAI-compatible servers on loopback (see tests/llm_servers.py).

SmolLM2-135M is far too weak to answer well; these tests check the plumbing. Prompts and answers
are kept small (a 1024-token context, a few dozen answer tokens, temperature 0) since the CPU is shared.
Where a test needs a known draft, llama.cpp is made to write it with a grammar (``extra_body``).
"""

from __future__ import annotations

import json
import os

import pytest

from qa.chunk import split_sentences
from qa.errors import QAError
from qa.types import REFUSAL, Answer

from .conftest import run_qa
from .llm_servers import ScriptedServer, free_port, smollm2_path, start_llama

KEY = "test-key-8f2c1b"  # the server's own key: a wrong one must get 401
CONTEXT = 640
ANSWER = 24
# Every real-server test asks QUESTION with the same passage budget (context - answer): the same
# prompt, which llama.cpp caches. A forced draft needs more answer tokens, so it gets more context.
SMALL = {"context_tokens": CONTEXT, "answer_tokens": ANSWER}
FORCED = {"context_tokens": CONTEXT + 40, "answer_tokens": ANSWER + 40}
QUESTION = "How many US troops are in Iraq?"


@pytest.fixture(scope="session")
def llama():
    server, base_url = start_llama(n_ctx=FORCED["context_tokens"], api_key=KEY)
    yield base_url
    del server


@pytest.fixture
def llm_assistant(seed_index, llama):
    from qa import Assistant

    def make(**options):
        return Assistant(seed_index, llm="openai", base_url=llama, api_key=KEY, **{**SMALL, **options})

    return make


def cli_env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "OPENAI_API_KEY": KEY,
        "QA_CONTEXT_TOKENS": str(CONTEXT),
        "QA_ANSWER_TOKENS": str(ANSWER),
        **extra,
    }


def gbnf_literal(text: str) -> str:
    return 'root ::= "' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- streaming, budget, citations through the real llama.cpp server -----------------------------------


def test_python_stream_yields_tokens_then_a_checked_answer(llm_assistant):
    items = list(llm_assistant().stream(QUESTION))
    pieces, answer = items[:-1], items[-1]
    assert len(pieces) >= 2 and all(isinstance(p, str) for p in pieces)  # token by token
    assert isinstance(answer, Answer) and answer.answer
    # The prompt fit the server's context (else llama.cpp answers 400), and the budget was binding.
    assert 0 < len(answer.passages) < len(llm_assistant().search(QUESTION))
    numbers = {c.n for c in answer.citations}
    for s in answer.sentences:
        assert set(s.citations) <= numbers
        if not s.citations:
            assert not s.supported  # never silently attributed


def test_forced_draft_resolves_citations_strips_invalid_and_marks_unsupported(llm_assistant, seed_assistant):
    def forced(draft: str):
        return llm_assistant(extra_body={"grammar": gbnf_literal(draft)}, **FORCED)

    first = forced("").generator.prepare(QUESTION, seed_assistant.search(QUESTION))[0]
    # A short sentence of passage 1, to be written word for word by the real model under a grammar.
    spans = [
        (a, b)
        for a, b in split_sentences(first.text)
        if first.text[a:b].isascii() and len(first.text[a:b].split()) >= 5
    ]
    a, b = min(spans, key=lambda s: s[1] - s[0])
    sentence = first.text[a:b].rstrip(".")
    draft = f"{sentence} [1]. Iran pays the militias [7]. The sky is green."
    answer = forced(draft).ask(QUESTION)
    assert answer.answer == f"{sentence} [1]. Iran pays the militias. The sky is green."
    assert [(s.citations, s.supported) for s in answer.sentences] == [((1,), True), ((), False), ((), False)]
    [c] = answer.citations
    assert c.quote == first.text[a:b] and c.start == first.start + a
    assert not answer.verified


def test_cli_streams_an_answer_from_the_real_server(seed_index, llama):
    r = run_qa("ask", "--index", str(seed_index), "--llm", "openai", "--base-url", llama, QUESTION, env=cli_env())
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() and "Traceback" not in r.stderr
    assert KEY not in r.stdout + r.stderr


DRAFT = ("Iraq hosts 2,500 US troops [1]. ", "Iran pays the militias [7]. ", "The sky is green.")


def test_cli_json_carries_sentence_support_marks(seed_index):
    with ScriptedServer("ok", pieces=DRAFT) as server:
        r = run_qa(
            "ask", "--json", "--index", str(seed_index), "--llm", "openai", "--base-url", server.base_url, QUESTION
        )
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["answer"] == "Iraq hosts 2,500 US troops [1]. Iran pays the militias. The sky is green."
    assert data["sentences"] == [
        {"text": "Iraq hosts 2,500 US troops.", "citations": [1], "supported": True, "reason": None},
        {"text": "Iran pays the militias.", "citations": [], "supported": False, "reason": "cites no passage"},
        {"text": "The sky is green.", "citations": [], "supported": False, "reason": "cites no passage"},
    ]
    assert "2,500" in data["citations"][0]["quote"]


def test_cli_marks_unsupported_sentences(seed_index):
    with ScriptedServer("ok", pieces=DRAFT) as server:
        r = run_qa("ask", "--index", str(seed_index), "--llm", "openai", "--base-url", server.base_url, QUESTION)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert (
        lines[0] == "Iraq hosts 2,500 US troops [1]. Iran pays the militias. [unsupported: cites no passage] "
        "The sky is green. [unsupported: cites no passage]"
    )
    assert lines[1].startswith("[unsupported]: not backed by the passages it cites (2 of 3 sentences)")
    assert "Sources" in r.stdout and "[1] " in r.stdout


def test_chat_with_an_llm_through_a_pipe(tmp_path, seed_index, llama):
    r = run_qa(
        "chat",
        "--index",
        str(seed_index),
        "--llm",
        "openai",
        "--base-url",
        llama,
        input=f"What is the capital of France?\n{QUESTION}\n",
        env=cli_env(),
    )
    assert r.returncode == 0, r.stderr
    assert REFUSAL in r.stdout and "Traceback" not in r.stderr


def test_rewrite_makes_a_follow_up_standalone(llm_assistant):
    gen = llm_assistant().generator
    assert gen.rewrite("How many are there?", []) == "How many are there?"  # no history: no call
    out = gen.rewrite("How many troops are there?", [("Which base was attacked?", "Al-Asad Airbase in Iraq [1].")])
    assert out.strip() and "\n" not in out


def test_gguf_generator_serves_a_local_file(seed_index):
    from qa import Assistant

    assistant = Assistant(seed_index, llm=f"gguf:{smollm2_path()}", context_tokens=CONTEXT, answer_tokens=16, threads=2)
    try:
        items = list(assistant.stream(QUESTION))
        assert isinstance(items[-1], Answer) and any(isinstance(i, str) for i in items)
    finally:
        assistant.generator.close()


def test_gguf_missing_file_is_a_usage_error(seed_index, tmp_path):
    r = run_qa("ask", "--index", str(seed_index), "--llm", f"gguf:{tmp_path / 'none.gguf'}", QUESTION)
    assert r.returncode == 2 and "no GGUF model file" in r.stderr and "Traceback" not in r.stderr


# -- refusal without a model call -------------------------------------------------------------------


def test_irrelevant_question_is_refused_without_calling_the_model(seed_index):
    from qa import Assistant

    dead = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens: any call would fail
    assistant = Assistant(seed_index, llm="openai", base_url=dead)
    answer = assistant.ask("What is the capital of France?")
    assert answer.refused and answer.answer == REFUSAL
    with pytest.raises(QAError, match="cannot reach the model server"):  # ...while a real question does call it
        assistant.ask(QUESTION)


# -- errors: one line, no secret, bounded retries -------------------------------------------------------


def assert_one_line_error(r, *words):
    assert r.returncode == 1, (r.stdout, r.stderr)
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("qa: error:") and "Traceback" not in r.stderr, r.stderr
    assert all(w in lines[0] for w in words), lines[0]


def test_wrong_key_gets_401_in_one_line_without_the_key(seed_index, llama):
    wrong = "sk-wrong-0123456789abcdef"
    r = run_qa(
        "ask",
        "--index",
        str(seed_index),
        "--llm",
        "openai",
        "--base-url",
        llama,
        QUESTION,
        env=cli_env(OPENAI_API_KEY=wrong),
    )
    assert_one_line_error(r, "401", "OPENAI_API_KEY")
    assert wrong not in r.stdout + r.stderr


def test_hosted_endpoint_without_a_key_names_the_variable(seed_index):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    r = run_qa("ask", "--index", str(seed_index), "--llm", "openai", QUESTION, env=env)
    assert_one_line_error(r, "OPENAI_API_KEY")


def test_chain_is_a_runnable(seed_assistant):
    from qa.generators.openai import OpenAIGenerator

    passages = seed_assistant.search(QUESTION)[:2]
    with ScriptedServer("ok", pieces=DRAFT) as server:
        chain = OpenAIGenerator(base_url=server.base_url).chain
        assert chain.invoke({"question": QUESTION, "passages": passages}) == "".join(DRAFT)
        assert chain.batch([{"question": QUESTION, "passages": passages}] * 2) == ["".join(DRAFT)] * 2
        assert "".join(chain.stream({"question": QUESTION, "passages": passages})) == "".join(DRAFT)


@pytest.mark.parametrize("behaviour, words", [("cut", "broke off"), ("early-end", "ended the answer early")])
def test_stream_cut_mid_answer(seed_assistant, behaviour, words):
    from qa.generators.openai import OpenAIGenerator

    with ScriptedServer(behaviour) as server:
        gen = OpenAIGenerator(base_url=server.base_url, max_retries=0, timeout=10)
        got = []
        with pytest.raises(QAError, match=words) as e:
            for piece in gen.stream(QUESTION, seed_assistant.search(QUESTION)[:1]):
                got.append(piece)
        assert "".join(got) == "Iraq hosts 2,500 US "  # the tokens before the cut did stream
        assert "\n" not in str(e.value)


@pytest.mark.parametrize("status, words", [(429, "rate limited"), (503, "HTTP 503")])
def test_retries_then_one_line(seed_assistant, status, words):
    from qa.generators.openai import OpenAIGenerator

    with ScriptedServer(status) as server:
        gen = OpenAIGenerator(base_url=server.base_url, max_retries=1, timeout=10)
        with pytest.raises(QAError, match=words):
            list(gen.stream(QUESTION, seed_assistant.search(QUESTION)[:1]))
        assert server.requests == 2  # one try and one retry: bounded


def test_timeout(seed_assistant):
    from qa.generators.openai import OpenAIGenerator

    with ScriptedServer("silent") as server:
        gen = OpenAIGenerator(base_url=server.base_url, max_retries=0, timeout=0.5)
        with pytest.raises(QAError, match=r"within 0\.5 s"):
            list(gen.stream(QUESTION, seed_assistant.search(QUESTION)[:1]))


def test_cli_reports_a_server_cut_in_one_line(seed_index):
    with ScriptedServer("cut") as server:
        r = run_qa("ask", "--index", str(seed_index), "--llm", "openai", "--base-url", server.base_url, QUESTION)
    assert_one_line_error(r, "broke off")
