"""Which places are countries and which are US states, from ISO 3166 (``pycountry``).

The span model learns how often a candidate of each kind answers a question asking for each kind
of thing (:func:`qa.reader.candidates.add_affinity`); spaCy labels cities, states and countries
alike as ``GPE``, but "in which city" is not answered by "Iran", nor "which country" by "Crans-Montana".

Example: kind("Iran") -> "COUNTRY"; kind("the U.S.") -> "COUNTRY"; kind("Ohio") -> "STATE";
kind("Tehran") -> ""; fits("city", "Iran") -> False; fits("country", "Ohio") -> False
"""

from __future__ import annotations

import re
from functools import lru_cache

#: Names news uses that ISO's names and common names lack.
_ALIASES = ("Russia", "Turkey", "Britain", "Great Britain", "UK", "U.K", "US", "U.S", "USA", "U.S.A", "America",
            "United States of America", "England", "Scotland", "Wales", "Northern Ireland", "Czech Republic",
            "Ivory Coast", "Palestine", "Kosovo", "Holland", "Burma", "Macedonia", "Swaziland")  # fmt: skip


def _key(text: str) -> str:
    return re.sub(r"^the\s+", "", text.strip().rstrip(".").lower())


@lru_cache(maxsize=1)
def _tables() -> tuple[frozenset[str], frozenset[str]]:
    import pycountry

    countries = set(_ALIASES)
    for c in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(c, attr, None)
            if value:
                countries |= {value, value.split(",")[0]}
    states = {s.name for s in pycountry.subdivisions.get(country_code="US")}
    return frozenset(_key(c) for c in countries), frozenset(_key(s) for s in states)


def kind(text: str) -> str:
    """ "COUNTRY", "STATE" (of the US) or "" (see the module's examples)."""
    countries, states = _tables()
    key = _key(text)
    return "COUNTRY" if key in countries else "STATE" if key in states else ""


#: Question heads that ask for a country, and those that ask for a place inside one.
COUNTRY_HEADS = frozenset({"country", "nation"})
INSIDE_HEADS = frozenset({"city", "town", "capital", "state"})
_LIST = re.compile(r"\s*(?:,|,?\s+and|\s&)\s+")


def fits(head: str, text: str) -> bool:
    """Whether ``text`` can answer a question whose head word is ``head``, as far as the kind of place
    goes: "which country" is answered by a country (or a list of them), and "which city" or "which
    state" not by a country that is not also a US state ("Georgia"). In the training questions, 227
    of 235 country answers are one country and the 8 others lists of them; no city or state answer
    is a country that is not a state."""
    if head in COUNTRY_HEADS:
        return all(kind(part) == "COUNTRY" for part in _LIST.split(text))
    if head in INSIDE_HEADS:
        countries, states = _tables()
        key = _key(text)
        return key not in countries or key in states
    return True
