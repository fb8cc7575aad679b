"""The sources differ: values that two articles give for what a question asks (qa/conflicts.py), in
the answer, --json, the terminal and Markdown, and measured on the seed set's conflict questions."""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from qa.cite import resolve
from qa.conflicts import Side, canon, find_conflicts, read_question
from qa.eval import SEED_DATASET, conflict_shown, load_dataset
from qa.output import Printer, answer_markdown
from qa.reader.nlp import parse
from qa.types import Passage

from .conftest import run_qa

A = (
    "At least five US personnel were injured in an attack against a military base in Iraq on Monday, US officials "
    "told Reuters. Last week the US carried out a strike in Iraq against individuals US officials said were "
    "militants getting ready to launch drones. Secretary Austin and Minister Gallant agreed that today’s "
    "Iran-aligned militia attack on U.S. forces stationed at Al-Asad Airbase in western Iraq marked a dangerous "
    "escalation. Iraq hosts 2,500 US troops."
)
B = (
    "A suspected rocket attack on Monday has injured several U.S. personnel in Iraq, according to a defense "
    "spokesperson. The attack struck Al-Asad Airbase in western Iraq. It wasn’t immediately clear who was behind "
    "the attack. Last week, U.S. fighter jets struck Iranian-backed militants, with American officials saying the "
    "fighters were preparing for drone or rocket attacks. The U.S. and Israel are bracing for an Iranian attack."
)
INJURED = "How many U.S. personnel were injured in the attack on the base in Iraq?"


def passage(text: str, article: str, n: int = 0) -> Passage:
    return Passage(f"{article}-{n}", article, text, 0, len(text), f"Article {article}", "2024-08-06", f"{article}.txt")


def sides(question: str, a: str = A, b: str = B, cited: set[int] | None = None) -> list[str]:
    found = find_conflicts(question, [passage(a, "a"), passage(b, "b")], {0} if cited is None else cited)
    assert len(found) <= 1
    return [s.text for s in found[0].sides] if found else []


@pytest.mark.parametrize(
    "question, values",
    [
        (INJURED, ["At least five", "several"]),
        ("How many US personnel were hurt at Al-Asad Airbase?", ["At least five", "several"]),
        ("Who reported that U.S. personnel had been injured in the attack?", ["US officials", "a defense spokesperson"]),
        ("Who said U.S. personnel were injured in Iraq?", ["US officials", "a defense spokesperson"]),
        ("Who was behind the attack on Al-Asad Airbase?", ["Iran-aligned militia", "It wasn’t immediately clear who was behind the attack"]),
        ("Who was responsible for the attack on the Al-Asad base?", ["Iran-aligned militia", "It wasn’t immediately clear who was behind the attack"]),
        ("What were the militants struck by the U.S. last week preparing to do?", ["launch drones", "drone or rocket attacks"]),
        ("What were the militants preparing to do before the U.S. struck them?", ["launch drones", "drone or rocket attacks"]),
    ],
)  # fmt: skip
def test_each_kind_of_disagreement_gives_both_sides(question, values):
    assert sides(question) == values


@pytest.mark.parametrize(
    "question",
    [
        "How many US troops does Iraq host?",  # one article says it
        "Who is the US Secretary of Defense?",  # nothing compared
        "On what day was the attack on Al-Asad Airbase?",
        "What kind of weapon was used in the attack on Al-Asad Airbase?",
    ],
)
def test_questions_the_articles_agree_on_or_one_answers_give_no_conflict(question):
    assert sides(question) == []


def test_the_same_number_written_differently_is_no_conflict():
    a = "Five US personnel were injured in an attack on the base in Iraq."
    b = "An attack in Iraq has injured at least 5 U.S. personnel, officials said."
    assert sides(INJURED, a, b) == []
    assert sides(INJURED, a, b.replace("at least 5", "seven")) == ["Five", "seven"]


def test_an_article_that_gives_two_values_is_not_a_side():
    b = "An attack in Iraq has injured several U.S. personnel. Later, nine U.S. personnel were injured in Iraq."
    assert sides(INJURED, A, b) == []


def test_one_side_must_be_cited_and_the_articles_must_differ():
    assert sides(INJURED, cited=set()) == []  # neither passage is cited: not about what the answer says
    found = find_conflicts(INJURED, [passage(A, "a", 0), passage(B, "a", 1)], {0})
    assert found == []  # two passages of one article: not two sources


def test_another_event_of_the_same_kind_is_not_the_one_asked_about():
    # "an Iranian attack" (one feared) is not "the attack" on Al-Asad: no agent from it
    b = B.replace("It wasn’t immediately clear who was behind the attack. ", "")
    assert sides("Who was behind the attack on Al-Asad Airbase?", A, b) == []


def test_the_question_must_name_what_the_article_speaks_of():
    b = B.replace("in Iraq", "in Syria").replace("western Iraq", "eastern Syria")
    assert sides(INJURED, A, b) == []  # article b is about Syria


def test_read_question_and_canon():
    p = parse([INJURED])[INJURED]
    slot = read_question(p)
    assert slot is not None and (slot.kind, slot.verb, slot.noun) == ("number", "injure", "personnel")
    assert canon("wound") == canon("hurt") == "injure" and canon("ready") == "prepare" and canon("go") == "go"
    assert read_question(parse(["Who is the leader of Hezbollah?"])["Who is the leader of Hezbollah?"]) is None


def test_side_comparison():
    assert not Side("US officials", 0, 0, 1).differs(Side("officials", 1, 0, 1))  # one holds the other
    assert Side("US officials", 0, 0, 1).differs(Side("a defense spokesperson", 1, 0, 1))
    assert Side("it is not clear", 0, 0, 1, unknown=True).differs(Side("Hezbollah", 1, 0, 1))
    assert not Side("it is not clear", 0, 0, 1, unknown=True).differs(Side("unknown", 1, 0, 1, unknown=True))


def test_resolve_says_the_sources_differ_and_cites_each_side():
    passages = [passage(A, "a"), passage(B, "b")]
    answer = resolve(INJURED, "At least five US personnel were injured [1].", passages)
    assert len(answer.conflicts) == 1
    c = answer.conflicts[0]
    assert [(v.text, v.citation) for v in c.values] == [("At least five", 1), ("several", 2)]
    assert answer.citations[1].quote.startswith("A suspected rocket attack")  # a new citation for the other side
    assert answer.answer.endswith("The sources differ: At least five [1], several [2].")
    assert answer.sentences[-1].supported and answer.sentences[-1].citations == (1, 2)
    assert answer.to_dict()["conflicts"] == [
        {"claim": INJURED, "values": [{"text": "At least five", "citation": 1}, {"text": "several", "citation": 2}]}
    ]
    out = Console(record=True, force_terminal=True, color_system="standard", width=200, highlight=False)
    Printer(out).answer_text(answer)
    shown = out.export_text(styles=True)
    assert "The sources differ:" in shown and "At least five [1], several [2]." in shown
    assert "\x1b[1;33mThe sources differ:\x1b[0m" in shown  # bold yellow
    assert "**The sources differ:** At least five [^1], several [^2]." in answer_markdown(answer)
    assert not resolve("How many US troops does Iraq host?", "Iraq hosts 2,500 US troops [1].", passages).conflicts


def test_seed_set_marks_its_conflict_questions():
    marked = [q for q in load_dataset(SEED_DATASET) if q.conflict]
    assert {q.id for q in marked} == {"injured-count", "who-attacked", "who-reported", "militants-preparing"}
    assert all(len(q.answers) == 1 and isinstance(q.answers[0], tuple) for q in marked)  # one value per side
    answer = resolve(INJURED, "At least five US personnel were injured [1].", [passage(A, "a"), passage(B, "b")])
    assert conflict_shown(answer, [("at least five", "several")])
    assert not conflict_shown(answer, [("at least five", "dozens")])
    assert not conflict_shown(resolve(INJURED, "Five [1].", [passage(A, "a")]), [("at least five", "several")])


@pytest.mark.parametrize(
    "question",
    [INJURED, "How many US personnel were hurt in the Al-Asad attack?"],
)
def test_cli_json_shows_both_sides_of_the_seed_conflict(seed_index, question):
    r = run_qa("ask", "--json", "--index", str(seed_index), "--llm", "extractive", question)
    assert r.returncode == 0, r.stderr
    answer = json.loads(r.stdout)
    [conflict] = answer["conflicts"]
    assert conflict["claim"] == question
    assert sorted(v["text"].lower() for v in conflict["values"]) == ["at least five", "several"]
    quotes = {c["n"]: c for c in answer["citations"]}
    sources = {quotes[v["citation"]]["source"].rsplit("/", 1)[-1] for v in conflict["values"]}
    assert sources == {"000_3fec42b9180752d3.txt", "004_5ac8039a6aa0238a.txt"}  # one side from each article
    for v in conflict["values"]:
        assert v["text"] in quotes[v["citation"]]["quote"]  # each value quoted by its own citation
    assert "The sources differ:" in answer["answer"]
