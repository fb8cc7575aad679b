"""Measure the assistant against questions with known answers: ``qa eval``.

A dataset is JSON Lines, one question a line::

    {"id" (or "question_id"), "question", "answers": [...], "sources": [...]?, "evidence": [...]?, "date"?}

``answers`` lists accepted answers, any one counts. An accepted answer may itself be a list of
strings that must *all* occur: ``[["at least five", "several"]]`` is how a question whose two
articles disagree says "the right answer reports both". An empty list means the articles
cannot answer the question and the right behaviour is to refuse. ``"conflict": true`` marks a
question whose articles disagree (its accepted answer lists one value per side). ``sources`` names article
files (matched by file name) that support the answer; ``evidence`` holds strings copied from
the supporting passages.

Every question goes through :meth:`qa.Assistant.ask`, the path users take, asked on its own
``date`` when it has one (``as_of``: articles dated near it are preferred). The figures:

- **accuracy** (answerable questions only): a normalised accepted answer occurs in the normalised
  answer (citation markers removed), RealTime QA's ``hit``; one-word answers of up to three
  characters ("2", "one") must be whole words. A refusal is wrong.
- **f1**: token F1 of the answer against the best accepted answer, as in RealTime QA / SQuAD
  (:func:`normalize`: lower-case, drop punctuation and the articles a/an/the, fold white space).
- **refusal precision / recall**: refusals that were right, over all refusals / over all
  unanswerable questions.
- **citation recall / precision** as defined by ALCE (Gao et al. 2023), with the project's
  offline support check :func:`qa.cite.supported` standing in for ALCE's NLI model (content-word
  coverage of the sentence by the passages >= 0.6, every stated number present). A sentence is
  supported when the *concatenation* of its cited passages supports it (recall); a citation is
  irrelevant when it alone does not support its sentence and the other citations still do
  (precision). Per answer, then averaged over the answers that were not refusals.
- **retrieval hit@1, hit@k and MRR** (answerable questions only): the rank of the first
  retrieved passage (``Answer.passages``) that contains a normalised accepted answer (for an
  all-of answer, any of its parts) or evidence string.
- **sources cited**: answerable questions with ``sources`` whose answer cites every source.
- **answer in articles**: answerable questions whose accepted answer occurs in some article of
  the index at all; accuracy on those; and how often the others (a dataset's answer the articles
  do not hold, common in benchmarks built from web search) were refused, the right behaviour.
- **conflicts shown**: of the questions marked ``"conflict": true``, the share whose answer has a
  conflict (:attr:`Answer.conflicts`, "The sources differ: ...") whose values hold every part of
  an accepted answer, i.e. both sides; and **conflicts elsewhere**, how many other answers report
  a conflict (each should be a real disagreement: look at them).
- **latency** p50/p95 of one ``ask`` and the total time of all questions.
- **claim check** (:func:`claim_scores`, on ``eval/claims.jsonl`` with the seed set): precision and
  recall of "unsupported" by :func:`qa.cite.unsupported_reason` on labelled claim/passage pairs,
  half true paraphrases, half changed (a number, a negation, a name, a place, a date).
"""

from __future__ import annotations

import json
import math
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from .cite import supported
from .config import shipped
from .errors import QAError, UsageError
from .retrieve import Filter, age_days
from .text import strip_markers  # so "[1]" or "[1-3]" never matches a gold "1"
from .types import Answer, Passage

#: The default dataset and the articles it asks about; both ship with qa (see :func:`qa.config.shipped`).
SEED_DATASET = shipped("eval") / "seed.jsonl"
SEED_ARTICLES = shipped("seeds")
#: Labelled claim/passage pairs for the support check (:func:`claim_scores`).
SEED_CLAIMS = shipped("eval") / "claims.jsonl"

AcceptedAnswer = str | tuple[str, ...]  # a string, or parts that must all occur

# -- the dataset ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    answers: tuple[AcceptedAnswer, ...] = ()
    sources: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    date: str | None = None
    conflict: bool = False  # the articles disagree: the answer should show each side

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def load_dataset(path: str | Path) -> list[EvalQuestion]:
    """The questions of a JSONL dataset; a QAError naming the line when one is malformed."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise UsageError(f"no dataset at {path}; give a JSONL file of questions") from None
    except (OSError, UnicodeDecodeError) as e:
        raise QAError(f"cannot read the dataset {path}: {e}") from None
    out: list[EvalQuestion] = []
    seen: set[str] = set()
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            item = json.loads(line)
        except json.JSONDecodeError as e:
            raise QAError(f"{where}: malformed JSON ({e.msg}); one JSON object a line") from None
        if not isinstance(item, dict) or not isinstance(item.get("question"), str) or not item["question"].strip():
            raise QAError(f'{where}: each line needs a non-empty "question"')
        answers = item.get("answers")
        if not isinstance(answers, list) or not all(_is_answer(a) for a in answers):
            raise QAError(f'{where}: "answers" must be a list of strings (or lists of strings); [] means unanswerable')
        qid = str(item.get("id", item.get("question_id", lineno)))
        if qid in seen:
            raise QAError(f"{where}: the id {qid!r} is used twice")
        seen.add(qid)
        out.append(
            EvalQuestion(
                id=qid,
                question=item["question"].strip(),
                answers=tuple(a if isinstance(a, str) else tuple(a) for a in answers),
                sources=tuple(str(s) for s in item.get("sources") or ()),
                evidence=tuple(str(s) for s in item.get("evidence") or ()),
                date=item.get("date"),
                conflict=item.get("conflict") is True,
            )
        )
    if not out:
        raise QAError(f"the dataset {path} holds no questions")
    return out


def _is_answer(a: Any) -> bool:
    return (isinstance(a, str) and bool(a.strip())) or (
        isinstance(a, list) and bool(a) and all(isinstance(x, str) and x.strip() for x in a)
    )


# -- answer metrics ---------------------------------------------------------------------------

_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize(text: str) -> str:
    """RealTime QA's (SQuAD's) answer normalisation; Unicode punctuation counts as punctuation too.

    Example: normalize("The  U.S. moved 2,500 troops!") -> "us moved 2500 troops"
    """
    text = "".join(ch for ch in text.lower() if not unicodedata.category(ch).startswith("P"))
    return " ".join(_ARTICLES.sub(" ", text).split())


def _parts(accepted: AcceptedAnswer) -> tuple[str, ...]:
    return (accepted,) if isinstance(accepted, str) else accepted


#: Answers this short must occur as a whole word: "2" should not hit "2024", nor "one" "someone".
SHORT_ANSWER_CHARS = 3


def occurs(needle: str, text: str) -> bool:
    """Whether normalised ``needle`` occurs in normalised ``text``, as RealTime QA's ``hit`` counts it
    (a substring, so "Louisiana" hits "Louisiana’s"); a one-word needle of up to three characters
    must be a whole word.

    Example: occurs("Al-Asad", "the Al-Asad Airbase") -> True; occurs("one", "someone") -> False
    """
    return contains(normalize(text), normalize(needle))


def contains(text: str, needle: str) -> bool:
    """:func:`occurs` for texts normalised already."""
    if not needle:
        return False
    if len(needle) <= SHORT_ANSWER_CHARS and " " not in needle:
        return f" {needle} " in f" {text} "
    return needle in text


def answer_hit(answer: str, answers: Sequence[AcceptedAnswer]) -> bool:
    """Some accepted answer occurs in ``answer`` (all parts of an all-of answer).

    Example: answer_hit("At least five were hurt [1]; several, says [2].", [("at least five", "several")]) -> True
    """
    text = strip_markers(answer)
    return any(all(occurs(p, text) for p in _parts(a)) for a in answers)


def token_f1(prediction: str, gold: str) -> float:
    """Token F1 of normalised texts (RealTime QA / SQuAD).

    Example: token_f1("Lloyd Austin, Secretary of Defense", "Lloyd Austin") -> 2*(2/5)*(2/2)/(2/5+1) = 0.571...
    """
    p, g = normalize(prediction).split(), normalize(gold).split()
    common = sum((Counter(p) & Counter(g)).values())
    if not p or not g or common == 0:
        return float(p == g)
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def best_f1(answer: str, answers: Sequence[AcceptedAnswer]) -> float:
    """The best token F1 over the accepted answers (an all-of answer counts as its parts joined)."""
    text = strip_markers(answer)
    return max((token_f1(text, " ".join(_parts(a))) for a in answers), default=0.0)


# -- citation metrics (ALCE) ------------------------------------------------------------------

SupportCheck = Callable[[str, Sequence[Passage]], bool]


@dataclass(frozen=True)
class SentenceVerdict:
    text: str
    citations: tuple[int, ...]
    supported: bool  # the concatenation of its cited passages supports it
    relevant: tuple[bool, ...]  # per citation: not "irrelevant" in ALCE's sense


@dataclass(frozen=True)
class CitationScores:
    recall: float
    precision: float
    sentences: tuple[SentenceVerdict, ...]


def alce_scores(
    sentences: Sequence[tuple[str, Sequence[tuple[int, Passage]]]], check: SupportCheck = supported
) -> CitationScores:
    """ALCE citation recall and precision of one answer.

    ``sentences`` holds each sentence with its citations as (number, cited passage). Recall is
    the share of sentences supported by the concatenation of their cited passages (a sentence
    without citations is unsupported). A citation is precise when its sentence is supported and
    the citation is not irrelevant: irrelevant = it alone does not support the sentence while the
    remaining citations still do. Precision = precise citations / all citations (0 with none).

    Example, with passages P1 "Iraq hosts 2,500 US troops." and P2 "The weather was fine.":
    "Iraq hosts 2,500 US troops [1][2]." is supported (P1+P2 does), P1 is relevant, P2 is
    irrelevant (alone it does not support it, P1 still does): recall 1.0, precision 0.5.
    """
    verdicts: list[SentenceVerdict] = []
    precise = total = 0
    for text, cited in sentences:
        passages = [p for _, p in cited]
        ok = bool(cited) and check(text, passages)
        relevant: list[bool] = []
        for i, (_, p) in enumerate(cited):
            if not ok:
                relevant.append(False)
            elif len(cited) == 1 or check(text, [p]):
                relevant.append(True)
            else:
                others = passages[:i] + passages[i + 1 :]
                relevant.append(not check(text, others))
        precise += sum(relevant)
        total += len(cited)
        verdicts.append(SentenceVerdict(text, tuple(n for n, _ in cited), ok, tuple(relevant)))
    recall = sum(v.supported for v in verdicts) / len(verdicts) if verdicts else 0.0
    return CitationScores(recall, precise / total if total else 0.0, tuple(verdicts))


def cited_sentences(answer: Answer) -> list[tuple[str, list[tuple[int, Passage]]]]:
    """Each sentence of ``answer`` with (citation number, the full passage it cites); a "The sources
    differ" sentence counts as one claim per value, each cited by its own citation."""
    by_id = {p.id: p for p in answer.passages}
    by_n = {c.n: by_id.get(c.passage_id) for c in answer.citations}
    conflicts = {c.sentence(markers=False): c for c in answer.conflicts}
    out = []
    for s in answer.sentences:
        if s.text in conflicts:
            out += [(v.text, [(v.citation, p)]) for v in conflicts[s.text].values if (p := by_n.get(v.citation))]
        else:
            out.append((s.text, [(n, p) for n in s.citations if (p := by_n.get(n)) is not None]))
    return out


# -- the claim check on labelled pairs ----------------------------------------------------------


@dataclass(frozen=True)
class ClaimPair:
    """A claim and the passage it cites; ``supported`` False when the claim was changed (``change``)."""

    claim: str
    passage: str
    supported: bool
    change: str | None = None
    title: str = ""
    date: str | None = None
    source: str = ""
    held_out: bool = False


def load_claims(path: str | Path) -> list[ClaimPair]:
    """The pairs of a JSONL file of ``{"claim", "passage", "supported", "change"?, "title"?, "date"?}``."""
    out = []
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            out.append(
                ClaimPair(
                    str(item["claim"]),
                    str(item["passage"]),
                    bool(item["supported"]),
                    item.get("change"),
                    str(item.get("title") or ""),
                    item.get("date"),
                    str(item.get("source") or ""),
                    bool(item.get("held_out")),
                )
            )
        except (ValueError, KeyError, TypeError):
            raise QAError(f'{path}:{lineno}: each line needs "claim", "passage" and "supported"') from None
    return out


def claim_scores(pairs: Sequence[ClaimPair]) -> dict[str, Any]:
    """Precision and recall of "unsupported" by the support check on labelled pairs, with the misses.

    Example: 2 changed claims, both flagged, and 2 true ones, one flagged ->
    {"precision": 0.667, "recall": 1.0, "pairs": 4, ...}
    """
    from .cite import unsupported_reason

    flagged_right = flagged = changed = 0
    misses: list[dict[str, Any]] = []
    for pair in pairs:
        p = Passage("claim:0", "claim", pair.passage, 0, len(pair.passage), pair.title, pair.date, pair.source)
        reason = unsupported_reason(pair.claim, [p], "[1]")
        flagged += reason is not None
        changed += not pair.supported
        flagged_right += reason is not None and not pair.supported
        if (reason is None) == pair.supported:
            continue
        misses.append({"claim": pair.claim, "change": pair.change, "reason": reason})
    return {
        "precision": flagged_right / flagged if flagged else None,
        "recall": flagged_right / changed if changed else None,
        "pairs": len(pairs),
        "changed": changed,
        "misses": misses,
    }


# -- retrieval metrics ------------------------------------------------------------------------


def first_relevant_rank(
    passages: Sequence[str], answers: Sequence[AcceptedAnswer], evidence: Sequence[str] = ()
) -> int | None:
    """1-based rank of the first passage holding an accepted answer (any part) or evidence string.

    Example: first_relevant_rank(["No.", "Iraq hosts 2,500 US troops."], ["2,500"]) -> 2
    """
    needles = [p for a in answers for p in _parts(a)] + list(evidence)
    for rank, text in enumerate(passages, start=1):
        if any(occurs(n, text) for n in needles):
            return rank
    return None


def hit_at(ranks: Sequence[int | None], k: int) -> float:
    """Share of questions whose first relevant passage ranks within the top ``k``.

    Example: hit_at([1, 3, None, 2], 2) -> 0.5
    """
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks) if ranks else 0.0


def mean_reciprocal_rank(ranks: Sequence[int | None]) -> float:
    """Mean of 1/rank, 0 when nothing relevant was retrieved.

    Example: mean_reciprocal_rank([1, 2, None, 4]) -> (1 + 0.5 + 0 + 0.25) / 4 = 0.4375
    """
    return sum(1 / r for r in ranks if r) / len(ranks) if ranks else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100), linear between closest ranks.

    Example: percentile([1, 2, 3, 4], 50) -> 2.5
    """
    import numpy as np

    return float(np.percentile(values, q)) if len(values) else 0.0


# -- running ----------------------------------------------------------------------------------


@dataclass
class QuestionResult:
    """One question's answer and verdicts, as written to the JSON report."""

    id: str
    question: str
    answers: list[Any]
    answer: str
    refused: bool
    verdict: str  # correct | wrong | wrongly-refused | refused | should-refuse
    hit: bool | None
    f1: float | None
    citation_recall: float | None
    citation_precision: float | None
    sources_cited: bool | None
    retrieval_rank: int | None
    seconds: float
    in_articles: bool | None = None  # an accepted answer occurs in some article of the index
    in_recent_articles: bool | None = None  # ... in one dated within RECENT_DAYS of the question (None: undated)
    short_answer: str | None = None
    sentence_hit: bool | None = None  # an accepted answer occurs in the answer's sentences (not only the short answer)
    confidence: float | None = None
    sources: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    date: str | None = None
    sentences: list[dict[str, Any]] = field(default_factory=list)
    citations: list[dict[str, Any]] = field(default_factory=list)
    retrieved: list[dict[str, Any]] = field(default_factory=list)
    conflict: bool = False  # the question is marked as one whose articles disagree
    conflict_shown: bool | None = None  # (marked questions) the answer's conflict holds every side
    conflicts: list[dict[str, Any]] = field(default_factory=list)  # the answer's, as in --json

    @property
    def failed(self) -> bool:
        cites_ok = self.citation_recall in (None, 1.0) and self.citation_precision in (None, 1.0)
        return self.verdict not in ("correct", "refused") or not cites_ok

    @property
    def lost(self) -> str | None:
        """Where an answerable question's answer went (one of :data:`LOST`); None for one to refuse."""
        return lost_at(self)


#: Where an answerable question's answer went, along the data's way; the first that applies.
LOST = (
    "right",
    "in no article",
    "only in older articles",
    "not retrieved",
    "refused",
    "wrong sentence",
    "wrong short answer",
)

#: An article dated this many days or fewer from a question's day may be its story; an answer that only
#: articles further away hold is most often a chance mention in another story (the practice sets' "not
#: retrieved" answers were, for 40 of 73: an article a month to nine years older).
RECENT_DAYS = 14


def lost_at(r: QuestionResult) -> str | None:
    """The first of :data:`LOST` that applies to an answerable question's result, None otherwise:
    right; no article holds an accepted answer (when the run knows the articles); only articles
    dated more than :data:`RECENT_DAYS` from the question's day hold it (when both are dated: this
    week's story is not among the articles); none of the passages read holds it; refused though they
    did; the answer's sentences lack it; only the short answer misses it. Example: retrieved at rank 2,
    answered, sentence right, short answer wrong -> "wrong short answer".
    """
    if r.hit is None:
        return None
    if r.hit:
        return "right"
    if r.in_articles is False:
        return "in no article"
    if r.in_recent_articles is False:
        return "only in older articles"
    if r.retrieval_rank is None:
        return "not retrieved"
    if r.refused:
        return "refused"
    return "wrong short answer" if r.sentence_hit else "wrong sentence"


def judge(q: EvalQuestion, answer: Answer, seconds: float, check: SupportCheck = supported) -> QuestionResult:
    """Score one answer against its question: its short answer when it has one, else its text.
    ``sentence_hit`` scores the sentences, as answers were scored before short answers."""
    text = strip_markers(answer.answer)
    scored = answer.short_answer or text
    sentence_hit = None
    if q.answerable:
        hit = not answer.refused and answer_hit(scored, q.answers)
        sentence_hit = not answer.refused and answer_hit(text, q.answers)
        f1 = 0.0 if answer.refused else best_f1(scored, q.answers)
        verdict = "wrongly-refused" if answer.refused else "correct" if hit else "wrong"
        rank = first_relevant_rank([p.text for p in answer.passages], q.answers, q.evidence)
    else:
        hit, f1, rank = None, None, None
        verdict = "refused" if answer.refused else "should-refuse"
    scores = None if answer.refused else alce_scores(cited_sentences(answer), check)
    cited_files = {Path(p.source).name for p in _cited_passages(answer)} | {p.source for p in _cited_passages(answer)}
    sources_cited = None
    if q.answerable and q.sources:
        sources_cited = not answer.refused and all(s in cited_files or Path(s).name in cited_files for s in q.sources)
    passage_by_id = {p.id: p for p in answer.passages}
    citations = []
    for c in answer.citations:
        p = passage_by_id.get(c.passage_id)
        citations.append(
            {
                **{k: v for k, v in asdict(c).items() if k not in ("article_id", "passage_id")},
                "passage": p.text if p else None,
                "passage_start": p.start if p else None,
            }
        )
    sentences = []
    for v in scores.sentences if scores else ():
        sentences.append(
            {"text": v.text, "citations": list(v.citations), "supported": v.supported, "relevant": list(v.relevant)}
        )
    retrieved = [
        {"rank": i, "title": p.title, "date": p.date, "source": p.url or p.source, "text": p.text}
        for i, p in enumerate(answer.passages, start=1)
    ]
    return QuestionResult(
        id=q.id,
        question=q.question,
        answers=[a if isinstance(a, str) else list(a) for a in q.answers],
        answer=answer.answer,
        refused=answer.refused,
        verdict=verdict,
        hit=hit,
        f1=f1,
        citation_recall=scores.recall if scores else None,
        citation_precision=scores.precision if scores else None,
        sources_cited=sources_cited,
        retrieval_rank=rank,
        seconds=seconds,
        sources=list(q.sources),
        evidence=list(q.evidence),
        date=q.date,
        sentences=sentences,
        citations=citations,
        retrieved=retrieved,
        short_answer=answer.short_answer,
        sentence_hit=sentence_hit,
        confidence=answer.confidence,
        conflict=q.conflict,
        conflict_shown=conflict_shown(answer, q.answers) if q.conflict else None,
        conflicts=answer.to_dict()["conflicts"],
    )


def conflict_shown(answer: Answer, answers: Sequence[AcceptedAnswer]) -> bool:
    """Whether one of the answer's conflicts holds every part of some accepted answer in its values.

    Example: values "At least five" [1] and "several" [2], answers [("at least five", "several")] -> True
    """
    for c in answer.conflicts:
        text = " | ".join(v.text for v in c.values)
        if any(all(occurs(p, text) for p in _parts(a)) for a in answers):
            return True
    return False


def answer_in_texts(answers: Sequence[AcceptedAnswer], normalised_texts: Sequence[str]) -> bool:
    """Whether some accepted answer occurs in the texts (normalised already); the parts of an
    all-of answer may stand in different texts, as when two articles report a fact differently.

    Example: answer_in_texts(["2,500"], ["iraq hosts 2500 us troops"]) -> True
    """
    for a in answers:
        if all(any(contains(t, normalize(p)) for t in normalised_texts) for p in _parts(a)):
            return True
    return False


def in_recent(q: EvalQuestion, normalised_texts: Sequence[str], days: Sequence[str | None]) -> bool | None:
    """Whether an accepted answer occurs in an article dated within :data:`RECENT_DAYS` of the question's
    day; None when the question or every article is undated (nothing to tell).

    Example: a question of 2024-08-06 whose answer only an article of 2023-01-02 holds -> False
    """
    day = question_day(q)
    ages = [abs(age_days(day, d)) for d in days] if day else []  # NaN: undated
    if all(math.isnan(a) for a in ages):
        return None
    recent = [t for t, a in zip(normalised_texts, ages) if a <= RECENT_DAYS]
    return answer_in_texts(q.answers, recent)


def _cited_passages(answer: Answer) -> list[Passage]:
    ids = {c.passage_id for c in answer.citations}
    return [p for p in answer.passages if p.id in ids]


def _mean(values: Iterable[float | bool | None]) -> float | None:
    vs = [float(v) for v in values if v is not None]
    return sum(vs) / len(vs) if vs else None


def figures(results: Sequence[QuestionResult], k: int, total_seconds: float) -> dict[str, Any]:
    """The headline figures of a run; ``None`` where a figure has nothing to measure."""
    answerable = [r for r in results if r.hit is not None]
    findable = [r for r in answerable if r.in_articles]
    unfindable = [r for r in answerable if r.in_articles is False]
    unanswerable = [r for r in results if r.hit is None]
    refused = [r for r in results if r.refused]
    ranks = [r.retrieval_rank for r in answerable]
    seconds = [r.seconds for r in results]
    return {
        "questions": len(results),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "accuracy": _mean(r.hit for r in answerable),
        "f1": _mean(r.f1 for r in answerable),
        "sentence_accuracy": _mean(r.sentence_hit for r in answerable),
        "short_answer_share": _mean(r.short_answer is not None for r in results if not r.refused),
        "refusal_precision": sum(1 for r in refused if r.hit is None) / len(refused) if refused else None,
        "refusal_recall": _mean(r.refused for r in unanswerable),
        "answer_in_articles": _mean(r.in_articles for r in answerable),
        "answer_in_recent_articles": _mean(r.in_recent_articles for r in answerable),
        "accuracy_when_in_articles": _mean(r.hit for r in findable),
        "refused_when_not_in_articles": _mean(r.refused for r in unfindable),
        "citation_recall": _mean(r.citation_recall for r in results),
        "citation_precision": _mean(r.citation_precision for r in results),
        "sources_cited": _mean(r.sources_cited for r in results),
        "conflict_questions": sum(r.conflict for r in results),
        "conflicts_shown": _mean(r.conflict_shown for r in results),
        "conflicts_elsewhere": sum(bool(r.conflicts) and not r.conflict for r in results),
        "retrieval_hit_at_1": hit_at(ranks, 1) if answerable else None,
        "retrieval_hit_at_k": hit_at(ranks, k) if answerable else None,
        "retrieval_mrr": mean_reciprocal_rank(ranks) if answerable else None,
        "k": k,
        "latency_p50": percentile(seconds, 50),
        "latency_p95": percentile(seconds, 95),
        "total_seconds": total_seconds,
        "coverage": coverage_curve(answerable),
        "lost": {stage: lost[stage] for stage in LOST} if (lost := Counter(r.lost for r in answerable)) else None,
    }


def coverage_curve(results: Sequence[QuestionResult], steps: int = 10) -> list[dict[str, float]]:
    """Accuracy against the share of questions answered, answering only above a rising confidence.

    Each point: answering the questions whose answer's confidence is at least ``threshold`` (refusals
    never count as answered), ``answered`` is their share of all questions and ``accuracy`` the share
    of those that are right. Example: confidences 0.9 (right), 0.6 (wrong), a refusal ->
    [{"threshold": 0.0, "answered": 0.667, "accuracy": 0.5}, ..., {"threshold": 0.9, "answered": 0.333, "accuracy": 1.0}]
    """
    scored = [(r.confidence, bool(r.hit)) for r in results if not r.refused and r.confidence is not None]
    if not results or not scored:
        return []
    points: list[dict[str, float]] = []
    for t in sorted({0.0, *(round(c, 2) for c, _ in scored)}):
        kept = [h for c, h in scored if c >= t]
        if not kept:
            break
        point = {"threshold": t, "answered": len(kept) / len(results), "accuracy": sum(kept) / len(kept)}
        if points and abs(point["answered"] - points[-1]["answered"]) < 1 / steps:
            continue
        points.append(point)
    return points


def date_filter(q: EvalQuestion, window_days: int | None) -> Filter | None:
    """Articles of the ``window_days`` days up to the day the question was asked, when it has a date.

    Example: date_filter(EvalQuestion("1", "Who?", date="2024-08-02"), 7) -> Filter("2024-07-26", "2024-08-02")
    """
    if window_days is None or not q.date:
        return None
    try:
        day = date.fromisoformat(q.date[:10])
    except ValueError:
        raise QAError(f"question {q.id}: date {q.date!r} is not YYYY-MM-DD") from None
    return Filter(date_from=(day - timedelta(days=window_days)).isoformat(), date_to=day.isoformat())


def question_day(q: EvalQuestion) -> date | None:
    """The day a question was asked, when the dataset says. Example: "2024-08-02" -> date(2024, 8, 2)"""
    try:
        return date.fromisoformat(q.date[:10]) if q.date else None
    except ValueError:
        raise QAError(f"question {q.id}: date {q.date!r} is not YYYY-MM-DD") from None


def run(
    assistant: Any,
    questions: Sequence[EvalQuestion],
    progress: Callable[[QuestionResult], None] | None = None,
    date_window: int | None = None,
    article_texts: Sequence[str] | None = None,
    article_days: Sequence[str | None] | None = None,
) -> tuple[list[QuestionResult], dict[str, Any]]:
    """Ask every question through ``assistant.ask`` and score it; (results, figures).

    With ``date_window``, a question with a ``date`` searches only articles of the days up to it.
    With ``article_texts`` (every article of the index), each answerable question records whether
    an accepted answer occurs in any article at all: a dataset's "answerable" question whose answer
    is in no article is one the assistant should refuse. With ``article_days`` too (each article's
    date, None when undated), a dated question records whether one within :data:`RECENT_DAYS` holds it.
    """
    normalised = [normalize(t) for t in article_texts] if article_texts is not None else None
    results: list[QuestionResult] = []
    started = time.perf_counter()
    for q in questions:
        t = time.perf_counter()
        answer = assistant.ask(q.question, filter=date_filter(q, date_window), as_of=question_day(q))
        result = judge(q, answer, time.perf_counter() - t)
        if normalised is not None and q.answerable:
            result.in_articles = answer_in_texts(q.answers, normalised)
            if result.in_articles and article_days is not None:
                result.in_recent_articles = in_recent(q, normalised, article_days)
        results.append(result)
        if progress:
            progress(result)
    return results, figures(results, assistant.k, time.perf_counter() - started)


# -- thresholds and baselines -----------------------------------------------------------------

#: Figures where lower is better; every other figure is better higher.
LOWER_IS_BETTER = frozenset({"latency_p50", "latency_p95", "total_seconds", "conflicts_elsewhere"})


def below_thresholds(figs: dict[str, Any], minimums: dict[str, float | None]) -> list[str]:
    """One phrase per figure under its minimum.

    Example: below_thresholds({"accuracy": 0.5}, {"accuracy": 0.6}) -> ["accuracy 0.500 < 0.600"]
    """
    out = []
    for name, minimum in minimums.items():
        if minimum is None:
            continue
        value = figs.get(name)
        if value is None:
            out.append(f"{name} is not measured on this dataset (< {minimum:.3f})")
        elif value < minimum:
            out.append(f"{name} {value:.3f} < {minimum:.3f}")
    return out


def load_baseline(path: str | Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return dict(data["figures"])
    except FileNotFoundError:
        raise UsageError(f"no baseline report at {path}; write one with qa eval --json {path}") from None
    except (OSError, ValueError, KeyError, TypeError):
        raise QAError(f"{path} is not a qa eval JSON report; write one with qa eval --json") from None
