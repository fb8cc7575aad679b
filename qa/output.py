"""Terminal output: answers with numbered sources, ingest progress. Plain text when piped or NO_COLOR."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from rich.console import Console
from rich.markup import escape

from .answer import Answer


def console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, no_color=bool(os.environ.get("NO_COLOR")), highlight=False, soft_wrap=True)


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


class Printer:
    def __init__(self, out: Console | None = None):
        self.out = out or console()

    def stream_answer(self, items: Iterable[str | Answer], quote_limit: int | None = None) -> Answer:
        """Print pieces as they come, then the sources of the final answer."""
        answer: Answer | None = None
        streamed = False
        for item in items:
            if isinstance(item, Answer):
                answer = item
            else:
                self.out.print(escape(item), end="")
                self.out.file.flush()
                streamed = True
        assert answer is not None
        if streamed:
            self.out.print()
        else:
            self.out.print(escape(answer.answer))
        self.sources(answer, quote_limit)
        return answer

    def sources(self, answer: Answer, quote_limit: int | None = None) -> None:
        if answer.refused or not answer.citations:
            return
        unsupported = [s for s in answer.sentences if not s.supported]
        if unsupported:
            for s in unsupported:
                self.out.print(f"[yellow]unsupported:[/] {escape(shorten(s.text, 100))}")
        self.out.print()
        self.out.print("[bold]Sources[/]")
        for c in answer.citations:
            date = f" ({c.date})" if c.date else ""
            quote = shorten(c.quote, quote_limit) if quote_limit else c.quote
            self.out.print(f"[bold][{c.n}][/] {escape(c.title)}{escape(date)} [dim]{escape(c.source)}[/]")
            self.out.print(f"    “{escape(quote)}”")


def ingest_with_progress(assistant: Any, paths: Iterable[str], prune: bool = False, rebuild: bool = False):
    """Run an ingest with a progress bar on stderr; print problems and the one-line summary."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    err = console(stderr=True)
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[chunks]} chunks"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("ingesting", total=None, chunks=0)
        embedded = 0

        def progress(kind: str, n: int) -> None:
            nonlocal embedded
            if kind == "files":
                bar.update(task, total=n)
            elif kind == "file":
                bar.advance(task, n)
            elif kind == "chunks":
                embedded += n
                bar.update(task, chunks=embedded)

        report = assistant.ingest(list(paths), prune=prune, rebuild=rebuild, progress=progress)
    for p in report.problems:
        err.print(f"qa: skipped {escape(str(p))}")
    console().print(report.summary())
    return report


def read_lines(stream: Any = None) -> Iterator[str]:
    for line in stream or sys.stdin:
        yield line.rstrip("\n")
