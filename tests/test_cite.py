"""Citation parsing, sentence support and resolution: small worked examples."""

from qa.cite import parse_markers, resolve, support, supported
from qa.types import REFUSAL, Passage

ARTICLE = (
    "Iraq hosts 2,500 US troops and has Iran-backed militias linked to its security forces. "
    "An additional 900 are stationed in Syria."
)


def passage(text=ARTICLE, start=0, title="US troops in the Middle East", n=0):
    return Passage(f"p{n}", "a1", text, start, start + len(text), title, "2024-08-06", "seed.txt")


def test_parse_markers_worked_examples():
    assert parse_markers("Iraq hosts 2,500 troops [1][3].") == [(23, 27, [1]), (27, 30, [3])]
    assert parse_markers("Both said so [2, 4-5].") == [(12, 21, [2, 4, 5])]
    assert parse_markers("A year [1-100] is no citation range.")[0][2] == []
    assert parse_markers("No markers here.") == []


def test_support_worked_examples():
    assert support("Iraq hosts 2,500 US troops.", "Iraq hosts 2,500 US troops and militias.") == 1.0
    assert support("Iraq hosts 3,000 US troops.", ARTICLE) == 0.0  # a stated number must be there
    assert support("The sky is green.", ARTICLE) == 0.0
    assert supported("Syria has 900 more troops.", [passage()])
    assert not supported("Iraq hosts 2,500 US troops.", [])  # no citation: never supported


def test_resolve_strips_invalid_markers_and_marks_unsupported():
    p = passage()
    draft = "Iraq hosts 2,500 US troops [1]. Iran pays the militias [7]. The sky is green."
    answer = resolve("How many US troops are in Iraq?", draft, [p])
    assert not answer.refused
    assert answer.answer == "Iraq hosts 2,500 US troops [1]. Iran pays the militias. The sky is green."
    assert [(s.citations, s.supported) for s in answer.sentences] == [((1,), True), ((), False), ((), False)]
    assert not answer.verified
    [c] = answer.citations
    assert c.n == 1 and ARTICLE[c.start : c.end] == c.quote and "2,500" in c.quote
    assert answer.to_dict()["sentences"][1] == {
        "text": "Iran pays the militias.",
        "citations": [],
        "supported": False,
        "reason": "cites no passage",
    }


def test_resolve_renumbers_in_order_of_appearance_and_quotes_exact_spans():
    first = passage("Lloyd Austin is the US Secretary of Defense.", start=500, title="Austin", n=1)
    second = passage(ARTICLE, n=2)
    answer = resolve("q", "Syria hosts 900 more troops [2]. Austin leads the Pentagon [1].", [first, second])
    assert answer.answer == "Syria hosts 900 more troops [1]. Austin leads the Pentagon [2]."
    assert [c.quote for c in answer.citations] == ["An additional 900 are stationed in Syria.", first.text]
    assert answer.citations[1].start == 500


def test_a_model_that_ignores_the_citation_format_gets_every_sentence_marked():
    answer = resolve("q", "Iraq hosts 2,500 US troops. Nine hundred are in Syria.", [passage()])
    assert not answer.refused and answer.citations == ()
    assert [s.supported for s in answer.sentences] == [False, False]


def test_refusal_and_empty_drafts():
    assert resolve("q", REFUSAL, [passage()]).refused
    assert resolve("q", "  ", [passage()]).refused
    assert resolve("q", "[1]", [passage()]).refused  # only a marker: nothing was said


def test_split_short_worked_examples():
    from qa.cite import split_short

    assert split_short("Short answer: 2,500 [1]\nIraq hosts 2,500 US troops [1].") == (
        "2,500",
        [1],
        "Iraq hosts 2,500 US troops [1].",
    )
    assert split_short("short answer: **Lloyd Austin**.\nHe spoke [2].")[:2] == ("Lloyd Austin", [])
    assert split_short("Iraq hosts 2,500 US troops [1].") == (None, [], "Iraq hosts 2,500 US troops [1].")
    assert split_short("Short answer: the U.S. [1]\nx")[0] == "the U.S."  # an abbreviation keeps its stop
    assert split_short("Short answer: Martin Luther King Jr. [1]\nx")[0] == "Martin Luther King Jr."
    assert split_short("Short answer: Baghdad. [1]\nx")[0] == "Baghdad"  # a sentence's stop goes


def test_short_answer_is_kept_only_when_a_cited_passage_holds_it():
    a = resolve(
        "How many US troops are in Iraq?", "Short answer: 2,500 [1]\nIraq hosts 2,500 US troops [1].", [passage()]
    )
    assert (a.short_answer, a.short_citation) == ("2,500", 1)
    assert (
        a.answer == "Iraq hosts 2,500 US troops and has Iran-backed militias linked to its security forces [1]."
        or a.answer.startswith("Iraq hosts 2,500 US troops")
    )
    assert "Short answer" not in a.answer
    made_up = resolve("How many?", "Short answer: 3,000 [1]\nIraq hosts 2,500 US troops [1].", [passage()])
    assert made_up.short_answer is None and not made_up.refused
    # the passage's own spelling wins; a title holds short answers too
    cased = resolve("Where?", "Short answer: syria [1]\nAn additional 900 are stationed in Syria [1].", [passage()])
    assert cased.short_answer == "Syria"
    titled = resolve("Where?", "Short answer: Middle East [1]\nIraq hosts 2,500 US troops [1].", [passage()])
    assert titled.short_answer == "Middle East" and titled.short_citation == 1


def test_short_answer_cites_its_own_passage():
    other = passage("Lloyd Austin is the US Secretary of Defense.", start=500, title="Austin", n=1)
    a = resolve("Who?", "Short answer: Lloyd Austin [2]\nIraq hosts 2,500 US troops [1].", [passage(), other])
    assert a.short_answer == "Lloyd Austin"
    cited = a.citations[a.short_citation - 1]
    assert cited.passage_id == "p1" and "Lloyd Austin" in cited.quote
