"""Read a claim against the passages it cites: its numbers, negations, names and dates.

Word coverage (:func:`qa.cite.support`) says whether a sentence is *about* what its passages
say; a sentence that swaps a number, a name or a place, or says "not", keeps nearly all its
words. So a sentence that passes coverage is read with spaCy (:func:`qa.reader.nlp.parse`, the
reader's model, in its worker process when there is one) and checked by rules, each of which can
only find a contradiction:

- **numbers**: each quantity (digits, number words read by ``text2num``, "1.5 million", "10%",
  vague ones like "several") is an interval ("at least five" is [5, inf), "nearly 10" [8, 10]);
  some quantity of the passages must overlap it, and when the passages count the same thing (the
  same noun, or the same verb, near the number) one of *those* must: "Iraq hosts 900 US troops"
  fails against "Iraq hosts 2,500 US troops. An additional 900 are stationed in Syria."
- **negation**: a verb of the claim and the same verb in the best-matching passage sentence
  must agree on polarity (not, n't, never, no, none, nobody, without; "denied that" flips what it
  governs); a negated claim whose verb the passages do not use needs a negation there.
- **names**: each person, organisation, place or group it names must be in the passages (a
  surname matches the full name, "Iranian" matches "Iran", "U.S." matches "US" and "United
  States"); a name that fills the role of another in the same verb frame ("Syria hosts" where the
  passage says "Iraq hosts") is a contradiction.
- **dates**: weekdays, months, days of the month and years it states must agree with some date
  of the passages (a weekday is also read as the day it names before the article's date).

A verbatim sentence of a passage is supported without parsing (the extractive generator's
case). :func:`contradiction` returns the reason, e.g. "number 3,500 not in [1]".
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from .reader.nlp import Parsed, Token, parse
from .types import Passage

NEGATORS = frozenset(
    "not n't no never none nobody nothing neither nor without cannot nowhere".split()
)  # words that make the verb they stand with false
DENY = frozenset({"deny", "reject", "refute", "dismiss"})  # "denied that X" says X is not so
LIGHT_VERBS = frozenset({"be", "have", "do", "get", "make", "take"})
ENTITY_KINDS = {
    "PERSON": "name",
    "ORG": "organisation",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
    "NORP": "group",
}
ENTITY_KINDS |= {"PRODUCT": "name", "EVENT": "name", "WORK_OF_ART": "name", "PROPN": "name"}
LOOSE_NAMES = frozenset({"PRODUCT", "EVENT", "WORK_OF_ART", "PROPN"})  # names made partly of common words
#: (words before a number, interval kind): "at least 5" -> [5, inf)
QUALIFIERS = [
    (("at", "least"), "min"),
    (("more", "than"), "min"),
    (("over",), "min"),
    (("above",), "min"),
    (("at", "most"), "max"),
    (("up", "to"), "max"),
    (("fewer", "than"), "max"),
    (("less", "than"), "max"),
    (("under",), "max"),
    (("nearly",), "near"),
    (("almost",), "near"),
    (("about",), "about"),
    (("around",), "about"),
    (("roughly",), "about"),
    (("approximately",), "about"),
    (("some",), "about"),
    (("an", "estimated"), "about"),
]
VAGUE = {"several": (3.0, 9.0), "few": (2.0, 5.0), "dozen": (12.0, 12.0), "dozens": (24.0, 200.0)}
VAGUE |= {"hundreds": (200.0, 2000.0), "thousands": (2000.0, 20000.0), "millions": (2e6, 2e7)}
SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
DURATIONS = frozenset({"second", "minute", "hour", "day", "week", "month", "year", "decade"})
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
#: Names that are one place written differently: what ``normal_name`` cannot fold.
ALIASES = [
    frozenset({"us", "united states", "america", "american", "usa"}),
    frozenset({"uk", "united kingdom", "britain", "british"}),
]
_MARKER = re.compile(r"\[\d+(?:\s*[-–,]\s*\d+)*\]")


@dataclass(frozen=True)
class Quantity:
    """A number the text states (``value``) and the interval it means, with what it counts
    (``frame``: lemmas of the noun it counts and the verb over it) and its unit ("%", "$", a
    duration, or "")."""

    text: str
    value: float
    low: float
    high: float
    unit: str
    frame: frozenset[str]
    start: int  # character offsets in the parsed text
    end: int
    vague: bool = False  # "several", "dozens"
    verb: str = ""  # the verb of ``frame``, if any

    @property
    def elliptical(self) -> bool:
        """Counting nothing named: "An additional 900 are stationed in Syria"."""
        return self.frame <= {self.verb}

    def backed_by(self, other: Quantity) -> bool:
        """Whether ``other`` (a passage's) backs this claim: the same number, with a qualifier that
        does not point the other way ("5" or "more than five" for "at least five", not "at most
        five"), or for a vague claim an overlap ("several" for "five"). A rounder claim ("over 100"
        for "over 150") is not backed: it is what a changed number looks like."""
        if self.unit != other.unit:
            return False
        eps = 1e-9 * max(1.0, abs(self.value), abs(other.value))
        if self.vague or other.vague:
            return self.low <= other.high + eps and other.low <= self.high + eps
        return abs(self.value - other.value) <= eps and {self.bound, other.bound} != {"min", "max"}

    @property
    def bound(self) -> str:
        """ "min" for "at least 5", "max" for "at most 5", else ""."""
        return "min" if self.high == math.inf else "max" if self.low == 0 and self.value > 0 else ""

    def same(self, other: Quantity) -> bool:
        """The same statement of a number: value and interval ("at least five" = "at least 5")."""
        return self.unit == other.unit and (self.value, self.low, self.high) == (other.value, other.low, other.high)


@dataclass(frozen=True)
class Evidence:
    """The cited passages, parsed: their sentences (token ranges of one parse each) and article dates."""

    texts: tuple[tuple[Parsed, str, date | None], ...]
    flat: str  # normalised text of all passages and titles

    def sentences(self) -> list[tuple[Parsed, str, int, int, date | None]]:
        return [(p, text, a, b, day) for p, text, day in self.texts for a, b in p.sents]


def normal(text: str) -> str:
    """Lower case, no accents, citation markers or punctuation, one space between words.

    Example: normal("U.S. troops’ base [1], Al-Asad") -> "us troops base al asad"
    """
    text = unicodedata.normalize("NFKD", _MARKER.sub(" ", text)).lower()
    text = re.sub(r"(?<=\b\w)\.(?=\w\b)|\.(?<=\b\w\.)", "", text)  # "u.s." -> "us"
    text = re.sub(r"['’]s\b", "", text)
    return " ".join("".join(ch if ch.isalnum() else " " for ch in text if not unicodedata.combining(ch)).split())


def contradiction(claim: str, passages: Sequence[Passage], cites: str = "[1]") -> str | None:
    """Why ``claim`` contradicts the ``passages`` it cites, or None when no rule finds a contradiction.

    Example: contradiction("Iraq hosts 3,500 US troops.", [passage of "Iraq hosts 2,500 US troops."])
    -> "number 3,500 not in [1]"
    """
    flat = " ".join(normal(f"{p.title}. {p.text}") for p in passages)
    if normal(claim) and f" {normal(claim)} " in f" {flat} ":
        return None  # said word for word
    texts = [claim] + [t for p in passages for t in (p.title, p.text) if t]
    parsed = parse(texts)
    days = {}
    for p in passages:
        days[p.title] = days[p.text] = _day(p.date)
    ev = Evidence(tuple((parsed[t], t, days.get(t)) for t in texts[1:] if t in parsed), flat)
    c = parsed[claim]
    for rule in (_numbers, _negation, _names, _dates):
        reason = rule(c, claim, ev, cites)
        if reason:
            return reason
    return None


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


# -- numbers ---------------------------------------------------------------------------------------


def quantities(p: Parsed, text: str, a: int = 0, b: int | None = None) -> list[Quantity]:
    """The quantities stated in tokens ``a:b`` of ``p`` (a parse of ``text``).

    Example: "At least five US personnel were injured." ->
    [Quantity("At least five", 5, inf, "", {"personnel", "injure"}, 0, 13)]
    """
    toks = p.tokens
    b = len(toks) if b is None else b
    out: list[Quantity] = []
    i = a
    while i < b:
        t = toks[i]
        word = t.text.lower()
        if word in VAGUE and not (word == "few" and (i == a or toks[i - 1].text.lower() != "a")):
            lo, hi = VAGUE[word]
            start = (
                toks[i - 1].idx
                if word == "few" or (word == "dozen" and i > a and toks[i - 1].text.lower() == "a")
                else t.idx
            )
            end = t.idx + len(t.text)
            frame, verb = _frame(p, i)
            out.append(Quantity(text[start:end], (lo + hi) / 2, lo, hi, "", frame, start, end, True, verb))
            i += 1
            continue
        if not _numeric(t) or (t.ent in ("DATE", "TIME", "ORDINAL") and not _duration(p, i, b)):
            i += 1
            continue
        j = i
        while j + 1 < b and (_numeric(toks[j + 1]) or toks[j + 1].text.lower() in SCALES):
            j += 1
        value = _value([x.text for x in toks[i : j + 1]])
        if value is None:
            i = j + 1
            continue
        lo, hi, first = _qualified(p, i, a, value)
        unit = _unit(p, i, j, b)
        start, end = toks[first].idx, toks[j].idx + len(toks[j].text)
        frame, verb = _frame(p, j)
        out.append(Quantity(text[start:end], value, lo, hi, unit, frame, start, end, False, verb))
        i = j + 1
    return out


def _numeric(t: Token) -> bool:
    return (t.like_num or t.pos == "NUM") and t.text.lower() not in ("one's",) and any(ch.isalnum() for ch in t.text)


def _duration(p: Parsed, i: int, b: int) -> bool:
    """A number of days, months...: "10 months", "30-day"."""
    after = [t.lemma for t in p.tokens[i + 1 : min(b, i + 3)] if t.text != "-"]
    return bool(after) and after[0] in DURATIONS


def _value(words: list[str]) -> float | None:
    """Example: ["2,500"] -> 2500.0; ["1.5", "million"] -> 1500000.0; ["twenty", "one"] -> 21.0"""
    scale = 1.0
    if len(words) > 1 and words[-1].lower() in SCALES:
        scale, words = SCALES[words[-1].lower()], words[:-1]
    text = " ".join(words).replace(",", "")
    try:
        value = float(text)
    except ValueError:
        from text_to_num import text2num

        try:
            value = float(text2num(text.lower().replace("-", " "), "en"))
        except ValueError:
            return None
    return value * scale if math.isfinite(value) else None


def _qualified(p: Parsed, i: int, a: int, value: float) -> tuple[float, float, int]:
    """The interval of a number at token ``i`` and where its qualifier starts: "nearly 10" -> (8, 10, i-1)."""
    before = [t.text.lower() for t in p.tokens[max(a, i - 2) : i]]
    for words, kind in QUALIFIERS:
        if tuple(before[-len(words) :]) == words:
            first = i - len(words)
            if kind == "min":
                return value, math.inf, first
            if kind == "max":
                return 0.0, value, first
            if kind == "near":
                return value * 0.8, value, first
            return value * 0.8, value * 1.2, first
    return value, value, i


def _unit(p: Parsed, i: int, j: int, b: int) -> str:
    toks = p.tokens
    after = toks[j + 1] if j + 1 < b else None
    if after is not None and after.text.lower() in ("%", "percent", "per"):
        return "%"
    if i > 0 and toks[i - 1].text in ("$", "€", "£"):
        return toks[i - 1].text
    if after is not None and after.text == "-" and j + 2 < b:
        after = toks[j + 2]
    if after is not None and after.lemma in DURATIONS:
        return after.lemma
    return ""


def _frame(p: Parsed, i: int) -> tuple[frozenset[str], str]:
    """Lemmas of what the number at token ``i`` counts: the noun it modifies (or "of" what), and the
    first verb above it (also returned alone, "" for none).
    Example: "five" in "At least five US personnel were injured" -> ({personnel, injure}, "injure")"""
    toks = p.tokens
    out: set[str] = set()
    k = i
    if toks[k].dep in ("nummod", "quantmod", "compound", "amod", "det") and toks[toks[k].head].pos in ("NOUN", "PROPN"):
        k = toks[k].head
        out.add(toks[k].lemma)
    else:
        for c in p.children(k):
            if toks[c].lemma == "of":
                out.update(toks[g].lemma for g in p.children(c) if toks[g].pos in ("NOUN", "PROPN"))
    for _ in range(4):
        if toks[k].pos == "VERB" or toks[k].head == k:
            break
        k = toks[k].head
    verb = toks[k].lemma if toks[k].pos == "VERB" and toks[k].lemma not in LIGHT_VERBS else ""
    return frozenset(out | {verb} - {""}), verb


def _numbers(c: Parsed, claim: str, ev: Evidence, cites: str) -> str | None:
    mine = quantities(c, claim)
    if not mine:
        return None
    theirs = [q for p, text, a, b, _ in ev.sentences() for q in quantities(p, text, a, b)]
    for q in mine:
        # the passage's numbers of the same thing; one that names no thing counts when the verbs do not differ
        # (a claim's number that names no thing is only checked for being there: parses of it vary)
        nouns = q.frame - {q.verb}
        framed = [e for e in theirs if nouns & e.frame or (e.elliptical and (not q.verb or q.verb == e.verb))]
        framed = framed if nouns else []
        if framed and not any(q.backed_by(e) for e in framed):
            if any(q.backed_by(e) for e in theirs):
                return f"number {q.text} where {cites} says {framed[0].text}"
            return f"number {q.text} not in {cites}"
        if not any(q.backed_by(e) for e in theirs):
            return f"number {q.text} not in {cites}"
    return None


# -- negation --------------------------------------------------------------------------------------


def _negated(p: Parsed, v: int) -> bool:
    """Whether verb ``v`` is said not to hold: a negation of its own or on a subject/object ("no troops"),
    flipped when it is what a "deny" verb governs."""
    toks = p.tokens
    neg = False
    for c in p.children(v):
        word = toks[c].text.lower()
        if toks[c].dep == "neg" or word in NEGATORS:
            neg = True
        elif toks[c].dep in ("nsubj", "nsubjpass", "dobj", "attr"):
            if any(toks[g].text.lower() in NEGATORS and toks[g].dep in ("det", "neg") for g in p.children(c)):
                neg = True
    head = toks[v].head
    if head != v and toks[v].dep in ("ccomp", "xcomp") and toks[head].lemma in DENY:
        neg = not neg
    return neg


def _verbs(p: Parsed, a: int, b: int) -> list[int]:
    return [
        i for i in range(a, b) if p.tokens[i].pos == "VERB" or (p.tokens[i].pos == "AUX" and p.tokens[i].dep == "ROOT")
    ]


def _content(p: Parsed, a: int, b: int) -> set[str]:
    return {
        t.lemma
        for t in p.tokens[a:b]
        if t.pos in ("NOUN", "PROPN", "VERB", "ADJ", "NUM") and t.lemma not in LIGHT_VERBS
    }


def _objects(p: Parsed, v: int) -> set[str]:
    return {p.tokens[c].lemma for c in p.children(v) if p.tokens[c].dep in ("dobj", "nsubjpass")}


def _denial(c: Parsed, sents: list[tuple[Parsed, str, int, int, date | None]], cites: str) -> str | None:
    """ "denied responsibility" where the passage says "claimed responsibility", and the other way round."""
    for v in _verbs(c, 0, len(c.tokens)):
        objects = _objects(c, v)
        if not objects or _negated(c, v):
            continue
        for p, _, a, b, _ in sents:
            for i in _verbs(p, a, b):
                if not objects & _objects(p, i) or _negated(p, i) or p.tokens[i].lemma == c.tokens[v].lemma:
                    continue
                if (c.tokens[v].lemma in DENY) != (p.tokens[i].lemma in DENY):
                    return f"says ‘{c.tokens[v].text}’ where {cites} says ‘{p.tokens[i].text}’"
    return None


def _negation(c: Parsed, claim: str, ev: Evidence, cites: str) -> str | None:
    words = _content(c, 0, len(c.tokens))
    sents = ev.sentences()
    if not sents:
        return None
    denied = _denial(c, sents, cites)
    if denied:
        return denied
    ranked = sorted(sents, key=lambda s: -len(words & _content(s[0], s[2], s[3])))
    for v in _verbs(c, 0, len(c.tokens)):
        lemma, neg = c.tokens[v].lemma, _negated(c, v)
        with_verb = [s for s in ranked if any(s[0].tokens[i].lemma == lemma for i in _verbs(s[0], s[2], s[3]))]
        if with_verb:
            p, _, a, b, _ = with_verb[0]
            same = [i for i in _verbs(p, a, b) if p.tokens[i].lemma == lemma]
            if all(_negated(p, i) != neg for i in same):
                said = "not " if neg else ""
                return f"says ‘{said}{c.tokens[v].text}’ where {cites} says {'the opposite' if not neg else 'it is so'}"
        elif neg:
            p, _, a, b, _ = ranked[0]
            if not any(t.text.lower() in NEGATORS or t.dep == "neg" for t in p.tokens[a:b]):
                return f"says ‘not {c.tokens[v].text}’ where {cites} says nothing of the kind"
    return None


# -- names -----------------------------------------------------------------------------------------


def _aliases(name: str) -> set[str]:
    if name.endswith("ans") and " " not in name:  # "Americans", "Iranians": the demonym
        name = name[:-1]
    for group in ALIASES:
        if name in group:
            return set(group)
    return {name}


def _name_in(name: str, label: str, ev: Evidence, raw: str = "") -> bool:
    """Whether the passages hold ``name`` (normalised): as written, by an alias, a demonym ("Iranian"
    for "Iran") or, for a person, by the surname with no other first name."""
    flat = f" {ev.flat} "
    if any(f" {n} " in flat for n in _aliases(name)):
        return True
    words = name.split()
    if label in LOOSE_NAMES:  # "the Gaza war", "USS Gerald Ford": each capitalised word must be there
        return all(f" {w} " in flat for part in raw.split() if part[:1].isupper() for w in normal(part).split())
    if label in ("NORP", "GPE", "LOC") and len(words) == 1:
        w = words[0][:-1] if words[0].endswith("ans") else words[0]
        return any(len(min(w, v, key=len)) >= 4 and (v.startswith(w) or w.startswith(v)) for v in set(ev.flat.split()))
    if label == "PERSON" and len(words) > 1 and f" {words[-1]} " in flat:
        others = {normal(p_text[e.start : e.end]) for p, p_text, _ in ev.texts for e in p.ents if e.label == "PERSON"}
        full = [o.split() for o in others if o.split() and o.split()[-1] == words[-1] and len(o.split()) > 1]
        return not full or any(o[0] == words[0] for o in full)
    return False


def _slot(p: Parsed, i: int) -> tuple[str, str] | None:
    """The (verb lemma, role) a name's head token ``i`` fills: ("host", "nsubj"), ("station", "in")."""
    toks = p.tokens
    t = toks[i]
    while t.dep == "conj" and t.head != i:  # "Austin and Gallant agreed": both fill the subject
        i = t.head
        t = toks[i]
    if t.dep in ("nsubj", "nsubjpass", "dobj") and toks[t.head].pos == "VERB":
        return toks[t.head].lemma, t.dep
    if t.dep == "pobj" and toks[t.head].dep == "prep" and toks[toks[t.head].head].pos == "VERB":
        return toks[toks[t.head].head].lemma, toks[t.head].lemma
    return None


def _ent_heads(p: Parsed, text: str, a: int = 0, b: int | None = None) -> list[tuple[str, str, int, str]]:
    """(normalised name, label, head token, name as written) of the entities in tokens ``a:b``."""
    b = len(p.tokens) if b is None else b
    lo, hi = (p.tokens[a].idx, p.tokens[b - 1].idx + len(p.tokens[b - 1].text)) if b > a else (0, 0)
    out = []
    for start, end, label in _names_of(p, a, b):
        if label not in ENTITY_KINDS or not (lo <= start and end <= hi):
            continue
        inside = [i for i in range(a, b) if start <= p.tokens[i].idx < end]
        heads = [i for i in inside if not (start <= p.tokens[p.tokens[i].head].idx < end) or p.tokens[i].head == i]
        for part in re.split(r"\s+(?:and|&)\s+", text[start:end]):  # "Biden and Harris" read as one name
            name = re.sub(r"^the ", "", normal(part))
            if heads and name:
                out.append((name, label, heads[0], part))
    return out


def _names_of(p: Parsed, a: int, b: int) -> list[tuple[int, int, str]]:
    """Entities, and runs of two or more proper nouns that the entity model missed (label "PROPN")."""
    out = [(e.start, e.end, e.label) for e in p.ents]
    taken = [(s, e) for s, e, _ in out]
    run: list[Token] = []
    for t in [*p.tokens[a:b], None]:
        if t is not None and t.pos == "PROPN" and not t.ent and t.text[:1].isupper():
            run.append(t)
            continue
        if len(run) >= 2:
            s, e = run[0].idx, run[-1].idx + len(run[-1].text)
            if not any(s < e2 and s2 < e for s2, e2 in taken):
                out.append((s, e, "PROPN"))
        run = []
    return out


def _place_class(label: str) -> str:
    return "place" if label in ("GPE", "LOC", "FAC") else label


def _names(c: Parsed, claim: str, ev: Evidence, cites: str) -> str | None:
    mine = _ent_heads(c, claim)
    for name, label, _, raw in mine:
        if name and not _name_in(name, label, ev, raw):
            return f"{ENTITY_KINDS[label]} {_shown(claim, c, name)} not in {cites}"
    # (name, class, the sentence's normalised text) of each name filling a verb's role in the passages
    fillers: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for p, text, a, b, _ in ev.sentences():
        here = f" {normal(text[p.tokens[a].idx : p.tokens[b - 1].idx + len(p.tokens[b - 1].text)])} "
        for name, label, head, _ in _ent_heads(p, text, a, b):
            slot = _slot(p, head)
            if slot:
                fillers.setdefault(slot, []).append((name, _place_class(label), here))
    for name, label, head, _ in mine:
        slot = _slot(c, head)
        there = [(n, s) for n, lab, s in fillers.get(slot, []) if lab == _place_class(label)] if slot else []
        if there and not any(_same_name(name, n) or f" {name} " in s for n, s in there):
            return f"{ENTITY_KINDS[label]} {_shown(claim, c, name)} where {cites} says {there[0][0].title()}"
    return None


def _same_name(a: str, b: str) -> bool:
    return a == b or bool(_aliases(a) & _aliases(b)) or a.split()[-1:] == b.split()[-1:]


def _shown(claim: str, c: Parsed, name: str) -> str:
    for e in c.ents:
        if normal(claim[e.start : e.end]) == name:
            return claim[e.start : e.end]
    return name


# -- dates -----------------------------------------------------------------------------------------


def date_atoms(text: str) -> dict[str, set[int]]:
    """The weekday, month, day of month and year a date states.

    Example: date_atoms("Monday, Aug. 5, 2024") -> {"weekday": {0}, "month": {8}, "day": {5}, "year": {2024}}
    """
    out: dict[str, set[int]] = {}
    words = normal(text).split()
    for k, w in enumerate(words):
        if w[:3] in MONTHS and (
            len(w) == 3
            or w.startswith(
                ("janu", "febr", "marc", "apri", "may", "june", "july", "augu", "sept", "octo", "nove", "dece")
            )
        ):
            out.setdefault("month", set()).add(MONTHS.index(w[:3]) + 1)
            for n in words[k + 1 : k + 2] + words[k - 1 : k]:
                if n.isdigit() and 1 <= int(n) <= 31:
                    out.setdefault("day", set()).add(int(n))
        elif w in WEEKDAYS:
            out.setdefault("weekday", set()).add(WEEKDAYS.index(w))
        elif w.isdigit() and len(w) == 4 and 1900 <= int(w) <= 2100:
            out.setdefault("year", set()).add(int(w))
    return out


def _agree(mine: dict[str, set[int]], theirs: dict[str, set[int]]) -> bool:
    shared = set(mine) & set(theirs)
    return bool(shared) and all(mine[k] & theirs[k] for k in shared)


def _weekday_date(atoms: dict[str, set[int]], day: date | None) -> dict[str, set[int]]:
    """A weekday read as the last such day up to the article's date: its month, day and year too."""
    if day is None or "weekday" not in atoms or set(atoms) - {"weekday"}:
        return atoms
    wd = next(iter(atoms["weekday"]))
    d = day - timedelta(days=(day.weekday() - wd) % 7)
    return {**atoms, "month": {d.month}, "day": {d.day}, "year": {d.year}}


def _dates(c: Parsed, claim: str, ev: Evidence, cites: str) -> str | None:
    theirs: list[dict[str, set[int]]] = []
    for p, text, day in ev.texts:
        for e in p.ents:
            if e.label == "DATE":
                theirs.append(_weekday_date(date_atoms(text[e.start : e.end]), day))
    published = [{"month": {d.month}, "year": {d.year}} for _, _, d in ev.texts if d is not None]
    for e in c.ents:
        if e.label != "DATE":
            continue
        atoms = date_atoms(claim[e.start : e.end])
        pool = theirs + published if set(atoms) <= {"month", "year"} else theirs  # "in August 2024"
        if atoms and not any(_agree(atoms, t) for t in pool):
            return f"date {claim[e.start : e.end]} not in {cites}"
    return None
