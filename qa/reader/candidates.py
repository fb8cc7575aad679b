"""Candidate sentences and short-answer spans of the retrieved passages, with their features.

One code path makes the features at answer time and at training time (:mod:`qa.train`), so a
model fitted on four years of news questions sees at answer time exactly what it learned from.

The way of a question through it:

1. :func:`sentences` splits every passage into sentences, drops what is not a statement
   (link teasers, navigation, photo credits, sub-headings, bylines, instructions, sentences
   that only echo the question) and gives each the cheap features: shares of the question's
   words in the sentence, its neighbour, its passage and its title, the passage's retrieval
   rank and BM25 score, the article's date against the question's, the sentence's place in
   the article, whether it holds the kind of thing asked for.
2. The best :data:`DENSE_CANDIDATES` by a cheap lexical score get the cosine of their MiniLM
   vector to the question's; the sentence model scores them.
3. :func:`spans` takes the named entities and noun phrases (spaCy) of the best
   :data:`SPAN_SENTENCES` sentences (and their numbers in digits), with features of their own:
   entity label against the expected answer type, repeats of the question, distance to the
   question's words, how many passages and articles agree on the span.
"""

from __future__ import annotations

import base64
import math
import re
import statistics
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import pairwise
from typing import Any

import numpy as np

from ..chunk import split_sentences
from ..cite import content_words
from ..text import MONTHS, WEEKDAYS, ends_in_abbreviation
from ..types import Passage
from . import places
from .question import KIND_WORDS, STRICT, TYPES, answer_type, fits_type, is_head

DENSE_CANDIDATES = 32  # sentences per question that get a vector and the sentence model
SPAN_SENTENCES = 6  # best sentences whose spans are read
MAX_SPAN_WORDS = 8

_QUESTION_WORDS = {"many", "much", "according", "report", "reported", "happened", "name", "kind", "type", "recently",
                   "week", "announced", "new", "first"}  # fmt: skip
_NUMBER_WORDS = re.compile(
    r"\b(\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?|thousands?|"
    r"millions?|billions?|trillions?|half|several)\b",
    re.IGNORECASE,
)
_DATE_WORDS = re.compile(
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|may(?= \d)|june|july|"
    r"august|september|october|november|december|jan|feb|aug|sept?|oct|nov|dec|yesterday|today|tonight|tomorrow|"
    r"weekends?|weeks?|months?|years?|decades?|century|centuries|ago|spring|summer|fall|autumn|winter|morning|"
    r"afternoon|evening|(1[5-9]|20)\d\d|\d{1,2}(:\d\d)? ?[ap]\.?m)\b",
    re.IGNORECASE,
)
_INSTRUCTION = re.compile(
    r"\W*(ignore|disregard|forget|answer|respond|reply|cite|say|tell|pretend|never|always|you must|you are now)\b",
    re.IGNORECASE,
)
# Not statements: teasers and links, navigation, credits, bylines, calls to act.
_NOT_STATEMENT = re.compile(
    r"^\W*(👉|➡|►|▶|»|read (more|next|also)|more on\b|see also|related:|click|sign up|subscribe|watch:|listen:|"
    r"photo(graph)?s?( by)?:|image:|credit:|getty images|advertisement|share this|follow us|by [A-Z][\w.'-]+( [A-Z][\w.'-]+)*$|"
    r"copyright|©|all rights reserved|this (story|article) (was|has been) (updated|corrected))",
    re.IGNORECASE,
)
_CREDIT = re.compile(
    r"\((photo|image|credit|getty|ap photo|reuters)[^)]*\)\s*$|/ ?(getty|ap|reuters|afp)\b", re.IGNORECASE
)


_GLUED_QUESTION = re.compile(r"[a-z]\?[A-Z]")
# A news agency's credit opening a sentence ("(CNN)", "London (CNN Business)", "NEW YORK (AP) —"): who wrote it.
_AGENCY = re.compile(r"^\s*(?:[A-Z][\w.'’]*(?:[ ,]+[A-Z][\w.'’]*){0,4}\s*)?\((CNN[\w ]*|AP|Reuters|AFP)\)")


def is_statement(sentence: str) -> bool:
    """Whether a sentence reports something, rather than being a teaser, heading, credit or byline.

    Example: is_statement("👉 More on the election") -> False; is_statement("Election results") -> False
    (a sub-heading: no verb-like ending, no final punctuation); is_statement("Who owns Toys R Us now?") -> False;
    is_statement("Iraq hosts 2,500 US troops.") -> True
    """
    s = sentence.strip()
    if len(s) < 20 or len(s) > 600 or _NOT_STATEMENT.search(s) or _INSTRUCTION.match(s) or _CREDIT.search(s):
        return False
    if "http://" in s or "https://" in s or "www." in s:
        return False
    if s[-1] == "?" or _GLUED_QUESTION.search(s):
        return False  # a question (an explainer's sub-heading, "Who owns Toys R Us now?"), or a question glued to
        # a link's teaser ("Is Iran behind it?What it would mean"): none of the 3,151 evidence sentences is either
    words = s.split()
    if s[-1] not in ".!\"'”’)" and len(words) < 12:
        return False  # a sub-heading or a caption fragment
    return any(ch.islower() for ch in s)


def in_credit(sentence: str, span: str) -> bool:
    """Whether ``span`` is read from the news agency's credit that opens ``sentence`` ("(CNN)",
    "New York (CNN Business)", "NEW YORK (AP) —") and the sentence does not say it again: who wrote
    the story is no answer to what it says. The dateline's place is kept: it is where the story happens
    ("EL PASO, TX – The airspace over this border city's airport ...").

    Example: in_credit("New York (CNN Business) Subway is launching a new menu.", "CNN Business") -> True;
    in_credit("New York (CNN Business) Subway is launching a new menu.", "New York") -> False
    """
    m = _AGENCY.match(sentence)
    if m is None:
        return False
    at = sentence.find(span)
    return at >= 0 and at < m.end(1) + 1 and at + len(span) > m.start(1) - 1 and span not in sentence[m.end() :]


@dataclass
class Sentence:
    """A candidate answer sentence: ``passage`` is the 0-based index into the passages given."""

    passage: int
    text: str
    start: int  # offset in the article
    features: dict[str, float] = field(default_factory=dict)
    score: float = 0.0  # the sentence model's probability that it holds the answer


@dataclass
class Span:
    """A candidate short answer: ``text`` is copied verbatim from its sentence or its article's title."""

    sentence: int  # index into the sentences
    passage: int
    text: str
    label: str
    features: dict[str, float] = field(default_factory=dict)
    score: float = 0.0
    home: str = ""  # the title it is read from; "" when it is its sentence's own

    def read_in(self, sents: Sequence[Sentence]) -> str:
        """The text the span was read from: its title, else its sentence ("" when it has none)."""
        return self.home or (sents[self.sentence].text if self.sentence < len(sents) else "")


@dataclass
class Question:
    text: str
    as_of: date | None
    type: str
    words: dict[str, float]  # content words, question words dropped
    keys: set[str]  # names and numbers (weight 2), its first word excepted
    head: str = ""  # the word naming what is asked for (:func:`head_word`), once the NLP step has read it

    @classmethod
    def read(cls, text: str, as_of: date | None = None) -> Question:
        words = {w: v for w, v in content_words(text).items() if w not in _QUESTION_WORDS}
        parts = text.split(None, 1)
        rest = parts[1] if len(parts) > 1 else ""
        keys = {w for w, v in content_words(rest).items() if v > 1 and w in words}
        return cls(text, as_of, answer_type(text), words, keys)


_WH_WORD = re.compile(r"\b(how many|how much|who(?:m|se)?|where|when|why|which|what)\b", re.IGNORECASE)


def head_word(question: str, found: Sequence[RawSpan]) -> str:
    """The word naming what is asked for, singular: in the noun phrase that opens with "which" or
    "what" (as the NLP step found it), or else the one right after them, its owner if it has one
    ("which country's team" asks for a country), else its last word; else, after "what is"/"which
    was", the last word of the noun phrase that follows ("what is the filing deadline": "deadline";
    "the name of the storm": "storm"), and so after "who is" when that phrase is a role ("who is the
    leader of Hezbollah": "leader"); else the word after "which"/"what"; else the question word. A
    kind of something asks for the something ("which type of severe weather": "weather").

    Example: head_word("Which NFL team won?", [RawSpan(0, 14, "NP")]) -> "team";
    head_word("Which Hamas leader?", [RawSpan(6, 18, "NP")]) -> "leader";
    head_word("In which city?", []) -> "city"; head_word("Which two states sued?", []) -> "state";
    head_word("From which U.S. state?", []) -> "state";
    head_word("How many people died?", []) -> "how many"; head_word("What is it?", []) -> "what";
    head_word("Is it?", []) -> ""
    """
    for r in found:
        words = question[r.start : r.end].split()
        if len(words) > 1 and words[0].lower() in ("which", "what"):
            return _kind_of(question, r, found) or _owner_or_last(words[1:])
    m = _WH_WORD.search(question)
    if not m:
        return ""
    wh = m.group(1).lower()
    if wh in ("which", "what"):  # "which Hamas political leader": the phrase after it, as spaCy split it off
        phrase = next(
            (r for r in found if r.label == "NP" and r.start > m.end() and not question[m.end() : r.start].strip()),
            None,
        )
        if phrase is not None:
            return _kind_of(question, phrase, found) or _owner_or_last(question[phrase.start : phrase.end].split())
    copula = _COPULA.match(question, m.end()) if wh in ("which", "what", "who") else None
    if copula:  # "What is the filing deadline ...": the noun phrase after the verb; "the name of X": X
        phrase = next((r for r in found if r.start == copula.end() and r.label == "NP"), None)
        if wh == "who" and phrase and not _ROLE.match(question, phrase.start):
            phrase = None  # "Who is the leader of Hezbollah?" names a role; "Who is Taylor Swift dating?" does not
        last = question[phrase.start : phrase.end].split()[-1].lower() if phrase else ""
        of = _OF.match(question, phrase.end) if phrase and last in ("name", "names") else None
        if phrase and of:
            then = next((r for r in found if r.start == of.end() and r.label == "NP"), None)
            last = question[then.start : then.end].split()[-1].lower() if then else last
        if last:
            return singular(POSSESSIVE.sub("", last))
    rest = _HOME.sub(" ", question[m.end() :])  # "which US state": "state", not "us"
    after = [w for w in re.findall(r"[a-z][\w'’-]*", rest.lower())[:3] if not _NUMBER_WORDS.fullmatch(w)]
    if wh in ("which", "what") and after and after[0] not in _NOT_HEAD:
        return singular(POSSESSIVE.sub("", after[0]))
    return wh


def _kind_of(question: str, phrase: RawSpan, found: Sequence[RawSpan]) -> str:
    """The head of the noun phrase after "of" when ``phrase`` ends in a word naming a kind ("which type
    of severe weather": "weather"; :data:`KIND_WORDS`), else ""."""
    if question[phrase.start : phrase.end].split()[-1].lower() not in KIND_WORDS:
        return ""
    of = _OF.match(question, phrase.end)
    then = next((r for r in found if of and r.start == of.end() and r.label == "NP"), None)
    return _owner_or_last(question[then.start : then.end].split()) if then else ""


def _owner_or_last(words: Sequence[str]) -> str:
    """The head of a noun phrase's words: its owner if one has "'s" ("country's team": "country"), else its last."""
    owner = next((w for w in words if POSSESSIVE.search(w)), words[-1])
    return singular(POSSESSIVE.sub("", owner.lower()))


_COPULA = re.compile(r"\s+(?:is|was|are|were|will be)\s+", re.IGNORECASE)
_ROLE = re.compile(r"(?:the|a|an)\s", re.IGNORECASE)
#: A country's abbreviation before the head word, as "which US state" or "which U.K. city" write it.
_HOME = re.compile(r"(?<![\w.])(?:U\.S\.(?:A\.)?|USA?|U\.K\.|UK)(?![\w.])")
_OF = re.compile(r"\s+of\s+")
_NOT_HEAD = frozenset("is was are were did does do has have had will would can could should may might must of to in on at "
                      "for by with from about happened the a an this that these those it they he she".split())  # fmt: skip


def head_modifiers(question: str, head: str) -> list[str]:
    """The words between "which"/"what" and the head word, which narrow it: the head phrase's modifiers.

    Example: head_modifiers("Which vice president was updated?", "president") -> ["vice"];
    head_modifiers("Which Democratic governor said it?", "governor") -> ["democratic"];
    head_modifiers("Which team won?", "team") -> []
    """
    words = [_fold(w) for w in re.findall(r"[\w'’-]+", question)]
    for i, w in enumerate(words):
        if w not in ("which", "what"):
            continue
        for j in range(i + 1, min(i + 5, len(words))):
            if singular(POSSESSIVE.sub("", words[j])) == head:
                return [
                    m
                    for m in words[i + 1 : j]
                    if m not in _NOT_HEAD and m not in KIND_WORDS and not _NUMBER_WORDS.fullmatch(m)
                ]
    return []


_DETERMINERS = frozenset("the a an its his her their our".split())


def _phrase_by(folded: Sequence[str], first: int, last: int, phrase: Sequence[str]) -> bool:
    """Whether the words ``phrase`` stand right before the span (words ``first``..``last``), or right after it
    with at most a determiner between ("Kamala Harris, the vice president").

    Example: _phrase_by("vice president kamala harris".split(), 2, 3, ["vice", "president"]) -> True
    """
    n = len(phrase)
    if first >= n and [singular(w) for w in folded[first - n : first]] == list(phrase):
        return True
    for gap in (0, 1):
        if gap and (last + 1 >= len(folded) or folded[last + 1] not in _DETERMINERS):
            break
        if [singular(w) for w in folded[last + 1 + gap : last + 1 + gap + n]] == list(phrase):
            return True
    return False


def singular(word: str) -> str:
    """Example: singular("cities") -> "city"; singular("teams") -> "team"; singular("class") -> "class" """
    if word in ("species", "series"):
        return word
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _canonical(word: str) -> str:
    """Month abbreviations as full names. Example: _canonical("oct") -> "october"; _canonical("octopus") -> "octopus" """
    month = _MONTHS.get(word[:3])
    return month if month and month.startswith(word) else word


_MONTHS = {
    m[:3]: m for m in "january february march april may june july august september october november december".split()
}


def found(word: str, words: set[str] | dict[str, float]) -> bool:
    """Whether a question word occurs among ``words``, up to inflection and abbreviation.

    Example: found("israeli", {"israel"}) -> True; found("october", {"oct"}) -> True; found("art", {"article"}) -> False
    """
    if word in words:
        return True
    if word[:1].isdigit():
        return False
    w = _canonical(word)
    for other in words:
        if other[:1] != w[:1]:
            continue
        o = _canonical(other)
        short, long = (o, w) if len(o) <= len(w) else (w, o)
        if o == w or (len(short) >= 4 and long.startswith(short)):
            return True
    return False


def share(q: Question, words: set[str] | dict[str, float]) -> float:
    """The weight of the question's words found among ``words`` (:func:`found`), over all of it."""
    total = sum(q.words.values())
    return sum(v for w, v in q.words.items() if found(w, words)) / total if total else 0.0


_PAIR_WORD = re.compile(r"\w+")


def bigrams(text: str) -> set[tuple[str, str]]:
    """Adjacent word pairs, lower-cased. Example: bigrams("Larger than LA") -> {("larger", "than"), ("than", "la")}"""
    return set(pairwise(w.lower() for w in _PAIR_WORD.findall(text)))


def question_bigrams(q: Question) -> set[tuple[str, str]]:
    """Adjacent word pairs of the question in which at least one word is a content word."""
    return {(a, b) for a, b in bigrams(q.text) if a in q.words or b in q.words}


def has_kind(sentence: str, qtype: str, q: Question) -> float:
    if qtype in ("COUNT", "MONEY", "PERCENT", "NUMBER"):
        return float(any(m.group(0).lower() not in q.words for m in _NUMBER_WORDS.finditer(sentence)))
    if qtype == "DATE":
        return float(bool(_DATE_WORDS.search(sentence)))
    if qtype in ("PERSON", "PLACE", "ORG"):
        words = content_words(sentence)
        return float(any(v > 1 and w not in q.words and not w[:1].isdigit() for w, v in list(words.items())[1:]))
    return 1.0


def days_between(as_of: date | None, day: str | None) -> float | None:
    """Days from the article's date to the question's (positive: the article is older).

    Example: days_between(date(2024, 8, 9), "2024-08-02") -> 7.0; days_between(None, "2024-08-02") -> None
    """
    if as_of is None or not day:
        return None
    try:
        return float((as_of - date.fromisoformat(day[:10])).days)
    except ValueError:
        return None


def date_rels(as_of: date | None, days: Sequence[str | None]) -> list[float]:
    """How much older each article is than the newest of the pool, as ``log1p`` of the days.

    Asked today about an old archive, its newest article is "now". An undated article reads as
    the pool's median: its date is unknown, which says neither "this week's news" nor "old".

    Example: date_rels(date(2024, 8, 9), ["2024-08-08", "2024-08-01", None, "2024-07-02"])
    -> [0.0, log1p(7), log1p(7), log1p(37)]
    """
    gaps = [days_between(as_of, d) for d in days]
    known = [g for g in gaps if g is not None]
    if not known:
        return [0.0] * len(gaps)
    newest = max(0.0, min(known))
    neutral = statistics.median(math.log1p(max(0.0, g - newest)) for g in known)
    return [math.log1p(max(0.0, g - newest)) if g is not None else neutral for g in gaps]


def _onehot(prefix: str, value: str, values: Sequence[str]) -> dict[str, float]:
    return {f"{prefix}_{v}": float(v == value) for v in values}


def sentences(q: Question, passages: Sequence[Passage]) -> list[Sentence]:
    """Every statement of the passages once (overlapping chunks repeat sentences), with cheap features."""
    out: list[Sentence] = []
    seen: set[tuple[str, int]] = set()
    if not q.words or not passages:
        return out
    top_keyword = max((p.keyword for p in passages), default=0.0) or 1.0
    articles: dict[str, int] = {}
    for p in passages:
        articles.setdefault(p.article_id, len(articles) + 1)
    rels = date_rels(q.as_of, [p.date for p in passages])
    q_pairs = question_bigrams(q)
    for n, p in enumerate(passages):
        p_words = content_words(f"{p.headline}. {p.text}")
        t_words = content_words(p.headline)
        lex_p = share(q, p_words)
        lex_title = share(q, t_words)
        missing = sum(1 for k in q.keys if not found(k, p_words)) / len(q.keys) if q.keys else 0.0
        gap = days_between(q.as_of, p.date)
        prev = ""
        for a, b in split_sentences(p.text):
            s, before, prev = p.text[a:b], prev, p.text[a:b]
            key = (p.article_id, p.start + a)
            if key in seen or not is_statement(s):
                continue
            s_words = content_words(s)
            if not any(w not in q.words for w in s_words):
                continue  # says nothing the question does not already say
            seen.add(key)
            lex_s = share(q, s_words)
            lex_ctx = share(q, {**content_words(before), **s_words})
            keys_s = sum(1 for k in q.keys if found(k, s_words)) / len(q.keys) if q.keys else 0.0
            features = {
                "rank": float(n + 1),
                "article_rank": float(articles[p.article_id]),
                "keyword_rel": p.keyword / top_keyword,
                "keyword_zero": float(p.keyword <= 0),
                "date_rel": rels[n],
                "date_future": float(gap is not None and gap < 0),
                "date_unknown": float(gap is None),
                "lex_s": lex_s,
                "lex_ctx": lex_ctx,
                "lex_p": lex_p,
                "lex_title": lex_title,
                "missing_keys": missing,
                "keys_s": keys_s,
                "pairs_s": len(q_pairs & bigrams(s)) / len(q_pairs) if q_pairs else 0.0,
                "kind": has_kind(s, q.type, q),
                "position": math.log1p(p.start + a),
                "words": float(len(s.split())),
                "new_share": sum(1 for w in s_words if w not in q.words) / len(s_words),
                **_onehot("q", q.type, TYPES),
            }
            out.append(Sentence(n, s, p.start + a, features))
    return out


def prefilter(cands: list[Sentence]) -> list[Sentence]:
    """The :data:`DENSE_CANDIDATES` sentences most worth a vector, by words shared with the question."""

    def cheap(s: Sentence) -> float:
        f = s.features
        return 0.5 * f["lex_ctx"] + 0.3 * f["lex_p"] + 0.1 * f["kind"] + 0.1 * f["lex_title"] - 0.01 * f["rank"]

    return sorted(cands, key=cheap, reverse=True)[:DENSE_CANDIDATES]


def add_dense(cands: list[Sentence], cosines: Sequence[float]) -> None:
    """Each sentence's cosine to the question, and its rank among the candidates by cosine and by words."""
    for s, c in zip(cands, cosines):
        s.features["dense_s"] = float(c)
    for key, name in (("dense_s", "dense_rank"), ("lex_ctx", "lex_rank")):
        order = sorted(range(len(cands)), key=lambda i: -cands[i].features[key])
        for r, i in enumerate(order, start=1):
            cands[i].features[name] = float(r)
    best = max((s.features["dense_s"] for s in cands), default=0.0)
    for s in cands:
        s.features["dense_gap"] = best - s.features["dense_s"]
        s.features["rule"] = rule_score(s.features)
    top = max((s.features["rule"] for s in cands), default=0.0)
    for s in cands:
        s.features["rule_gap"] = top - s.features["rule"]


def rule_score(f: dict[str, float]) -> float:
    """The hand-set score qa answered with before the models were learned, kept as one feature:
    cosine 0.45, the question's words in the sentence (partly read with the one before) 0.3, in
    its passage 0.15, the kind asked for 0.1, less 0.2 for the question's names the passage lacks.
    """
    lex = 0.7 * f["lex_s"] + 0.3 * f["lex_ctx"]
    return 0.45 * f["dense_s"] + 0.3 * lex + 0.15 * f["lex_p"] + 0.1 * f["kind"] - 0.2 * f["missing_keys"]


SPAN_LABELS = ("PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE",
               "DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL", "NUM", "NP", "PROPN")  # fmt: skip
_WORD = re.compile(r"\w[\w'’.-]*\w|\w")
#: What may answer "who": a name of someone or of an organisation, never a phrase or a number. Of the
#: training set's 235 "who" questions, 118 gold answers read as PERSON, 13 ORG, 7 GPE, 6 as other
#: entities: a country or a building answers "who" too rarely to be offered ("Who is the US
#: Secretary of Defense?" -> "Iraq").
_WHO = frozenset({"PERSON", "PROPN", "ORG"})
#: A number in digits, with its scale word: what NER missed or took for a date ("An additional 900 are ...");
#: not the number of a name ("COVID-19", "F-35").
_NUMBER = re.compile(r"(?<![\w.,])(?<![A-Za-z]-)\d(?:[\d,.]*\d)?(?:\s(?:thousand|million|billion|trillion)|\s?(?:%|percent))?(?![\w])",
                     re.IGNORECASE)  # fmt: skip
#: Marks a span does not begin or end with: punctuation, quotes, and a dash that stands for a comma
#: ("WASHINGTON − House Republicans", "foam containing PFAS − also").
SPAN_EDGES = " ,.;:!?\"'“”‘’()[]-–—−•|"
_YEAR_OR_DAY = re.compile(r"((1[89]|20)\d\d|[0-3]?\d)$")  # in a date entity, a year or a day is the date's
_NUMERIC = frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"})
POSSESSIVE = re.compile(r"['’]s?$")  # a possessive ending: "Italy's", "the players'"
_DROP = re.compile(r"^(the|a|an|this|that|these|those|its|his|her|their|our|some|about|nearly|almost|over|only)\s+",
                   re.IGNORECASE)  # fmt: skip


_WHEN_NAME = re.compile(
    rf"(?:{'|'.join(WEEKDAYS + MONTHS)}|(?:jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\.|sept|(?:1[5-9]|20)\d\d"
    r"|today|yesterday|tomorrow|tonight|week|weekend|month|year)",
    re.IGNORECASE,
)
_WHEN_FILL = re.compile(r"\d{1,2}(?:st|nd|rd|th)?|this|last|next|early|late|mid|the|of|on|in", re.IGNORECASE)


def only_calendar(span: str) -> bool:
    """Whether ``span`` says only when: a year, a month, a weekday, a day ("2026", "March", "Jan. 14",
    "last week"; "May" alone may be Theresa May). Of the 3,780 training questions that ask neither when
    nor a number, three are answered by one, and a fourth asks for a deadline, a head word that asks
    when (:func:`is_head`); "how soon" and a quiz's "since:" are read as asking when (:func:`answer_type`).

    Example: only_calendar("Jan. 14, 2026") -> True; only_calendar("Black Friday") -> False;
    only_calendar("14") -> False; only_calendar("The Sun") -> False
    """
    words = re.findall(r"\w+\.?", span)
    return (
        any(_WHEN_NAME.fullmatch(w) for w in words)
        and all(_WHEN_NAME.fullmatch(w) or _WHEN_FILL.fullmatch(w) for w in words)
        and not (len(words) == 1 and words[0].lower() == "may")
    )


def with_abbreviation(span: str, text: str) -> str:
    """A span cut from ``text`` keeps the full stop that ends its abbreviation: trimming a span's
    punctuation must not leave "U.S" or "Jr" (the stop is in the text, so the span stays a verbatim copy).

    Examples: with_abbreviation("the U.S", "the U.S. team") -> "the U.S."; with_abbreviation("8 p.m", "at 8 p.m.")
    -> "8 p.m."; with_abbreviation("Iraq", "in Iraq.") -> "Iraq"
    """
    if not ends_in_abbreviation(span) or f"{span}." not in text:
        return span
    return f"{span}."


def norm_span(text: str) -> str:
    """A span as compared for agreement: lower case, words only.

    Example: norm_span("the U.S. Army's") -> "the u.s army's"
    """
    return " ".join(m.group(0) for m in _WORD.finditer(text.lower()))


@dataclass(frozen=True)
class RawSpan:
    """What the NLP step finds in a text: a span's character offsets and label."""

    start: int
    end: int
    label: str


def title_sources(chosen: Sequence[tuple[int, Sentence]], passages: Sequence[Passage]) -> list[tuple[int, str]]:
    """The titles whose spans are candidates too, each with the chosen sentence it is shown with: the
    best chosen sentence of each article (index, title).

    Example: for chosen sentences of articles a, b, a (indexes 0, 1, 2): [(0, title of a), (1, title of b)]
    """
    out: dict[str, tuple[int, str]] = {}
    for index, s in chosen:
        p = passages[s.passage]
        if p.headline.strip():
            out.setdefault(p.article_id, (index, p.headline))
    return list(out.values())


def spans(
    q: Question,
    passages: Sequence[Passage],
    chosen: Sequence[tuple[int, Sentence]],
    found_spans: dict[str, list[RawSpan]],
    titles: bool = False,
) -> list[Span]:
    """Short-answer candidates of the ``chosen`` sentences (index, sentence); with ``titles``, also of
    their articles' titles (:func:`title_sources`), each shown with its article's best chosen sentence
    and marked ``from_title`` (a headline names what the story is about: "... in Tahiti", "Luge at
    2026 Winter Olympics"), after every sentence's own spans.

    ``found_spans`` maps each sentence (and title) to the spans the NLP step found in it.
    """
    out: list[Span] = []
    # Agreement counts what the passages say, not their titles: chunks of one article share its title.
    passage_texts = [norm_span(p.text) for p in passages]
    title_texts = {p.article_id: f" {norm_span(p.headline)} " for p in passages}
    sentence_texts = [(norm_span(s.text), s.score) for _, s in chosen]
    q_norm = f" {norm_span(q.text)} "
    q_tokens = {w for w in q.words}
    mods = head_modifiers(q.text, q.head) if q.head and " " not in q.head else []
    before_q, after_q = slots(q)
    before_q.reverse()  # nearest the question phrase first, as read leftwards from a span
    seen: set[tuple[int, str]] = set()
    together: list[bool] = []  # per span: several names joined (:func:`joined`)
    sources = [(rank, index, s, s.text, False) for rank, (index, s) in enumerate(chosen, start=1)]
    if titles:
        heads = dict(title_sources(chosen, passages))  # sentence index -> the title shown with it
        sources += [(rank, index, s, heads[index], True) for rank, index, s, _, _ in sources if index in heads]
    for rank, index, s, text, from_title in sources:
        p = passages[s.passage]
        title_norm = f" {norm_span(p.headline)} "
        tokens = [m for m in _WORD.finditer(text)]
        folded = [_fold(m.group(0)) for m in tokens]
        q_positions = [i for i, w in enumerate(folded) if found(w, q_tokens)]
        raws = titled(text, numbered(text, with_numbers(text, found_spans.get(text, ()))))
        for raw in joined(q, text, raws):
            span_text = with_abbreviation(POSSESSIVE.sub("", text[raw.start : raw.end]).strip(SPAN_EDGES), text)
            dropped = _DROP.sub("", span_text)
            if dropped != span_text and raw.label == "NP":
                span_text = dropped
            if not span_text or len(span_text.split()) > MAX_SPAN_WORDS or not any(c.isalnum() for c in span_text):
                continue
            if raw.label == "NORP" and q.type == "PERSON":
                continue  # "who" is not answered by a nationality or a party
            fits = fits_type(q.type, raw.label, span_text, q.text)
            if q.type in STRICT and not fits:
                continue  # "how many" is answered by a number, "when" by a date
            if q.type not in STRICT and not is_head(q.head, "DATE") and only_calendar(span_text):
                continue  # "which award category" is not answered by "2026", "what is the event called" by "March"
            if (
                q.type == "PERSON"
                and raw.label not in _WHO
                and not (raw.label == "NP" and is_head(span_text.split()[-1], "PERSON"))
            ):
                continue  # "who" is answered by a name or a role ("the mayor"), not a phrase or a number
            if not places.fits(q.head, span_text, q.text):
                continue  # "which city" is not answered by "Iran", "which country" by "Ohio", "which state" by "Chicago"
            if q.type == "PLACE" and places.is_us(span_text):
                continue  # the news is American: 5 of the 742 training place questions are answered by the US
            if q.type == "PLACE" and places.named_in(span_text, q.text):
                continue  # "which country made a deal with the US?" is not answered by "the U.S."
            norm = norm_span(span_text)
            if (s.passage, norm) in seen:
                continue
            seen.add((s.passage, norm))
            words = norm.split()
            in_q = sum(1 for w in words if f" {w} " in q_norm or found(_fold(w), q_tokens)) / len(words)
            if in_q >= 1.0:
                continue  # repeats the question
            first = next((i for i, m in enumerate(tokens) if m.start() >= raw.start), 0)
            last = max(first, next((i for i, m in reversed(list(enumerate(tokens))) if m.end() <= raw.end), first))
            dist = min(
                (abs(i - first) if i < first else abs(i - last) for i in q_positions if not first <= i <= last),
                default=50,
            )
            nxt = folded[last + 1] if last + 1 < len(tokens) else ""
            prv = folded[first - 1] if first > 0 else ""

            padded = f" {norm} "
            near = folded[max(0, first - 3) : first] + folded[last + 1 : last + 4]
            head_near = float(bool(q.head) and " " not in q.head and any(singular(w) == q.head for w in near))
            if head_near and mods:  # "which vice president": "Vice President Kamala Harris" over "President Joe Biden"
                head_near = 0.5 + 0.5 * _phrase_by(folded, first, last, [*mods, q.head])
            agree_p = sum(1 for t in passage_texts if padded in f" {t} ")
            agree_a = len({passages[i].article_id for i, t in enumerate(passage_texts) if padded in f" {t} "})
            agree_t = sum(1 for t in title_texts.values() if padded in t)
            agree_s = sum(score for t, score in sentence_texts if padded in f" {t} ")
            features = {
                **{
                    k: s.features[k]
                    for k in (
                        "rank",
                        "article_rank",
                        "date_rel",
                        "date_future",
                        "date_unknown",
                        "lex_ctx",
                        "dense_s",
                        "keyword_rel",
                        "missing_keys",
                        "lex_title",
                    )
                },
                "sent_score": s.score,
                "sent_rank": float(rank),
                "in_title": float(padded in title_norm),
                "compatible": float(fits),
                "in_question": in_q,
                "span_words": float(len(words)),
                "dist": float(min(dist, 50)),
                "window_3": _window(q, folded, first, last, 3),
                "window_8": _window(q, folded, first, last, 8),
                "next_in_q": float(bool(nxt) and found(nxt, q_tokens)),
                "prev_in_q": float(bool(prv) and found(prv, q_tokens)),
                "agree_passages": float(agree_p),
                "agree_articles": float(agree_a),
                "agree_titles": float(agree_t),
                "agree_sentences": agree_s,
                "has_digit": float(any(c.isdigit() for c in span_text)),
                "capitalised": float(span_text[:1].isupper()),
                "relative_position": raw.start / max(len(text), 1),
                "head_near": head_near,
                "slot_before": slot_match(before_q, folded[max(0, first - 4) : first][::-1]),
                "slot_after": slot_match(after_q, folded[last + 1 : last + 5], relative=True),
                "affinity": 0.0,  # set by add_affinity, from the model's table
                **({"from_title": float(from_title)} if titles else {}),
                **_onehot("label", raw.label, SPAN_LABELS),
                **_onehot("q", q.type, TYPES),
            }
            out.append(Span(index, s.passage, span_text, raw.label, features, home=text if from_title else ""))
            together.append(raw not in raws and places.JOIN.search(span_text) is not None)
    if _SEVERAL.search(q.text) and any(together):  # "which two ...": one name alone answers it nowhere
        out = [sp for sp, t in zip(out, together) if t]
    return out


def affinity_keys(q: Question, span: Span) -> tuple[str, str, str]:
    """The keys of a span's row in the affinity table, most to least specific: the question's head
    word and the span's kind, its answer type and the kind, the kind alone. A place's kind says
    whether it is a country or a US state (:mod:`qa.reader.places`).

    Example: for "In which city was he killed?" and the span "Iran" (GPE):
    ("PLACE|city|GPE:COUNTRY", "PLACE||GPE:COUNTRY", "||GPE:COUNTRY")
    """
    label = span.label
    if label in ("GPE", "LOC", "PROPN", "NP"):
        kinds = {places.kind(part) for part in places.JOIN.split(span.text)}  # "Minnesota and Illinois": states
        place = kinds.pop() if len(kinds) == 1 else ""
        label = f"{label}:{place}" if place else label
    return f"{q.type}|{q.head}|{label}", f"{q.type}||{label}", f"||{label}"


def add_affinity(
    q: Question, spans: Sequence[Span], table: Mapping[str, float], near: Sequence[tuple[str, float]] = ()
) -> None:
    """Each span's ``affinity``: how often, in the training questions, a candidate of its kind was
    the answer to a question asking for what this one asks for (a smoothed rate; the most specific
    key the table holds). Example: "city" questions are rarely answered by a country's name.

    A head word the table has no row for is read through ``near``, the table's head words most like it
    with their weights (:meth:`HeadWords.near`): the span's affinity is their weighted mean, each
    read as if the question asked for it ("which governor" as "which senator" and "which leader").
    """
    for sp in spans:
        if near:
            rows = [(_affinity(table, affinity_keys(replace(q, head=h), sp)), w) for h, w in near]
            sp.features["affinity"] = sum(v * w for v, w in rows) / sum(w for _, w in rows)
        else:
            sp.features["affinity"] = _affinity(table, affinity_keys(q, sp))


def add_commonness(spans: Sequence[Span], shares: Sequence[tuple[float, float]]) -> None:
    """Each span's ``common_min`` and ``common_max``: the share of the chunks searched holding its rarest
    and its commonest word, the index read as a typical training pool (:func:`qa.retrieve.word_shares`,
    ``shares`` in the spans' order). Held out
    on the training weeks, a span whose words stand in 30% or more of its pool's chunks was the answer
    0.4% of the time, one in 0.1-3% of them 3.7%.
    """
    for sp, (rarest, commonest) in zip(spans, shares):
        sp.features["common_min"] = rarest
        sp.features["common_max"] = commonest


#: A text's word pieces: their character offsets and their contextual vectors (:meth:`qa.embed.MiniLMEmbeddings.token_vectors`).
TokenStates = tuple[Sequence[tuple[int, int]], np.ndarray]


def add_context(
    q: Question, spans: Sequence[Span], sents: Sequence[Sentence], states: Mapping[str, TokenStates]
) -> None:
    """Each span's meaning in its sentence against what the question asks for: the cosine of the
    span's word pieces (MiniLM's vectors, read in its sentence) to the question's head word
    (``ctx_head``, its wh-word when it has none), to its wh-word (``ctx_wh``) and to the whole
    question (``ctx_q``): for "Which airline cancelled thousands of flights?", "Southwest Airlines"
    in "Southwest Airlines cancelled thousands of flights in Denver" reads near "airline" (0.66) and
    "Denver" does not (0.17), whatever their entity labels say. ``states`` holds the question's and
    the token states of the texts the spans are read in (:meth:`Span.read_in`: a sentence, or a title);
    a span with no states there (an embedder without token vectors), or not in that text, has
    ``ctx_none`` 1 and the cosines 0.
    """
    question = states.get(q.text)
    wh_match = _WH_WORD.search(q.text)
    wh = _mean_state(question, wh_match.start(), wh_match.end()) if question and wh_match else None
    head_match = re.search(r"\b" + re.escape(q.head), q.text, re.IGNORECASE) if q.head else None
    head = _mean_state(question, head_match.start(), head_match.end()) if question and head_match else None
    if head is None:
        head = wh
    whole = _mean_state(question, 0, len(q.text)) if question else None
    for sp in spans:
        f = {"ctx_head": 0.0, "ctx_wh": 0.0, "ctx_q": 0.0, "ctx_none": 1.0}
        text = sp.read_in(sents)
        at = text.find(sp.text)
        v = _mean_state(states.get(text), at, at + len(sp.text)) if at >= 0 and whole is not None else None
        if v is not None:
            f = {
                "ctx_head": float(v @ head) if head is not None else 0.0,
                "ctx_wh": float(v @ wh) if wh is not None else 0.0,
                "ctx_q": float(v @ whole),
                "ctx_none": 0.0,
            }
        sp.features.update(f)


def _mean_state(states: TokenStates | None, start: int, end: int) -> np.ndarray | None:
    """The unit mean vector of the word pieces overlapping characters ``start:end``, or None."""
    if states is None:
        return None
    offsets, vectors = states
    rows = [j for j, (a, b) in enumerate(offsets) if a < end and b > start]
    if not rows:
        return None
    v = vectors[rows].mean(axis=0)
    return v / (float(np.linalg.norm(v)) + 1e-9)


def _affinity(table: Mapping[str, float], keys: Sequence[str]) -> float:
    return next((table[k] for k in keys if k in table), 0.0)


#: Head words read through their neighbours: this many at most, each at least this like the question's.
NEAR_HEADS, NEAR_COSINE = 3, 0.5


@dataclass(frozen=True)
class HeadWords:
    """The head words the affinity table has rows for, with their MiniLM vectors (unit length), so
    that a head word it lacks ("gymnast") is read as the ones most like it ("athlete", "skater").

    Stored in the answer model as 8-bit integers (:meth:`to_json`); fitted by :mod:`qa.train`.
    """

    words: tuple[str, ...]
    vectors: np.ndarray  # one unit row a word

    @classmethod
    def of(cls, table: Mapping[str, float], vector: Callable[[Sequence[str]], np.ndarray]) -> HeadWords:
        """The head words with a row in ``table``, their vectors from ``vector`` (texts -> unit rows)."""
        words = tuple(sorted({k.split("|")[1] for k in table} - {""}))
        fitted = cls(words, vector(words) if words else np.zeros((0, 384), dtype=np.float32))
        return cls.from_json(fitted.to_json())  # as stored: training reads what answering will

    def knows(self, head: str) -> bool:
        """Whether ``head`` has rows of its own (or there is no head word to read)."""
        return not head or head in self.words

    def near(self, vector: np.ndarray) -> list[tuple[str, float]]:
        """The :data:`NEAR_HEADS` words most like ``vector`` with their cosines, those of at least
        :data:`NEAR_COSINE`."""
        if not self.words:
            return []
        cos = self.vectors @ vector
        best = np.argsort(-cos)[:NEAR_HEADS]
        return [(self.words[i], float(cos[i])) for i in best if cos[i] >= NEAR_COSINE]

    def to_json(self) -> dict[str, Any]:
        q8 = np.clip(np.round(self.vectors * 127), -127, 127).astype(np.int8)
        return {"words": list(self.words), "int8": base64.b64encode(q8.tobytes()).decode()}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> HeadWords:
        words = tuple(d["words"])
        q8 = np.frombuffer(base64.b64decode(d["int8"]), dtype=np.int8).reshape(len(words), -1 if words else 384)
        v = q8.astype(np.float32)
        return cls(words, v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9))


def with_numbers(text: str, found: Sequence[RawSpan]) -> list[RawSpan]:
    """The NLP step's spans, and each number in digits that no numeric entity covers, as ``NUM``
    (a year or a day inside a date entity excepted: "2793 crates" taken for a date is still a number).
    A number right after a currency sign takes the sign: spaCy's small model reads "$7.25" as the
    MONEY "7.25", and 15 of the training answers found inside a candidate were such sums.

    Example: with_numbers("An additional 900 are in Syria.", []) -> [RawSpan(14, 17, "NUM")]
    """
    found = [_with_currency(text, r) for r in found]
    numeric = [(r.start, r.end) for r in found if r.label in _NUMERIC]
    dates = [(r.start, r.end) for r in found if r.label in ("DATE", "TIME", "ORDINAL")]
    extra = [
        RawSpan(m.start(), m.end(), "NUM")
        for m in _NUMBER.finditer(text)
        if not any(a <= m.start() and m.end() <= b for a, b in numeric)
        and not (_YEAR_OR_DAY.match(m.group(0)) and any(a <= m.start() and m.end() <= b for a, b in dates))
    ]
    return [*found, *[_with_currency(text, r) for r in extra]]


def _with_currency(text: str, r: RawSpan) -> RawSpan:
    """``r`` with the currency sign just before it ("$", "£", "€"), when it is a number."""
    numeric = r.label in _NUMERIC or r.label == "NUM"
    if numeric and r.start > 0 and unicodedata.category(text[r.start - 1]) == "Sc":
        return RawSpan(r.start - 1, r.end, r.label)
    return r


#: Names that a number or a roman numeral may follow as part of the name ("Artemis II", "Voyager 1").
_NAMES = frozenset({"PROPN", "ORG", "PRODUCT", "EVENT", "WORK_OF_ART", "FAC", "LAW"})
_NAME_NUMBER = re.compile(r" (?:\d{1,3}|[IVXL]{1,5})(?![\w%$€£/-]|[.,:]\d|\s?(?:percent|million|billion)\b)")


def numbered(text: str, found: Sequence[RawSpan]) -> list[RawSpan]:
    """The spans, and each name read with a number or a roman numeral right after it ("Artemis II",
    "Voyager 1", "Nintendo Switch 2"), which spaCy's small model leaves out; the name alone stays a
    candidate. Of the 1,934 training evidence sentences that hold their answer, 5 more then hold it as
    a candidate exactly, and none fewer.

    Example: numbered("Artemis II flies.", [RawSpan(0, 7, "PROPN")]) -> [RawSpan(0, 7, "PROPN"), RawSpan(0, 10, "PROPN")]
    """
    out = list(found)
    taken = {(r.start, r.end) for r in found}
    for r in found:
        m = _NAME_NUMBER.match(text, r.end) if r.label in _NAMES else None
        if m and (r.start, m.end()) not in taken:
            out.append(RawSpan(r.start, m.end(), r.label))
            taken.add((r.start, m.end()))
    return out


#: Titles that are part of a name: 13 training answers keep them ("Prince Harry", "King Charles III",
#: "Pope Francis"), 1 leaves one out (other titles, "President", "Justice", are left out as often as kept).
_ROYAL = re.compile(r"\b(?:King|Queen|Crown Prince|Prince|Princess|Pope|Emperor|Empress) $")


def titled(text: str, found: Sequence[RawSpan]) -> list[RawSpan]:
    """The spans, each name right after a royal or papal title read with it, as the news names such
    people ("King Charles III", where spaCy's small model finds the person "Charles III").

    Example: titled("King Charles III spoke.", [RawSpan(5, 16, "PERSON")]) -> [RawSpan(0, 16, "PERSON")]
    """
    out = []
    for r in found:
        m = _ROYAL.search(text, max(0, r.start - 20), r.start) if r.label in ("PERSON", "PROPN") else None
        out.append(RawSpan(m.start(), r.end, r.label) if m else r)
    return out


#: "Which two states ...": the answer names that many things together.
_SEVERAL = re.compile(
    r"\b(?:which|what)\s+(?:(two|three|four)\b(?!-)|(?:[\w-]+\s+)?(couple|duo|pair)\b)", re.IGNORECASE
)
_COUNTS = {"two": 2, "three": 3, "four": 4, "couple": 2, "duo": 2, "pair": 2}
_PLACES = ("GPE", "LOC")


def joined(q: Question, text: str, found: Sequence[RawSpan]) -> list[RawSpan]:
    """The spans, with what the question asks for together joined into one.

    - "Which two states sued?": N names of one kind that the sentence joins with "and", commas or "&"
      become one span ("Minnesota and Illinois"), and the names alone are dropped: one of them does
      not answer it (:func:`spans` drops them from every sentence once one sentence joins some). 42
      of the 4,288 training questions ask for two to four things; most answers read "A and B". A
      couple, a duo or a pair is two ("which pop duo": "Hall & Oates").
    - A place asked for: a place followed by ", " and a place is read with it ("Davos, Switzerland",
      "Dallas, Texas"), as 25 training answers read; the second place stays a candidate alone.

    Example: joined(Question.read("Which two states sued?"), "Minnesota and Illinois sued.",
    [RawSpan(0, 9, "GPE"), RawSpan(14, 22, "GPE")]) -> [RawSpan(0, 22, "GPE")]
    """
    names = sorted(
        (r for r in found if r.label not in _NUMERIC and r.label not in ("NUM", "NP")), key=lambda r: r.start
    )
    m = _SEVERAL.search(q.text)
    if m:
        n = _COUNTS[(m.group(1) or m.group(2)).lower()]
        several = []
        for i in range(len(names) - n + 1):
            run = names[i : i + n]
            if all(b.label == run[0].label and places.JOIN.fullmatch(text[a.end : b.start]) for a, b in pairwise(run)):
                several.append(RawSpan(run[0].start, run[-1].end, run[0].label))
        if several:
            return [r for r in found if r not in names] + several
    if q.type != "PLACE":
        return list(found)
    out = list(found)
    for a, b in pairwise(names):
        if a.label in _PLACES and b.label in _PLACES and text[a.end : b.start] == ", ":
            out[out.index(a)] = RawSpan(a.start, b.end, a.label)
    return out


def slots(q: Question) -> tuple[list[str], list[str]]:
    """The question's words (folded) before its question phrase and after it: the frame an answer fills.

    The phrase is the question word, with "which"/"what" up to the head word (:func:`head_word`).
    Example, head "city": slots("The fire is larger than which city?") -> (["the", "fire", "is",
    "larger", "than"], []); head "governor": slots("Which governor is credited with it?") -> ([], ["is",
    "credited", "with", "it"])
    """
    m = _WH_WORD.search(q.text)
    if not m:
        return [], []
    words = [(w.start(), _fold(w.group(0))) for w in _WORD.finditer(q.text)]
    at = next((i for i, (start, _) in enumerate(words) if start >= m.start()), len(words))
    after = at + len(m.group(1).split())
    if m.group(1).lower() in ("which", "what") and q.head and " " not in q.head:
        after = next(
            (i + 1 for i in range(after, min(after + 6, len(words))) if singular(words[i][1]) == q.head), after
        )
    return [w for _, w in words[:at]], [w for _, w in words[after:]]


_RELATIVE = frozenset({"who", "which", "that"})


def slot_match(frame: Sequence[str], words: Sequence[str], relative: bool = False) -> float:
    """How many words of ``frame`` (up to 3) ``words`` repeats in order from its start, up to inflection
    (:func:`found`: "credited" is "credit", "larger" is "large").

    Example: slot_match(["is", "credited", "with"], ["who", "is", "credited", "for"], relative=True) -> 2.0
    (with ``relative``, a relative pronoun opening ``words`` is passed over: the words after a span).
    """
    if relative and words and words[0] in _RELATIVE and (not frame or frame[0] != words[0]):
        words = words[1:]
    n = 0
    while n < min(3, len(frame), len(words)) and found(frame[n], {words[n]}):
        n += 1
    return float(n)


def _window(q: Question, words: Sequence[str], first: int, last: int, w: int) -> float:
    """Share of the question's words within ``w`` words of the span ``words[first:last + 1]`` (itself left out).

    Example: with words "iraq hosts 2,500 us troops" and the span "2,500", w=2 -> all of "us troops iraq host".
    """
    lo, hi = max(0, first - w), min(len(words), last + w + 1)
    return share(q, {words[i] for i in range(lo, hi) if not first <= i <= last})


def _fold(word: str) -> str:
    from ..cite import _norm

    return _norm(word.lower().strip(".'’-"))
