"""Which places are countries and which are US states, from ISO 3166 (``pycountry``).

The span model learns how often a candidate of each kind answers a question asking for each kind
of thing (:func:`qa.reader.candidates.add_affinity`); spaCy labels cities, states and countries
alike as ``GPE``, but "in which city" is not answered by "Iran", nor "which country" by "Crans-Montana".

Example: kind("Iran") -> "COUNTRY"; kind("the U.S.") -> "COUNTRY"; kind("Ohio") -> "STATE";
kind("Tehran") -> ""; fits("city", "Iran") -> False; fits("country", "Ohio") -> False;
fits("state", "Chicago") -> False; fits("state", "Bavaria", "Which German state ...?") -> True;
named_in("the U.S.", "Which country made a deal with the United States?") -> True
"""

from __future__ import annotations

import re
from functools import lru_cache

#: Names news uses that ISO's names and common names lack, by ISO code (the UK's nations apart).
_ALIASES = {"RU": ("Russia",), "TR": ("Turkey",), "GB": ("Britain", "Great Britain", "UK", "U.K"),
            "US": ("US", "U.S", "USA", "U.S.A", "America", "United States of America"), "GB-ENG": ("England",),
            "GB-SCT": ("Scotland",), "GB-WLS": ("Wales",), "GB-NIR": ("Northern Ireland",), "CZ": ("Czech Republic",),
            "CI": ("Ivory Coast",), "PS": ("Palestine",), "XK": ("Kosovo",), "NL": ("Holland",), "MM": ("Burma",),
            "MK": ("Macedonia",), "SZ": ("Swaziland",)}  # fmt: skip


def _key(text: str) -> str:
    return re.sub(r"^the\s+", "", text.strip().rstrip(".").lower())


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, str], frozenset[str], dict[str, re.Pattern[str]]]:
    """(each country's name -> its code, the US states' names, each code -> a pattern of its names)."""
    import pycountry

    names: dict[str, set[str]] = {code: set(aliases) for code, aliases in _ALIASES.items()}
    for c in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(c, attr, None)
            if value:
                names.setdefault(c.alpha_2, set()).update({value, value.split(",")[0]})
    states = {s.name for s in pycountry.subdivisions.get(country_code="US")}
    codes = {_key(n): code for code, ns in names.items() for n in ns}
    patterns = {
        code: re.compile(r"(?<![\w.])(?:" + "|".join(re.escape(n.rstrip(".")) for n in ns) + r")\.?(?!\w)")
        for code, ns in names.items()
    }
    return codes, frozenset(_key(s) for s in states), patterns


def kind(text: str) -> str:
    """ "COUNTRY", "STATE" (of the US) or "" (see the module's examples)."""
    countries, states, _ = _tables()
    key = _key(text)
    return "COUNTRY" if key in countries else "STATE" if key in states else ""


def named_in(text: str, question: str) -> bool:
    """Whether ``text`` names a country that ``question`` names too, by any of its names ("the U.S."
    and "the United States"): none of the 295 training place questions answered by a country names
    that country.

    Example: named_in("the United States", "Which country made a deal with the US?") -> True
    """
    countries, _, patterns = _tables()
    code = countries.get(_key(text))
    return code is not None and patterns[code].search(question) is not None


#: Question heads that ask for a country, and those that ask for a place inside one.
_COUNTRY_HEADS = frozenset({"country", "nation"})
_INSIDE_HEADS = frozenset({"city", "town", "capital", "state"})
#: What joins names in a list: commas, "and" (after a comma or not), "&" ("Minnesota and Illinois").
JOIN = re.compile(r"\s*(?:,|,?\s+and|\s&)\s+")


#: Federations other than the US whose parts are called states, by the adjective a question would use
#: ("which Indian state"): there "state" does not ask for a US state.
_OTHER_STATES = re.compile(
    r"\b(?:Indian|Australian|Brazilian|Mexican|German|Nigerian|Malaysian|Austrian|Venezuelan|Sudanese|Burmese)\b"
)


@lru_cache(maxsize=256)
def abroad(question: str) -> bool:
    """Whether ``question`` names a country other than the US, or a federation's states by its adjective.

    Example: abroad("Which Indian state held elections?") -> True; abroad("Which US state ...?") -> False
    """
    if _OTHER_STATES.search(question):
        return True
    _, _, patterns = _tables()
    return any(code != "US" and pattern.search(question) for code, pattern in patterns.items())


def fits(head: str, text: str, question: str = "") -> bool:
    """Whether ``text`` can answer a question whose head word is ``head``, as far as the kind of place
    goes: "which country" is answered by a country (or a list of them), "which state" by a US state (or
    a list of them) unless the question is about another country (:func:`abroad`), and "which city"
    not by a country that is not also a US state ("Georgia"). In the training questions, 227 of 235
    country answers are one country and the 8 others lists of them; 146 of the 148 answers to "which
    state" or "which US state" are one US state ("Georgia" among them), one a list of two and one
    "State Fair of Texas" ("which state fair"); no city or state answer is a country that is not a
    state."""
    if head in _COUNTRY_HEADS:
        return all(kind(part) == "COUNTRY" for part in JOIN.split(text))
    if head == "state" and not abroad(question):
        return all(is_state(part) for part in JOIN.split(text))
    if head in _INSIDE_HEADS:
        return _key(text) not in _tables()[0] or is_state(text)
    return True


def is_state(text: str) -> bool:
    """Whether ``text`` names a US state, whatever else it names ("Georgia" is a country too).

    Example: is_state("Georgia") -> True; is_state("Chicago") -> False
    """
    return _key(text) in _tables()[1]


def asked_for(head: str, text: str) -> bool:
    """Whether ``text`` is the very kind of place that ``head`` asks for: a country for "which country"
    or "which nation", a US state for "which state".

    Example: asked_for("state", "Mississippi") -> True; asked_for("city", "Mississippi") -> False
    """
    return (head in _COUNTRY_HEADS and kind(text) == "COUNTRY") or (head == "state" and kind(text) == "STATE")


def is_us(text: str) -> bool:
    """Whether ``text`` names the United States, where the news qa learnt from is written: the US is a
    candidate in most of its place questions' articles, but answers 5 of the 742 ("Which country will host
    the 2026 World Cup?"); offered, it was the short answer of 9 practice and later questions, each wrong.

    Example: is_us("the U.S.") -> True; is_us("America") -> True; is_us("Iran") -> False
    """
    return _tables()[0].get(_key(text)) == "US"
