"""qa: answers about news articles, with citations to the exact passages that support them."""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # C module: importing signal takes long enough to be interrupted
import os
import sys


def _started_as_command() -> bool:
    """Is this process the ``qa`` command (its console script, or ``python -m qa.cli``)?"""
    argv = getattr(sys, "orig_argv", [])
    by_module = "-m" in argv and argv[argv.index("-m") + 1 :][:1] == ["qa.cli"]
    return by_module or os.path.basename(sys.argv[0]).removesuffix(".exe") == "qa"


def _interrupted_at_start(signum: int, frame: object) -> None:
    os.write(2, b"qa: interrupted\n")
    os._exit(130)


if _started_as_command():
    # Ctrl-C while the command starts (its imports take a few tenths of a second) ends it at once with
    # exit status 130 and one line, not a traceback of a half-done import; qa.cli takes over from here.
    _signal.signal(_signal.SIGINT, _interrupted_at_start)

from typing import TYPE_CHECKING  # noqa: E402  (the imports after the signal are covered too)

from .config import setup_offline  # noqa: E402

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
