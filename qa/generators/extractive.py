"""The offline default: a short answer and the passage sentences that support it, chosen by
models learned from four years of real news questions (:mod:`qa.reader`, fitted by :mod:`qa.train`).

The draft is a first line ``Short answer: <span> [n]`` when the reader found one (a name, number,
date or phrase copied from passage ``n`` or its title), then the supporting sentence(s) with their
markers. When the reader's calibrated confidence is under the model's threshold (chosen on
held-out weeks of the training data), it refuses with the fixed refusal sentence instead of
guessing; the confidence goes with the answer either way.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

from ..cite import place_markers
from ..embed import MiniLMEmbeddings
from ..reader import Reader, Reading, answer_sentences
from ..types import REFUSAL, SHORT_PREFIX, DraftInfo, Passage
from . import Generator


class ExtractiveGenerator(Generator):
    name = "extractive"
    relevance_gate = False  # its calibrated confidence refuses

    def __init__(
        self,
        embedder: MiniLMEmbeddings | None = None,
        min_confidence: float | None = None,
        short_answers: bool = True,
        model_path: Path | None = None,
    ):
        self.embedder = embedder or MiniLMEmbeddings()
        self.reader = Reader(self.embedder, model_path=model_path)
        self._min_confidence = min_confidence
        self.short_answers = short_answers

    @property
    def min_confidence(self) -> float:
        """Refuse under this confidence: the model's own threshold unless set."""
        return self.reader.model.threshold if self._min_confidence is None else self._min_confidence

    def read(self, question: str, passages: Sequence[Passage], as_of: date | None = None) -> Reading:
        return self.reader.read(question, passages, as_of)

    def stream(
        self, question: str, passages: Sequence[Passage], as_of: date | None = None
    ) -> Iterator[str | DraftInfo]:
        reading = self.read(question, passages, as_of)
        if not self.short_answers:  # the sentences alone, as the sentence model ranks them
            reading.short = reading.chosen = None
            reading.answer_sentences = answer_sentences(reading)
        if not reading.answer_sentences or reading.confidence < self.min_confidence:
            yield REFUSAL
            yield DraftInfo(reading.confidence if reading.sentences else 0.0)
            return
        if reading.short is not None:
            yield f"{SHORT_PREFIX} {reading.short.text} [{reading.short.passage + 1}]\n"
        for i, s in enumerate(reading.answer_sentences):
            yield ("" if i == 0 else " ") + place_markers(s.text, [s.passage + 1])
        yield DraftInfo(reading.confidence)
