"""Packing passages into a token budget: most relevant first, whole sentences, exact offsets."""

from qa.budget import fit_passages
from qa.chunk import split_sentences
from qa.types import Passage


def make(text, start=0, n=0):
    return Passage(f"p{n}", "a", text, start, start + len(text), "T", None, "s")


def words(_n, p):
    return len(p.text.split())


def test_worked_example_from_the_docstring():
    a, b = make("One two three."), make("Four five. Six seven. Eight nine.", start=100, n=1)
    out = fit_passages([a, b], 7, words)
    assert [p.text for p in out] == ["One two three.", "Four five. Six seven."]
    assert (out[1].start, out[1].end) == (100, 121)


def test_stops_at_the_first_passage_that_does_not_fit_at_all():
    a, b, c = make("One two three four five."), make("Six seven eight nine ten."), make("Short.")
    assert [p.text for p in fit_passages([a, b, c], 7, words)] == ["One two three four five."]


def test_generator_budget_with_tiktoken(seed_assistant):
    from qa.generators.openai import OpenAIGenerator, render_passage

    question = "How many US troops are in Iraq?"
    passages = seed_assistant.search(question)
    gen = OpenAIGenerator(base_url="http://127.0.0.1:9/v1", context_tokens=700, answer_tokens=100)
    budget = gen.passage_budget(question)
    out = gen.fit(question, passages)
    assert 0 < len(out) < len(passages)  # the budget binds
    assert sum(gen.count_tokens(render_passage(n, p)) + 2 for n, p in enumerate(out, 1)) <= budget
    assert [p.id for p in out] == [p.id for p in passages[: len(out)]]  # most relevant first
    last, orig = out[-1], passages[len(out) - 1]
    assert orig.text.startswith(last.text) and last.end == last.start + len(last.text)
    assert split_sentences(last.text)[-1][1] == len(last.text)  # ends at a sentence end
    big = OpenAIGenerator(base_url="http://127.0.0.1:9/v1", context_tokens=100_000, answer_tokens=100)
    assert big.fit(question, passages) == passages
