"""The support check reads the claim: numbers, negation, names and dates (qa/claims.py), measured on
the labelled pairs of eval/claims.jsonl, and shown in --json and the terminal."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from rich.console import Console

from qa.cite import resolve, unsupported_reason
from qa.claims import contradiction, date_atoms, normal, quantities
from qa.eval import SEED_CLAIMS, claim_scores, load_claims
from qa.output import Printer
from qa.reader import nlp
from qa.types import Passage

from .conftest import run_qa
from .llm_servers import ScriptedServer

TROOPS = (
    "Iraq hosts 2,500 US troops and has Iran-backed militias linked to its security forces. "
    "An additional 900 are stationed in Syria and 4,000 American service members throughout Jordan."
)
INJURED = "At least five US personnel were injured in an attack against a military base in Iraq on Monday."


def passage(text: str = TROOPS, date: str = "2024-08-06") -> Passage:
    return Passage("p0", "a1", text, 0, len(text), "US personnel injured in Iraq", date, "seed.txt")


# The goal of issue 14; the measured figures are higher (see the README), and a change that costs
# either below the goal fails here.
GOAL = 0.9


def test_labelled_claims_precision_and_recall_of_unsupported():
    pairs = load_claims(SEED_CLAIMS)
    assert len(pairs) >= 80
    kinds = Counter(p.change for p in pairs if not p.supported)
    assert abs(sum(kinds.values()) - sum(p.supported for p in pairs)) <= len(pairs) * 0.1  # about half each
    assert set(kinds) == {"number", "negation", "entity", "place", "date"}
    scores = claim_scores(pairs)
    assert scores["precision"] >= GOAL and scores["recall"] >= GOAL, scores["misses"]


@pytest.mark.parametrize(
    ("claim", "reason"),
    [
        ("Iraq does not host any US troops.", "says ‘not host’ where [1] says it is so"),
        ("Iraq hosts 3,500 US troops.", "number 3,500 not in [1]"),
        ("Iraq hosts 900 US troops.", "number 900 where [1] says 2,500"),  # 900 is there, but for Syria
        ("Syria hosts 2,500 US troops.", "place Syria where [1] says Iraq"),
        ("Egypt and Iraq host 2,500 US troops.", "place Egypt not in [1]"),
    ],
)
def test_contradictions_and_their_reasons(claim, reason):
    assert contradiction(claim, [passage()]) == reason


@pytest.mark.parametrize(
    "claim",
    [
        "Iraq is home to 2,500 American troops.",
        "An additional 900 troops are stationed in Syria.",
        "Syria has 900 more troops.",
        "The United States has 4,000 service members throughout Jordan.",
    ],
)
def test_paraphrases_pass(claim):
    assert contradiction(claim, [passage()]) is None


def test_numbers_in_words_qualifiers_and_dates():
    p = passage(INJURED)
    assert contradiction("At least 5 US personnel were hurt on Monday.", [p]) is None  # "five" is 5
    assert contradiction("Five US personnel were injured.", [p]) is None  # a qualifier may be dropped
    assert contradiction("At most five US personnel were injured.", [p]) == "number At most five not in [1]"
    assert contradiction("At least fifteen US personnel were injured.", [p]) == "number At least fifteen not in [1]"
    assert contradiction("At least five US personnel were injured on August 5.", [p]) is None  # that Monday
    assert contradiction("At least five US personnel were injured on Tuesday.", [p]) == "date Tuesday not in [1]"
    assert date_atoms("Monday, Aug. 5, 2024") == {"weekday": {0}, "month": {8}, "day": {5}, "year": {2024}}
    text = "At least five US personnel were injured."
    (q,) = quantities(nlp.parse([text])[text], text)
    assert (q.text, q.low, q.high, q.frame) == ("At least five", 5, float("inf"), {"personnel", "injure"})
    assert normal("U.S. troops’ base [1], Al-Asad") == "us troops base al asad"


def test_names_surnames_and_denials():
    p = passage(
        "US Secretary of Defense Lloyd Austin and Defense Minister Yoav Gallant agreed that the attack marked "
        "a dangerous escalation. Israel has not claimed responsibility for the attack."
    )
    assert contradiction("Austin and Gallant said the attack was a dangerous escalation.", [p]) is None
    assert contradiction("Antony Blinken and Gallant agreed the attack was a dangerous escalation.", [p])
    assert contradiction("Israel claimed responsibility for the attack.", [p])
    assert contradiction("Israel has not taken responsibility for the attack.", [p]) is None


def test_verbatim_sentence_needs_no_parse(monkeypatch):
    monkeypatch.setattr(nlp, "parse", lambda texts: pytest.fail("parsed a verbatim sentence"))
    assert unsupported_reason("Iraq hosts 2,500 US troops.", [passage()], "[1]") is None


def test_resolve_keeps_the_reason_in_json_and_the_terminal_dims_the_sentence():
    answer = resolve("How many?", "Iraq does not host any US troops [1]. Iraq hosts 2,500 US troops [1].", [passage()])
    first, second = answer.to_dict()["sentences"]
    assert first == {
        "text": "Iraq does not host any US troops.",
        "citations": [1],
        "supported": False,
        "reason": "says ‘not host’ where [1] says it is so",
    }
    assert second["supported"] and second["reason"] is None
    out = Console(record=True, force_terminal=True, color_system="standard", width=200, highlight=False)
    Printer(out).answer_text(answer)
    shown = out.export_text(styles=True)
    assert "\x1b[2mIraq does not host any US troops [1].\x1b[0m" in shown  # dimmed
    assert "[unsupported: says ‘not host’ where [1] says it is so]" in shown


def test_cli_json_gives_the_reason(seed_index):
    draft = ("Iraq does not host any US troops [1]. ", "Iraq hosts 3,500 US troops [1].")
    with ScriptedServer("ok", pieces=draft) as server:
        r = run_qa(
            "ask", "--json", "--index", str(seed_index), "--llm", "openai", "--base-url", server.base_url,
            "How many US troops are in Iraq?",
        )  # fmt: skip
    assert r.returncode == 0, r.stderr
    reasons = [s["reason"] for s in json.loads(r.stdout)["sentences"]]
    assert reasons == ["says ‘not host’ where [1] says it is so", "number 3,500 not in [2]"]  # its own quote


def test_parse_in_the_worker_matches_in_process():
    texts = ["Iraq does not host any US troops.", "At least five US personnel were injured on Monday."]
    here = nlp._parse(texts)
    worker = nlp._Worker()
    try:
        assert worker.parse(texts) == here
    finally:
        worker.close()
    assert worker.parse(texts) is None
