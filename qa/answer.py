"""What an answer is; the types live in :mod:`qa.types`, re-exported here for the API users of ``qa.answer``."""

from __future__ import annotations

from .types import REFUSAL, Answer, Citation, Passage, Sentence, refusal

__all__ = ["REFUSAL", "Answer", "Citation", "Passage", "Sentence", "refusal"]
