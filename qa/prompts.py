"""Prompt templates, kept as text files in ``prompts/`` at the top of the project (shipped in the wheel).

Templates use ``{name}`` placeholders (Python format syntax, which LangChain's f-string
templates share); :data:`FIELDS` says which placeholders the code fills for each template,
and ``tests/test_prompts.py`` checks that every file uses exactly those.

    >>> placeholders("Question: {question}")
    {'question'}
"""

from __future__ import annotations

import string
from functools import cache

from .config import shipped
from .errors import QAError

#: Each template and the placeholders the code fills in it.
FIELDS: dict[str, frozenset[str]] = {
    "answer_system": frozenset({"refusal"}),  # the rules; {refusal} is qa.answer.REFUSAL, word for word
    "answer": frozenset({"passages", "question"}),  # the numbered, fenced passages and the question
    "rewrite": frozenset({"history", "question"}),  # the conversation so far and the follow-up question
}


@cache
def load_prompt(name: str) -> str:
    """The text of ``prompts/<name>.txt``."""
    path = shipped("prompts") / f"{name}.txt"
    try:
        return path.read_text(encoding="utf-8").strip() + "\n"
    except OSError as e:
        raise QAError(f"prompt file {path} is missing ({e.strerror}); reinstall qa or restore prompts/") from None


def placeholders(template: str) -> set[str]:
    """The ``{name}`` placeholders of a template.

    Example: placeholders("Passages:\\n{passages}\\nQuestion: {question}") -> {"passages", "question"}
    """
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}
