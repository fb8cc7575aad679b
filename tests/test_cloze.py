"""Cloze questions from the training articles: the span reader's first lesson (qa/cloze.py)."""

from __future__ import annotations

import gzip
import json
import random
import re

from qa import cloze
from qa.cloze import Cloze, content_words, make, question_phrase
from qa.train_reader import CLOZE_EXAMPLES, first_lesson

STOP = frozenset({"the", "a", "on", "to", "was", "by", "who", "of", "and", "in", "would"})


def test_a_sentence_becomes_a_question_for_one_of_its_names():
    rng = random.Random(0)
    s = "On Friday President Joe Biden said the talks would go on."
    assert cloze.cloze(s, 20, 29, "who", STOP, rng) == "On Friday which president said the talks would go on?"
    s = "Lloyd Austin said on Friday the talks would go on."
    assert cloze.cloze(s, 0, 12, "who", STOP, rng) == "Who said on Friday the talks would go on?"
    s = "Iraq hosts 2,500 US troops, officials said."
    assert cloze.cloze(s, 11, 16, "how many", STOP, rng) == "Iraq hosts how many US troops, officials said?"
    long = "One two three four five six seven eight nine ten eleven twelve then Paris and the words that follow it"
    at = long.index("Paris")
    q = cloze.cloze(long, at, at + 5, "which city", STOP, rng)
    assert q.split()[:2] == ["four", "five"] and q.endswith("which city and the words that follow it?")  # ten before


def test_each_kind_of_name_is_asked_for_as_a_quiz_asks():
    assert question_phrase("PERSON", "Lloyd Austin") == "who"
    assert question_phrase("GPE", "France") == "which country"
    assert question_phrase("GPE", "Texas") == "which state"
    assert question_phrase("GPE", "Chicago") == "which city"
    assert question_phrase("CARDINAL", "2,500") == "how many"
    assert question_phrase("NORP", "Democratic") is None  # a party or a nationality answers no quiz question


def _week(*sentences: tuple[str, str, list[str]]) -> tuple[dict, list]:
    """One week's sentences (article id, sentence, its names) as sample_sentences and spaCy give them."""
    by_week = {"20240802": [(aid, s) for aid, s, _ in sentences]}
    ents = [
        [(s.index(n), s.index(n) + len(n), "PERSON" if " " in n else "GPE", n) for n in names]
        for _, s, names in sentences
    ]
    return by_week, ents


def test_the_same_name_in_another_outlets_sentence_is_the_answer_to_read(monkeypatch):
    monkeypatch.setattr(cloze, "DROP", 0.0)  # every question keeps its sentence's words
    week = [
        ("a", "Tim Walz was chosen on Tuesday as the running mate of Kamala Harris.", ["Tim Walz", "Kamala Harris"]),
        ("b", "Harris chose Minnesota Governor Tim Walz as her running mate for November.", ["Minnesota", "Tim Walz"]),
        ("c", "Running mate debates drew large audiences across the country last year.", []),
        ("d", "The weather in Chicago stayed dry for the whole of the week.", ["Chicago"]),
    ]
    by_week, ents = _week(*week)
    got: list[Cloze] = []
    for seed in range(40):
        got += make(by_week, ents, random.Random(seed), STOP)
    assert {c.kind for c in got} == {"pair", "self", "negative"}
    for c in got:
        assert c.question.endswith("?") and c.week == "20240802"
        if c.kind == "pair":  # asked from one article's sentence, read in the other's
            assert c.sentence[slice(*c.answer)] == "Tim Walz" and "Walz" not in c.question
            assert c.question.split()[0] == ("Harris" if c.sentence.startswith("Tim Walz") else "Who")
        elif c.kind == "self":
            assert c.sentence[slice(*c.answer)] in c.sentence and c.question != c.sentence
        else:  # another sentence that shares the question's words, not its answer
            own = max(week, key=lambda w: len(set(w[1].split()) & set(c.question.split())))
            asked = [n for n in own[2] if n not in c.question]
            assert c.answer is None and c.sentence != own[1] and not any(n in c.sentence for n in asked[-1:])
            assert len(content_words(c.question, STOP) & content_words(c.sentence, STOP)) >= 2


def test_the_first_lesson_takes_its_half_of_the_weeks_and_no_more_copies_than_pairs():
    def c(week, kind, i):
        return Cloze(week, f"Who {i}?", f"Sentence {i}.", None if kind == "negative" else (0, 8), kind)

    made = [c("w1", "pair", i) for i in range(3)] + [c("w1", "self", i) for i in range(10)]
    made += [c("w1", "negative", 99), c("w2", "pair", 100)]
    lesson = first_lesson(made, {"w1"}, seed=0)
    assert len(lesson) == 3 + 1 + 3 and sum(e.answer is None for e in lesson) == 1
    assert all(e.question != "Who 100?" for e in lesson)
    assert CLOZE_EXAMPLES >= 27_545  # the even half's lesson is taken whole


def test_build_reads_the_articles_once_and_keeps_the_examples(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    texts = [
        "Tim Walz was chosen on Tuesday as the running mate of Kamala Harris in Philadelphia.",
        "Harris chose Minnesota Governor Tim Walz as her running mate for the November election.",
    ]
    with gzip.open(data / "articles.jsonl.gz", "wt") as f:
        for i, t in enumerate(texts):
            f.write(json.dumps({"id": f"a{i}", "week": "20240809", "title": "", "text": t}) + "\n")
    monkeypatch.setattr(cloze, "SELF_SHARE", 1.0)  # two articles: every question is asked
    monkeypatch.setattr(cloze, "DROP", 0.0)
    first = cloze.build(data, tmp_path / "cache", log=lambda m: None)
    assert first and all(c.week == "20240809" for c in first)
    for c in first:  # spaCy's names, each asked for in its own sentence or the other one
        if c.answer is not None:
            answer = c.sentence[slice(*c.answer)]
            assert answer not in c.question and re.search(r"\b(who|which|when|how|what)\b", c.question, re.I)
    (data / "articles.jsonl.gz").unlink()  # the second time, from the cache
    assert cloze.build(data, tmp_path / "cache", log=lambda m: None) == first


def test_with_cloze_questions_each_reader_is_fitted_on_its_half_of_them_first(tmp_path, monkeypatch):
    """qa train --cloze: each half's reader learns its weeks' cloze questions, then goes on from there
    with the training questions; its files are not the plain readers'."""
    from qa import train_reader
    from qa.reader.candidates import Question
    from qa.train import Item

    made = [Cloze(w, f"Who {w}?", f"Ann Lee spoke in {w}.", (0, 7), "pair") for w in ("w0", "w1")]
    monkeypatch.setattr(cloze, "build", lambda data, cache, log: made)
    monkeypatch.setattr(train_reader, "can_fit", lambda: True)
    fitted = []

    def fit(data, seed=0, log=print, model=None, epochs=train_reader.EPOCHS):
        fitted.append(([e.question for e in data], model, epochs))
        return f"model {len(fitted)}"

    monkeypatch.setattr(train_reader, "fit", fit)
    monkeypatch.setattr(train_reader, "export", lambda model, path: path.write_text(model))
    items = [Item(f"q{w}", w, Question.read("Who spoke?", None), ["Ann Lee"], [], True) for w in ("w0", "w1")]
    files = train_reader.halves(items, [0, 1], tmp_path, log=lambda m: None, cloze_data=tmp_path)
    assert files == train_reader.half_files(tmp_path, cloze=True) != train_reader.half_files(tmp_path)
    assert fitted[0] == (["Who w0?"], None, train_reader.CLOZE_EPOCHS)  # half 0: its own week's cloze question
    assert fitted[1][1] == "model 1" and fitted[1][2] == train_reader.EPOCHS  # then the questions, from there
    assert fitted[2] == (["Who w1?"], None, train_reader.CLOZE_EPOCHS)
    assert [f.read_text() for f in files] == ["model 2", "model 4"]
