"""``qa chat``: a question-and-answer loop. One question a line when standard input is not a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterable

from .errors import QAError
from .output import Printer, console, ingest_with_progress


def run_chat(assistant, paths: Iterable[str] = ()) -> None:
    paths = list(paths)
    if paths:
        ingest_with_progress(assistant, paths)
    printer = Printer()
    interactive = sys.stdin.isatty()
    if interactive:
        articles, _ = assistant.stats()
        console().print(f"qa chat: {articles} articles in {assistant.location}, generator {assistant.llm}. Ctrl-D quits.")
    while True:
        try:
            line = input("> " if interactive else "")
        except EOFError:
            break
        if not line.strip():
            continue
        if line.strip() in ("/quit", "/exit"):
            break
        try:
            printer.stream_answer(assistant.stream(line))
        except QAError as e:
            console(stderr=True).print(f"qa: error: {e}")
        printer.out.print()
