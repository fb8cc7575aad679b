"""Word rules shared across the stages: citation markers, question words, dates, URLs, shortening.

Each rule is written once here; the modules that need one import it (see ARCHITECTURE.md).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from urllib.parse import urlsplit

# -- citation markers --------------------------------------------------------------------------

#: Inside a marker: numbers separated by commas, ranges with a hyphen or an en dash ("2, 4-5").
_MARKER_INSIDE = r"\d+(?:\s*[,–-]\s*\d+)*"
#: One citation marker with the white space before it; group 1 is what stands inside the brackets.
MARKER = re.compile(rf"\s*\[({_MARKER_INSIDE})\]")
#: A run of markers at the start of a text (they belong to the sentence before).
LEADING_MARKERS = re.compile(rf"(?:\s*\[{_MARKER_INSIDE}\])+")
#: A marker, or one still being written at the end of a streamed draft ("Syria [1").
_MARKER_OR_OPEN = re.compile(rf"\s*\[{_MARKER_INSIDE}\]|\s*\[[\d,–\s-]*$")


def strip_markers(text: str) -> str:
    """``text`` without its citation markers, ranges included.

    Example: strip_markers("Iraq hosts 2,500 US troops [1][2-3].") -> "Iraq hosts 2,500 US troops."
    """
    return MARKER.sub("", text)


def strip_partial_markers(draft: str) -> str:
    """A draft as it may be shown while it is written: markers, even half-written, left out.

    Example: strip_partial_markers("Iraq hosts 2,500 troops [3]. Syria [1") -> "Iraq hosts 2,500 troops. Syria"
    """
    return _MARKER_OR_OPEN.sub("", draft)


# -- markup ------------------------------------------------------------------------------------

#: An HTML tag: "<a href=...>", "</a>", "<br/>" (a "<" before a space or a digit is a comparison).
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")


def without_markup(text: str) -> str:
    """``text`` with HTML tags taken out and entities read, white space collapsed: a question copied
    from a web page (some news quizzes carry their links: "Soaring demand for <a href=...>Dubai</a>
    chocolate ...") is asked as its words.

    Example: without_markup('Which <a href="x">Dubai</a> treat &amp; which nut?') -> "Which Dubai treat & which nut?"
    """
    if "<" not in text and "&" not in text:
        return text
    return " ".join(html.unescape(_TAG.sub("", text)).split())


# -- question words ----------------------------------------------------------------------------

#: Words that make a question a question, not what it is about (a follow-up's content words are the rest).
#: Example: in "How many were wounded?" only "wounded" is not one of them.
QUESTION_WORDS = frozenset(
    "how many much what who whom whose which when where why is are was were do does did can could will would "
    "happen happened happens say said tell know".split()
)

#: Words of a question's frame that survive :data:`qa.cite.STOPWORDS` but say nothing of its subject.
#: Example: "How many US troops are in Iraq?" is about "us", "troops", "iraq"; "many" is frame.
FRAME_WORDS = frozenset({"many", "much", "according", "happened", "name", "kind", "type", "tell", "know"})

# -- dates -------------------------------------------------------------------------------------

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip

#: A day written the ISO way, anywhere in a text. Example: finds "2024-08-06" in "Date 2024-08-06 (AP)".
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH_NAME = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
#: A day as news writes it: "2024-08-06" (or "2024/08/06"), "Aug. 6, 2024", "August 6th 2024", "6 August 2024".
_WRITTEN_DAY = re.compile(
    r"\b(?:(?P<iso>(?:19|20)\d\d([-/.])\d\d?\2\d\d?)"
    rf"|(?P<m1>{_MONTH_NAME})\s+(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y1>(?:19|20)\d\d)"
    rf"|(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<m2>{_MONTH_NAME}),?\s+(?P<y2>(?:19|20)\d\d))(?!\d)",
    re.IGNORECASE,
)


def written_day(text: str) -> str | None:
    """The first real day written in ``text`` (the ISO way or with the month's name), as ``YYYY-MM-DD``.

    Example: written_day("Updated Jan. 3, 2026, 2:06 p.m. ET") -> "2026-01-03"; written_day("6 August
    2024") -> "2024-08-06"; written_day("Feb. 30, 2024") -> None
    """
    for m in _WRITTEN_DAY.finditer(text):
        if m.group("iso"):
            y, mo, d = (int(x) for x in re.split(r"[-/.]", m.group("iso")))
        else:
            month = (m.group("m1") or m.group("m2")).rstrip(".").lower()
            y, d = int(m.group("y1") or m.group("y2")), int(m.group("d1") or m.group("d2"))
            mo = next(i for i, name in enumerate(MONTHS, 1) if name.startswith(month[:3]))
        try:
            return dt.date(y, mo, d).isoformat()
        except ValueError:
            continue
    return None


#: A whole token that is a day or a month, the ISO way. Example: "2024-08" and "2024-08-06" match, "2024" not.
ISO_DAY_OR_MONTH = re.compile(r"\d{4}-\d{2}(?:-\d{2})?")
_DATE_WORD = re.compile(
    rf"^(?:{'|'.join(WEEKDAYS + MONTHS)}|today|yesterday|(?:19|20)\d\d(?:-\d\d(?:-\d\d)?)?)$", re.IGNORECASE
)


def is_date_word(word: str) -> bool:
    """Whether one word names a day, a month or a year.

    Example: is_date_word("Tuesday") -> True; is_date_word("2023") -> True; is_date_word("Syria") -> False
    """
    return bool(_DATE_WORD.match(word))


#: Weekdays and months as news shortens them too: "Mon", "Tues", "Jan", "Sept".
CALENDAR_WORDS = frozenset(
    {*WEEKDAYS, *MONTHS, *(w[:3] for w in WEEKDAYS + MONTHS), "tues", "wednes", "thur", "thurs", "sept"}
)

# -- abbreviations -----------------------------------------------------------------------------

_ABBREVIATION = re.compile(r"(?:\b[A-Za-z]\.[A-Za-z]|\b(?:Jr|Sr|Inc|Corp|Co|Ltd|St|Mt|Ft))$")


def ends_in_abbreviation(text: str) -> bool:
    """Whether ``text`` ends in an abbreviation whose full stop belongs to it (the stop left off).

    Example: ends_in_abbreviation("the U.S") -> True; ends_in_abbreviation("8 p.m") -> True;
    ends_in_abbreviation("Martin Luther King Jr") -> True; ends_in_abbreviation("Iraq") -> False
    """
    return _ABBREVIATION.search(text) is not None


# -- URLs --------------------------------------------------------------------------------------


def mask_credentials(url: str) -> str:
    """The URL without a ``user:password@`` part, fit to show or log.

    Example: mask_credentials("https://me:s3cret@chroma.internal:8000/db") -> "https://chroma.internal:8000/db"
    """
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if "@" not in parts.netloc:
        return url
    return re.sub(r"//[^/@]*@", "//", url, count=1) if "://" in url else url.split("@", 1)[1]


# -- shortening --------------------------------------------------------------------------------


#: The most characters of a title shown in a list (sources, ``qa articles``); an untitled article's
#: first sentence is cut to it (:func:`qa.load.default_title`).
TITLE_LIMIT = 100


def shorten(text: str, limit: int, at_word: bool = True) -> str:
    """``text`` on one line, at most ``limit`` characters, cut (at a word, unless ``at_word`` is off) with "…".

    Example: shorten("Iraq hosts  2,500 US troops.", 16) -> "Iraq hosts…"; with at_word=False -> "Iraq hosts 2,50…"
    """
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    return (cut.rsplit(" ", 1)[0] if at_word else cut) + "…"


# -- quotes ------------------------------------------------------------------------------------

_DOUBLE_TO_SINGLE = str.maketrans({"“": "‘", "”": "’", '"': "'"})


def quoted(text: str) -> str:
    """``text`` in double quotes, once: a quotation inside it gets single quotes, as quotes in quotes do.

    A text that already is one whole quotation keeps its own marks.
    Example: quoted('“We are ready,” he said.') -> '“‘We are ready,’ he said.”';
    quoted("“a dangerous escalation”") -> "“a dangerous escalation”"; quoted("Iraq") -> "“Iraq”"
    """
    text = text.strip()
    inner = text[1:-1]
    if len(text) > 1 and text[0] in '“"' and text[-1] in '”"' and not any(q in inner for q in '“”"'):
        return f"“{inner}”"
    return f"“{text.translate(_DOUBLE_TO_SINGLE)}”"
