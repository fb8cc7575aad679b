"""Cloze questions from the training articles: reading examples for the span reader's first lesson.

The training questions give the span reader (:mod:`qa.train_reader`) some 15,000 sentences that hold
a gold answer, few for an extractive reader (SQuAD has 87,599 questions). The articles hold many more
facts, and a fact stated in one sentence can be asked about: replace one of its named entities by a
question phrase, and the sentence becomes a question whose answer is that entity (a cloze question,
as in Lewis et al. 2019, "Unsupervised Question Answering by Cloze Translation").

Example: "On Friday President Joe Biden said the talks would go on." -> the question "On Friday which
president said the talks would go on?", answer "Joe Biden".

The context read with the question is, when there is one, another sentence of the same week that
names the same entity and shares at least two more of the question's words (preferably from another
article): two outlets telling one fact in their own words, as a quiz question and its article do.
Without one, a quarter of the questions are read against their own sentence with a fifth of their
other words dropped. Some questions also get a sentence that shares their words but not the entity:
"no answer here". The reader is fitted on these first, then on the training questions.
"""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

VERSION = 1  # of the examples: another version is made again, not read from the cache
PER_ARTICLE = 8  # sentences drawn from each article
SELF_SHARE = 0.25  # questions read against their own sentence when no other names the entity
DROP = 0.2  # of the other words of such a question
NEGATIVE_SHARE = 0.6  # questions that also get a sentence without the entity
BEFORE, AFTER = 10, 14  # words of the sentence kept around the question phrase
SEED = 7

#: The question phrase for each entity label (a place by its kind: :func:`question_phrase`).
PHRASES = {
    "PERSON": "who",
    "ORG": "which organization",
    "FAC": "which place",
    "LOC": "which region",
    "DATE": "when",
    "TIME": "what time",
    "CARDINAL": "how many",
    "MONEY": "how much money",
    "PERCENT": "what percentage",
    "QUANTITY": "how much",
    "EVENT": "which event",
    "WORK_OF_ART": "which title",
    "PRODUCT": "which product",
    "LAW": "which law",
    "LANGUAGE": "which language",
}

Entity = tuple[int, int, str, str]  # start, end, label, text


@dataclass(frozen=True)
class Cloze:
    week: str
    question: str
    sentence: str
    answer: tuple[int, int] | None  # where the entity is in ``sentence``; None: not there
    kind: str  # "pair", "self" or "negative"


def question_phrase(label: str, text: str) -> str | None:
    """How a question asks for an entity of ``label``; None: not asked for.

    Example: question_phrase("GPE", "France") -> "which country"
    """
    if label == "GPE":
        from .reader import places

        k = places.kind(text)
        return "which country" if k == "COUNTRY" else "which state" if k == "STATE" else "which city"
    return PHRASES.get(label)


def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def content_words(text: str, stop: frozenset[str]) -> set[str]:
    """The words of three letters or more that ``stop`` does not hold, lower-cased (not
    :func:`qa.cite.content_words`, whose weights and stop words the examples were not made with)."""
    return {w for w in re.findall(r"[a-z][a-z'-]{2,}", text.lower()) if w not in stop}


def is_askable(sentence: str) -> bool:
    """A sentence worth asking about: 8 to 45 words, mostly letters, not a question, not all capitals
    (a length and letters test; the reader's :func:`qa.reader.candidates.is_statement` is another)."""
    n = len(sentence.split())
    return (
        8 <= n <= 45
        and "?" not in sentence
        and sum(c.isalpha() for c in sentence) > 0.6 * len(sentence)
        and not sentence.isupper()
    )


def cloze(
    sentence: str, start: int, end: int, phrase: str, stop: frozenset[str], rng: random.Random, drop: float = 0.0
) -> str:
    """``sentence`` as a question for its words ``start:end``, asked by ``phrase``: a title before the
    name asks for the title ("President Joe Biden" -> "which president"; not the sentence's first word,
    which is capitalised whatever it is); at most :data:`BEFORE` words before and :data:`AFTER` after are
    kept, each dropped with chance ``drop``.

    Example: cloze("On Friday President Joe Biden said the talks would go on.", 20, 29, "who", ...)
    -> "On Friday which president said the talks would go on?"
    """
    before, after = sentence[:start].split(), sentence[end:].split()
    if len(before) > 1 and re.fullmatch(r"[A-Z][a-z]+", before[-1]) and before[-1].lower() not in stop:
        phrase = "which " + before.pop().lower()
    before = [w for w in before[-BEFORE:] if rng.random() >= drop]
    after = [w for w in after[:AFTER] if rng.random() >= drop]
    question = re.sub(r'[\s.;:,!"”’]+$', "", " ".join([*before, phrase, *after]).strip())
    if not before:
        question = question[:1].upper() + question[1:]
    return question + "?"


def sample_sentences(articles: Iterator[dict[str, str]], rng: random.Random) -> dict[str, list[tuple[str, str]]]:
    """Up to :data:`PER_ARTICLE` statements of each article, drawn at random: week -> (article id, sentence)."""
    from .chunk import split_sentences

    by_week: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for a in articles:
        text = a.get("text") or ""
        sents = [s for s in (text[i:j] for i, j in split_sentences(text)) if is_askable(s)]
        rng.shuffle(sents)
        for s in sents[:PER_ARTICLE]:
            by_week[a["week"]].append((a["id"], s))
    return by_week


def make(
    by_week: dict[str, list[tuple[str, str]]],
    entities: Sequence[Sequence[Entity]],
    rng: random.Random,
    stop: frozenset[str],
) -> Iterator[Cloze]:
    """The cloze examples of :func:`sample_sentences`' sentences, whose named entities ``entities``
    gives in the same order (week by week, sentence by sentence)."""
    rows = [(w, aid, s) for w, pairs in by_week.items() for aid, s in pairs]
    weeks: dict[str, list[tuple[str, str, Sequence[Entity], set[str]]]] = defaultdict(list)
    for (w, aid, s), ents in zip(rows, entities, strict=True):
        weeks[w].append((aid, s, ents, content_words(s, stop)))
    for w, sents in weeks.items():
        naming: dict[str, list[int]] = defaultdict(list)  # an entity's text -> the sentences naming it
        for i, (_, _, ents, _) in enumerate(sents):
            for e in ents:
                naming[e[3].lower()].append(i)
        for i, (aid, s, ents, _) in enumerate(sents):
            usable = [
                (e, phrase)
                for e in ents
                if (phrase := question_phrase(e[2], e[3])) and len(e[3]) > 1 and s.lower().count(e[3].lower()) == 1
            ]
            if not usable:
                continue
            e, phrase = rng.choice(usable)
            alone = rng.random() < SELF_SHARE
            question = cloze(s, e[0], e[1], phrase, stop, rng, DROP if alone else 0.0)
            words = content_words(question, stop)
            key = e[3].lower()
            best, shared = None, 1
            for j in naming[key]:
                if j == i:
                    continue
                n = len(words & sents[j][3])
                if n > shared or (n == shared and best is not None and sents[j][0] != aid and sents[best][0] == aid):
                    best, shared = j, n
            if best is not None:
                other = sents[best][1]
                m = re.search(re.escape(e[3]), other, re.I)
                if not m:
                    continue
                yield Cloze(w, question, other, (m.start(), m.end()), "pair")
            elif alone:
                yield Cloze(w, question, s, (e[0], e[1]), "self")
            else:
                continue
            if rng.random() < NEGATIVE_SHARE:
                drawn = rng.sample(range(len(sents)), min(60, len(sents)))
                without = [
                    j for j in drawn if j != i and key not in sents[j][1].lower() and len(words & sents[j][3]) >= 2
                ]
                if without:
                    j = max(without, key=lambda j: len(words & sents[j][3]))
                    yield Cloze(w, question, sents[j][1], None, "negative")


def build(data: Path, cache: Path, log: Callable[[str], None] = print) -> list[Cloze]:
    """The cloze examples of the training articles (``data/articles.jsonl.gz``), made once (spaCy reads
    some 184,000 sentences: about 6 minutes on 2 cores) and kept in ``cache``."""
    path = cache / f"cloze-v{VERSION}.jsonl"
    if not path.exists():
        import spacy

        from .reader.nlp import MODEL

        rng = random.Random(SEED)
        from .train import read_articles

        by_week = sample_sentences(read_articles(data), rng)
        texts = [s for pairs in by_week.values() for _, s in pairs]
        log(f"cloze questions: spaCy on {len(texts)} sentences of the training articles")
        nlp = spacy.load(MODEL, disable=["parser", "lemmatizer", "attribute_ruler", "tagger"])
        entities = [
            [(e.start_char, e.end_char, e.label_, e.text) for e in doc.ents]
            for doc in nlp.pipe(texts, batch_size=256, n_process=2)
        ]
        cache.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as out:
            for c in make(by_week, entities, rng, _stop_words()):
                out.write(json.dumps(c.__dict__, ensure_ascii=False) + "\n")
        tmp.rename(path)
    with open(path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    return [Cloze(**{**r, "answer": tuple(r["answer"]) if r["answer"] else None}) for r in rows]
