"""What kind of thing a question asks for, read from its wording.

Example: answer_type("How many US troops does Iraq host?") -> "COUNT";
answer_type("Which country hosts the summit?") -> "PLACE"; answer_type("Who won?") -> "PERSON".

The types are coarse on purpose: the learned reader (:mod:`qa.reader.model`) sees the type
beside each candidate span's entity label and learns which pairs go together.
"""

from __future__ import annotations

import re

TYPES = ("PERSON", "PLACE", "ORG", "DATE", "COUNT", "MONEY", "PERCENT", "NUMBER", "OTHER")

#: The entity labels (spaCy's OntoNotes set) that can answer a question of each type.
COMPATIBLE: dict[str, frozenset[str]] = {
    "PERSON": frozenset({"PERSON", "PROPN"}),
    "PLACE": frozenset({"GPE", "LOC", "FAC"}),
    "ORG": frozenset({"ORG", "PRODUCT"}),
    "DATE": frozenset({"DATE", "TIME"}),
    "COUNT": frozenset({"CARDINAL", "NUM", "QUANTITY", "MONEY", "PERCENT"}),
    "MONEY": frozenset({"MONEY", "CARDINAL", "NUM"}),
    "PERCENT": frozenset({"PERCENT", "CARDINAL", "NUM"}),
    "NUMBER": frozenset({"CARDINAL", "NUM", "QUANTITY", "MONEY", "PERCENT", "DATE", "TIME", "ORDINAL"}),
}

#: Types whose answer must be a span of a compatible label: a "how many" is not answered by a name.
STRICT = frozenset({"DATE", "COUNT", "MONEY", "PERCENT", "NUMBER"})

#: Words that name a kind of what follows "of": "which *type of* severe weather" asks for a weather,
#: "what *breed of* dog" for a dog (99 of the 4,288 training questions are so worded).
KIND_WORDS = frozenset(
    "type types kind kinds sort sorts form forms category categories genre genres species breed breeds variety".split()
)

_COUNTS_TIME = re.compile(r"\bhow many (?:years|months|weeks|days|hours|minutes|decades|centuries)\b", re.IGNORECASE)
#: A length of time, as a date entity may be one: "45 days", "nearly two years", "six straight months".
_DURATION = re.compile(
    r"(?:(?:about|nearly|almost|more than|over|at least|roughly|some|the|a|an)\s+)*(?:[\d.,]+|a|one|two|three|four"
    r"|five|six|seven|eight|nine|ten|eleven|twelve|\w+teen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
    r"|hundred|dozens?|several|a few|\w+-\w+)(?:\s+(?:and\s+a\s+half|full|more|straight|consecutive))?"
    r"\s+(?:years?|months?|weeks?|days?|hours?|minutes?|decades?|centur(?:y|ies))",
    re.IGNORECASE,
)


def counts_time(question: str) -> bool:
    """Whether ``question`` counts a length of time, which the news writes as a date ("nine years", "45 days"):
    35 training questions ask "how many years" or "days", 10 of them answered "Nine years" or "45 days".

    Example: counts_time("After how many days in office did Truss resign?") -> True;
    counts_time("How many people died?") -> False
    """
    return _COUNTS_TIME.search(question) is not None


#: A length of time or an age, which spaCy reads as a date but which says how long, not when: "Some 27
#: years", "the age of 96", "22-year", "years".
_LENGTH = re.compile(
    _DURATION.pattern
    + r"|(?:the\s+)?age\s+of\s+\d+|[\w.,]+-(?:year|month|week|day|hour|minute|decade)s?(?:-(?:old|long))?"
    + r"|(?:the\s+)?(?:years?|months?|weeks?|days?|decades?)",
    re.IGNORECASE,
)


def fits_type(q_type: str, label: str, span: str, question: str) -> bool:
    """Whether a span with entity ``label`` can answer a question of ``q_type`` (:data:`COMPATIBLE`); a
    count of years or days (:func:`counts_time`) is also answered by a date entity that is a length of time,
    and "when" never is (:data:`_LENGTH`: "Some 27 years" does not say when Internet Explorer came out;
    held out on the training weeks, 2 more of 81 "when" questions answered right, none fewer).

    Example: fits_type("COUNT", "DATE", "45 days", "After how many days?") -> True;
    fits_type("COUNT", "DATE", "Feb. 24, 2022", "After how many days?") -> False;
    fits_type("DATE", "DATE", "the age of 96", "When did she become queen?") -> False
    """
    if q_type == "DATE" and _LENGTH.fullmatch(span.strip()) is not None:
        return False
    if label in COMPATIBLE.get(q_type, ()):
        return True
    return (
        q_type == "COUNT"
        and label in ("DATE", "TIME")
        and counts_time(question)
        and _DURATION.fullmatch(span) is not None
    )


_CLAUSE = re.compile(
    r"\bwhy\b"  # "Why did Ford recall 700,000 SUVs?"
    r"|\b(?:do|does|did|doing|done)\s+what\b"  # "by doing what?"
    r"|\bwhat\s+(?:is|was|are|were|does|did|do|will|would|has|have|had|can|could|should)\b[^?]*"
    r"\b(?:do|doing|happen(?:ing|ed)?)\b[^?]{0,40}\?"  # "What is Baghdad looking to do about U.S. troops?"
    r"|\bwhat\s+(?:happen(?:s|ed)?|will\s+happen)\b",  # "What happened to attacks on American bases?"
    re.IGNORECASE,
)


def asks_clause(question: str) -> bool:
    """Whether ``question`` asks why, what someone did or what happened: its answer is a clause ("kick out
    U.S. troops", "The presenter fainted", "They failed a drugs test"), which no name or noun phrase is.
    60 of the 61 training questions asking what was done or happened have such an answer, and most of
    the 73 asking why ("Drought" and "Wildfires" are among the few that are not).

    Example: asks_clause("A prisoner escaped by doing what?") -> True;
    asks_clause("What sport does he do?") -> False ("what" asks for a sport)
    """
    return _CLAUSE.search(question) is not None


_HEADS: dict[str, str] = {}
for _type, _words in {
    "PLACE": "country countries state states city cities nation nations region continent island capital town county "
    "province territory place location area neighborhood neighbourhood village sea ocean river mountain park airport "
    "border destination",
    "ORG": "company companies automaker automakers airline airlines team teams university college organization "
    "organisation agency group network party brand firm retailer bank league club band chain restaurant publication "
    "newspaper outlet carrier manufacturer startup giant school union court platform app service insurer",
    "PERSON": "person people man woman actor actress singer player member celebrity artist comedian star president "
    "leader politician senator governor author rapper athlete ceo executive official musician billionaire judge "
    "candidate lawmaker journalist host director founder quarterback coach pope king queen prince princess chef model "
    "writer entrepreneur minister chancellor mayor justice golfer pitcher tennis legend icon rocker",
    "DATE": "year years month months day days date decade century deadline",
    "PERCENT": "percentage percent share",
    "NUMBER": "number amount age price cost",
}.items():
    for _w in _words.split():
        _HEADS[_w] = _type


#: Words that end a compound naming a person: "superstar", "congressman", "spokeswoman", "songwriter".
_PERSON_ENDINGS = ("star", "man", "woman", "writer")


def _head_kind(word: str, whole: bool = True) -> str | None:
    """The kind a head word names; with ``whole`` False, PERSON for a lower-case compound that ends in
    one of :data:`_PERSON_ENDINGS` after at least three letters ("superstar"; not "human", nor
    "German", which is capitalised)."""
    if whole:
        return _HEADS.get(word.lower())
    if word.islower() and any(word.endswith(e) and len(word) - len(e) >= 3 for e in _PERSON_ENDINGS):
        return "PERSON"
    return None


def is_head(word: str, kind: str) -> bool:
    """Whether ``word`` names a thing of ``kind``. Example: is_head("mayor", "PERSON") -> True"""
    return _HEADS.get(re.sub(r"['’]s?$", "", word.lower())) == kind


_WH = re.compile(r"\b(which|what)\s+((?:[\w'’-]+\s*){1,5})", re.IGNORECASE)
#: Words that end the phrase after "which"/"what": a verb, "of" or another preposition, or a determiner opening
#: another phrase ("which product *in* the coming days" does not ask for a day, "he hid what *in* Central Park"
#: not for a place).
_PHRASE_ENDS = frozenset(
    "is was are were did does do has have will this that these those last next "
    "of in on at over for during from to with by after before since into about as across under near than".split()
)
#: A quiz's blank for a year, "... for the first time since:" (6 training questions, each answered by a
#: year), and "how soon" (2, each by a day or a month).
_ASKS_WHEN = re.compile(r"\bsince\s*[:?]?\s*$|\bhow soon\b")


#: "when" asking for a time: opening the question, before a verb ("when did", "when will") or at its end
#: ("due to land when?"); "when he was killed" opens a clause of its own, and "In which city was he when
#: he was killed?" asks for a place.
_WHEN = re.compile(
    r"^\W*when\b|\bwhen\s+(?:did|does|do|is|was|were|are|will|would|has|have|had|can|could|should|might)\b|\bwhen\W*$"
)


_ASKING = ((r"\bwho(?:m|se)?\b", "PERSON"), (r"\bwhere\b", "PLACE"))


def _which_kind(question: str) -> tuple[int, str] | None:
    """Where the first "which"/"what" phrase that names a kind of thing is, and that kind: a head word
    itself, else a compound naming a person ("superstar"). Example: _which_kind("In which city?") -> (3, "PLACE")"""
    for whole in (True, False):
        for m in _WH.finditer(question if not whole else question.lower()):
            words = m.group(2).split()
            for i, word in enumerate(words):
                kind = _head_kind(re.sub(r"['’]s?$", "", word), whole)
                if kind:
                    return m.start(), kind
                if word == "of" and i and words[i - 1].lower() in KIND_WORDS:
                    continue  # "what kind of company": a company
                if word in _PHRASE_ENDS:
                    break  # "which other female nominee this year": the phrase ends before "this year"
    return None


def answer_type(question: str) -> str:
    """One of :data:`TYPES` (see the module's examples)."""
    q = question.lower()
    if re.search(r"\bhow many\b", q):
        return "COUNT"
    if re.search(r"\bhow much\b", q):
        return (
            "MONEY"
            if re.search(r"\b(cost|pay|paid|worth|money|price|fine|raise|spend|dollars?|sell|sold)\b", q)
            else "NUMBER"
        )
    if re.search(r"\bwhat (percentage|percent|share)\b|\bhow (old|long|far|often)\b", q):
        return "PERCENT" if re.search(r"\bpercent", q) else "NUMBER"
    if _WHEN.search(q) or _ASKS_WHEN.search(q):
        return "DATE"
    # "who", "where" or a "which"/"what" phrase naming a kind: the first asks, the later ones open clauses
    # ("Which US state is represented by congressman Kevin McCarthy, the Republican leader whose bid ...?")
    asked = [(m.start(), kind) for word, kind in _ASKING if (m := re.search(word, q))]
    if which := _which_kind(question):
        asked.append(which)
    if asked:
        return min(asked)[1]
    named = re.search(r"\bname of ((?:[\w'’-]+\s*){1,5})", q)
    if named:  # "the name of the storm": a storm; "the name of Pantone's Color of the Year": not a year
        for word in named.group(1).split():
            if word in _HEADS:
                return _HEADS[word]
            if word in _PHRASE_ENDS:
                break
    return "OTHER"
