"""The extractive generator: matching question words, answers of the kind asked for, both articles' views."""

import pytest

from qa.reader.candidates import found


@pytest.mark.parametrize(
    "word, words, expected",
    [
        ("israeli", {"israel"}, True),  # inflections share a stem of at least 4 letters
        ("iranian", {"iran"}, True),
        ("october", {"oct"}, True),  # month abbreviations
        ("oct", {"october"}, True),
        ("art", {"article"}, False),  # too short to be a stem
        ("may", {"mayor"}, False),
        ("7", {"70"}, False),  # numbers match exactly
    ],
)
def test_found(word, words, expected):
    assert found(word, words) is expected


def _draft(gen, question, passages):
    return "".join(p for p in gen.stream(question, passages) if isinstance(p, str))


def test_a_how_many_or_when_without_a_number_or_date_is_refused():
    from qa.generators.extractive import ExtractiveGenerator
    from qa.types import REFUSAL, Passage

    text = "The mayor of Springfield opened the new bridge over the river. Crowds cheered the mayor."
    passages = [Passage("a:0", "a", text, 0, len(text), "Bridge opens", None, "a.txt")]
    gen = ExtractiveGenerator()
    assert _draft(gen, "How many bridges did the mayor of Springfield open?", passages) == REFUSAL
    assert _draft(gen, "When did the mayor of Springfield open the bridge?", passages) == REFUSAL


def test_when_the_articles_differ_both_are_reported_and_cited(seed_assistant):
    answer = seed_assistant.ask("How many U.S. personnel were injured in the attack on the base in Iraq?")
    assert "At least five" in answer.answer and "several" in answer.answer
    assert len({c.article_id for c in answer.citations}) == 2
