"""qa: answers about news articles, with citations to the exact passages that support them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .config import setup_offline

setup_offline()

if TYPE_CHECKING:
    from .assistant import Assistant
    from .types import Answer, Citation, Sentence

__all__ = ["Answer", "Assistant", "Citation", "Sentence", "ask"]

_default: Assistant | None = None


def ask(question: str) -> Answer:
    """Answer ``question`` from the default index (``QA_INDEX`` or the per-user data folder)."""
    global _default
    from .assistant import Assistant

    if _default is None:
        _default = Assistant()
    return _default.ask(question)


def __getattr__(name: str):  # keep `import qa` light: load the heavy parts on first use
    if name == "Assistant":
        from .assistant import Assistant

        return Assistant
    if name in ("Answer", "Citation", "Sentence"):
        from . import types

        return getattr(types, name)
    raise AttributeError(name)
