"""Follow-up questions in a chat, rewritten into standalone questions before retrieval.

"And how many are in Syria?" means nothing to a retriever on its own; after "How many US troops
are in Iraq?" it means "How many US troops are in Syria?". With an LLM generator that has a
``rewrite(question, history)`` method the model does this; otherwise :func:`rewrite_offline`
does it with no model, in three steps:

1. **Is it a follow-up?** (:func:`is_follow_up`) It starts with a lead-in ("and", "but", "also",
   "what about", "how about"), or it refers back with a pronoun ("it", "they", "his", ...), or it
   has fewer than two content words ("Who won?", "When did this happen?"), or it counts nothing
   named ("How many were seriously injured?"), or "the" points at a thing the previous question
   named ("Who was behind the attack?" after a question about an attack: such a question stands
   as it is, with the previous question's key terms in brackets).
2. **Merge it with the previous standalone question** when the two share words: the two word
   sequences are aligned (:class:`difflib.SequenceMatcher`); words the follow-up leaves out are
   taken from the previous question, words it changes or adds are its own. A name, date or number
   the follow-up puts in place of one of the same kind replaces it ("Syria" for "Iraq"); other key
   terms it drops are carried over in brackets.
3. **Otherwise** a bare "what about X?" puts X in place of the previous question's last term of the
   same kind (or adds X in brackets when it has none), and any other follow-up gets the previous
   question's key terms in brackets.
4. **A pronoun that points at the previous answer** brings that answer along, first in the brackets
   (:func:`referent`): after "Who was captured in Venezuela?" answered "Nicolas Maduro", "Where was
   he flown to?" searches "Where was he flown to? (Nicolas Maduro, captured, Venezuela)". "He", "she"
   and "his" take a person's name (the previous question asked who), "it" and "its" a name that is
   not a person's, "they" and "their" either; a number or a day is never carried ("How many troops?"
   answered "2,500", then "When did they arrive?": "they" are the troops).

Worked example (:func:`rewrite_offline`)::

    previous: "How many US troops are in Iraq?"
    follow-up: "And how many are in Syria?"
    1. starts with "and": a follow-up; without it: "how many are in Syria?"
    2. aligned:  how many | US troops | are in | Iraq
                 how many |           | are in | Syria
       "US troops" is left out, so it is kept; "Syria" (a name) replaces "Iraq" (a name)
    -> "How many US troops are in Syria?"

    "What about Jordan?"          -> "How many US troops are in Jordan?"
    "And in Jordan?"              -> "How many US troops are in Jordan?"
    "What about 2023?"            -> "How many US troops are in Iraq? (2023)"
    "How many were wounded?"      -> "How many were wounded? (US troops, Iraq)"
    "Who is the US Secretary of Defense?", then "What did he say?"
                                  -> "What did he say? (US Secretary of Defense)"
    ... answered "Lloyd Austin"   -> "What did he say? (Lloyd Austin, US Secretary of Defense)"
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from difflib import SequenceMatcher
from itertools import pairwise

from .cite import STOPWORDS
from .reader.candidates import singular
from .reader.question import answer_type
from .text import QUESTION_WORDS, ends_in_abbreviation, is_date_word, strip_markers

#: (question, answer) pairs of earlier turns, oldest first: the standalone questions, and the answers as
#: shown (:attr:`qa.types.Answer.said`: the short answer, when there is one, on the first line).
History = Sequence[tuple[str, str]]

LEAD_INS = ("and what about", "and how about", "what about", "how about", "and", "but", "also", "so", "then")
_ASKING = frozenset("how what who whom whose which when where why".split())
PRONOUNS = frozenset("it its they them their theirs he him his she her hers these those".split())
#: The pronouns that may point at the previous answer, and the answer types of the questions whose answer
#: each may point at: "he" at a person's name, "it" at anything else named, "they" at either.
_POINTS_AT = {
    **dict.fromkeys(("he", "him", "his", "she", "her", "hers"), frozenset({"PERSON"})),
    **dict.fromkeys(("it", "its"), frozenset({"ORG", "PLACE", "OTHER"})),
    **dict.fromkeys(("they", "them", "their", "theirs"), frozenset({"PERSON", "ORG", "PLACE", "OTHER"})),
}
#: Small words a name may hold: "Bank of America", "Abercrombie & Fitch", "Luiz Inácio Lula da Silva".
_NAME_JOINS = frozenset("of the & and de da del la le von van bin al".split())
#: At most this many words make a name the next question may point at.
_NAME_WORDS = 6
_NUMBER = re.compile(r"^\d[\d,.]*$")
_TRAILING = ",;:!?\"'”’)"
#: The terms a rewrite carried over, in brackets after the question: "... in Syria? (2023, Iraq)".
_CONTEXT = re.compile(r"^(.*?\S)\s*\(([^()]*)\)$")
#: Most terms carried in brackets: a long chat does not pile up every earlier question's words.
MAX_CARRIED = 4


def rewrite_offline(question: str, previous: str | None, answer: str = "") -> str:
    """The standalone form of ``question`` asked after ``previous`` (itself standalone), which was
    answered ``answer`` (as shown: the short answer on its first line, when there was one).

    Example: rewrite_offline("And how many are in Syria?", "How many US troops are in Iraq?")
    -> "How many US troops are in Syria?"; a question that is not a follow-up comes back unchanged.
    """
    question = question.strip()
    leans = is_follow_up(question)
    if not previous or not (leans or points_back(question, previous)):
        return question
    answered = [name] if (name := referent(question, previous, answer)) else []
    previous, context = split_context(previous)
    prev, rest = _words(previous), _words(_strip_lead_in(question))
    if not rest:
        return _sentence(prev, previous.endswith("?"), [*answered, *context])
    shared, bare = _shared(prev, rest), _is_bare_phrase(rest)
    if not leans:  # whole, but for "the attack" asked about before: its context in brackets
        words, carried = rest, _key_terms(prev, exclude=rest)
    elif len(shared) >= 2 or any(_is_content(w) for w in shared) or (shared and bare):
        words, carried = _merge(prev, rest)
    elif bare:  # "what about X?": X in place of its kind, else X as context of the previous question
        substituted = _substitute(prev, rest)
        words, carried = (substituted, []) if substituted else (prev, [" ".join(rest)])
    else:
        words, carried = rest, _key_terms(prev, exclude=rest)
    return _sentence(words, question.rstrip().endswith("?"), [*answered, *carried, *context])


def referent(question: str, previous: str, answer: str) -> str | None:
    """The name ``answer`` gave ``previous`` when a pronoun of ``question`` may point at it: its first
    line, citation markers dropped, if that is a short name (:func:`_is_name`) of the kind the pronoun
    takes (:data:`_POINTS_AT`, by what ``previous`` asked for). None otherwise.

    Example: referent("Where was he flown to?", "Who was captured?", "Nicolas Maduro [1]\nThe US ...")
    -> "Nicolas Maduro"; referent("Where was it?", "Who was captured?", "Nicolas Maduro [1]") -> None
    """
    first = strip_markers(answer.strip().split("\n", 1)[0]).strip()
    if not first or not _is_name(first):
        return None
    asked = answer_type(split_context(previous)[0])
    pronouns = {_key(w) for w in _words(question)} & _POINTS_AT.keys()
    return first if any(asked in _POINTS_AT[p] for p in pronouns) else None


def _is_name(text: str) -> bool:
    """A name, not a sentence, a number or a day: at most :data:`_NAME_WORDS` words, each capitalised
    or one of the small words a name may hold (:data:`_NAME_JOINS`), the first not a pronoun.

    Example: _is_name("Kansas City Chiefs") -> True; _is_name("the Las Vegas Aces") -> True;
    _is_name("He was captured.") -> False; _is_name("2,500") -> False; _is_name("Monday") -> False
    """
    words = text.split()
    if not 1 <= len(words) <= _NAME_WORDS or text.endswith(("!", "?")):
        return False
    if text.endswith(".") and not ends_in_abbreviation(text[:-1]):
        return False  # a sentence's end; "Martin Luther King Jr." and "Washington, D.C." keep theirs
    if _key(words[0]) in PRONOUNS or _key(words[0]) in QUESTION_WORDS or any(is_date_word(_bare(w)) for w in words):
        return False
    named = [w for w in words if _key(w) not in _NAME_JOINS]
    return bool(named) and all(_bare(w)[:1].isupper() for w in named)


def split_context(question: str) -> tuple[str, list[str]]:
    """A standalone question and the key terms carried over in brackets at its end.

    Example: split_context("What did he say? (US Secretary of Defense, Iraq)")
    -> ("What did he say?", ["US Secretary of Defense", "Iraq"])
    """
    m = _CONTEXT.match(question.strip())
    if not m:
        return question.strip(), []
    return m.group(1), [t.strip() for t in m.group(2).split(",") if t.strip()]


def is_follow_up(question: str, previous: str | None = None) -> bool:
    """Does ``question`` lean on the one before it (``previous``, when known)?

    Example: "And how many are in Syria?" -> True (a lead-in); "When did it happen?" -> True (a
    pronoun); "Who won?" -> True (one content word); "How many were seriously injured?" -> True (a
    count of nothing named); "Who was behind the attack?" after "How many were hurt in the attack on
    Al-Asad?" -> True (the attack asked about); "How many US troops are in Iraq?" -> False.
    """
    low = question.strip().lower()
    if any(low == lead or low.startswith(lead + " ") or low.startswith(lead + ",") for lead in LEAD_INS):
        return True
    words = [_bare(w).lower() for w in _words(question)]
    if PRONOUNS.intersection(words):
        return True
    if sum(1 for w in words if _is_content(w)) < 2:
        return True
    if words[:2] in (["how", "many"], ["how", "much"]) and len(words) > 2 and words[2] in _AUXILIARIES:
        return True
    return previous is not None and points_back(question, previous)


def points_back(question: str, previous: str) -> bool:
    """Whether "the" in ``question`` points at a common noun ``previous`` named (its brackets left out).

    Example: points_back("Who was behind the attack?", "How many were hurt in the attack on Al-Asad?") -> True
    """
    words = _words(question)
    pointed = {_stem(b) for a, b in pairwise(words) if a.lower() == "the" and _bare(b).islower() and _is_content(b)}
    return bool(pointed & {_stem(w) for w in _words(split_context(previous)[0]) if _is_content(w)})


#: Verbs that follow "how many" when the question leaves out what it counts: "How many were injured?"
_AUXILIARIES = frozenset("are were is was have has had did do does will would could can".split())


def _stem(word: str) -> str:
    """A content word as "the" may point back at it: lower-case and singular ("Attacks" -> "attack")."""
    return singular(_key(word))


def standalone_question(question: str, history: History, rewrite: Callable[[str, History], str] | None = None) -> str:
    """``question`` made standalone: by the model's ``rewrite`` when given, else :func:`rewrite_offline`."""
    if not history:
        return question.strip()
    if rewrite is not None:
        return (rewrite(question, list(history)) or "").strip() or question.strip()
    return rewrite_offline(question, *history[-1])


# -- the pieces --------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    """The words of ``text``, trailing punctuation and brackets dropped (a rewrite adds its own)."""
    return [w for w in (t.replace("(", "").replace(")", "").rstrip(_TRAILING) for t in text.split()) if w]


def _bare(word: str) -> str:
    return word.strip(".'’\"“”()[]")


def _key(word: str) -> str:
    return _bare(word).lower()


def _is_content(word: str) -> bool:
    low = _key(word)
    return bool(low) and low not in STOPWORDS and low not in QUESTION_WORDS


def _kind(word: str) -> str | None:
    """ "date", "number" or "name" for the words a follow-up may swap for another of the same kind."""
    w = _bare(word)
    if is_date_word(w):
        return "date"
    if _NUMBER.match(w):
        return "number"
    if w[:1].isupper() and _key(w) not in QUESTION_WORDS:
        return "name"
    return None


def _strip_lead_in(question: str) -> str:
    text = question.strip()
    for lead in LEAD_INS:
        low = text.lower().rstrip("?.!")
        if low == lead:
            return ""
        if low.startswith(lead + " ") or low.startswith(lead + ","):
            return _strip_lead_in(text[len(lead) + 1 :].lstrip(" ,"))
    return text


def _shared(prev: list[str], rest: list[str]) -> list[str]:
    sm = SequenceMatcher(a=[_key(w) for w in prev], b=[_key(w) for w in rest], autojunk=False)
    return [w for a, _, n in sm.get_matching_blocks() for w in prev[a : a + n]]


def _merge(prev: list[str], rest: list[str]) -> tuple[list[str], list[str]]:
    """Align the two questions: keep what the follow-up left out, take what it changed or added."""
    sm = SequenceMatcher(a=[_key(w) for w in prev], b=[_key(w) for w in rest], autojunk=False)
    out: list[str] = []
    carried: list[str] = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "delete":
            out += prev[i1:i2]
            continue
        if tag == "replace" and j1 == 0 and _key(rest[0]) in _ASKING:
            out += rest[j1:j2]  # "What did he say?" after "When did he speak?" asks what, not when
            continue
        if tag == "replace" and not any(map(_is_content, prev[i1:i2] + rest[j1:j2])):
            out += prev[i1:i2]  # the question's own frame ("how many" for "the"): keep the original's
            continue
        out += rest[j1:j2]
        if tag == "replace":
            new_kinds = {_kind(w) for w in rest[j1:j2]} - {None}
            if i2 - i1 == j2 - j1 == 1 and _is_content(rest[j1]):
                new_kinds.add(_kind(prev[i1]))  # one word for one: "syria" for "Iraq", however typed
            dropped = [w for w in prev[i1:i2] if _kind(w) not in new_kinds]
            carried += _key_terms(dropped, exclude=rest)
    return out, carried


def _is_bare_phrase(rest: list[str]) -> bool:
    """ "Syria", "the Gaza war": no question word, so it only names what to ask about instead."""
    return _key(rest[0]) not in QUESTION_WORDS


def _substitute(prev: list[str], rest: list[str]) -> list[str] | None:
    """``prev`` with its last term of the kind ``rest`` names replaced by ``rest``; None if none."""
    kinds = [_kind(w) for w in rest if _kind(w)]
    if not kinds:
        return None
    kind = kinds[0]
    spots = [i for i, w in enumerate(prev) if i > 0 and _kind(w) == kind]
    if not spots:
        return None
    end = spots[-1] + 1
    start = end - 1
    while start - 1 > 0 and _kind(prev[start - 1]) == kind:  # a whole name: "New York"
        start -= 1
    return prev[:start] + rest + prev[end:]


def _key_terms(words: list[str], exclude: Sequence[str] = ()) -> list[str]:
    """Runs of content words as phrases, "of" kept inside names.

    Example: "Who is the US Secretary of Defense".split() -> ["US Secretary of Defense"]
    """
    skip = {_key(w) for w in exclude}
    terms: list[list[str]] = []
    run: list[str] = []
    for i, w in enumerate(words):
        if _is_content(w) and _key(w) not in skip:
            run.append(_bare(w) if w.endswith(("'", "’")) else w)
            continue
        joins = (
            _key(w) == "of"
            and run
            and _kind(run[-1]) == "name"
            and i + 1 < len(words)
            and _kind(words[i + 1]) == "name"
            and _key(words[i + 1]) not in skip
        )
        if joins:
            run.append(w)
            continue
        if run:
            terms.append(run)
        run = []
    if run:
        terms.append(run)
    return [" ".join(t) for t in terms]


def _sentence(words: list[str], question_mark: bool, carried: list[str]) -> str:
    text = " ".join(words)
    text = text[:1].upper() + text[1:]
    if question_mark and not text.endswith("?"):
        text += "?"
    low = text.lower()
    terms = [" ".join(_words(c)) for c in carried]
    terms = [c for c in dict.fromkeys(terms) if c and not re.search(rf"(?<!\w){re.escape(c.lower())}(?!\w)", low)]
    return f"{text} ({', '.join(terms[:MAX_CARRIED])})" if terms else text
