"""Which places are countries and which are US states, from ISO 3166 (``pycountry``).

The span model learns how often a candidate of each kind answers a question asking for each kind
of thing (:func:`qa.reader.candidates.add_affinity`); spaCy labels cities, states and countries
alike as ``GPE``, but "in which city" is not answered by "Iran", nor "which country" by "Crans-Montana".

Example: kind("Iran") -> "COUNTRY"; kind("the U.S.") -> "COUNTRY"; kind("Ohio") -> "STATE";
kind("Tehran") -> ""
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
