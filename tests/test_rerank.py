"""The passage reranker: one feature function for training and answering, a model fitted on a
fixture the test writes itself ranks the passage that holds the answer first, the shipped model
fits the code, and QA_RERANK=off keeps the fused order."""

import copy
import datetime as dt
import json
from dataclasses import replace

import numpy as np
import pytest

from qa import Assistant, rerank
from qa.reader.candidates import Question
from qa.types import Passage

DAY = dt.date(2024, 8, 9)

FILLER = [
    "The committee met again on Tuesday to discuss the schedule for next year.",
    "Officials said the weather had delayed several flights across the region.",
    "Shares rose slightly in early trading as investors waited for new figures.",
    "The museum reopened its east wing after two years of repairs.",
]


def _passage(n: int, text: str, title: str, date: str = "2024-08-08", keyword: float = 1.0) -> Passage:
    return Passage(f"a{n}:0", f"a{n}", text, 0, len(text), title, date, f"a{n}.txt", keyword=keyword)


def _pool(i: int, rng: np.random.Generator) -> tuple[Question, list[Passage], str]:
    """A question whose answer sits in the passage naming all of its names; the others repeat one rare
    name many times (and so lead BM25's order) or say nothing of it."""
    name = f"Zorvan{i}"
    place = f"Kelmark{i}"
    answer = f"Tamsin{i}"
    q = Question.read(f"Who did {name} meet in {place} on Monday?", DAY)
    right = _passage(0, f"{name} met {answer} in {place} on Monday, officials said.", f"{name} visits {place}")
    decoys = [
        _passage(
            1, f"{name} {name} said {name} would travel. {name} has long planned it.", f"{name} plans", keyword=3.0
        ),
        *(_passage(n, FILLER[(n + i) % len(FILLER)], "Other news", keyword=0.5) for n in range(2, 6)),
    ]
    order = rng.permutation(len(decoys))
    return q, [*[decoys[j] for j in order[:2]], right, *[decoys[j] for j in order[2:]]], answer


def test_features_are_one_function_for_training_and_answering():
    q = Question.read("Who did Lloyd Austin meet in Baghdad?", DAY)
    p = _passage(0, "Lloyd Austin met Iraqi officials in Baghdad on Monday.", "Austin in Iraq")
    rows = rerank.features(q, [p, _passage(1, FILLER[0], "Other")])
    assert tuple(rows[0]) == rerank.feature_names() == tuple(rows[1])
    assert rows[0]["lex_p"] > rows[1]["lex_p"] and rows[0]["missing_keys"] == 0.0
    assert rows[0]["article_chunks"] == 0.0  # one chunk of its article among the candidates (log 1)


def test_training_reads_some_articles_undated_the_same_ones_every_run():
    """Every training article has a date, a user's folder may not: `qa train` takes it off a share of a
    question's articles (all their chunks alike) so the models see undated articles among dated ones."""
    from qa.train import UNDATED_ARTICLES, Item, undate_some

    def item() -> Item:
        chunks = [replace(_passage(n % 40, FILLER[n % 4], "News"), id=f"a{n % 40}:{n // 40}") for n in range(80)]
        return Item("q7", "2024-W01", Question.read("Who spoke?", DAY), ["x"], chunks, True)

    first, second = item(), item()
    undate_some(first)
    undate_some(second)
    undated = {p.article_id for p in first.passages if p.date is None}
    assert 0.1 < len(undated) / 40 < 0.5 and UNDATED_ARTICLES == 0.3
    assert all((p.date is None) == (p.article_id in undated) for p in first.passages)  # both chunks alike
    assert [p.date for p in second.passages] == [p.date for p in first.passages]
    assert [p.text for p in first.passages] == [p.text for p in item().passages]


def test_training_reads_a_share_of_the_questions_untitled():
    """`qa train --untitled` reads a question's articles as files with no title line: the features read
    no headline for them, while the title shown stays."""
    from qa.train import Item, untitle

    chunks = [_passage(n, FILLER[n % 4], "Harbor vote") for n in range(4)]
    it = Item("q7", "2024-W01", Question.read("Who voted on the harbor?", DAY), ["x"], chunks, True)
    before = rerank.features(it.question, it.passages)
    untitle(it)
    assert [(p.title, p.headline) for p in it.passages] == [("Harbor vote", "")] * 4
    after = rerank.features(it.question, it.passages)
    assert before[0]["lex_title"] > 0 and after[0]["lex_title"] == 0


def test_a_reranker_fitted_on_a_fixture_ranks_the_answer_first(tmp_path):
    pytest.importorskip("lightgbm")
    from qa.train import Item, fit_reranker

    rng = np.random.default_rng(3)
    items = []
    for i in range(60):
        q, passages, answer = _pool(i, rng)
        items.append(Item(f"q{i}", f"2024-W{i % 10:02d}", q, [answer], passages, True))
    model, figs = fit_reranker(items)
    assert figs["reranked_hit_at_1"] > figs["fused_hit_at_1"]  # held out by week
    assert all(any(answer in p.text for p in it.passages[:1]) for it in items[:10] for answer in it.answers)
    path = tmp_path / "rerank.json"
    model.save(path)
    q, passages, answer = _pool(999, rng)
    ordered = rerank.rerank(q.text, passages, DAY, model=rerank.load(path))
    assert answer in ordered[0].text
    assert sorted(p.id for p in ordered) == sorted(p.id for p in passages)


def test_the_shipped_reranker_fits_the_code():
    model = rerank.shipped()
    assert list(model.trees.features) == list(rerank.feature_names())
    assert model.meta.get("heldout")  # its held-out figures travel with it


def test_a_reranker_of_other_features_is_refused_with_the_command_to_rebuild(tmp_path):
    data = rerank.shipped().to_json()
    data["trees"]["features"][0] = "a_feature_the_code_does_not_make"
    path = tmp_path / "rerank.json"
    path.write_text(json.dumps(data))
    with pytest.raises(rerank.RerankError, match=r"does not fit this code.*python -m qa\.train"):
        rerank.load(path)
    path.write_text("{not json")
    with pytest.raises(rerank.RerankError, match=r"damaged"):
        rerank.load(path)


def test_rerank_off_keeps_the_fused_order(seed_index, monkeypatch):
    question = "How many US troops are in Iraq?"
    on = Assistant(seed_index).search(question, k=6)
    monkeypatch.setenv("QA_RERANK", "off")
    off_assistant = Assistant(seed_index)
    assert off_assistant.retriever.rerank is False
    off = off_assistant.search(question, k=6)
    assert [p.score for p in off] == sorted((p.score for p in off), reverse=True)  # fused scores, best first
    assert len(on) == len(off) == 6
    assert any("2,500" in p.text for p in on[:3])


def test_training_reads_a_question_without_its_html_as_answering_does(tmp_path):
    from qa.assistant import check_question
    from qa.train import read_questions

    marked = 'Soaring demand for <a href="https://theweek.com/tag/dubai">Dubai</a> chocolate hit which nut?'
    (tmp_path / "questions.jsonl").write_text(
        json.dumps({"question_id": "q0", "question": marked, "answers": ["pistachio"], "week": "20250103"}) + "\n"
    )
    [q] = read_questions(tmp_path)
    assert q["question"] == check_question(marked) == "Soaring demand for Dubai chocolate hit which nut?"


def test_later_weeks_are_split_off_as_benchmark_folders(tmp_path):
    """`qa train --split-later`: the last weeks leave training and become folders `qa eval` reads."""
    import gzip

    from qa.eval import load_dataset
    from qa.load import load_file
    from qa.train import main

    data = tmp_path / "data"
    data.mkdir()
    weeks = ["20250103", "20250110", "20250117"]
    with (data / "questions.jsonl").open("w") as f:
        for n, w in enumerate(weeks):
            q = {"question_id": f"q{n}", "question": f"Who won in week {n}?", "date": f"{w[:4]}-{w[4:6]}-{w[6:]}"}
            f.write(json.dumps({**q, "answers": ["Ann"], "week": w, "evidence": None, "articles": [f"a{n}"]}) + "\n")
    with gzip.open(data / "articles.jsonl.gz", "wt") as f:
        for n, w in enumerate(weeks):
            a = {"id": f"a{n}", "week": w, "title": f"Week {n}", "url": None, "date": "2025-01-02", "text": "Ann won."}
            f.write(json.dumps(a) + "\n")
    assert main(["--data", str(data), "--split-later", "2", "--to", str(tmp_path / "out")]) == 0
    out = tmp_path / "out"
    assert [json.loads(x)["question_id"] for x in (out / "train" / "questions.jsonl").open()] == ["q0"]
    later = out / "later-20250110"  # both later weeks: one folder of up to five weeks
    assert sorted(p.name for p in out.iterdir()) == ["later-20250110", "train"]
    assert [q.id for q in load_dataset(later / "questions.jsonl")] == ["q1", "q2"]
    articles, problems = load_file(later / "articles" / "a2.txt")
    assert not problems and articles[0].title == "Week 2" and articles[0].date == "2025-01-02"
    assert main(["--data", str(data), "--split-later", "0", "--to", str(out)]) == 2  # one line, no traceback


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ('{"question_id": "q1", "question": "Who won?", "answers": ["Ann"]}', 'line 2 has no "week"'),
        ('{"question_id": "q1", "question": "Who won?", "answers": "Ann", "week": "20250110"}', 'a str for "answers"'),
        ('{"question_id": "q1", "question": "Who won?", "answers": ["Ann"], "week": "2025-01-10"}', "YYYYMMDD"),
        ('{"question_id": "q1", "question": "Who won?", "answers": [1], "week": "20250110"}', "not all strings"),
        ('{"question_id": "q1", "question": "Who won?",', "line 2 is not JSON"),
        ('["q1"]', "line 2 is not a JSON object"),
    ],
)
def test_a_training_file_qa_train_cannot_read_stops_it_with_one_line(tmp_path, capsys, monkeypatch, line, says):
    """A malformed questions.jsonl: `qa train` names the line and what it needs, exit 2, no work begun."""
    import gzip

    from qa import train

    data = tmp_path / "data"
    data.mkdir()
    good = '{"question_id": "q0", "question": "Who won?", "answers": ["Ann"], "week": "20250103"}'
    (data / "questions.jsonl").write_text(f"{good}\n{line}\n")
    with gzip.open(data / "articles.jsonl.gz", "wt") as f:
        f.write("")
    monkeypatch.setattr(train, "load_items", lambda *a, **k: pytest.fail("work began"))
    for args in (["--out", str(tmp_path / "m.json")], ["--split-later", "1", "--to", str(tmp_path / "out")]):
        assert train.main(["--data", str(data), *args]) == 2
        err = capsys.readouterr().err
        assert err.startswith("qa train: error: ") and err.count("\n") == 1 and says in err, err
    assert not (tmp_path / "m.json").exists() and not (tmp_path / "out").exists()
    (data / "articles.jsonl.gz").unlink()
    assert train.main(["--data", str(data)]) == 2 and "no articles.jsonl.gz" in capsys.readouterr().err


def test_own_sources_count_only_the_articles_the_questions_search_returned(tmp_path):
    """The report's "own" figures: a gold answer in one of the question's own search results, not in
    another story of the pool."""
    import gzip

    from qa.reader.candidates import Question
    from qa.train import Item, own_sources

    data = tmp_path / "data"
    data.mkdir()
    rows = [
        ("q0", ["a0"], ["Subway"]),
        ("q1", ["a1"], ["Subway"]),
        ("q2", [], ["Subway"]),
        ("q3", ["a0", "zz"], ["Ann"]),
    ]
    with (data / "questions.jsonl").open("w") as f:
        for qid, arts, answers in rows:
            q = {"question_id": qid, "question": "Which chain?", "date": "2025-01-02", "answers": answers}
            f.write(json.dumps({**q, "week": "20250103", "articles": arts}) + "\n")
    with gzip.open(data / "articles.jsonl.gz", "wt") as f:
        for aid, text in [("a0", "Subway is launching a new menu."), ("a1", "The mayor spoke.")]:
            a = {"id": aid, "week": "20250103", "title": "", "url": None, "date": "2025-01-02", "text": text}
            f.write(json.dumps(a) + "\n")
    items = [Item(qid, "20250103", Question.read("Which chain?"), answers, [], True) for qid, _, answers in rows]
    assert own_sources(data, items).tolist() == [True, False, False, False]


def test_the_reranker_learns_the_question_s_own_story_not_a_chance_mention(tmp_path):
    """A passage is right for the reranker when it holds a gold answer in an article the question's own
    search returned; another story's "took the subway" is not. Data naming no articles: any passage."""
    from qa.train import Item, fit_reranker, mark_own, story_label

    (tmp_path / "questions.jsonl").write_text(
        json.dumps(
            {
                "question_id": "q0",
                "question": "Which chain?",
                "answers": ["Subway"],
                "week": "20240802",
                "articles": ["a0"],
            }
        )
        + "\n"
        + json.dumps({"question_id": "q1", "question": "Which chain?", "answers": ["Subway"], "week": "20240802"})
        + "\n"
    )
    story = _passage(0, "Subway is launching a new menu.", "Subway's menu")
    chance = _passage(1, "She took the subway to work.", "Commuters")
    q = Question.read("Which chain launched a menu?", DAY)
    items = [
        Item("q0", "w", q, ["Subway"], [chance, story], True),
        Item("q1", "w", q, ["Subway"], [chance, story], True),
    ]
    folder = Item("q0#folder", "w", q, ["Subway"], [story], True, folder=True)
    mark_own(tmp_path, [*items, folder])
    assert items[0].own == folder.own == {"a0"} and items[1].own == frozenset()
    assert [story_label(p, items[0]) for p in (chance, story)] == [0, 1]
    assert [story_label(p, items[1]) for p in (chance, story)] == [1, 1]

    # fitted on such questions, the ranker puts the story over another story's mention of the answer
    rng = np.random.default_rng(5)
    pools = []
    for i in range(80):
        qi, passages, answer = _pool(i, rng)
        mention = _passage(9, f"{answer} {answer} was seen at the cinema, {answer} said.", "Other news", keyword=4.0)
        right = next(p for p in passages if answer in p.text)
        pools.append(
            Item(
                f"q{i}",
                f"2024-W{i % 10:02d}",
                qi,
                [answer],
                [mention, *passages],
                True,
                own=frozenset({right.article_id}),
            )
        )
    plain = copy.deepcopy(pools)
    _, figs = fit_reranker(pools, story=True)
    assert figs["story_reranked_hit_at_1"] > figs["story_fused_hit_at_1"]
    assert figs["story_reranked_hit_at_1"] > 0.9
    _, default = fit_reranker(plain)  # the shipped way: any passage holding the answer is right
    assert default["story_reranked_hit_at_1"] < figs["story_reranked_hit_at_1"]


def test_qa_rerank_model_picks_the_reranker_and_a_bad_file_is_one_line(seed_index, tmp_path, monkeypatch):
    """A reranker fitted elsewhere (`qa train --rerank-out R.json`) is tried with QA_RERANK_MODEL=R.json."""
    from .conftest import run_qa
    from .test_cli import assert_clean_error

    data = rerank.shipped().to_json()
    data["meta"] = {"fitted": "elsewhere"}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    monkeypatch.setenv("QA_RERANK_MODEL", str(path))
    a = Assistant(seed_index)
    assert a.search("How many US troops are in Iraq?", k=3)
    assert a.retriever.reranker.meta == {"fitted": "elsewhere"}
    path.write_text("{not json")
    r = run_qa("ask", "--index", str(seed_index), "How many US troops are in Iraq?", env={"QA_RERANK_MODEL": str(path)})
    assert_clean_error(r, 1, "rerank model", "damaged", "python -m qa.train")


def test_a_question_is_asked_again_in_a_folder_of_its_own_articles(tmp_path):
    """`qa train --folders`: each question is searched again in its own search's articles alone (a user's
    folder on one story); its passages come from those articles only, and it is answerable there only when
    they hold the answer."""
    import gzip

    from qa.train import load_folder_items, load_items

    data = tmp_path / "data"
    data.mkdir()
    rows = [("q0", ["a0", "a1"], ["Ann"]), ("q1", ["a2"], ["Ann"]), ("q2", [], ["Ann"])]
    with (data / "questions.jsonl").open("w") as f:
        for qid, arts, answers in rows:
            q = {"question_id": qid, "question": "Who won the race in Paris?", "date": "2025-01-02"}
            f.write(json.dumps({**q, "answers": answers, "week": "20250103", "articles": arts}) + "\n")
    texts = {
        "a0": "Ann won the race in Paris on Sunday.",
        "a1": "The race in Paris drew crowds.",
        "a2": "The race in Paris was cancelled.",
        "a3": "Ann won the race in Paris, said the mayor.",
    }
    with gzip.open(data / "articles.jsonl.gz", "wt") as f:
        for aid, text in texts.items():
            a = {"id": aid, "week": "20250103", "title": "The race", "url": None, "date": "2025-01-02", "text": text}
            f.write(json.dumps(a) + "\n")
    (tmp_path / "cache").mkdir()
    read = load_items(data, tmp_path / "cache")
    pooled = {it.id: it for it in read}
    assert pooled["q1"].in_articles and {p.article_id for p in pooled["q1"].passages} == set(texts)
    folders = {it.id: it for it in load_folder_items(data, tmp_path / "cache", read)}
    assert sorted(folders) == ["q0#folder", "q1#folder"]  # a question with no articles of its own has no folder
    assert all(it.folder and it.week == "20250103" for it in folders.values())
    assert {p.article_id for p in folders["q0#folder"].passages} == {"a0", "a1"}
    assert folders["q0#folder"].in_articles and not folders["q1#folder"].in_articles
    assert [it.id for it in load_folder_items(data, tmp_path / "cache", read)] == ["q0#folder", "q1#folder"]  # cached


def test_pool_weeks_decide_which_weeks_articles_a_question_searches(tmp_path):
    """`qa train --pool-weeks N`: a question is searched in its week's articles and those of N weeks
    either side; each width keeps its own cache."""
    import gzip

    from qa.train import load_items

    data = tmp_path / "data"
    data.mkdir()
    weeks = ["20250103", "20250110", "20250117", "20250124"]
    with (data / "questions.jsonl").open("w") as f:
        q = {"question_id": "q0", "question": "Who won the race in Paris?", "date": "2025-01-02", "week": weeks[0]}
        f.write(json.dumps({**q, "answers": ["Ann"], "articles": ["a0"]}) + "\n")
    with gzip.open(data / "articles.jsonl.gz", "wt") as f:
        for n, week in enumerate(weeks):
            text = f"The race in Paris drew crowds in week {n}." if n < 2 else "Ann won the race in Paris on Sunday."
            a = {"id": f"a{n}", "week": week, "title": "The race", "url": None, "date": "2025-01-02", "text": text}
            f.write(json.dumps(a) + "\n")
    cache = tmp_path / "cache"
    cache.mkdir()

    def searched(pool_weeks: int) -> tuple[set[str], bool]:
        (it,) = load_items(data, cache, pool_weeks=pool_weeks)
        return {p.article_id for p in it.passages}, it.in_articles

    assert searched(1) == ({"a0", "a1"}, False)  # the answer is two weeks later: not in the pool
    assert searched(0) == ({"a0"}, False)
    assert searched(2) == ({"a0", "a1", "a2"}, True)
    assert searched(1) == ({"a0", "a1"}, False)  # each width its own cache


@pytest.mark.parametrize(
    ("articles", "says"),
    [
        ('{"id": "a1", "text": "Ann won."}', 'line 2 has no "week" (each line needs id, week, text)'),
        ('{"id": "a1", "week": "20250110",', "line 2 is not JSON"),
        (None, "is not gzipped JSON lines"),
    ],
)
def test_an_articles_file_qa_train_cannot_read_stops_it_with_one_line(tmp_path, capsys, articles, says):
    """A malformed articles.jsonl.gz: training and --split-later name the line, exit 2, no traceback."""
    import gzip

    from qa import train

    data = tmp_path / "data"
    data.mkdir()
    (data / "questions.jsonl").write_text(
        '{"question_id": "q0", "question": "Who won?", "answers": ["Ann"], "week": "20250103"}\n'
    )
    if articles is None:
        (data / "articles.jsonl.gz").write_text("not gzipped\n")
    else:
        with gzip.open(data / "articles.jsonl.gz", "wt") as f:
            f.write('{"id": "a0", "week": "20250103", "text": "Ann won.", "title": null}\n' + articles + "\n")
    runs = [
        ["--out", str(tmp_path / "m.json"), "--cache", str(tmp_path / "cache"), "--no-folders"],
        ["--split-later", "1", "--to", str(tmp_path / "out")],
    ]
    for args in runs:
        assert train.main(["--data", str(data), *args]) == 2
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert err.startswith("qa train: error: ") and says in err, err
    assert not (tmp_path / "m.json").exists()
