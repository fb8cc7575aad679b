"""Citations: parse ``[n]`` markers, drop those that name no passage, quote the exact span
each one stands for, renumber in order of appearance, and mark unsupported sentences.

Markers: ``[1]``, ``[1][3]``, ``[1, 3]`` and ranges ``[1-3]``; ``n`` is the n-th passage given to
the generator (1-based). A number that names no passage given is removed from the answer.

Support check (offline, no model), per answer sentence, against the passages it cites (their
text and titles): the sentence's content words (stopwords dropped, simple plurals folded,
numbers and capitalised names weighted 2, other words 1) must be found there with a weighted
coverage ``>= SUPPORT_THRESHOLD`` (0.6); then :func:`qa.claims.contradiction` reads the sentence
and finds any number, negation, name or date in it that the passages contradict. A sentence with
no valid citation is unsupported: a model that ignores the citation format gets its sentences
marked, never silently attributed. ``Sentence.supported`` records the result and
``Sentence.reason`` why it failed ("number 3,500 not in [1]"); ``Answer.verified`` is true when
every sentence passed.

Then :func:`qa.conflicts.find_conflicts` compares what the retrieved articles say about the
question; where they differ, each side is cited (a new citation quoting its sentence when the
answer did not cite it) and the answer ends with "The sources differ: at least five [1], several
[2]." (``Answer.conflicts``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .chunk import split_sentences
from .text import LEADING_MARKERS, MARKER, ends_in_abbreviation
from .types import REFUSAL, SHORT_PREFIX, Answer, Citation, Conflict, ConflictValue, Passage, Sentence

SUPPORT_THRESHOLD = 0.6
MAX_RANGE = 20  # "[1-3]" means 1, 2, 3; a wider range is not a citation
_WORD = re.compile(r"[\w][\w'’.-]*\w|\w")
_NUMBER = re.compile(r"\d")
_POSSESSIVE = re.compile(r"['’]s?$")
STOPWORDS = frozenset(
    """a an the and or but if then of to in on at by for with from as is are was were be been being it its this that
    these those there their they them he she his her we our you your i me my not no do does did has have had will would
    can could should may might must shall into over under about after before than also which who whom whose what when
    where why how all any some more most other such only own same so too very just up out new said says say""".split()
)


def parse_markers(text: str) -> list[tuple[int, int, list[int]]]:
    """Every citation marker: (start, end, numbers).

    Example: "Iraq hosts 2,500 troops [1][3]." -> [(23, 27, [1]), (27, 30, [3])]
    Example: "Both said so [2, 4-5]." -> [(12, 21, [2, 4, 5])]
    """
    return [(m.start(), m.end(), _numbers(m.group(1))) for m in MARKER.finditer(text)]


def _numbers(inside: str) -> list[int]:
    out: list[int] = []
    for part in inside.split(","):
        a, _, b = part.replace("–", "-").partition("-")
        lo, hi = int(a), int(b or a)
        out.extend(range(lo, hi + 1) if 0 <= hi - lo < MAX_RANGE else [])
    return out


def content_words(text: str) -> dict[str, float]:
    """Content words with weights: numbers and capitalised names 2, other words 1.

    Example: "Iraq hosts 2,500 US troops." -> {"iraq": 2, "hosts": 1, "2,500": 2, "us": 2, "troops": 1}
    """
    out: dict[str, float] = {}
    for m in _WORD.finditer(text):
        w = m.group(0).strip(".'’-")
        low = w.lower()
        if not w or low in STOPWORDS:
            continue
        weight = 2.0 if (_NUMBER.search(w) or w[0].isupper()) else 1.0
        out[_norm(low)] = max(out.get(_norm(low), 0.0), weight)
    return out


def _norm(word: str) -> str:
    """Fold possessives, simple plurals and number formatting so "Hamas’s" meets "Hamas's" and "Hamas",
    "troops" meets "troop" and "2,500" meets "2500"."""
    word = _POSSESSIVE.sub("", word)
    if word[:1].isdigit():
        return word.replace(",", "")
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def support(sentence: str, evidence: str, numbers: bool = True) -> float:
    """How much of ``sentence`` the ``evidence`` text backs, 0..1; 0 if a stated number (in digits)
    is missing, unless ``numbers`` is False (:mod:`qa.claims` reads numbers in any form).

    Example: support("Iraq hosts 2,500 US troops.", "Iraq hosts 2,500 US troops and militias.") -> 1.0
    """
    words = content_words(sentence)
    if not words:
        return 1.0
    have = set(content_words(evidence))
    if numbers and any(w[:1].isdigit() and w not in have for w in words):
        return 0.0
    total = sum(words.values())
    return sum(v for w, v in words.items() if w in have) / total


def supported(sentence: str, passages: Sequence[Passage]) -> bool:
    """True when the cited ``passages`` (text and titles) back ``sentence`` (see module doc); False with none."""
    return unsupported_reason(sentence, passages) is None


def unsupported_reason(sentence: str, passages: Sequence[Passage], cites: str = "") -> str | None:
    """Why the cited ``passages`` do not back ``sentence``, or None when they do; ``cites`` names them
    in the reason ("[1][2]"; default "the cited passages").

    Example: unsupported_reason("Iraq hosts 3,500 US troops.", [passage "Iraq hosts 2,500 US troops."], "[1]")
    -> "number 3,500 not in [1]"
    """
    from .claims import contradiction

    if not passages:
        return "cites no passage"
    cites = cites or "the cited passages"
    evidence = " ".join(f"{p.title}. {p.text}" for p in passages)
    share = support(sentence, evidence, numbers=False)
    if share < SUPPORT_THRESHOLD:
        return f"only {share:.0%} of its words are in {cites}"
    return contradiction(sentence, passages, cites)


def best_quote(sentence: str, passage: Passage) -> tuple[int, int]:
    """The span (in article offsets) of the passage sentence that best supports ``sentence``."""
    spans = split_sentences(passage.text) or [(0, len(passage.text))]
    a, b = max(spans, key=lambda s: support(sentence, passage.text[s[0] : s[1]]))
    return passage.start + a, passage.start + b


def split_short(draft: str) -> tuple[str | None, list[int], str]:
    """A draft's short-answer line, apart: (short answer, its passage numbers, the rest of the draft).

    Example: split_short("Short answer: Lloyd Austin [1]\nUS Secretary of Defense Lloyd Austin spoke [1].")
    -> ("Lloyd Austin", [1], "US Secretary of Defense Lloyd Austin spoke [1].")
    """
    text = draft.lstrip()
    if not text[: len(SHORT_PREFIX)].lower() == SHORT_PREFIX.lower():
        return None, [], draft
    line, _, rest = text[len(SHORT_PREFIX) :].partition("\n")
    ns = [n for _, _, found in parse_markers(line) for n in found]
    short = MARKER.sub("", line).strip()
    if not (short.endswith(".") and ends_in_abbreviation(short[:-1])):
        short = short.rstrip(".")  # a sentence's stop, not the one of "U.S." or "Jr."
    short = short.strip().strip('*"“”').strip()
    return short or None, ns, rest


def locate(short: str, passage: Passage) -> str | None:
    """``short`` as the passage (or its title) writes it, found up to case; None when it is not there.

    Example: locate("lloyd austin", Passage(text="Secretary Lloyd Austin said...", ...)) -> "Lloyd Austin"
    """
    for text in (passage.text, passage.title):
        i = text.find(short)
        if i < 0:
            i = text.lower().find(short.lower())
        if i >= 0:
            return text[i : i + len(short)]
    return None


def resolve(
    question: str,
    draft: str,
    passages: Sequence[Passage],
    search_query: str | None = None,
    confidence: float | None = None,
) -> Answer:
    """Turn a generator's draft (``[n]`` = n-th passage, 1-based) into a checked :class:`Answer`.

    A first line ``Short answer: X [n]`` gives the short answer; it is kept only when a passage the
    answer cites (or the one it names) holds it, and it takes that passage's own spelling.
    """
    short, short_ns, text = split_short(draft)
    text = text.strip()
    if not text and short:
        text = draft.strip()[len(SHORT_PREFIX) :].strip()  # only a short answer: it is the answer too
        short = None
    if not text or text.startswith(REFUSAL) or (REFUSAL.rstrip(".") in text and len(text) < len(REFUSAL) + 20):
        return Answer(
            question, REFUSAL, True, passages=tuple(passages), search_query=search_query, confidence=confidence
        )
    numbering: dict[tuple[int, int, int], int] = {}  # (passage, start, end) -> n
    citations: list[Citation] = []
    sentences: list[Sentence] = []
    parts: list[str] = []
    for a, b in _answer_sentences(text):
        raw = text[a:b]
        markers = parse_markers(raw)
        bare = MARKER.sub("", raw).strip()
        if not any(ch.isalnum() for ch in bare):  # a stray marker or punctuation: nothing to say
            continue
        cited = [passages[i - 1] for _, _, ns in markers for i in ns if 1 <= i <= len(passages)]
        cited = list(dict.fromkeys(cited))
        ns: list[int] = []
        for p in cited:
            start, end = best_quote(bare, p)
            key = (passages.index(p), start, end)
            if key not in numbering:
                numbering[key] = len(citations) + 1
                quote = p.text[start - p.start : end - p.start]
                citations.append(
                    Citation(numbering[key], p.title, p.date, p.url or p.source, quote, start, end, p.article_id, p.id)
                )
            ns.append(numbering[key])
        reason = unsupported_reason(bare, cited, "".join(f"[{n}]" for n in ns))
        sentences.append(Sentence(bare, tuple(ns), reason is None, reason))
        parts.append(place_markers(bare, ns))
    if not sentences:
        return Answer(
            question, REFUSAL, True, passages=tuple(passages), search_query=search_query, confidence=confidence
        )
    short_citation = None
    if short:
        short, short_citation = _cite_short(short, short_ns, passages, numbering, citations)
    conflicts = _conflicts(search_query or question, passages, numbering, citations)
    for c in conflicts:
        sentences.append(Sentence(c.sentence(markers=False), tuple(v.citation for v in c.values)))
        parts.append(c.sentence())
    return Answer(
        question,
        " ".join(parts),
        False,
        tuple(citations),
        tuple(sentences),
        tuple(passages),
        search_query,
        short,
        short_citation,
        confidence,
        tuple(conflicts),
    )


def _conflicts(
    question: str,
    passages: Sequence[Passage],
    numbering: dict[tuple[int, int, int], int],
    citations: list[Citation],
) -> list[Conflict]:
    """Where the passages disagree on what ``question`` asks (:func:`qa.conflicts.find_conflicts`), each
    side cited: by a citation of the answer that quotes it, else a new one quoting its sentence."""
    from .conflicts import find_conflicts

    out = []
    for found in find_conflicts(question, passages, {i for i, _, _ in numbering}):
        values = []
        for side in found.sides:
            p = passages[side.passage]
            at = p.start + max(side.start, p.text.find(side.text, side.start))  # the value, in article offsets
            own = [
                n for (i, a, b), n in numbering.items() if i == side.passage and a <= at and at + len(side.text) <= b
            ]
            if own:
                n = own[0]
            else:
                key = (side.passage, p.start + side.start, p.start + side.end)
                if key not in numbering:
                    numbering[key] = len(citations) + 1
                    citations.append(
                        Citation(
                            numbering[key],
                            p.title,
                            p.date,
                            p.url or p.source,
                            p.text[side.start : side.end],
                            key[1],
                            key[2],
                            p.article_id,
                            p.id,
                        )
                    )
                n = numbering[key]
            values.append(ConflictValue(side.text, n))
        out.append(Conflict(found.claim, tuple(sorted(values, key=lambda v: v.citation))))
    return out


def _cite_short(
    short: str,
    ns: list[int],
    passages: Sequence[Passage],
    numbering: dict[tuple[int, int, int], int],
    citations: list[Citation],
) -> tuple[str | None, int | None]:
    """The short answer as its passage writes it and its citation number: a passage the answer cites
    first (the one named by the short answer's own marker before others), else the one it names."""
    cited = sorted({i for i, _, _ in numbering}, key=lambda i: (i + 1 not in ns, i))
    named = [n - 1 for n in ns if 1 <= n <= len(passages) and n - 1 not in cited]
    for i in cited + named:
        found = locate(short, passages[i])
        if found is None:
            continue
        own = [(key, n) for key, n in numbering.items() if key[0] == i]
        for _, n in own:
            if found in citations[n - 1].quote:
                return found, n
        if own and found not in passages[i].text:  # found in the title: any citation of its passage
            return found, own[0][1]
        p = passages[i]
        at = p.text.find(found)
        spans = split_sentences(p.text) or [(0, len(p.text))]
        a, b = next(((a, b) for a, b in spans if a <= at < b), spans[0])
        n = len(citations) + 1
        citations.append(
            Citation(n, p.title, p.date, p.url or p.source, p.text[a:b], p.start + a, p.start + b, p.article_id, p.id)
        )
        numbering[(i, p.start + a, p.start + b)] = n
        return found, n
    return None, None


def _answer_sentences(text: str) -> list[tuple[int, int]]:
    """Sentences of a draft, with trailing markers kept with the sentence they follow."""
    spans = split_sentences(text)
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        lead = LEADING_MARKERS.match(text, a, b)
        if merged and lead and lead.end() > a:
            merged[-1] = (merged[-1][0], lead.end())
            a = lead.end()
            while a < b and text[a].isspace():
                a += 1
        if a < b:
            merged.append((a, b))
    return merged


def place_markers(sentence: str, ns: list[int]) -> str:
    """Put citation markers before the sentence's final punctuation.

    Example: place_markers("Iraq hosts 2,500 troops.", [1, 2]) -> "Iraq hosts 2,500 troops [1][2]."
    """
    if not ns:
        return sentence
    marks = "".join(f"[{n}]" for n in ns)
    m = re.search(r"[.!?…]+[\"'”’)]*$", sentence)
    if m:
        return f"{sentence[: m.start()]} {marks}{sentence[m.start() :]}"
    return f"{sentence} {marks}"
