"""Answers about the seed articles, from the embedded index and from a Chroma server:
the right fact, a citation whose quote holds it, refusals."""

import json

import pytest

from qa.load import load_file
from qa.types import REFUSAL

from .conftest import SEEDS, run_qa


@pytest.fixture(scope="module")
def article_texts():
    out = {}
    for path in SEEDS.glob("*.txt"):
        [a], _ = load_file(path)
        out[a.id] = a.text
    return out


@pytest.mark.parametrize(
    "question, fact",
    [
        ("How many US troops are in Iraq?", "2,500"),
        # Answer models 14 to 27 refused it: spaCy reads "Defense Lloyd Austin" as an ORG, and "who is
        # the ..." had no head word. Model 28 reads "who is the US Secretary ..." as asking for a
        # secretary, and "Austin" beside "Secretary" is shown as "Lloyd Austin".
        ("Who is the US Secretary of Defense?", "Lloyd Austin"),
        ("Which airbase in western Iraq was attacked?", "Al-Asad"),
        ("How many U.S. troops were killed in the January attack on Tower 22 in Jordan?", "Three"),
    ],
)
def test_answers_fact_with_citation_quoting_it(seed_backend, article_texts, question, fact):
    answer = seed_backend.assistant.ask(question)
    assert not answer.refused
    assert fact in answer.answer
    assert any(fact in c.quote for c in answer.citations)
    for c in answer.citations:
        assert article_texts[c.article_id][c.start : c.end] == c.quote
        assert f"[{c.n}]" in answer.answer


@pytest.mark.parametrize(
    ("question", "short"),
    [
        ("How many US troops does Iraq host?", "2,500"),
        ("How many U.S. troops were killed in the January attack on Tower 22 in Jordan?", "Three"),
        # Answer models 26 to 28 answered "At least five US personnel" or "Iranian-backed militia groups";
        # model 29's second span model, which reads the span reader, puts "USS Abraham Lincoln carrier
        # strike group" first (docs/answers.md).
        ("Which carrier strike group has the U.S. moved to the Middle East?", "USS Abraham Lincoln"),
        ("In which city was Ismail Haniyeh when he was assassinated?", "Tehran"),
        ("Which top Hezbollah military leader did Israeli forces strike?", "Fuad Shukr"),
        # Answer models 25, 26 and 28 answered "personnel" or "At least five US personnel" (the span repeats
        # the question's word "airbase", which counts against it); models 27 and 29 answer it.
        ("Which airbase in western Iraq was attacked?", "Al-Asad"),
    ],
)
def test_short_answer_names_the_fact_and_is_quoted_from_its_citation(seed_backend, question, short):
    answer = seed_backend.assistant.ask(question)
    assert answer.short_answer is not None and short in answer.short_answer
    cited = next(c for c in answer.citations if c.n == answer.short_citation)
    assert answer.short_answer in cited.quote or answer.short_answer in cited.title


@pytest.mark.parametrize("question", ["What is the capital of France?", "Who won the 2022 FIFA World Cup?"])
def test_refuses_what_the_articles_cannot_answer(seed_backend, question):
    answer = seed_backend.assistant.ask(question)
    assert answer.refused and answer.answer == REFUSAL and answer.citations == ()


def test_ask_json_shape(seed_backend, article_texts):
    r = run_qa("ask", "--json", *seed_backend.cli_args, "How many US troops are in Iraq?")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert {"question", "answer", "refused", "citations"} <= set(data)
    assert data["refused"] is False and data["citations"]
    for c in data["citations"]:
        assert set(c) == {"n", "title", "date", "source", "quote", "start", "end"}
        assert c["quote"] in article_texts.values() or any(
            t[c["start"] : c["end"]] == c["quote"] for t in article_texts.values()
        )
        assert f"[{c['n']}]" in data["answer"]
    import re

    assert {int(n) for n in re.findall(r"\[(\d+)\]", data["answer"])} == {c["n"] for c in data["citations"]}


def test_ask_prints_answer_and_sources(seed_backend):
    r = run_qa("ask", *seed_backend.cli_args, "How many US troops are in Iraq?")
    assert r.returncode == 0, r.stderr
    assert "2,500" in r.stdout and "Sources" in r.stdout and "[1]" in r.stdout and "2024-08-06" in r.stdout


def test_python_api_answer_is_immutable(seed_assistant):
    import dataclasses

    answer = seed_assistant.ask("How many US troops are in Iraq?")
    with pytest.raises(dataclasses.FrozenInstanceError):
        answer.answer = "x"  # type: ignore[misc]
    assert answer.to_dict()["question"] == "How many US troops are in Iraq?"
