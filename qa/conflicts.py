"""Find where the articles that answer a question give different values for it: "The sources differ".

The question says what is measured (:func:`read_question`, a :class:`Slot`):

- **number**: "How many U.S. personnel were injured ...?" counts a noun (personnel) under a verb
  (injure); a side is a quantity of a passage (:func:`qa.claims.quantities`) that counts the same
  noun under the same verb ("At least five US personnel were injured", "has injured several U.S.
  personnel").
- **speaker**: "Who reported that U.S. personnel had been injured?" asks who says a clause; a side
  is the subject of a reporting verb over the same clause ("..., US officials told Reuters") or
  what "according to" names ("..., according to a defense spokesperson").
- **agent**: "Who was behind the attack on Al-Asad Airbase?" asks who did an event (a noun); a side
  is a name that modifies the event noun ("Iran-aligned militia attack"), what "by" names ("an
  attack by Hezbollah"), what is said to be "behind" it, or a statement that it is not known ("It
  wasn't immediately clear who was behind the attack").
- **goal**: "What were the militants ... preparing to do?" asks for the complement of a verb whose
  subject the question names; a side is that complement ("preparing for drone or rocket attacks",
  "getting ready to launch drones").

Each article's passages are read sentence by sentence; a side counts only when its passage holds
every name of the question. An article that gives two different values is left out (it is not
one side). A conflict is two or more articles with values that differ: numbers by value or
vagueness ("at least five" and "several" differ, "five" and "at least 5" do not), phrases when
neither's words hold the other's ("US officials", "a defense spokesperson"), and "not known"
against any value. At least one side must be in a passage the answer cites: a conflict is about
what the answer says. Everything else is no conflict: a missed disagreement costs less than a
false one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .chunk import split_sentences
from .claims import NEGATORS, Quantity, _aliases, normal, quantities
from .reader.candidates import RawSpan
from .reader.nlp import Parsed, parse
from .types import CONFLICT_PREFIX, Passage

#: Verbs (and adjectives) one article uses where another uses the first of the group.
SAME_PREDICATE = (
    frozenset({"injure", "wound", "hurt"}),
    frozenset({"prepare", "ready"}),
)
REPORTING = frozenset({"say", "tell", "report", "announce", "confirm", "state", "add"})
UNKNOWN = frozenset({"clear", "known", "unclear", "unknown"})  # "it wasn't clear who...", "it is unknown who..."
WH = frozenset({"who", "whom", "what", "which"})
AGENT_NAMES = frozenset({"NORP", "GPE", "ORG", "PERSON"})
PREFIX = CONFLICT_PREFIX  # "The sources differ: at least five [1], several [2]."
_QUESTION = re.compile(r"\b(how\s+(many|much)|who|whom|what|which)\b", re.I)


@dataclass(frozen=True)
class Slot:
    """What a question measures: ``kind`` (number, speaker, agent, goal), the verb (canonical lemma,
    see :data:`SAME_PREDICATE`) and the noun it is about, and the question's names (normalised)."""

    kind: str
    verb: str
    noun: str
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Side:
    """One article's value: its text as the passage writes it, the passage (index in the passages
    given) and the sentence it stands in (character offsets in the passage text)."""

    text: str
    passage: int
    start: int
    end: int
    quantity: Quantity | None = None
    unknown: bool = False  # "it wasn't immediately clear who..."

    def differs(self, other: Side) -> bool:
        if self.unknown or other.unknown:
            return self.unknown != other.unknown
        if self.quantity is not None and other.quantity is not None:
            a, b = self.quantity, other.quantity
            if a.vague or b.vague:
                return (a.vague, normal(a.text)) != (b.vague, normal(b.text))
            return a.unit != b.unit or abs(a.value - b.value) > 1e-9 * max(1.0, abs(a.value))
        mine, theirs = _words(self.text), _words(other.text)
        if not mine or not theirs or mine <= theirs or theirs <= mine:
            return False
        return not (_aliases(normal(self.text)) & _aliases(normal(other.text)))


@dataclass(frozen=True)
class Found:
    """A conflict: what it is about (the question) and one :class:`Side` per differing article."""

    claim: str
    sides: tuple[Side, ...]


def canon(lemma: str) -> str:
    """Example: canon("wound") -> "injure"; canon("ready") -> "prepare"; canon("go") -> "go" """
    for group in SAME_PREDICATE:
        if lemma in group:
            return sorted(group, key=lambda w: w not in ("injure", "prepare"))[0]
    return lemma


def _words(text: str) -> set[str]:
    stop = {"a", "an", "the", "of", "or", "and", "to", "for", "its", "their"}
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in normal(text).split() if w not in stop}


def read_question(p: Parsed) -> Slot | None:
    """The :class:`Slot` a parsed question asks about, or None when it asks nothing this module compares.

    Example: "How many U.S. personnel were injured in the attack?" -> Slot("number", "injure", "personnel", ("us",))
    """
    toks = p.tokens
    names = tuple(
        dict.fromkeys(n for e in p.ents if e.label in AGENT_NAMES | {"LOC", "FAC"} for n in [_ent(p, e)] if n)
    )
    for i, t in enumerate(toks):
        word = t.text.lower()
        if word == "how" and i + 1 < len(toks) and toks[i + 1].text.lower() in ("many", "much"):
            noun = toks[i + 1].head
            if toks[noun].pos != "NOUN":
                return None
            verb = _verb_above(p, noun)
            return Slot("number", canon(toks[verb].lemma), toks[noun].lemma, names) if verb is not None else None
        if word not in WH:
            continue
        v = t.head
        if t.dep == "nsubj" and toks[v].lemma in REPORTING:
            clause = next((c for c in p.children(v) if toks[c].dep == "ccomp" and toks[c].pos == "VERB"), None)
            subj = _subject(p, clause) if clause is not None else None
            if clause is None or subj is None:
                return None
            return Slot("speaker", canon(toks[clause].lemma), toks[subj].lemma, names)
        if t.dep == "nsubj" and toks[v].lemma == "be":
            event = _event(p, v)
            return Slot("agent", "", toks[event].lemma, names) if event is not None else None
        for x in toks:  # "preparing to do": the verb over "do" and who does it
            if x.lemma == "do" and x.dep == "xcomp" and toks[x.head].pos == "VERB":
                verb = x.head
                subj = _subject(p, verb)
                if subj is None and toks[verb].dep == "acl":
                    subj = toks[verb].head
                if subj is not None and toks[subj].pos == "NOUN":
                    return Slot("goal", canon(toks[verb].lemma), toks[subj].lemma, names)
        return None
    return None


def _event(p: Parsed, be: int) -> int | None:
    """The event noun of "X was behind the attack" / "X was responsible for the attack" (``be`` = "was")."""
    toks = p.tokens
    for c in p.children(be):
        preps = [c] if toks[c].lemma == "behind" else []
        if toks[c].lemma == "responsible":
            preps = [g for g in p.children(c) if toks[g].lemma == "for"]
        for prep in preps:
            for g in p.children(prep):
                if toks[g].dep == "pobj" and toks[g].pos == "NOUN":
                    return g
    return None


def _ent(p: Parsed, e: RawSpan) -> str:
    text = "".join(t.text + " " for t in p.tokens if e.start <= t.idx < e.end)
    return re.sub(r"^the ", "", normal(text))


def _verb_above(p: Parsed, i: int) -> int | None:
    for _ in range(4):
        if p.tokens[i].pos == "VERB":
            return i
        if p.tokens[i].head == i:
            return None
        i = p.tokens[i].head
    return None


def _subject(p: Parsed, v: int) -> int | None:
    return next((c for c in p.children(v) if p.tokens[c].dep in ("nsubj", "nsubjpass")), None)


def _subtree(p: Parsed, i: int) -> tuple[int, int]:
    """The first and last token of ``i``'s subtree."""
    lo = hi = i
    todo = [i]
    while todo:
        k = todo.pop()
        lo, hi = min(lo, k), max(hi, k)
        todo.extend(p.children(k))
    return lo, hi


def _span(p: Parsed, text: str, lo: int, hi: int) -> str:
    while lo < hi and p.tokens[lo].pos in ("DET", "PART", "ADP") and p.tokens[lo].text.lower() in ("to", "for"):
        lo += 1
    return text[p.tokens[lo].idx : p.tokens[hi].idx + len(p.tokens[hi].text)]


def _has_lemma(p: Parsed, a: int, b: int, lemma: str) -> bool:
    return any(t.lemma == lemma for t in p.tokens[a:b])


# -- one sentence's values -------------------------------------------------------------------------


def _values(slot: Slot, p: Parsed, text: str, a: int, b: int) -> list[tuple[str, Quantity | None, bool]]:
    """(value as written, its quantity, whether it says "not known") that sentence ``a:b`` gives for ``slot``.

    An event noun (agent) must be the one the question means: "the attack" (its passage names what the
    question names) or one in a sentence that names it; "an Iranian attack" elsewhere is another event."""
    toks = p.tokens
    here = f" {normal(text[toks[a].idx : toks[b - 1].idx + len(toks[b - 1].text)])} " if b > a else ""
    named = all(any(f" {n} " in here for n in _aliases(name)) for name in slot.names)
    out: list[tuple[str, Quantity | None, bool]] = []
    if slot.kind == "number":
        for q in quantities(p, text, a, b):
            if slot.noun in q.frame and q.verb and canon(q.verb) == slot.verb:
                out.append((q.text, q, False))
        return out
    for i in range(a, b):
        t = toks[i]
        if slot.kind == "speaker" and t.pos == "VERB" and canon(t.lemma) == slot.verb:
            if not any(toks[c].lemma == slot.noun for c in p.children(i)):
                continue
            h = t.head
            if t.dep == "ccomp" and toks[h].lemma in REPORTING:
                s = _subject(p, h)
                if s is not None and toks[s].text.lower() not in WH:
                    out.append((_span(p, text, *_subtree(p, s)), None, False))
            for c in p.children(i):
                if toks[c].lemma == "accord":
                    for to in p.children(c):
                        for g in p.children(to):
                            if toks[g].dep == "pobj":
                                out.append((_span(p, text, *_subtree(p, g)), None, False))
        elif slot.kind == "agent" and t.lemma == slot.noun and t.pos == "NOUN" and (_definite(p, i) or named):
            out.extend(_agents(p, text, i))
        elif slot.kind == "goal" and canon(t.lemma) == slot.verb and t.pos in ("VERB", "ADJ"):
            if not _has_lemma(p, a, b, slot.noun):
                continue
            for c in p.children(i):
                if toks[c].dep == "xcomp" and toks[c].lemma != "do":
                    out.append((_span(p, text, *_subtree(p, c)), None, False))
                elif toks[c].dep == "prep" and toks[c].lemma == "for":
                    out.extend((_span(p, text, *_subtree(p, g)), None, False) for g in p.children(c))
    return out


def _definite(p: Parsed, n: int) -> bool:
    """The noun at ``n`` is one already spoken of: "the attack", "this attack", "Monday's attack"."""
    return any(
        p.tokens[c].dep == "poss" or (p.tokens[c].dep == "det" and p.tokens[c].lemma in ("the", "this", "that"))
        for c in p.children(n)
    ) and not p.tokens[n].text.lower().endswith("s")


def _agents(p: Parsed, text: str, n: int) -> list[tuple[str, Quantity | None, bool]]:
    """Who did the event noun at token ``n``: a named modifier, "by X", "X was behind", or "not known"."""
    toks = p.tokens
    out: list[tuple[str, Quantity | None, bool]] = []
    mods = [c for c in p.children(n) if c < n and toks[c].dep in ("compound", "amod", "nmod")]
    if mods:
        lo = min(_subtree(p, m)[0] for m in mods)
        if any(toks[k].ent in AGENT_NAMES for k in range(lo, n)):
            out.append((text[toks[lo].idx : toks[n - 1].idx + len(toks[n - 1].text)], None, False))
    for c in p.children(n):
        if toks[c].lemma == "by":
            out.extend((_span(p, text, *_subtree(p, g)), None, False) for g in p.children(c) if toks[g].dep == "pobj")
    prep = toks[n].head
    if toks[n].dep == "pobj" and toks[prep].lemma in ("behind", "for"):
        be = toks[prep].head if toks[prep].lemma == "behind" else toks[toks[prep].head].head
        if toks[prep].lemma == "for" and toks[toks[prep].head].lemma != "responsible":
            return out
        s = _subject(p, be)
        if s is not None and toks[s].text.lower() not in WH:
            out.append((_span(p, text, *_subtree(p, s)), None, False))
        elif s is not None and toks[be].dep == "ccomp":
            top = toks[be].head
            said = [c for c in p.children(top) if toks[c].lemma in UNKNOWN]
            negated = any(toks[c].dep == "neg" or toks[c].lemma in NEGATORS for c in p.children(top))
            if said and (negated or toks[said[0]].lemma in ("unclear", "unknown")):
                lo = min([_subtree(p, c)[0] for c in p.children(top) if c < top] + [top])
                hi = _subtree(p, be)[1]
                out.append((text[toks[lo].idx : toks[hi].idx + len(toks[hi].text)], None, True))
    return out


# -- across articles -------------------------------------------------------------------------------


def find_conflicts(question: str, passages: Sequence[Passage], cited: set[int]) -> list[Found]:
    """The conflicts among the ``passages`` (all given to the generator) on what ``question`` asks;
    ``cited`` holds the indices of the passages the answer cites (one side must be among them).

    Example: find_conflicts("How many U.S. personnel were injured?", [passage of article A "At least five
    US personnel were injured ...", passage of article B "... has injured several U.S. personnel ..."], {0})
    -> [Found("How many U.S. personnel were injured?", (Side("At least five", 0, ...), Side("several", 1, ...)))]
    """
    if not _QUESTION.search(question) or len({p.article_id for p in passages}) < 2:
        return []
    slot = read_question(parse([question])[question])
    if slot is None:
        return []
    flat: dict[str, str] = {}
    for p in passages:
        flat[p.article_id] = flat.get(p.article_id, " ") + f"{normal(f'{p.title}. {p.text}')} "
    # only the sentences that name the slot's noun are parsed: the others cannot give a value
    stem = slot.noun[:4]
    todo: list[tuple[int, int, str]] = []  # (passage, sentence start, sentence)
    for k, p in enumerate(passages):
        if not all(any(f" {n} " in flat[p.article_id] for n in _aliases(name)) for name in slot.names):
            continue  # the article does not speak of what the question names
        todo += [(k, a, p.text[a:b]) for a, b in split_sentences(p.text) if stem in p.text[a:b].lower()]
    parsed = parse([t for _, _, t in todo])
    by_article: dict[str, list[Side]] = {}
    for k, at, text in todo:
        pp = parsed[text]
        for a, b in pp.sents:
            start, end = at + pp.tokens[a].idx, at + pp.tokens[b - 1].idx + len(pp.tokens[b - 1].text)
            for value, q, unknown in _values(slot, pp, text, a, b):
                if value.strip():
                    by_article.setdefault(passages[k].article_id, []).append(Side(value, k, start, end, q, unknown))
    chosen: list[Side] = []
    for sides in by_article.values():
        first = sides[0]
        if any(first.differs(s) for s in sides[1:]):
            continue  # one article, two values: not a side
        better = [s for s in sides if s.passage in cited]
        chosen.append(better[0] if better else first)
    distinct: list[Side] = []
    for s in sorted(chosen, key=lambda s: (s.passage not in cited, s.passage)):
        if all(s.differs(d) for d in distinct):  # an article that agrees with one already shown adds no side
            distinct.append(s)
    if len(distinct) < 2 or not any(s.passage in cited for s in distinct):
        return []
    return [Found(question.strip(), tuple(distinct))]
