"""The Assistant's own path, with a scripted generator (tests/fakes.py): the relevance gate, fitting
once, citations checked, settings and generator options."""

from __future__ import annotations

import pytest

from qa import Assistant
from qa.errors import UsageError
from qa.types import REFUSAL, Answer

QUESTION = "How many US troops are in Iraq?"


@pytest.fixture
def fake(seed_index):
    assistant = Assistant(seed_index, llm="fake")
    return assistant, assistant.generator


def test_the_gate_refuses_without_calling_the_generator(fake):
    assistant, gen = fake
    answer = assistant.ask("What is the capital of France?")
    assert answer.refused and answer.answer == REFUSAL
    assert gen.history == [] and gen.prepared == []


def test_a_generator_without_the_gate_is_called(fake):
    assistant, gen = fake
    gen.relevance_gate = False
    gen.enqueue(REFUSAL)
    assert assistant.ask("What is the capital of France?").refused
    assert [c.question for c in gen.history] == ["What is the capital of France?"]


def test_prepared_passages_are_what_the_generator_gets_and_citations_are_checked(fake):
    assistant, gen = fake
    gen.enqueue(["Iraq hosts 2,500 US troops ", "[1]. ", "The sky is green [9]."])
    items = list(assistant.stream(QUESTION))
    answer = items[-1]
    assert isinstance(answer, Answer) and [i for i in items[:-1]] == [
        "Iraq hosts 2,500 US troops ",
        "[1]. ",
        "The sky is green [9].",
    ]
    [call] = gen.history
    assert gen.prepared == [call.passages] and list(answer.passages) == call.passages  # prepared once, then used
    assert [(s.citations, s.supported) for s in answer.sentences] == [((1,), True), ((), False)]
    assert answer.answer == "Iraq hosts 2,500 US troops [1]. The sky is green."


def test_ask_retrieves_k_passages_when_told(fake):
    assistant, gen = fake
    assistant.ask(QUESTION, k=2)
    assistant.ask(QUESTION)
    assert [len(c.passages) for c in gen.history] == [2, assistant.k]


def test_a_generator_error_reaches_the_caller(fake):
    from qa.errors import QAError

    assistant, gen = fake
    gen.enqueue(QAError("the model server at x broke off the answer"))
    with pytest.raises(QAError, match="broke off"):
        assistant.ask(QUESTION)


def test_unknown_generator_options_name_the_known_ones(seed_index):
    with pytest.raises(UsageError, match=r"unknown generator option 'temprature'; known: .*temperature"):
        Assistant(seed_index, llm="fake", temprature=0.2)
    assert Assistant(seed_index, llm="fake", temperature=0.2).generator.options == {"temperature": 0.2}


def test_settings_come_from_arguments_then_environment_then_defaults(seed_index, monkeypatch):
    monkeypatch.setenv("QA_K", "3")
    monkeypatch.setenv("QA_CONTEXT_TOKENS", "2048")
    a = Assistant(seed_index, llm="fake", context_tokens=1024)
    s = a.settings
    assert (s.k, s.source("k")) == (3, "environment")
    assert (s.context_tokens, s.source("context_tokens")) == (1024, "argument")
    assert (s.answer_tokens, s.source("answer_tokens")) == (512, "default")
    assert (a.llm, s.source("llm")) == ("fake", "argument")
    assert len(a.search(QUESTION)) == 3


def test_a_bad_setting_is_one_line_naming_the_variable(seed_index, monkeypatch):
    monkeypatch.setenv("QA_THREADS", "auto")
    with pytest.raises(UsageError) as e:
        Assistant(seed_index)
    assert str(e.value) == "QA_THREADS must be a whole number of at least 0, got 'auto'"
    with pytest.raises(UsageError, match="context_tokens must be a whole number"):
        Assistant(seed_index, context_tokens="lots")


def test_the_llm_path_fits_the_passages_to_the_budget_once(seed_index):
    from .llm_servers import ScriptedServer

    with ScriptedServer("ok", pieces=("Iraq hosts 2,500 US troops [1].",)) as server:
        assistant = Assistant(seed_index, llm="openai", base_url=server.base_url, context_tokens=700, answer_tokens=100)
        gen = assistant.generator
        calls = []
        fit = gen.fit
        gen.fit = lambda question, passages: calls.append(len(passages)) or fit(question, passages)  # type: ignore[method-assign]
        answer = assistant.ask(QUESTION)
    assert len(calls) == 1 and not answer.refused
    assert 0 < len(answer.passages) < calls[0]  # the budget bound, and the fitted passages were the ones used
