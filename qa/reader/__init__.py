"""The reader: from a question and its retrieved passages to a short answer, the sentences that
support it and a calibrated confidence, by models learned from real news questions.

    reading = Reader(embedder).read("Who is the US Secretary of Defense?", passages, as_of=date(2024, 8, 9))
    reading.short.text        # "Lloyd Austin"  (copied verbatim from a passage or its title)
    reading.answer_sentences  # the sentence(s) to answer with, best first
    reading.confidence        # 0..1: P(the answer is right); below the model's threshold, refuse

Steps (features in :mod:`qa.reader.candidates`, models in :mod:`qa.reader.model`, fitted by
:mod:`qa.train`): candidate sentences -> sentence model -> spans of the best sentences (spaCy) ->
span model -> confidence. The same functions make the features at training time.
"""

from __future__ import annotations

import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..text import CALENDAR_WORDS
from ..types import Passage, as_fitted
from . import candidates as cand
from . import neural, places
from .candidates import HeadWords, Question, RawSpan, Sentence, Span
from .model import AnswerModel, matrix
from .question import STRICT, TYPES, asks_clause

if TYPE_CHECKING:
    from ..retrieve import WordCounts

SECOND_SENTENCE_MARGIN = 0.15  # another article's sentence this close to the best one is shown too
CACHE_SIZE = 20_000
#: Texts whose MiniLM token states the reader keeps (a question's candidate sentences are ~50; a few MB).
STATE_CACHE_SIZE = 256


@dataclass
class Reading:
    question: Question
    sentences: list[Sentence]  # scored, best first
    spans: list[Span] = field(default_factory=list)  # scored, best first
    confidence: float = 0.0
    short: Span | None = None
    answer_sentences: list[Sentence] = field(default_factory=list)
    chosen: Span | None = None  # the span chosen, before it was shown as its name's fuller form (the evidence)


def homes(sents: Sequence[Sentence], spans: Sequence[Span]) -> list[str]:
    """The texts the spans are read in (:meth:`Span.read_in`), each once, in the spans' order."""
    return [t for t in dict.fromkeys(sp.read_in(sents) for sp in spans) if t]


def confidence_features(q: Question, sents: Sequence[Sentence], spans: Sequence[Span]) -> dict[str, float]:
    """What the confidence model reads: how good the best candidates are, and how clearly best."""
    s_scores = [s.score for s in sents] + [0.0, 0.0]
    sp_scores = [s.score for s in spans] + [0.0, 0.0]
    best = sents[0].features if sents else {}
    top_span = spans[0].features if spans else {}
    return {
        "top_sentence": s_scores[0],
        "second_sentence": s_scores[1],
        "top_span": sp_scores[0],
        "second_span": sp_scores[1],
        "span_margin": sp_scores[0] - sp_scores[1],
        "span_compatible": top_span.get("compatible", 0.0),
        "span_agree": top_span.get("agree_articles", 0.0),
        "no_span": float(not spans),
        "max_lex": max((s.features["lex_ctx"] for s in sents), default=0.0),
        "max_dense": max((s.features.get("dense_s", 0.0) for s in sents), default=0.0),
        "best_missing_keys": best.get("missing_keys", 1.0),
        "best_lex_p": best.get("lex_p", 0.0),
        "strict_type": float(q.type in STRICT),
        **{f"q_{t}": float(q.type == t) for t in TYPES},
    }


class Reader:
    """Reads passages with the shipped answer model (or ``model``); ``embedder`` gives sentence vectors."""

    def __init__(self, embedder: Any, model: AnswerModel | None = None, model_path: Path | None = None):
        self.embedder = embedder
        self._model = model
        self.model_path = model_path
        self._vectors: dict[str, np.ndarray] = {}
        self._states: OrderedDict[str, cand.TokenStates] = OrderedDict()  # the latest texts' token states
        self._lock = threading.Lock()
        #: Word counts of the index searched (:meth:`qa.retrieve.KeywordIndex.word_counts`), set by the
        #: assistant; without them (or when they return None) the passages read are counted instead.
        self.word_counts: Callable[[], WordCounts | None] | None = None
        #: The fine-tuned span reader (:mod:`qa.reader.neural`), loaded when a model reads it.
        self.span_reader = neural.SpanReader()

    @property
    def model(self) -> AnswerModel:
        if self._model is None:
            from .model import load, shipped

            self._model = shipped() if self.model_path is None else load(self.model_path)
            m = self._model
            kinds = {
                "context": m.reads_context,
                "commonness": m.reads_commonness,
                "titles": m.reads_titles,
                "sentence_reading": m.reads_sentences,
            }
            names = feature_names(**kinds, reading="rd_prob" in m.span.features)
            reading = feature_names(**kinds, reading=True)[1]
            m.check(*names, where=str(self.model_path or "qa/reader/answer_model.json"), reading_features=reading)
        return self._model

    # -- the steps, shared with training ----------------------------------------------------------

    def sentence_candidates(self, q: Question, passages: Sequence[Passage]) -> list[Sentence]:
        """Statements of the passages, the most promising with their cosine to the question."""
        sents = cand.prefilter(cand.sentences(q, passages))
        if sents:
            vectors = self.embed([q.text, *(s.text for s in sents)], cache_from=1)
            cand.add_dense(sents, vectors[1:] @ vectors[0])
        return sents

    def add_sentence_reading(self, q: Question, sents: Sequence[Sentence]) -> None:
        """The span reader's score of each candidate sentence (:func:`neural.add_sentence_reading`); the spans'
        reading later finds the best six sentences' scores in the reader's memo."""
        scores = self.span_reader.score(q.text, [s.text for s in sents])
        neural.add_sentence_reading(sents, [x.best for x in scores])

    def embed(self, texts: Sequence[str], cache_from: int = 0) -> np.ndarray:
        """Vectors of ``texts``; those from ``cache_from`` on are cached (passage sentences come back often)."""
        if len(self._vectors) > CACHE_SIZE:
            self._vectors.clear()  # before choosing what to embed: every text asked for is then embedded or kept
        todo = [t for t in dict.fromkeys(texts[cache_from:]) if t not in self._vectors]
        head = list(texts[:cache_from])
        vectors = np.zeros((0, 384), dtype=np.float32)
        if head or todo:
            fresh: dict[str, cand.TokenStates] = {}  # what the run computes anyway, kept for add_context
            keep = {"states": fresh} if getattr(self.embedder, "gives_states", False) else {}
            vectors = self.embedder.embed(head + todo, **keep)
            self._remember(fresh)
        self._vectors.update(zip(todo, vectors[len(head) :]))
        rows = [vectors[i] for i in range(len(head))] + [self._vectors[t] for t in texts[cache_from:]]
        return np.vstack(rows) if rows else np.zeros((0, 384), dtype=np.float32)

    def near_heads(self, head: str, heads: HeadWords | None) -> list[tuple[str, float]]:
        """The known head words through which ``head`` is read when the affinity table lacks it."""
        if heads is None or heads.knows(head):
            return []
        return heads.near(self.embed([head])[0])

    @staticmethod
    def span_texts(sents: Sequence[Sentence], passages: Sequence[Passage] = (), titles: bool = False) -> list[str]:
        """The texts the NLP step must read: the best sentences, and with ``titles`` their articles' titles."""
        chosen = list(enumerate(sents[: cand.SPAN_SENTENCES]))
        heads = [t for _, t in cand.title_sources(chosen, passages)] if titles else []
        return [s.text for _, s in chosen] + heads

    @staticmethod
    def span_candidates(
        q: Question,
        sents: Sequence[Sentence],
        passages: Sequence[Passage],
        found: dict[str, list[RawSpan]],
        titles: bool = False,
    ) -> list[Span]:
        chosen = list(enumerate(sents[: cand.SPAN_SENTENCES]))
        return cand.spans(q, passages, chosen, found, titles=titles)

    def add_context(self, q: Question, sents: Sequence[Sentence], spans: Sequence[Span]) -> None:
        """The spans' meaning in the texts they are read in against the question's (:func:`cand.add_context`),
        read with the embedder's token vectors; an embedder without them gives every span ``ctx_none``."""
        token_vectors = getattr(self.embedder, "token_vectors", None)
        texts = list(dict.fromkeys([q.text, *homes(sents, spans)]))
        states: dict[str, cand.TokenStates] = {}
        if token_vectors is not None and spans:
            states = {t: v for t in texts if (v := self._states.get(t)) is not None}  # kept when embedded
            missing = [t for t in texts if t not in states]
            if missing:
                fresh = dict(zip(missing, token_vectors(missing)))
                self._remember(fresh)
                states.update(fresh)
        cand.add_context(q, spans, sents, states)

    def add_commonness(self, spans: Sequence[Span], passages: Sequence[Passage]) -> None:
        """How common each span's words are in the index (:func:`cand.add_commonness`), or in the passages,
        read against the model's background (:func:`qa.retrieve.word_shares`)."""
        from ..retrieve import passage_counts, word_shares

        background = self.model.background
        if not spans or background is None:
            return
        counts = self.word_counts() if self.word_counts is not None else None
        count, total = counts if counts is not None else passage_counts(passages)
        cand.add_commonness(spans, word_shares([sp.text for sp in spans], count, total, background))

    def add_reading(self, q: Question, sents: Sequence[Sentence], spans: Sequence[Span]) -> None:
        """The span reader's scores of each span (:func:`neural.add_reading`), for the texts it is read in."""
        read = homes(sents, spans)
        scores = self.span_reader.score(q.text, read) if read else []
        neural.add_reading(spans, sents, dict(zip(read, scores)))

    def scored_spans(
        self, q: Question, sents: Sequence[Sentence], passages: Sequence[Passage], found: dict[str, list[RawSpan]]
    ) -> tuple[list[Span], float]:
        """The short-answer candidates of the scored ``sents``, best shown first, and the confidence that
        the reading is right, as the span models and the confidence model score them."""
        model = self.model
        spans = self.span_candidates(q, sents, passages, found, model.reads_titles)
        cand.add_affinity(q, spans, model.affinity, self.near_heads(q.head, model.heads))
        if model.reads_context:
            self.add_context(q, sents, spans)
        if model.reads_commonness:
            self.add_commonness(spans, passages)
        if model.reads_spans:
            self.add_reading(q, sents, spans)
        plain, shown = model.span_scores([s.features for s in spans])
        for sp, p in zip(spans, plain):
            sp.score = float(p)
        by_both = list(zip(spans, shown))
        spans.sort(key=lambda s: -s.score)
        conf = confidence_features(q, sents, spans)  # the span model's own scores, as it was fitted
        confidence = float(model.confidence.predict(matrix([conf], model.confidence.features))[0])
        if model.span_reading is not None:  # the span shown is chosen by both span models
            for sp, p in by_both:
                sp.score = float(p)
            spans.sort(key=lambda s: -s.score)
        return spans, confidence

    def _remember(self, states: Mapping[str, cand.TokenStates]) -> None:
        """Keep the latest :data:`STATE_CACHE_SIZE` texts' token states."""
        with self._lock:  # readers on several threads share it (a server, the MCP tools)
            for text, value in states.items():
                self._states[text] = value
                self._states.move_to_end(text)
            while len(self._states) > STATE_CACHE_SIZE:
                self._states.popitem(last=False)

    # -- answering --------------------------------------------------------------------------------

    def read(self, question: str, passages: Sequence[Passage], as_of: date | None = None) -> Reading:
        from .nlp import find_spans

        model = self.model
        q = Question.read(question, as_of)
        fitted = as_fitted(passages, model.reads_untitled)
        sents = self.sentence_candidates(q, fitted)
        if not sents:
            return Reading(q, [])
        if model.reads_sentences:
            self.add_sentence_reading(q, sents)
        for s, p in zip(sents, model.sentence.predict(matrix([s.features for s in sents], model.sentence.features))):
            s.score = float(p)
        sents.sort(key=lambda s: -s.score)
        # A first sentence standing in for a title is read as a headline where the models learnt what a
        # headline says of the story (the sentences, the confidence), but is no headline to name the answer.
        own = fitted if model.reads_untitled or all(p.titled for p in passages) else list(passages)
        # ``fitted`` reads every title ``own`` reads, and the stand-ins besides: its texts are all there are.
        found = find_spans([*self.span_texts(sents, fitted, model.reads_titles), q.text])
        q.head = cand.head_word(q.text, found.get(q.text, []))
        spans, confidence = self.scored_spans(q, sents, fitted, found)
        if own is not fitted:
            spans, _ = self.scored_spans(q, sents, own, found)
        chosen = chosen_span(model, spans, sents, q)
        short = None if chosen is None else shown_as(chosen, spans, sents, q)
        if short is None and q.type in STRICT:
            confidence = min(confidence, model.threshold - 1e-6)  # a "how many" needs a number
        reading = Reading(q, sents, spans, confidence, short, chosen=chosen)
        reading.answer_sentences = answer_sentences(reading)
        return reading


def short_span(model: AnswerModel, spans: Sequence[Span], sents: Sequence[Sentence], q: Question) -> Span | None:
    """The short answer: the span chosen (:func:`chosen_span`) as it is shown (:func:`shown_as`)."""
    chosen = chosen_span(model, spans, sents, q)
    return None if chosen is None else shown_as(chosen, spans, sents, q)


def chosen_span(model: AnswerModel, spans: Sequence[Span], sents: Sequence[Sentence], q: Question) -> Span | None:
    """The best span that is not a news agency's credit (:func:`~qa.reader.candidates.in_credit`: "(CNN
    Business)") when it is likely enough (:func:`gives_short`). A question asking why, what someone did
    or what happened (:func:`~qa.reader.question.asks_clause`) has none: its sentence answers."""
    if q.type == "OTHER" and asks_clause(q.text):
        return None
    best = next((sp for sp in spans if not cand.in_credit(sents[sp.sentence].text, sp.text)), None)
    if best is None or not gives_short(model, best, sents, q.type):
        return None
    return best


def shown_as(chosen: Span, spans: Sequence[Span], sents: Sequence[Sentence], q: Question) -> Span:
    """The chosen span as the fullest form of its name: :func:`fuller_name`, :func:`completed`, then
    :func:`named_in_full` (the fuller form may be read in another sentence)."""
    full = fuller_name(chosen, spans)
    return quotes_closed(named_in_full(completed(full, spans, sents[full.sentence].text, q.head), spans), sents)


def _balanced(text: str) -> bool:
    return text.count('"') % 2 == 0 and text.count("“") == text.count("”")


def quotes_closed(short: Span, sents: Sequence[Sentence]) -> Span:
    """A short answer whose quotation mark opens and does not close (spaCy's name stops before the
    closing mark: 7 of 2,525 held-out short answers), shown without it when it opens the answer, else
    up to the closing mark that follows it in its text, after at most a comma or a full stop; as it was
    when neither fits. Still a copy of its text, and the eval reads it alike (punctuation aside).

    Examples: "“nine-dash line" -> "nine-dash line"; 'Emmy-winning "Ted Lasso' -> 'Emmy-winning "Ted
    Lasso"' (read in '... Emmy-winning "Ted Lasso" returns.')
    """
    text = short.text
    if _balanced(text):
        return short
    if text[0] in '"“' and _balanced(text[1:]) and text[1:].strip():
        return replace(short, text=text[1:].lstrip())
    home = short.read_in(sents)
    at = home.find(text)
    closing = re.match(r'[,.]?["”]', home[at + len(text) :]) if at >= 0 else None
    if closing and _balanced(text + closing.group()):
        return replace(short, text=text + closing.group())
    return short


def gives_short(model: AnswerModel, span: Span, sents: Sequence[Sentence], qtype: str) -> bool:
    """Whether the best span is likely enough to be shown as the short answer: above the threshold of
    the question's rule (:meth:`AnswerModel.short_rule`), and not much less likely to be right than the
    best sentence is to hold the answer (else that sentence, shown alone, answers better)."""
    threshold, ratio = model.short_rule(qtype)
    return span.score >= threshold and span.score >= ratio * sents[0].score


_NAMES = frozenset({"PERSON", "PROPN"})


def fuller_name(short: Span, spans: Sequence[Span]) -> Span:
    """A name as its fullest form among the candidates: news gives the full name once, then the surname
    (now and then the given name), or an organisation's short name (a team's: "the Bills"), read in any
    of the sentences.

    Examples: "Austin" (from "Secretary Austin and Minister Gallant agreed ...") -> "Lloyd Austin"
    (from "US Secretary of Defense Lloyd Austin spoke ...") when both are candidates; "LeBron" ->
    "LeBron James" (a given name alone); "Bills" -> "Buffalo Bills", an organisation too, the words
    before it capitalised ("the team's Bills" is not).
    """
    if short.label == "ORG":
        kinds, capitalised = frozenset({"ORG"}), True
    elif short.label in _NAMES:
        kinds, capitalised = _NAMES, False
    else:
        return short
    longer = [
        s
        for s in spans
        if s.label in kinds
        and s.text.endswith(f" {short.text}")
        and len(s.text.split()) <= len(short.text.split()) + 2
        and (not capitalised or all(w[:1].isupper() for w in s.text[: -len(short.text)].split()))
    ]
    if not longer and short.label == "PERSON" and " " not in short.text:  # a given name: "LeBron" -> "LeBron James"
        longer = [
            s
            for s in spans
            if s.label == "PERSON"
            and s.text.startswith(f"{short.text} ")
            and len(s.text.split()) <= 3
            and all(w[:1].isupper() for w in s.text.split())
        ]
    return max(longer, key=lambda s: s.score) if longer else short


_LEADING = frozenset("The A An This That These Those Its His Her Their Our".split())
_PLACES = frozenset({"GPE", "LOC"})
_COMPASS = frozenset(
    "north south east west northern southern eastern western northeast northwest southeast southwest "
    "northeastern northwestern southeastern southwestern central".split()
)
_CUT = re.compile(r"\b(?:of|and|&)\s+$")
_NAMED = frozenset({"PERSON", "PROPN", "ORG", "GPE", "LOC", "FAC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "NP"})


def completed(short: Span, spans: Sequence[Span], sentence: str = "", head: str = "") -> Span:
    """A name completed by the words its own sentence reads with it: the best candidate of the same
    sentence that holds the span and at most two more capitalised words or numbers ("of", "&" too, and
    a comma after a place), when that candidate is a name of the same kind or a noun phrase, or the
    span was a bare run of proper nouns. The eval counts an answer right when it holds the gold, so a
    cut name ("Golden Knights", "Aaron") loses where the whole one wins. A month or a weekday is not
    part of a name, nor is the city before a state or country that the question's ``head`` asks for,
    nor the end of a title that ``sentence`` (the span's own) starts before it: "Director of National
    Intelligence Tulsi Gabbard" is not read as "National Intelligence Tulsi Gabbard".

    Examples: "Golden Knights" -> "Vegas Golden Knights"; "Virginia" -> "Richmond, Virginia";
    "Iraq" -> "western Iraq" (a place keeps the part of it its sentence names);
    "Bed Bath" -> "Bed Bath & Beyond"; "Voyager" -> "Voyager 1"; "Joe Biden" -> "President Joe Biden";
    not "Trump" -> "Trump Media", "Amazon" -> "Amazon Web Services" or "Mount Etna" -> "Italy's Mount Etna".
    """
    if short.label not in _NAMED:
        return short  # a number or a date is whole as it is ("$11 million", not "$11 million Sanders")
    pattern = re.compile(rf"(?<!\w){re.escape(short.text)}(?!\w)")
    place = places.kind(short.text)
    asked = places.asked_for(head, short.text)

    def part_of_name(word: str, after: bool) -> bool:
        if word in _LEADING or word.endswith(",") or word.rstrip(".").lower() in CALENDAR_WORDS:
            return False
        if word.isdigit():
            return after  # "Voyager 1", "S&P 500"; numbers before a name are another column's
        if word in ("of", "&"):
            return True
        if not after and short.label in _PLACES and word.lower() in _COMPASS:
            return True  # "western Iraq": where in it
        return word[:1].isupper() and (after or not cand.POSSESSIVE.search(word))  # "Italy's Mount Etna": its owner

    def names_head(s: Span) -> bool:  # "which university": "University of Idaho", whatever spaCy calls it
        return bool(head) and any(w[:1].isupper() and cand.singular(w.lower()) == head for w in s.text.split())

    def completes(s: Span) -> bool:
        same_kind = s.label == short.label or s.label == "NP" or short.label == "PROPN" or names_head(s)
        m = pattern.search(s.text) if s is not short and s.sentence == short.sentence and same_kind else None
        if m is None:
            return False
        before, after = s.text[: m.start()].split(), s.text[m.end() :].split()
        at = sentence.find(s.text)
        if before and at > 0 and _CUT.search(sentence, 0, at):
            return False  # "Secretary of [Defense Lloyd Austin]": the title's words before it are cut off
        if after and (short.label == "ORG" or (short.label == "PERSON" and s.label != "PERSON")):
            return False  # "Amazon Web Services" is a part of Amazon, "Trump Media" not Trump
        if before and before[-1].endswith(","):
            if not place or asked or places.kind(" ".join(before)[:-1]):
                return False  # "Richmond, Virginia"; not "Turkey, Syria", nor a city when a state is asked for
            before[-1] = before[-1][:-1]
        return (
            1 <= len(before) + len(after) <= 2
            and all(part_of_name(w, False) for w in before)
            and all(part_of_name(w, True) for w in after)
        )

    longer = [s for s in spans if completes(s)]
    return max(longer, key=lambda s: s.score) if longer else short


#: Words that, before a name, say what or where it is rather than name it ("President Joe Biden",
#: "Hurricane Fiona", "Western North Carolina", "The Colorado Avalanche"): they do not complete a name.
_DESCRIBING = _COMPASS | frozenset(
    """president vice prime minister rep sen gov governor dr mr mrs ms acting speaker house chief officer
    secretary general judge justice mayor first lady category tropical storm depression hurricane typhoon
    cyclone senator representative former director chairman ceo king queen prince princess pope saint st
    old current royal us uk republican democratic democrat senate no season the a an upcountry latest""".split()
)


def named_in_full(short: Span, spans: Sequence[Span]) -> Span:
    """A one-word name shown in the fuller form another candidate reads it in, whatever spaCy called
    either (:func:`fuller_name` asks for the same kind, :func:`completed` for the same sentence): one
    or two name words before it (capitalised, or an initial), or "&" and a name word after it, or, for a
    given name alone, a surname. Not a title or a description before it (:data:`_DESCRIBING`), nor a
    date, an acronym ("PET Sprite") or a hyphened word ("Philadelphia-based"); a place is not widened
    to a person ("Jordan" is not "Michael B. Jordan"). The form read most often wins, then the
    likeliest. Held out on the training weeks, 14 more short answers hold the gold and none fewer (of
    2,277 shown), F1 +3.7 questions' worth.

    Examples: "Biles" (read as an organisation) -> "Simone Biles"; "Lakers" -> "Los Angeles Lakers";
    "Abercrombie" -> "Abercrombie & Fitch"; "Aaron" -> "Aaron Judge"; not "Fiona" -> "Category 4
    Hurricane Fiona", "Biden" -> "President Biden" or "Amazon" -> "Amazon Web Services".
    """
    if short.label not in _NAMED | {"NORP"} or " " in short.text or not short.text[:1].isupper():
        return short

    kinds = _NAMED - _NAMES if short.label in _PLACES | {"FAC"} else _NAMED | {"NORP"}  # a place is not a person

    def name_word(w: str, first: bool = True) -> bool:  # a word before a name may describe it, not one after
        initial = len(w) == 2 and w[0].isupper() and w[1] == "."
        word = w.isalpha() and w[0].isupper() and not w.isupper()
        described = first and w.rstrip(".").lower() in _DESCRIBING
        return (initial or word) and not described and w.lower() not in CALENDAR_WORDS

    def before(s: Span) -> bool:  # "Simone Biles", "Los Angeles Lakers"
        extra = s.text[: -len(short.text)].split() if s.text.endswith(f" {short.text}") else []
        return 1 <= len(extra) <= 2 and all(map(name_word, extra))

    def after(s: Span) -> bool:  # "Abercrombie & Fitch"; "Aaron Judge" for a given name alone
        extra = s.text[len(short.text) :].split() if s.text.startswith(f"{short.text} ") else []
        if len(extra) == 2 and extra[0] == "&":
            return name_word(extra[1], first=False)
        surname = short.label == "PERSON" and s.label in _NAMES
        return surname and len(extra) == 1 and name_word(extra[0], first=False)

    for fits in (before, after):
        longer = [s for s in spans if s is not short and s.label in kinds and fits(s)]
        if longer:
            read = Counter(s.text for s in longer)
            return max(longer, key=lambda s: (read[s.text], s.score))
    return short


def answer_sentences(r: Reading) -> list[Sentence]:
    """The short answer's sentence (or the best), then the best sentence when that is another (the
    likeliest to hold the answer is always shown), else another article's close second view of it.
    A short answer shown in the fuller form another sentence reads ("Biles" -> "Simone Biles") has
    the sentence it was chosen in first, its fuller form's next: the one says it, the other names it.

    Example: chosen "Biles" in sentence 2, shown "Simone Biles" from sentence 5 -> sentences 2, 5, 0.
    """
    if not r.sentences:
        return []
    if r.short is not None:
        evidence = r.short.sentence if r.chosen is None else r.chosen.sentence
        order = list(dict.fromkeys((evidence, r.short.sentence, 0)))
        if len(order) > 1:
            return [r.sentences[i] for i in order]
    first = r.sentences[0]
    chosen = [first]
    for s in r.sentences:
        if s is first or s.score < first.score - SECOND_SENTENCE_MARGIN:
            continue
        if s.passage != first.passage and s.text != first.text:
            chosen.append(s)
            break
    return chosen


@lru_cache(maxsize=4)
def feature_names(
    context: bool = False,
    commonness: bool = False,
    reading: bool = False,
    titles: bool = False,
    sentence_reading: bool = False,
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(sentence, span, confidence) feature names, as the code computes them, read off a tiny example;
    with ``context``, the span's also those of a model that reads spans in context (``qa train --span-context``),
    with ``commonness`` those of one that weighs how common its words are (``qa train --commonness``),
    with ``reading`` those of one that reads the span reader's scores (:mod:`qa.reader.neural`), with
    ``titles`` those of one whose candidates include the titles' spans (``qa train --titles``), with
    ``sentence_reading`` the sentence's also the span reader's (``qa train --sentence-reader``)."""
    p = Passage(
        "a:0", "a", "Lloyd Austin spoke in Baghdad on Monday about 2,500 troops.", 0, 58, "Austin", "2024-08-01", "x"
    )
    q = Question.read("Who spoke about troops?", date(2024, 8, 2))
    sents = cand.sentences(q, [p])
    cand.add_dense(sents, [0.5] * len(sents))
    if sentence_reading:
        neural.add_sentence_reading(sents, [0.0] * len(sents))
    spans = cand.spans(q, [p], list(enumerate(sents)), {sents[0].text: [RawSpan(0, 12, "PERSON")]}, titles=titles)
    cand.add_affinity(q, spans, {})
    if context:
        cand.add_context(q, spans, sents, {})
    if commonness:
        cand.add_commonness(spans, [(0.0, 0.0)] * len(spans))
    if reading:
        neural.add_reading(spans, sents, {})
    conf = confidence_features(q, sents, spans)
    return tuple(sents[0].features), tuple(spans[0].features), tuple(conf)
