"""The span reader: where in a sentence the answer to a question starts and ends, read by a small
transformer that sees the question and the sentence together.

It is all-MiniLM-L6-v2 (the embedder's own base model, the same word pieces) with a start/end head,
fine-tuned on the training questions by :mod:`qa.train_reader` and kept as int8 ONNX
(``qa/reader/span_reader.onnx``, 23 MB, run with onnxruntime on one thread). It answers nothing by
itself: its scores are four features of the span model (:data:`FEATURES`), which weighs them with the
rest. A model fitted with ``qa train --span-reader`` reads them. The shipped model (answer model 29)
holds such a span model beside its own (``qa train --join-span-reading``): the span shown is chosen by
both, so ``qa ask`` and ``qa eval`` run the reader, which ships (``qa train --span-reader`` rewrites it).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from .candidates import Sentence, Span
from .model import REBUILD, ModelError

READER_FILE = Path(__file__).with_name("span_reader.onnx")
MAX_TOKENS = 128  # question and sentence together, as it was fitted
LONGEST = 15  # word pieces in an answer at most, when the scores are normalised over every span
FEATURES = ("rd_logit", "rd_prob", "rd_rank", "rd_text_max")
#: A sentence's features from the reader (a model fitted with ``qa train --sentence-reader`` reads them).
SENTENCE_FEATURES = ("rd_sent", "rd_sent_gap")
#: A span the reader did not read (its text not scored, or cut off by the tokeniser): values no read span
#: has, so the trees split it off (the tree walker of :mod:`qa.reader.model` has no missing values).
UNREAD = {"rd_logit": -99.0, "rd_prob": -1.0, "rd_rank": -1.0, "rd_text_max": -1.0}
NO_SPAN = -99.0  # :attr:`SpanScores.best` of a sentence the tokeniser left no piece of
MEMO_SIZE = 4096  # (question, sentence) scores kept: the reranker's reading and the span features share them


@dataclass(frozen=True)
class SpanScores:
    """The reader's scores for one sentence: start and end logits of its word pieces, their character
    offsets in the sentence, and the score of "no answer here" (the [CLS] piece's start + end)."""

    null: float
    start: np.ndarray
    end: np.ndarray
    offsets: np.ndarray  # (pieces, 2)

    @cached_property
    def _spans(self) -> tuple[np.ndarray, float, float]:
        """Every span's score (up to :data:`LONGEST` pieces), and the log-sum-exp's (max, sum) over them
        and "no answer": the same for each span of the sentence, so made once."""
        n = len(self.start)
        pairs = self.start[:, None] + self.end[None, :]
        valid = np.triu(np.ones((n, n), bool)) & ~np.triu(np.ones((n, n), bool), LONGEST)
        every = np.append(pairs[valid], self.null)
        top = float(every.max())
        return pairs[valid], top, float(np.exp(every - top).sum())

    @property
    def best(self) -> float:
        """The best span's score against "no answer": how sure the reader is that the answer is here."""
        if not len(self.start):
            return NO_SPAN
        return float(self._spans[0].max() - self.null)

    def features(self, text: str, sentence: str) -> dict[str, float]:
        """The best occurrence of ``text`` in ``sentence``: its score against "no answer" (``rd_logit``),
        its share of every span's (``rd_prob``) and how many spans score higher (``rd_rank``)."""
        best = None
        for m in re.finditer(re.escape(text), sentence):
            inside = np.nonzero((self.offsets[:, 1] > m.start()) & (self.offsets[:, 0] < m.end()))[0]
            if len(inside):
                score = float(self.start[inside[0]] + self.end[inside[-1]])
                best = score if best is None else max(best, score)
        if best is None:  # a span not in the text read, or one the tokeniser cut off
            return {k: UNREAD[k] for k in FEATURES[:3]}
        spans, top, total = self._spans
        return {
            "rd_logit": best - self.null,
            "rd_prob": float(np.exp(best - top) / total),
            "rd_rank": float((spans > best).sum()),
        }


def add_reading(spans: Sequence[Span], sents: Sequence[Sentence], scores: Mapping[str, SpanScores]) -> None:
    """Each span's :data:`FEATURES` from the scores of the text it was read from (its sentence or its
    title: :meth:`Span.read_in`), by that text; ``rd_text_max`` is the best ``rd_prob`` of the same
    words in any text read."""
    best: dict[str, float] = {}
    for sp in spans:
        text = sp.read_in(sents)
        got = scores.get(text)
        f = got.features(sp.text, text) if got is not None else {k: UNREAD[k] for k in FEATURES[:3]}
        sp.features.update(f)
        if f["rd_prob"] >= 0:
            key = _key(sp.text)
            best[key] = max(best.get(key, 0.0), f["rd_prob"])
    for sp in spans:
        sp.features["rd_text_max"] = best.get(_key(sp.text), UNREAD["rd_text_max"])


def add_sentence_reading(sents: Sequence[Sentence], best: Sequence[float]) -> None:
    """Each sentence's :data:`SENTENCE_FEATURES` from the reader's :attr:`SpanScores.best` of it (``best``, in
    the sentences' order): how sure the reader is that the answer is in it (``rd_sent``), and that less the
    surest of the question's sentences (``rd_sent_gap``), as a cross-encoder reads a question with each
    sentence where the other sentence features count words and cosines."""
    top = max(best, default=0.0)
    for s, b in zip(sents, best):
        s.features["rd_sent"] = float(b)
        s.features["rd_sent_gap"] = float(b) - top


def _key(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


_sessions: dict[Path, tuple[Any, Any]] = {}  # reader file -> (ONNX session, tokenizer), made once per process
_lock = threading.Lock()


def session(path: Path = READER_FILE) -> tuple[Any, Any]:
    """The reader's ONNX session (one thread) and the embedder's tokenizer, made once per process."""
    with _lock:
        if path not in _sessions:
            if not path.exists():
                raise ModelError(f"the span reader {path} is missing; rebuild it with: {REBUILD} --span-reader")
            import onnxruntime as ort
            from tokenizers import Tokenizer

            from ..config import setup_offline
            from ..embed import _tokenizer_path

            setup_offline()
            tok = Tokenizer.from_file(str(_tokenizer_path()))
            tok.enable_truncation(MAX_TOKENS, strategy="longest_first")
            tok.no_padding()
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = 1
            opts.inter_op_num_threads = 1
            opts.log_severity_level = 3
            _sessions[path] = (ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"]), tok)
        return _sessions[path]


def preload(path: Path = READER_FILE) -> threading.Thread:
    """Start loading the reader in a background thread (``qa ask``: while the index opens)."""

    def load() -> None:
        try:
            session(path)
        except Exception:  # raised again where the reader is used, as one clear line
            pass

    t = threading.Thread(target=load, daemon=True, name="qa-span-reader")
    t.start()
    return t


def passage_sentences(text: str) -> list[str]:
    """The sentences of a passage the reader reads for :meth:`SpanReader.passage_best` (of 3 words or
    more; the whole passage when it has none)."""
    from ..chunk import split_sentences

    return [s for a, b in split_sentences(text) if len((s := text[a:b]).split()) >= 3] or [text]


_memo: OrderedDict[tuple[Path, str, str], SpanScores] = OrderedDict()


class SpanReader:
    """Runs the ONNX reader: :meth:`score` gives each (question, sentence) pair its :class:`SpanScores`,
    each pair run alone (no padding), the pairs split over up to ``threads`` threads. The latest :data:`MEMO_SIZE`
    pairs' scores are kept for the process."""

    def __init__(self, path: Path = READER_FILE, threads: int = 2):
        self.path = path
        self.threads = threads

    def score(self, question: str, sentences: Sequence[str]) -> list[SpanScores]:
        if not sentences:
            return []
        with _lock:
            known = {s: _memo[key] for s in sentences if (key := (self.path, question, s)) in _memo}
        todo = list(dict.fromkeys(s for s in sentences if s not in known))
        if todo:
            n = max(1, min(self.threads, len(todo) // 8))
            parts = [todo[i::n] for i in range(n)]
            with ThreadPoolExecutor(n) as pool:
                for part, got in zip(parts, pool.map(lambda p: self._run(question, p), parts)):
                    known.update(zip(part, got))
            with _lock:
                for s in todo:
                    _memo[(self.path, question, s)] = known[s]
                while len(_memo) > MEMO_SIZE:
                    _memo.popitem(last=False)
        return [known[s] for s in sentences]

    def passage_best(self, question: str, passages: Sequence[str]) -> list[float]:
        """Each passage's best :attr:`SpanScores.best` over its sentences (:func:`passage_sentences`)."""
        sents = [passage_sentences(p) for p in passages]
        scores = dict(zip(flat := [s for ss in sents for s in ss], self.score(question, flat)))
        return [max(scores[s].best for s in ss) for ss in sents]

    def _run(self, question: str, sentences: Sequence[str]) -> list[SpanScores]:
        run, tok = session(self.path)
        out = []
        for enc in tok.encode_batch([(question, s) for s in sentences]):
            ids = np.array([enc.ids], dtype=np.int64)
            feeds = {
                "input_ids": ids,
                "attention_mask": np.ones_like(ids),
                "token_type_ids": np.array([enc.type_ids], dtype=np.int64),
            }
            start, end = (a[0] for a in run.run(None, feeds))
            mine = np.array([i for i, s in enumerate(enc.sequence_ids) if s == 1], dtype=np.int64)
            offsets = np.array([enc.offsets[i] for i in mine], dtype=np.int64).reshape(-1, 2)
            out.append(SpanScores(float(start[0] + end[0]), start[mine], end[mine], offsets))
        return out
