"""qa eval: the metrics on worked examples, the seed set's integrity, and the real command on the seed set."""

from __future__ import annotations

import json

import pytest

from qa.errors import QAError
from qa.eval import (
    SEED_DATASET,
    EvalQuestion,
    alce_scores,
    answer_hit,
    below_thresholds,
    best_f1,
    first_relevant_rank,
    hit_at,
    load_dataset,
    mean_reciprocal_rank,
    normalize,
    occurs,
    percentile,
    token_f1,
)
from qa.load import load_file
from qa.types import Passage

from .conftest import SEEDS, run_qa

# -- answer metrics ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The  U.S. moved 2,500 troops!", "us moved 2500 troops"),
        ("An apple a day", "apple day"),
        ("Iran’s “supreme leader”", "irans supreme leader"),
        ("Al-Asad\tAirbase\n", "alasad airbase"),
        ("", ""),
    ],
)
def test_normalize_as_in_realtime_qa(text, expected):
    assert normalize(text) == expected


def test_token_f1_worked_examples():
    # prediction "lloyd austin secretary of defense" (5 tokens), gold "lloyd austin" (2): 2 in common.
    # precision 2/5, recall 2/2, F1 = 2 * 0.4 * 1 / 1.4
    assert token_f1("Lloyd Austin, Secretary of Defense", "Lloyd Austin") == pytest.approx(2 * 0.4 / 1.4)
    assert token_f1("The Lloyd Austin.", "lloyd austin") == 1.0
    assert token_f1("Tehran", "South Sudan") == 0.0
    # repeated tokens count once per occurrence in both: "five five" vs "five": p=1/2, r=1
    assert token_f1("five five", "five") == pytest.approx(2 / 3)
    assert token_f1("", "") == 1.0 and token_f1("a", "x") == 0.0  # articles only normalise to nothing


def test_best_f1_takes_the_best_accepted_answer_and_ignores_markers():
    assert best_f1("Lloyd Austin [1].", ["Yoav Gallant", "Lloyd Austin"]) == 1.0
    # an all-of answer is scored as its parts joined: 4 of 5 predicted tokens, all 4 gold tokens
    assert best_f1("at least five [1] and several [2]", [["at least five", "several"]]) == pytest.approx(2 * 0.8 / 1.8)


def test_answer_hit_whole_words_all_parts_and_no_marker_numbers():
    assert answer_hit("Iraq hosts 2,500 US troops [1].", ["2500"])
    assert occurs("Al-Asad", "the Al-Asad Airbase")
    assert not occurs("one", "someone was hurt") and not answer_hit("In 2024 [1].", ["2"])
    assert answer_hit("Louisiana’s governor signed it [1].", ["Louisiana"])  # a substring, as RealTime QA counts
    assert not answer_hit("Several were hurt [1].", ["1"])  # a citation marker is not an answer
    both = [["at least five", "several"]]
    assert answer_hit("At least five were hurt [1]. Several were hurt, says [2].", both)
    assert not answer_hit("At least five were hurt [1].", both)
    assert not answer_hit("anything", [])


# -- ALCE citation recall and precision -------------------------------------------------------


def passage(n: int, text: str) -> Passage:
    return Passage(f"a:{n}", "a", text, 0, len(text), "title", None, "a.txt")


TROOPS = passage(1, "Iraq hosts 2,500 US troops and has Iran-backed militias linked to its security forces.")
WEATHER = passage(2, "The weather in Baghdad was hot and dry all week.")
SYRIA = passage(3, "An additional 900 are stationed in Syria.")


def test_alce_one_good_citation():
    s = alce_scores([("Iraq hosts 2,500 US troops.", [(1, TROOPS)])])
    assert (s.recall, s.precision) == (1.0, 1.0)


def test_alce_irrelevant_second_citation():
    # P1+P2 support the sentence; P2 alone does not while P1 still does: P2 is irrelevant.
    s = alce_scores([("Iraq hosts 2,500 US troops.", [(1, TROOPS), (2, WEATHER)])])
    assert s.recall == 1.0 and s.precision == 0.5
    assert s.sentences[0].relevant == (True, False)


def test_alce_citations_needed_together_are_both_relevant():
    # Neither passage alone has 2,500 and 900; together they do, and removing either breaks support.
    s = alce_scores([("Iraq hosts 2,500 US troops and 900 are stationed in Syria.", [(1, TROOPS), (3, SYRIA)])])
    assert s.recall == 1.0 and s.precision == 1.0


def test_alce_unsupported_and_uncited_sentences():
    s = alce_scores(
        [
            ("Iraq hosts 2,500 US troops.", [(1, TROOPS)]),  # supported, 1 precise citation
            ("Iraq hosts 9,999 US troops.", [(1, TROOPS)]),  # number missing: unsupported, citation imprecise
            ("Iraq is a country.", []),  # no citation: unsupported, no citations to count
        ]
    )
    assert s.recall == pytest.approx(1 / 3)
    assert s.precision == pytest.approx(1 / 2)
    assert [v.supported for v in s.sentences] == [True, False, False]


def test_alce_uses_the_given_support_check():
    says_yes_to_p1 = lambda sentence, passages: any(p is TROOPS for p in passages)  # noqa: E731
    s = alce_scores([("anything", [(2, WEATHER), (1, TROOPS)])], check=says_yes_to_p1)
    assert s.recall == 1.0 and s.precision == 0.5
    assert alce_scores([]).recall == 0.0 and alce_scores([]).precision == 0.0


# -- retrieval and latency --------------------------------------------------------------------


def test_first_relevant_rank_hit_at_k_and_mrr():
    texts = ["Nothing here.", "Iraq hosts 2,500 US troops.", "Al-Asad Airbase in western Iraq"]
    assert first_relevant_rank(texts, ["2500"]) == 2
    assert first_relevant_rank(texts, [["Abraham Lincoln", "Al-Asad"]]) == 3  # any part of an all-of answer
    assert first_relevant_rank(texts, ["Tehran"], evidence=["Nothing  here"]) == 1
    assert first_relevant_rank(texts, ["Tehran"]) is None
    ranks = [1, 2, None, 4]
    assert hit_at(ranks, 1) == 0.25 and hit_at(ranks, 2) == 0.5 and hit_at(ranks, 6) == 0.75
    assert mean_reciprocal_rank(ranks) == pytest.approx((1 + 0.5 + 0 + 0.25) / 4)
    assert hit_at([], 3) == 0.0 and mean_reciprocal_rank([]) == 0.0


def test_percentile_and_thresholds():
    assert percentile([1, 2, 3, 4], 50) == 2.5 and percentile([], 95) == 0.0
    assert below_thresholds({"accuracy": 0.5, "f1": 0.4}, {"accuracy": 0.6, "f1": 0.4, "mrr": None}) == [
        "accuracy 0.500 < 0.600"
    ]
    assert "not measured" in below_thresholds({"refusal_recall": None}, {"refusal_recall": 0.5})[0]


# -- datasets ---------------------------------------------------------------------------------


def test_load_dataset_formats_and_errors(tmp_path):
    good = tmp_path / "q.jsonl"
    good.write_text(
        '{"question_id": "20240802_0", "question": "Which team?", "date": "2024-08-02", "answers": ["South Sudan"]}\n'
        "\n"
        '{"id": "u1", "question": "Who?", "answers": [], "sources": ["a.txt"], "evidence": ["x"]}\n'
        '{"question": "Both?", "answers": [["five", "several"]]}\n'
    )
    qs = load_dataset(good)
    assert [q.id for q in qs] == ["20240802_0", "u1", "4"]
    assert qs[0].answerable and qs[0].date == "2024-08-02" and not qs[1].answerable
    assert qs[2].answers == (("five", "several"),)
    for bad, words in [
        ('{"question": "Q?", "answers": "x"}', "answers"),
        ('{"answers": []}', "question"),
        ("not json", "malformed JSON"),
        ('{"id": 1, "question": "a", "answers": []}\n{"id": 1, "question": "b", "answers": []}', "twice"),
    ]:
        path = tmp_path / "bad.jsonl"
        path.write_text(bad + "\n")
        with pytest.raises(QAError, match=words):
            load_dataset(path)


def test_seed_set_is_complete_and_quotes_the_articles():
    texts = {}
    for path in SEEDS.glob("*.txt"):
        [article], _ = load_file(path)
        texts[path.name] = article.text
    qs = load_dataset(SEED_DATASET)
    assert len(qs) >= 40
    unanswerable = [q for q in qs if not q.answerable]
    assert len(unanswerable) >= 8
    both = [q for q in qs if len(q.sources) == 2]
    assert len(both) >= 5 and any(isinstance(a, tuple) for q in both for a in q.answers)
    for q in qs:
        if not q.answerable:
            continue
        assert q.evidence and q.sources, q.id
        assert set(q.sources) <= set(texts), q.id
        for e in q.evidence:
            assert any(e in texts[s] for s in q.sources), (q.id, e)
        # every accepted answer (part) is in the articles the question names
        for a in q.answers:
            for part in (a,) if isinstance(a, str) else a:
                assert any(occurs(part, texts[s]) for s in q.sources), (q.id, part)


# -- the real command -------------------------------------------------------------------------

# The seed set's figures with the default (extractive) generator, set at or a little under what
# it measures, so a regression fails CI. Raise them when the numbers improve.
SEED_THRESHOLDS = {
    # A stand-in title (the first sentence of a file with no title line) read as no title where the
    # short answer is named, as the title elsewhere (2026-12-07): accuracy 0.467, F1 0.430, sentences
    # 0.733, refusals unchanged (precision 0.526 / recall 0.833). The accuracy gate went from 0.38 to
    # 0.44 and F1 from 0.36 to 0.41.
    # Answer model 29 (model 28 with a second span model that reads the fine-tuned span reader; the span
    # shown is chosen by both, the refusals are model 28's): accuracy 0.400, F1 0.363, sentences 0.733,
    # refusal precision 0.526 / recall 0.833, sources cited 0.711 (with the reading rules of 2026-12-06:
    # model 28 gives 0.422 / 0.393 / 0.711). The accuracy gate went from 0.40 to 0.38 and F1 from 0.38 to
    # 0.36 with it: it answers 3 more of the 490 later training questions right (0.231 / 0.239 against
    # 0.224 / 0.227) and 2026-Q1 at a higher F1 (0.252 / 0.296 against 0.252 / 0.289). Here it gains "USS
    # Abraham Lincoln carrier strike group" and loses "over 135" (now "150") and "Hassan Nasrallah" (now
    # "Fuad Shukr").
    # Answer model 28 (model 27's way, with "who is the <role>" read as asking for that role, "which
    # state" answered by a US state, "western Iraq" and "University of Idaho" shown whole, and no short
    # answer for a question asking why or what someone did: qa.reader.question.asks_clause): accuracy
    # 0.422, F1 0.393, sentences 0.711, refusal precision 0.500 / recall 0.750, sources cited 0.711. The
    # gates rose with it: accuracy from 0.25 to 0.40, F1 from 0.29 to 0.38, sentences from 0.68 to 0.70,
    # refusal precision from 0.42 to 0.48, sources cited from 0.65 to 0.70. It gains "Lloyd Austin",
    # "Hassan Nasrallah", "900", "western Iraq", and three answers its sentences give ("kick out U.S.
    # troops", "stopped", "launch drones") where a name was shown.
    # Answer model 27 (model 26's features, each training question also read in a folder of its own
    # articles): accuracy 0.267, F1 0.297, sentences 0.689, refusal precision 0.429 / recall 0.750,
    # sources cited 0.667. The F1 gate went from 0.30 to 0.29, sentences from 0.70 to 0.68, refusal
    # precision from 0.45 to 0.42 and sources cited from 0.70 to 0.65 with it: it answers 5 more of 490
    # later training questions right than model 26 (0.208 / 0.216 against 0.198 / 0.201-0.212) and 2
    # more of 2024-08 (docs/answers.md). Here it gains "over 135" and "nearly 10 months ago" and loses
    # "900" (now "4,000") and "Ismail Haniyeh" (now refused).
    # Answer model 26 (model 25's features and each span read in its sentence against the question, the
    # rule chosen with them: a short answer when its span is 2% likely, 5% for "what" questions; refuse
    # under 0.10): accuracy 0.267, F1 0.309, sentences 0.711, refusal precision 0.474 / recall 0.750,
    # sources cited 0.733. The accuracy gate went from 0.30 to 0.25, F1 from 0.33 to 0.30, sentences
    # from 0.75 to 0.70, refusal precision from 0.55 to 0.45 and sources cited from 0.80 to 0.70 with
    # it: model 26 answers 7 more of 490 later training questions right than the same code without
    # the spans in context (0.196 / 0.212 against 0.182 / 0.196) and 4 more of 2026-Q1 (0.226 / 0.258
    # against 0.191 / 0.229), 2 fewer of 2024-08. Here it gets 6 answers wrong that model 25 got right
    # and 2 right that it got wrong: "150" for "over 135" and "at least six", a short answer where the
    # sentence answered ("What happened to attacks ...": "Monday"), a refusal ("How long has Hezbollah
    # been firing ..."), and "Which carrier strike group ..." (test_ask); it refuses four answerable
    # questions model 25 got wrong and one more unanswerable one.
    # Answer model 25 (a head word the affinity table lacks read through the head words most like it;
    # "what is the filing deadline" asks for a deadline): accuracy 0.356, F1 0.369, sentences 0.778,
    # refusal precision 0.571 / recall 0.667 (one unanswerable question fewer refused than model 24),
    # sources cited 0.822. The refusal-recall gate went from 0.70 to 0.65 with it: model 25 answers more
    # right on the 2024-08 set and on 490 later training questions (docs/answers.md), one question fewer here.
    # Answer model 24 (the words around the span against the question's frame, the question's word pairs
    # in the sentence): accuracy 0.333, F1 0.354, accuracy of the sentences 0.778, refusal precision 0.60
    # / recall 0.75, sources cited 0.822; the gates rose with it. Model 14 gave the figures below.
    # With the passage reranker (qa/rerank.py) in front of answer model 14: accuracy 0.289, F1 0.282,
    # accuracy of the sentences 0.644, refusal precision 0.444 / recall 0.667, sources cited 0.711; the
    # fused order gave F1 0.293 here (one answer's partial F1), so the F1 gate went from 0.29 to 0.28:
    # the reranker puts the passage holding the answer higher on 4,288 training questions held out by
    # week and on both practice sets (hit@1 and MRR), which two articles cannot show.
    # Before, measured with answer model 14 (the affinity table, 32 candidate sentences), first-sentence
    # titles, the claim check and the conflicts: accuracy of the short answers 0.289, F1 0.293,
    # accuracy of the sentences 0.644, refusal precision 0.444 / recall 0.667, ALCE 1.0 / 1.0, sources
    # cited 0.711. Model 12 gave 0.289 / 0.318 / 0.667 / 0.50 / 0.667 here (with the new titles), but
    # less on both practice sets (accuracy 0.143 / 0.165 against 0.151 / 0.200, F1 0.135 / 0.196
    # against 0.158 / 0.239): the seed set is two articles, the practice sets are what it is tuned
    # for, so the F1, sentence and refusal-precision gates were lowered to what model 14 measures.
    # Before the learned reader (hand-set sentence choice, no short answers): accuracy 0.822 of whole
    # sentences, F1 0.146, refusal recall 0.417. Accuracy scores the short answer when there is one,
    # so the sentences' accuracy has its own gate.
    "--min-accuracy": "0.44",
    "--min-f1": "0.41",
    "--min-sentence-accuracy": "0.70",
    "--min-refusal-recall": "0.65",
    "--min-refusal-precision": "0.48",
    "--min-citation-recall": "0.95",
    "--min-citation-precision": "0.95",
    "--min-sources-cited": "0.70",
    "--min-hit-at-k": "0.95",
    "--min-mrr": "0.90",
}


def test_seed_eval_meets_thresholds(tmp_path):
    from qa.eval_report import lost_line

    report, page = tmp_path / "seed.json", tmp_path / "seed.html"
    args = [x for kv in SEED_THRESHOLDS.items() for x in kv]
    r = run_qa("eval", "--json", str(report), "--html", str(page), *args, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "accuracy" in r.stdout and "citation precision" in r.stdout
    data = json.loads(report.read_text())
    figs = data["figures"]
    assert figs["questions"] == len(load_dataset(SEED_DATASET))
    assert data["llm"] == "extractive"
    for q in data["questions"]:
        assert {"id", "question", "answer", "citations", "sentences", "verdict", "retrieval_rank"} <= set(q)
        for c in q["citations"]:
            assert c["quote"] in c["passage"]
    html = page.read_text()
    assert html.count("<section") == figs["questions"] and "show only the" in html
    # where each answerable question's answer went: every one counted once, the same in the table and the page
    assert sum(figs["lost"].values()) == figs["answerable"]
    assert figs["lost"]["right"] == sum(q["verdict"] == "correct" for q in data["questions"])
    assert all((q["lost"] is None) == (not q["answers"]) for q in data["questions"])
    assert "where the answerable went:" in r.stdout and "where the answerable went" in html

    # a second run compared with the first: the change of each figure, and a threshold it misses
    r = run_qa(
        "eval", "--limit", "3", "--baseline", str(report), "--min-accuracy", "1.0", "--min-refusal-recall", "0.5"
    )
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "baseline" in r.stdout and "change" in r.stdout
    assert f"in the baseline: {lost_line(figs)}" in r.stdout  # where the answers went, then and now
    [line] = [x for x in r.stderr.splitlines() if x.startswith("qa: error")]
    assert "below threshold" in line and "refusal_recall is not measured" in line


def test_eval_html_escapes_everything(tmp_path):
    from qa.eval import QuestionResult
    from qa.eval_report import render_html

    evil = "<script>alert(1)</script>"
    r = QuestionResult(
        id=evil,
        question=evil,
        answers=[evil],
        answer=evil,
        refused=False,
        verdict="wrong",
        hit=False,
        f1=0.0,
        citation_recall=1.0,
        citation_precision=1.0,
        sources_cited=None,
        retrieval_rank=None,
        seconds=0.1,
        sentences=[{"text": evil, "citations": [1], "supported": True, "relevant": [True]}],
        citations=[
            {
                "n": 1,
                "title": evil,
                "date": None,
                "source": evil,
                "quote": "b",
                "start": 1,
                "end": 2,
                "passage": f"a{evil}",
                "passage_start": 0,
            }
        ],
        retrieved=[{"rank": 1, "title": evil, "date": None, "source": evil, "text": evil}],
    )
    page = render_html({"dataset": evil, "llm": evil}, {"questions": 1, "k": 6}, [r])
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_eval_bad_dataset_is_one_line(tmp_path):
    bad = tmp_path / "q.jsonl"
    bad.write_text("{oops\n")
    r = run_qa("eval", str(bad), "--articles", str(SEEDS))
    assert r.returncode == 1 and "Traceback" not in r.stderr and "q.jsonl:1: malformed JSON" in r.stderr
    r = run_qa("eval", str(tmp_path / "missing.jsonl"))
    assert r.returncode == 2 and "no dataset" in r.stderr


def test_eval_question_is_a_plain_dataclass():
    q = EvalQuestion("x", "Who?")
    assert not q.answerable and q.sources == ()


def test_answer_in_articles():
    from qa.eval import answer_in_texts

    texts = ["iraq hosts 2500 us troops", "alasad airbase"]
    assert answer_in_texts(["2,500"], texts) and answer_in_texts([["Al-Asad", "airbase"]], texts)
    assert answer_in_texts([["2,500", "Al-Asad"]], texts)  # parts may stand in different articles
    assert not answer_in_texts([["2,500", "Tehran"]], texts)
    assert not answer_in_texts(["Tehran"], texts)


def _result(hit, refused=False, confidence=None, short=None):
    from qa.eval import QuestionResult

    return QuestionResult(
        id="q",
        question="Who?",
        answers=["x"],
        answer="a",
        refused=refused,
        verdict="",
        hit=hit,
        f1=0.0,
        citation_recall=None,
        citation_precision=None,
        sources_cited=None,
        retrieval_rank=None,
        seconds=0.1,
        confidence=confidence,
        short_answer=short,
    )


def test_coverage_curve_worked_example():
    from qa.eval import coverage_curve

    curve = coverage_curve(
        [_result(True, confidence=0.9), _result(False, confidence=0.6), _result(False, refused=True)]
    )
    assert curve[0] == {"threshold": 0.0, "answered": 2 / 3, "accuracy": 0.5}
    assert curve[-1] == {"threshold": 0.9, "answered": 1 / 3, "accuracy": 1.0}
    assert coverage_curve([_result(True)]) == []  # no confidences: no curve


def test_lost_at_names_the_first_stage_that_missed():
    from dataclasses import replace

    from qa.eval import LOST, figures, lost_at
    from qa.eval_report import lost_line

    base = replace(_result(False, short="Gallant"), in_articles=True, retrieval_rank=2, sentence_hit=True)
    cases = {
        "right": replace(base, hit=True),
        "in no article": replace(base, in_articles=False, retrieval_rank=None),
        "only in older articles": replace(base, in_recent_articles=False, retrieval_rank=None),
        "not retrieved": replace(base, retrieval_rank=None),
        "refused": replace(base, refused=True, sentence_hit=False, short_answer=None),
        "wrong sentence": replace(base, sentence_hit=False),
        "wrong short answer": base,
    }
    assert [lost_at(r) for r in cases.values()] == list(cases) == list(LOST)
    assert lost_at(replace(base, hit=None)) is None  # a question to refuse has no answer to lose
    # a run that cannot tell whether the articles hold the answer goes on to the next stage
    assert lost_at(replace(base, in_articles=None, retrieval_rank=None)) == "not retrieved"
    assert replace(base, hit=True).lost == "right"
    figs = figures([*cases.values(), cases["right"], replace(base, hit=None)], 6, 1.0)
    assert figs["lost"] == {"right": 2, **dict.fromkeys(LOST[1:], 1)}
    assert (
        lost_line(figs)
        == "2 right · 1 in no article · 1 only in older articles · 1 not retrieved · 1 refused · 1 wrong sentence"
        " · 1 wrong short answer"
    )
    assert lost_line(figures([replace(base, hit=None)], 6, 1.0)) is None  # nothing answerable, no line


def test_an_answer_only_older_articles_hold_is_told_from_one_this_weeks_story_holds():
    """The articles near the question's day are its story's; an answer only a far older article holds is
    a chance mention (counted "only in older articles", not "not retrieved"). Undated: nothing to tell."""
    from qa.eval import EvalQuestion, in_recent

    q = EvalQuestion("q1", "Which country won?", ("Norway",), date="2026-02-20")
    texts = ["norway won the most medals", "canada and sweden played"]
    assert in_recent(q, texts, ["2022-02-20", "2026-02-19"]) is False  # only the 2022 article says it
    assert in_recent(q, texts, ["2026-03-05T10:00:00", None]) is True  # 13 days after it: the story
    assert in_recent(q, texts, [None, None]) is None  # no dated article
    assert in_recent(EvalQuestion("q2", "Which country won?", ("Norway",)), texts, ["2026-02-19", None]) is None


def test_judge_scores_the_short_answer_and_reports_the_sentences():
    from qa.answer import Answer
    from qa.eval import judge

    q = EvalQuestion("d", "Who is the US Secretary of Defense?", answers=("Lloyd Austin",))
    long = "US Secretary of Defense Lloyd Austin spoke with Yoav Gallant on Monday about the attack [1]."
    right = judge(q, Answer(q.question, long, False, short_answer="Lloyd Austin", confidence=0.8), 0.1)
    assert right.hit and right.f1 == 1.0 and right.sentence_hit and right.confidence == 0.8
    wrong = judge(q, Answer(q.question, long, False, short_answer="Yoav Gallant"), 0.1)
    assert not wrong.hit and wrong.f1 == 0.0 and wrong.sentence_hit  # the short answer is what is scored
    whole = judge(q, Answer(q.question, long, False), 0.1)
    assert whole.hit and 0 < whole.f1 < 0.3
