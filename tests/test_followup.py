"""Follow-ups made standalone with no model (qa.followup), and /filter's argument (qa.chat.parse_filter)."""

import datetime
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qa.chat import parse_filter
from qa.errors import UsageError
from qa.followup import is_follow_up, rewrite_offline, standalone_question
from qa.retrieve import Filter

IRAQ = "How many US troops are in Iraq?"
AL_ASAD = "How many US personnel were injured in the attack on Al-Asad?"


@pytest.mark.parametrize(
    "follow_up, previous, standalone",
    [
        ("And how many are in Syria?", IRAQ, "How many US troops are in Syria?"),
        ("And in Syria?", IRAQ, "How many US troops are in Syria?"),
        ("What about Jordan?", IRAQ, "How many US troops are in Jordan?"),
        ("What about the US troops in Syria?", IRAQ, "How many US troops are in Syria?"),
        ("What about 2023?", IRAQ, "How many US troops are in Iraq? (2023)"),
        ("How many were wounded?", IRAQ, "How many were wounded? (US troops, Iraq)"),
        ("And?", IRAQ, IRAQ),
        ("What did he say?", "Who is the US Secretary of Defense?", "What did he say? (US Secretary of Defense)"),
        ("When did it happen?", "What happened at Al-Asad Airbase?", "When did it happen? (Al-Asad Airbase)"),
        ("What about Tuesday?", "What happened in Iraq on Monday?", "What happened in Iraq on Tuesday?"),
        # a count of nothing named counts what the previous question counted
        (
            "How many were seriously injured?",
            AL_ASAD,
            "How many US personnel were seriously injured in the attack on Al-Asad?",
        ),
        # "the attack" is the one asked about: the question stands, the previous one's terms carried
        ("Who was behind the attack?", AL_ASAD, "Who was behind the attack? (US personnel, injured, Al-Asad)"),
        ("Who commands the troops?", IRAQ, "Who commands the troops? (US, Iraq)"),
        # not follow-ups: unchanged
        ("Who was behind the attack?", IRAQ, "Who was behind the attack?"),  # no attack asked about
        ("Where was the Super Bowl held?", "Who won the Super Bowl?", "Where was the Super Bowl held?"),  # a name
        ("Who is the US Secretary of Defense?", IRAQ, "Who is the US Secretary of Defense?"),
        ("Which airbase in western Iraq was attacked?", IRAQ, "Which airbase in western Iraq was attacked?"),
    ],
)
def test_rewrite_offline(follow_up, previous, standalone):
    assert rewrite_offline(follow_up, previous) == standalone


@pytest.mark.parametrize(
    "follow_up, previous, answer, standalone",
    [
        (
            "Where was he flown to?",
            "Who was captured in Venezuela?",
            "Nicolas Maduro [1]\nThe United States carried out a strike against Venezuela [1].",
            "Where was he flown to? (Nicolas Maduro, captured, Venezuela)",
        ),
        (
            "What did he say?",
            "Who is the US Secretary of Defense?",
            "Lloyd Austin [2]\nUS Secretary of Defense Lloyd Austin spoke [2].",
            "What did he say? (Lloyd Austin, US Secretary of Defense)",
        ),
        ("What is its capital?", "Which country held an election?", "Venezuela [1]\n...", None),
        ("How many points did they score?", "Which team won?", "Seattle Seahawks [1]\n...", None),
        ("Who is his wife?", "Who was captured? (Venezuela)", "Nicolás Maduro Moros [3]", None),
        # "he" is a person: not the airbase the previous question asked for; "it" is not a person
        (
            "When did he speak?",
            "Which airbase was attacked?",
            "Al-Asad Airbase [1]\n...",
            "When did he speak? (airbase, attacked)",
        ),
        ("What is it?", "Who won?", "Jannik Sinner [1]\n...", "What is it? (won)"),
        # a number, a day or a sentence is not what a pronoun points at
        (
            "When did they arrive?",
            IRAQ,
            "2,500 [1]\nIraq hosts 2,500 US troops [1].",
            "When did they arrive? (US troops, Iraq)",
        ),
        ("What did they do?", "When was the attack?", "Monday [1]\n...", "What did they do? (attack)"),
        (
            "What did they do?",
            "Who attacked?",
            "Iran-aligned militias attacked the base [1].",
            "What did they do? (attacked)",
        ),
        (
            "What did they do?",
            "Who attacked?",
            "I cannot answer that from the articles.",
            "What did they do? (attacked)",
        ),
        # a question that names it already, or one that is no follow-up, gains nothing
        ("Where was Maduro flown?", "Who was captured?", "Nicolas Maduro [1]", "Where was Maduro flown?"),
        (
            "Where was Nicolas Maduro flown after he was captured?",
            "Who was captured?",
            "Nicolas Maduro [1]",
            "Where was Nicolas Maduro flown after he was captured?",
        ),
    ],
)
def test_a_pronoun_brings_the_name_the_last_answer_gave(follow_up, previous, answer, standalone):
    """ "He" after an answer that named a person is most often that person: the name is searched
    with the follow-up ("Who is his wife?" then also never answers with the husband, whom it names)."""
    out = rewrite_offline(follow_up, previous, answer)
    if standalone is None:  # the name comes first in the brackets
        name = answer.split(" [")[0]
        assert out.startswith(f"{follow_up} ({name}"), out
    else:
        assert out == standalone


def test_a_rewrite_of_a_rewrite_keeps_one_pair_of_brackets():
    """The brackets of the question before are read as carried terms, never nested: not
    "When did he say? (speak (airbase attacked)"."""
    first = rewrite_offline("When did he speak?", "Which airbase was attacked?")
    assert first == "When did he speak? (airbase, attacked)"
    second = rewrite_offline("What did he say?", first)
    assert second == "What did he say? (speak, airbase, attacked)"  # asks what, not when; the terms carried on
    assert rewrite_offline("What did he say?", "Did Lloyd Austin speak? (airbase attacked)") == (
        "What did he say? (Lloyd Austin speak, airbase attacked)"
    )
    assert (
        rewrite_offline("And?", "How many were wounded? (US troops, Iraq)")
        == "How many were wounded? (US troops, Iraq)"
    )
    # brackets the user typed do not unbalance the rewrite
    assert rewrite_offline("What about the IDF (Israeli army)?", "How many soldiers does Israel have?").count("(") == 0
    # a long chat does not pile up every earlier question's terms
    chain = "Which airbase was attacked?"
    for follow_up in ["When did he speak?", "What did they say?", "Who was hurt?", "Why did it happen?"] * 3:
        chain = rewrite_offline(follow_up, chain)
        assert re.fullmatch(r"[^()]*\?( \([^()]+\))?", chain), chain
        assert chain.count(",") <= 3


@given(st.lists(st.text(alphabet="ab (),?Hhe", max_size=30), min_size=1, max_size=5))
def test_rewritten_follow_ups_have_balanced_brackets(questions):
    previous = "Which airbase was attacked? (Iraq)"
    for q in questions:
        out = rewrite_offline(q, previous)
        if is_follow_up(q):
            assert re.fullmatch(r"[^()]*( \([^()]+\))?", out), out
        previous = out


def test_is_follow_up():
    assert is_follow_up("And how many are in Syria?") and is_follow_up("how about Syria")
    assert is_follow_up("When did it happen?") and is_follow_up("Who won?")
    assert not is_follow_up(IRAQ) and not is_follow_up("Android phones sold in August 2024")
    assert is_follow_up("How many were seriously injured?") and is_follow_up("how much did they pay")
    assert not is_follow_up("How many people were injured?") and not is_follow_up("Who was behind the attack?")
    assert is_follow_up("Who was behind the attack?", AL_ASAD) and is_follow_up("Who hit the bases?", "Which base?")
    assert not is_follow_up("Who was behind the attack?", IRAQ)
    assert is_follow_up("When did the court rule?", "What did the Supreme Court rule? (tariffs)")


def test_standalone_question_uses_the_models_rewrite_when_given():
    seen = []

    def rewrite(question, history):
        seen.append((question, history))
        return "How many US troops are in Syria?"

    history = [(IRAQ, "Iraq hosts 2,500 US troops [1].")]
    assert standalone_question("And Syria?", history, rewrite) == "How many US troops are in Syria?"
    assert seen == [("And Syria?", history)]
    assert standalone_question("And Syria?", [], rewrite) == "And Syria?"  # nothing to lean on: no call
    assert len(seen) == 1
    assert standalone_question("And Syria?", history) == "How many US troops are in Syria?"  # offline


@given(st.text(max_size=80), st.text(max_size=80))
def test_rewrite_offline_never_fails_and_leaves_standalone_questions_alone(question, previous):
    out = rewrite_offline(question, previous)
    assert isinstance(out, str)
    if not is_follow_up(question, previous):
        assert out == question.strip()


def test_parse_filter():
    assert parse_filter("2024-08..2024-09-15 reuters") == Filter("2024-08-01", "2024-09-15", "reuters")
    assert parse_filter("2024-02") == Filter("2024-02-01", "2024-02-29")
    assert parse_filter("..2024-08-06") == Filter(None, "2024-08-06")
    assert parse_filter("cnn", Filter("2024-08-01", None, "reuters")) == Filter("2024-08-01", None, "cnn")
    assert parse_filter("2024-08-05..", Filter(None, None, "cnn")) == Filter("2024-08-05", None, "cnn")
    with pytest.raises(UsageError, match="not a date"):
        parse_filter("2024-13-01..")
    with pytest.raises(UsageError, match="ends before it starts"):
        parse_filter("2024-09-01..2024-08-01")


def test_filter_changed_is_what_qa_ask_and_the_api_use():
    assert Filter().changed(since="2024-02", until="2024-02") == Filter("2024-02-01", "2024-02-29")
    assert Filter("2024-01-01", "2024-12-31", "cnn").changed(until="2024-08-06") == Filter(
        "2024-01-01", "2024-08-06", "cnn"
    )
    assert Filter(source="cnn").changed(source=" ") == Filter()
    assert Filter().changed(since=datetime.datetime(2024, 8, 6, 13, 30)) == Filter("2024-08-06")
    for bad in ["2024-8", "20240806", "2024-02-30", "August 2024", "2024-W32"]:
        with pytest.raises(UsageError, match=r"is not a date; write YYYY-MM-DD or YYYY-MM"):
            Filter().changed(since=bad)
    with pytest.raises(UsageError, match="ends before it starts"):
        Filter(date_from="2024-09-01").changed(until="2024-08")
