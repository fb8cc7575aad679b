"""The relevance gate that lets LLM generators refuse without a model call."""

import pytest

from qa.relevance import coverage, is_relevant


def test_coverage_worked_example():
    assert coverage("How many US troops are in Iraq?", "Iraq hosts 2,500 US troops.") == 1.0
    assert coverage("What is the capital of France?", "Iraq hosts 2,500 US troops.") == 0.0


@pytest.mark.parametrize(
    "question, relevant",
    [
        ("How many US troops are in Iraq?", True),
        ("Who is the US Secretary of Defense?", True),
        ("What did Biden discuss in the Situation Room?", True),
        ("What is the capital of France?", False),
        ("Who won the 2022 FIFA World Cup?", False),
        ("How do I bake bread?", False),
    ],
)
def test_seed_questions(seed_assistant, question, relevant):
    assert is_relevant(question, seed_assistant.search(question)) is relevant


def test_nothing_retrieved_is_not_relevant():
    assert not is_relevant("anything", [])
