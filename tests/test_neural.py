"""The span reader (qa.reader.neural): its features from hand-made scores, a real ONNX reader run on
real sentences (a tiny one the tests ship: each word piece's start and end logits looked up in a table,
"Lloyd" starts an answer and "Austin" ends one), and the same features at training and answer time."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from qa.reader import Reader, feature_names, neural
from qa.reader import candidates as cand
from qa.reader.candidates import Question, Sentence, Span
from qa.reader.model import ModelError, load
from qa.types import Passage

TINY = Path(__file__).parent / "fixtures" / "tiny_span_reader.onnx"


def scores_for(sentence: str, pieces: list[tuple[str, float, float]], null: float = 0.0) -> neural.SpanScores:
    """Scores of a sentence cut into ``pieces`` (word, start logit, end logit), each found in order."""
    offsets, at = [], 0
    for word, _, _ in pieces:
        at = sentence.index(word, at)
        offsets.append((at, at + len(word)))
        at += len(word)
    return neural.SpanScores(
        null,
        np.array([s for _, s, _ in pieces], dtype=np.float32),
        np.array([e for _, _, e in pieces], dtype=np.float32),
        np.array(offsets, dtype=np.int64),
    )


SENTENCE = "Talarico beat Crockett and Talarico won."
PIECES = [("Talarico", 3.0, 2.0), ("beat", 0.0, 0.0), ("Crockett", 1.0, 1.0), ("and", 0.0, 0.0)]
PIECES += [("Talarico", 1.0, 0.5), ("won", 0.0, 0.0), (".", -1.0, -1.0)]


def test_a_span_is_scored_by_its_best_occurrence_against_no_answer_and_every_other_span():
    s = scores_for(SENTENCE, PIECES, null=1.0)
    got = s.features("Talarico", SENTENCE)
    assert got["rd_logit"] == pytest.approx(5.0 - 1.0)  # the first "Talarico" (3 + 2), not the second (1.5)
    assert got["rd_rank"] == 0  # no span scores higher
    n = len(PIECES)
    pairs = [PIECES[i][1] + PIECES[j][2] for i in range(n) for j in range(i, n)]
    assert got["rd_prob"] == pytest.approx(np.exp(5.0) / (np.exp(np.array(pairs)).sum() + np.exp(1.0)), rel=1e-5)
    crockett = s.features("Crockett", SENTENCE)
    assert crockett["rd_logit"] == pytest.approx(1.0) and crockett["rd_rank"] > 0
    assert crockett["rd_prob"] < got["rd_prob"]
    # a span over several pieces: the first piece's start and the last one's end
    assert s.features("Crockett and Talarico", SENTENCE)["rd_logit"] == pytest.approx(1.0 + 0.5 - 1.0)


def test_a_span_the_reader_did_not_read_gets_values_no_read_span_has():
    s = scores_for(SENTENCE, PIECES)
    assert s.features("Texas", SENTENCE) == {k: neural.UNREAD[k] for k in neural.FEATURES[:3]}
    sents = [Sentence(0, SENTENCE, 0), Sentence(1, "Texas voted.", 60)]
    spans = [Span(0, 0, "Talarico", "PERSON"), Span(1, 1, "Texas", "GPE"), Span(0, 0, "talarico", "PERSON")]
    neural.add_reading(spans, sents, {SENTENCE: s})  # sentence 1 was not read
    assert spans[1].features == neural.UNREAD
    # the same words read anywhere: their best share
    assert spans[0].features["rd_text_max"] == spans[2].features["rd_text_max"] == spans[0].features["rd_prob"]
    assert 0 < spans[0].features["rd_prob"] <= 1
    # a span from its article's title (qa train --titles) is read in the title, not in its sentence
    title = "Talarico wins in Texas"
    headline = scores_for(title, [("Talarico", 0.0, 0.0), ("wins", 0.0, 0.0), ("in", 0.0, 0.0), ("Texas", 4.0, 4.0)])
    from_title = Span(0, 0, "Texas", "GPE", home=title)
    neural.add_reading([from_title], sents, {SENTENCE: s, title: headline})
    assert from_title.features["rd_logit"] == pytest.approx(8.0) and from_title.features["rd_rank"] == 0


def test_an_onnx_reader_reads_question_and_sentence_together_and_maps_pieces_to_the_sentence():
    reader = neural.SpanReader(TINY)
    sentence = "US Secretary of Defense Lloyd Austin spoke with Yoav Gallant on Monday."
    got, other = reader.score("Who is the US Secretary of Defense?", [sentence, "Nobody spoke."])
    assert len(got.start) == len(got.end) == len(got.offsets)
    assert [sentence[a:b] for a, b in got.offsets][:5] == ["US", "Secretary", "of", "Defense", "Lloyd"]
    assert got.null == 2.0  # [CLS]: 1 + 1
    austin, gallant = got.features("Lloyd Austin", sentence), got.features("Yoav Gallant", sentence)
    assert austin["rd_logit"] == pytest.approx(4 + 4 - 2) and austin["rd_rank"] == 0
    assert gallant["rd_logit"] == pytest.approx(2 + 2 - 2) and gallant["rd_rank"] == 2  # "Lloyd ... Gallant" too
    assert austin["rd_prob"] > 0.5 > gallant["rd_prob"]
    assert other.features("Nobody", "Nobody spoke.")["rd_logit"] == pytest.approx(-2.0)
    assert neural.session(TINY) is neural.session(TINY)  # one session per file and process
    neural.preload(TINY).join()


def test_a_missing_reader_file_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match=r"span reader .* is missing; rebuild it with"):
        neural.SpanReader(tmp_path / "none.onnx").score("Who?", ["Someone."])


def _passage(text: str) -> Passage:
    return Passage("a:0", "a", text, 0, len(text), "Pentagon talks", "2024-08-01", "x")


def test_training_reads_the_spans_as_answering_does(tmp_path):
    """qa train's held-out readings (a half's reader from the cache) give the features answering gives
    with the same reader file."""
    from qa import train_reader
    from qa.train import Item, add_readings

    for f in train_reader.half_files(tmp_path):
        shutil.copyfile(TINY, f)  # both halves: the same reader
    q = Question.read("Who is the US Secretary of Defense?", date(2024, 8, 2))
    text = "US Secretary of Defense Lloyd Austin spoke with Yoav Gallant. The talks lasted an hour in Baghdad."
    p = _passage(text)
    sents = cand.sentences(q, [p])
    cand.add_dense(sents, [0.5] * len(sents))
    found = {s.text: [] for s in sents}
    found[sents[0].text] = [cand.RawSpan(24, 36, "PERSON"), cand.RawSpan(48, 60, "PERSON")]
    spans = Reader.span_candidates(q, sents, [p], found)
    assert {sp.text for sp in spans} >= {"Lloyd Austin", "Yoav Gallant"}
    it = Item("q1", "2024-08-02", q, ["Lloyd Austin"], [p], True, sents, [Span(**vars(sp)) for sp in spans])
    for sp in it.spans:
        sp.features = dict(sp.features)
    add_readings([it], tmp_path)
    reader = Reader(embedder=None)
    reader.span_reader = neural.SpanReader(TINY)
    reader.add_reading(q, sents, spans)
    assert [sp.features for sp in it.spans] == [sp.features for sp in spans]
    assert max(spans, key=lambda sp: sp.features["rd_prob"]).text == "Lloyd Austin"
    names = feature_names(context=True, reading=True)[1]
    assert set(neural.FEATURES) <= set(names) and set(neural.FEATURES) <= set(spans[0].features)
    assert (tmp_path / f"readings-v{train_reader.VERSION}.pkl").exists()  # cached for the next run


def test_training_reads_the_sentences_as_answering_does(tmp_path):
    """qa train --sentence-reader gives each candidate sentence the reader's score that answering gives it
    with the same reader file; the sentence holding the answer reads surest."""
    from qa import train_reader
    from qa.train import Item, add_sentence_readings

    for f in train_reader.half_files(tmp_path):
        shutil.copyfile(TINY, f)
    q = Question.read("Who is the US Secretary of Defense?", date(2024, 8, 2))
    text = (
        "The talks lasted an hour in Baghdad on Monday. US Secretary of Defense Lloyd Austin spoke with Yoav Gallant."
    )
    p = _passage(text)
    sents = cand.sentences(q, [p])
    cand.add_dense(sents, [0.5] * len(sents))
    it = Item(
        "q1", "2024-08-02", q, ["Lloyd Austin"], [p], True, [replace(s, features=dict(s.features)) for s in sents]
    )
    add_sentence_readings([it], tmp_path)
    reader = Reader(embedder=None)
    reader.span_reader = neural.SpanReader(TINY)
    reader.add_sentence_reading(q, sents)
    assert [s.features for s in it.sentences] == [s.features for s in sents]
    surest = max(sents, key=lambda s: s.features["rd_sent"])
    assert "Lloyd Austin" in surest.text and surest.features["rd_sent_gap"] == 0.0
    assert all(s.features["rd_sent_gap"] < 0 for s in sents if s is not surest)
    assert set(neural.SENTENCE_FEATURES) <= set(feature_names(sentence_reading=True)[0])
    assert not set(neural.SENTENCE_FEATURES) & set(feature_names()[0])
    assert (tmp_path / f"sentence-readings-v{train_reader.VERSION}.pkl").exists()  # cached for the next run


def test_a_model_whose_sentences_read_the_reader_reads_every_candidate_sentence(tmp_path, monkeypatch):
    from qa.reader import nlp
    from tests.test_reader import _FakeEmbedder, _tiny_model

    text = "Defense Secretary Lloyd Austin met officials in Baghdad on Monday. The talks lasted an hour."
    found = [cand.RawSpan(18, 30, "PERSON"), cand.RawSpan(48, 55, "GPE"), cand.RawSpan(59, 65, "DATE")]
    monkeypatch.setattr(nlp, "find_spans", lambda texts: {t: found if t.startswith("Defense") else [] for t in texts})
    for sentence_reading in (False, True):
        model = load(_tiny_model(tmp_path, sentence_reading=sentence_reading))
        assert model.reads_sentences == sentence_reading and not model.reads_spans
        r = Reader(_FakeEmbedder(), model)
        r.span_reader = _CountingReader()
        got = r.read("Who met officials?", [_passage(text)])
        assert got.short is not None and got.short.text == "Lloyd Austin"
        assert sorted(r.span_reader.asked) == (sorted(s.text for s in got.sentences) if sentence_reading else [])
        assert all(("rd_sent" in s.features) == sentence_reading for s in got.sentences)


class _CountingReader(neural.SpanReader):
    def __init__(self):
        super().__init__(TINY)
        self.asked: list[str] = []

    def score(self, question, sentences):
        self.asked += sentences
        return super().score(question, sentences)


def test_only_a_model_fitted_on_the_reader_runs_it(tmp_path, monkeypatch):
    from qa.reader import nlp
    from tests.test_reader import _FakeEmbedder, _tiny_model

    text = "Defense Secretary Lloyd Austin met officials in Baghdad on Monday."
    found = [cand.RawSpan(18, 30, "PERSON"), cand.RawSpan(48, 55, "GPE"), cand.RawSpan(59, 65, "DATE")]
    monkeypatch.setattr(nlp, "find_spans", lambda texts: {t: found if t == text else [] for t in texts})
    for reading in (False, True):
        model = load(_tiny_model(tmp_path, reading=reading))
        assert model.reads_spans == reading
        r = Reader(_FakeEmbedder(), model)
        r.span_reader = _CountingReader()
        got = r.read("Who met officials?", [_passage(text)])
        assert got.short is not None and got.short.text == "Lloyd Austin"
        assert r.span_reader.asked == ([text] if reading else [])
        assert all(("rd_prob" in sp.features) == reading for sp in got.spans)


def test_qa_train_without_the_readers_or_torch_stops_at_once_with_one_line(tmp_path, monkeypatch, capsys):
    """No reader in the cache and no torch to fit one: `qa train` says so before any work, exit 2."""
    from qa import train, train_reader

    data = tmp_path / "data"
    data.mkdir()
    (data / "questions.jsonl").write_text(
        '{"question_id": "q0", "question": "Who?", "answers": ["A"], "week": "20240802"}\n'
    )
    (data / "articles.jsonl.gz").write_bytes(b"")
    monkeypatch.setattr(train_reader, "can_fit", lambda: False)
    monkeypatch.setattr(train, "load_items", lambda *a, **k: pytest.fail("work began"))
    args = ["--data", str(data), "--cache", str(tmp_path / "cache"), "--out", str(tmp_path / "m.json"), "--span-reader"]
    assert train.main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install -e '.[reader]'" in err[0] and "without the readers (--span-reader" in err[0]
    sentences = [*args[:-1], "--sentence-reader"]  # the sentences read by the same readers
    assert train.main(sentences) == 2 and len(capsys.readouterr().err.strip().splitlines()) == 1
    pair = ["--data", str(data), "--out", str(tmp_path / "m.json"), "--span-pair"]  # needs the reader it pairs
    assert train.main(pair) == 2 and "--span-reader" in capsys.readouterr().err
    cloze = ["--data", str(data), "--out", str(tmp_path / "m.json"), "--cloze"]  # a first lesson for readers not fitted
    assert train.main(cloze) == 2 and "--span-reader" in capsys.readouterr().err
    assert train.main([*args, "--cloze"]) == 2 and "75 minutes" in capsys.readouterr().err
    # with the readers in the cache, nothing needs torch; readers fitted first on cloze questions are others
    for f in train_reader.half_files(tmp_path / "cache"):
        shutil.copyfile(TINY, f)
    assert train_reader.check(tmp_path / "cache") == train_reader.half_files(tmp_path / "cache")
    with pytest.raises(train_reader.NeedsTorch):
        train_reader.check(tmp_path / "cache", cloze=True)


def test_read_features_rank_each_passage_by_the_reranker_and_by_the_reader():
    from qa import rerank

    rows = rerank.read_features([0.5, 2.0, -1.0])
    assert [r["rr_rank"] for r in rows] == pytest.approx([0.0, np.log(2), np.log(3)])
    assert [r["rd_rank"] for r in rows] == pytest.approx([np.log(2), 0.0, np.log(3)])
    assert [r["rd_gap"] for r in rows] == pytest.approx([-1.5, 0.0, -3.0])
    assert tuple(rows[0]) == rerank.READ_FEATURES


def test_passage_best_reads_each_sentence_once_and_remembers_it():
    class Counting(neural.SpanReader):
        def __init__(self, path):
            super().__init__(path)
            self.ran: list[str] = []

        def _run(self, question, sentences):
            self.ran += sentences
            return super()._run(question, sentences)

    reader = Counting(TINY)
    question = "Who is the US Secretary of Defense, asked once?"
    gold = "Officials met in Baghdad on Monday. US Secretary of Defense Lloyd Austin spoke there."
    other = "Officials met in Baghdad on Monday. The talks lasted an hour."
    best = reader.passage_best(question, [other, gold])
    assert best[1] == pytest.approx(4 + 4 - 2) and best[0] < best[1]  # "Lloyd ... Austin" against [CLS]
    assert sorted(reader.ran) == sorted(set(neural.passage_sentences(other) + neural.passage_sentences(gold)))
    assert reader.passage_best(question, [gold]) == [best[1]]  # the same scores, from the memo
    assert len(reader.ran) == 3  # not run again
    assert neural.passage_sentences("Too short.") == ["Too short."]


def test_the_reading_stage_learns_to_put_the_passage_the_reader_answers_from_first(tmp_path):
    """qa train --reader-rerank: the held-out readers read every candidate, in the reranker's order, and a
    reading stage fitted on that lifts the passage holding the answer; it travels in the rerank model's
    file and orders passages at answer time with the reader answering reads."""
    pytest.importorskip("lightgbm")
    from qa import rerank, train_reader
    from qa.train import Item, fit_reading

    for f in train_reader.half_files(tmp_path):
        shutil.copyfile(TINY, f)
    rng = np.random.default_rng(0)
    q = Question.read("Who is the US Secretary of Defense?", date(2024, 8, 2))
    fillers = [f"Officials in Baghdad spoke about talk number {n} on Monday." for n in range(9)]
    items = []
    for i in range(60):
        ranked = [_passage(t) for t in fillers]
        ranked.insert(int(rng.integers(1, 10)), _passage(f"US Secretary of Defense Lloyd Austin spoke, aide {i} said."))
        items.append(Item(f"q{i}", f"2024-W{i % 10:02d}", q, ["Lloyd Austin"], ranked[:6], True, ranked=ranked))
    trees, figs = fit_reading(items, tmp_path, sample=50)
    assert figs["read_questions"] == 50
    assert figs["read_before_hit_at_1"] == 0 and figs["read_after_hit_at_1"] == 1.0  # held out by week
    assert (tmp_path / f"passage-readings-v{train_reader.VERSION}.pkl").exists()
    # every question's passages in the order of a stage fitted on the other weeks: what the answer model reads
    assert all("Lloyd Austin" in it.passages[0].text and len(it.passages) == 6 for it in items)
    path = tmp_path / "rerank.json"
    rerank.RerankModel(rerank.shipped().trees, {}, trees).save(path)
    model = rerank.load(path)
    assert model.reading is not None and model.reading.features == rerank.READ_FEATURES
    ordered = model.read(q.text, items[0].ranked, reader=neural.SpanReader(TINY))
    assert "Lloyd Austin" in ordered[0].text and len(ordered) == 10
    assert rerank.shipped().read(q.text, items[0].ranked) == items[0].ranked  # no reading stage: as given


def test_a_joined_model_shows_the_span_both_choose_and_refuses_as_its_base(tmp_path, monkeypatch):
    """`qa train --join-span-reading BASE READING`: the span shown is chosen by the mean of both span models'
    probabilities; the confidence reads BASE's alone, so refusals are BASE's."""
    from qa import train
    from qa.reader import nlp
    from qa.reader.model import Trees
    from tests.test_reader import _FakeEmbedder, _tiny_model

    text = "Defense Secretary Lloyd Austin met Yoav Gallant in Baghdad on Monday."
    found = [cand.RawSpan(18, 30, "PERSON"), cand.RawSpan(35, 47, "PERSON")]
    monkeypatch.setattr(nlp, "find_spans", lambda texts: {t: found if t == text else [] for t in texts})
    base_path = _tiny_model(tmp_path)
    base = load(base_path)
    names = feature_names(reading=True)[1]
    later = names.index("relative_position")  # the reading model: the later name, sure of it
    reading = base.__class__(
        base.sentence,
        Trees.from_lists(names, [[[later], [0.3], [-1], [-2], [-5.0, 5.0]]]),
        base.confidence,
        base.threshold,
        base.short_threshold,
        base.short_ratio,
        {"created": "then"},
        base.affinity,
    )
    reading_path = tmp_path / "reading.json"
    reading.save(reading_path)
    out = tmp_path / "joined.json"
    assert train.main(["--join-span-reading", str(base_path), str(reading_path), "--out", str(out)]) == 0
    joined = load(out)
    assert joined.span_reading is not None and joined.reads_spans and not base.reads_spans
    assert joined.meta["span_reading"]["created"] == "then"

    def read(model):
        r = Reader(_FakeEmbedder(), model)
        r.span_reader = neural.SpanReader(TINY)
        return r.read("Who met officials?", [_passage(text)])

    alone, both = read(base), read(joined)
    assert both.short is not None and both.short.text == "Yoav Gallant"
    assert both.confidence == pytest.approx(alone.confidence)  # the base's refusals
    plain = {sp.text: sp.score for sp in alone.spans}
    assert {sp.text: sp.score for sp in both.spans} == pytest.approx(
        {
            t: (p + (0.5 + 0.5 * np.tanh(2.5) if t == "Yoav Gallant" else 0.5 - 0.5 * np.tanh(2.5))) / 2
            for t, p in plain.items()
        }
    )
    # what cannot be joined, each one line
    for pair, says in (
        ((reading_path, reading_path), "base model reads the span reader"),
        ((base_path, base_path), "--span-reader"),
    ):
        with pytest.raises(ValueError, match=says):
            train.join_span_reading(load(pair[0]), load(pair[1]))
    titled = feature_names(reading=True, titles=True)[1]
    with pytest.raises(ValueError, match="--titles"):  # one reads the titles' spans, the other not
        train.join_span_reading(
            base, replace(reading, span=Trees.from_lists(titled, [[[later], [0.3], [-1], [-2], [0.0, 0.0]]]))
        )
    other = tmp_path / "other.json"
    reading.__class__(**{**vars(reading), "affinity": {"PERSON||PERSON": 0.5}}).save(other)
    assert train.main(["--join-span-reading", str(base_path), str(other), "--out", str(tmp_path / "x.json")]) == 2
    assert not (tmp_path / "x.json").exists()


def test_the_shipped_model_reads_the_shipped_span_reader():
    """Answer model 29 holds a second span model that reads the span reader; the reader ships beside it."""
    model = load()
    assert model.span_reading is not None and set(neural.FEATURES) <= set(model.span_reading.features)
    assert not set(neural.FEATURES) & set(model.span.features)  # the confidence reads the first alone
    assert neural.READER_FILE.exists() and neural.READER_FILE.stat().st_size < 25e6
