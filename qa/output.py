"""Terminal output: answers with numbered sources, ingest progress. Plain text when piped or NO_COLOR."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from .cite import place_markers
from .text import TITLE_LIMIT, quoted, shorten, strip_partial_markers
from .types import CONFLICT_PREFIX, Answer, Citation, Conflict, Passage

if TYPE_CHECKING:
    from .settings import Settings
    from .store import ArticleRecord

#: Printed after each answer sentence that the passages it cites do not support (with the reason).
UNSUPPORTED_MARK = "[unsupported]"


def unsupported_mark(reason: str | None) -> str:
    """Example: unsupported_mark("number 3,500 not in [1]") -> "[unsupported: number 3,500 not in [1]]" """
    return f"[unsupported: {reason}]" if reason else UNSUPPORTED_MARK


def console(stderr: bool = False) -> Console:
    """A rich console; rich itself turns colour off when NO_COLOR is set (https://no-color.org).

    On a terminal rich wraps text at word boundaries at the terminal's width (left to the
    terminal, a line breaks inside a word: "link|ed"); piped, a paragraph stays on one line.
    """
    out = Console(stderr=stderr, highlight=False)
    out.soft_wrap = not out.is_terminal
    return out


class Printer:
    """Answers and their sources on a rich console (plain text when it is not a terminal or NO_COLOR is set)."""

    def __init__(self, out: Console | None = None):
        self.out = out or console()

    def stream_answer(
        self, items: Iterable[str | Answer], quote_limit: int | None = None, compact: bool = False
    ) -> Answer:
        """Show the draft as it is written (on a terminal), then the checked answer and its sources.

        The draft numbers citations by passage ("[3]" = the third passage retrieved) while the checked
        answer numbers them in order of appearance, so the draft is shown without markers and replaced
        by the answer once it is complete. Ctrl-C leaves what was written on the screen and re-raises
        KeyboardInterrupt.
        """
        from rich.live import Live

        answer: Answer | None = None
        draft = ""
        live = Live(console=self.out, transient=True, auto_refresh=False) if self.out.is_terminal else None
        shown = 0.0
        try:
            if live:
                live.start()
            for item in items:
                if isinstance(item, Answer):
                    answer = item
                    continue
                draft += item
                if live and time.monotonic() - shown > 0.05:  # redraw at most 20 times a second
                    live.update(Text(strip_partial_markers(draft)), refresh=True)
                    shown = time.monotonic()
        except KeyboardInterrupt:
            if live:
                live.stop()
                live = None
            if draft.strip():
                self.out.print(escape(strip_partial_markers(draft).strip()))
            raise
        finally:
            if live:
                live.stop()
        assert answer is not None
        self.answer_text(answer)
        self.sources(answer, quote_limit, compact=compact)
        return answer

    def answer_text(self, answer: Answer) -> None:
        """The checked answer; each sentence the passages it cites do not back is dimmed and followed by
        :func:`unsupported_mark` (why).

        Shown whether or not the answer has citations: a model that ignored the citation format gets
        every sentence marked.
        """
        if answer.refused or not answer.sentences:
            self.out.print(escape(answer.answer))
            return
        if answer.short_answer:
            marker = f" [{answer.short_citation}]" if answer.short_citation else ""
            self.out.print(f"[bold]{escape(answer.short_answer)}[/]{escape(marker)}")
        parts = []
        for s in answer.sentences:
            c = conflict_of(answer, s.text)
            if c is not None:  # "The sources differ:" in bold yellow, each value with its own marker
                parts.append(
                    f"[bold yellow]{escape(CONFLICT_PREFIX)}[/] {escape(c.sentence()[len(CONFLICT_PREFIX) :].strip())}"
                )
                continue
            text = escape(place_markers(s.text, list(s.citations)))
            parts.append(text if s.supported else f"[dim]{text}[/] [yellow]{escape(unsupported_mark(s.reason))}[/]")
        self.out.print(" ".join(parts))
        unsupported = sum(not s.supported for s in answer.sentences)
        if unsupported:
            self.out.print(
                f"[yellow]{escape(UNSUPPORTED_MARK)}: not backed by the passages it cites "
                f"({unsupported} of {len(answer.sentences)} sentences); check it against the sources.[/]"
            )

    def sources(self, answer: Answer, quote_limit: int | None = None, compact: bool = False) -> None:
        """The numbered sources: title, date and quote; with the file or URL unless ``compact``."""
        if answer.refused or not answer.citations:
            return
        self.out.print()
        self.out.print("[bold]Sources[/]")
        for c in answer.citations:
            date = f" ({c.date})" if c.date else ""
            quote = shorten(c.quote, quote_limit) if quote_limit else c.quote
            if compact:
                self.indented(Text.assemble(shorten(c.title, TITLE_LIMIT), (date, "dim")), label=f"[{c.n}]")
            else:
                self.indented(Text(c.title + date), label=f"[{c.n}]")
                self.indented(Text(c.source, style="dim"))
            self.indented(Text(quoted(quote)))

    def indented(self, text: Text, label: str = "", indent: int = 4) -> None:
        """``text`` after ``label`` ("[1]") and indented to ``indent`` columns, its wrapped lines too.

        On a terminal rich wraps it at words within the terminal's width; piped, it is one line.
        """
        width = max(indent, len(label) + 1)
        if self.out.soft_wrap:
            self.out.print(Text(label.ljust(width), style="bold" if label else "") + text)
            return
        grid = Table.grid()
        grid.add_column(width=width, no_wrap=True)
        grid.add_column(overflow="fold")  # a word wider than the terminal (a path, a URL) folds, never "…"
        grid.add_row(Text(label, style="bold"), text)
        self.out.print(grid)

    def passage(self, citation: Citation, passage: Passage | None) -> None:
        """Source ``citation.n`` in full: title, date, where it is, and its whole passage, the quote in bold."""
        date = f" ({citation.date})" if citation.date else ""
        self.out.print(f"[bold][{citation.n}] {escape(citation.title)}[/]{escape(date)}")
        self.out.print(f"[dim]{escape(citation.source)}[/]")
        if passage is None:
            self.out.print(Text(quoted(citation.quote)))
            return
        text = Text(passage.text)
        a, b = citation.start - passage.start, citation.end - passage.start
        if 0 <= a < b <= len(passage.text):
            text.stylize("bold", a, b)
        self.out.print(text)

    def note(self, text: str) -> None:
        """A dimmed line: what was searched, what a command did."""
        self.out.print(f"[dim]{escape(text)}[/]")


def ingest_with_progress(
    assistant: Any,
    paths: Iterable[str],
    prune: bool = False,
    rebuild: bool = False,
    stop: Callable[[], bool] | None = None,
    watch: Callable[[str, int], None] | None = None,
):
    """Run an ingest with a progress bar on stderr (articles kept of all, chunks embedded); print problems
    and the one-line summary. ``stop`` and ``watch`` (which sees each progress event) go to the ingest."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    err = console(stderr=True)
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("articles, {task.fields[chunks]:,} chunks"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("ingesting", total=None, chunks=0)
        embedded = 0

        def progress(kind: str, n: int) -> None:
            nonlocal embedded
            if watch:
                watch(kind, n)
            if kind == "articles":
                bar.update(task, total=n)
            elif kind == "article":
                bar.advance(task, n)
            elif kind == "chunks":
                embedded += n
                bar.update(task, chunks=embedded)

        report = assistant.ingest(list(paths), prune=prune, rebuild=rebuild, progress=progress, stop=stop)
    for p in report.problems:
        err.print(f"qa: skipped {escape(str(p))}")
    console().print(report.summary())
    return report


def print_settings(settings: Settings) -> None:
    """Each setting on a line: name, value (secrets masked), where it came from, its variable and what it does."""
    rows = settings.rows()
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    out = console()
    for row in rows:
        line = "  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths))
        out.print(f"{line}  {row[4]}", markup=False)


def print_articles(records: list[ArticleRecord], empty: str) -> None:
    """Each article on two lines: the start of its id, date, chunks and title; then its publisher and URL or file.

    ``empty`` is said when there are none.
    """
    out = console()
    if not records:
        out.print(empty, markup=False)
        return
    printer = Printer(out)
    for r in records:
        where = r.url or (r.sources[0] if r.sources else "")
        more = len(r.sources) - 1
        where += f" (+{more} more file{'s' if more > 1 else ''})" if more > 0 else ""
        where = f"{r.publisher}: {where}" if r.publisher else where
        out.print(
            f"{r.id[:12]}  {r.date or 'undated':10}  {r.chunks:4} chunks  {shorten(r.title, TITLE_LIMIT)}", markup=False
        )
        printer.indented(Text(where), indent=14)  # a long path folds under itself
    chunks = sum(r.chunks for r in records)
    out.print(f"{len(records):,} article{'s' if len(records) != 1 else ''}, {chunks:,} chunks", markup=False)


# -- Markdown export ------------------------------------------------------------------------------

_MARKDOWN_SPECIAL = re.compile(r"[\\`*\[\]<>&~]|(?<!\w)_|_(?!\w)")
#: What makes a paragraph a heading, list, quote or rule when it starts with it.
_MARKDOWN_BLOCK_START = re.compile(r"^(?=[#+=|-])|^(\d+)(?=[.)] )")


def _md(text: str) -> str:
    """Text as it reads, on one line: whitespace collapsed, characters Markdown would act on escaped."""
    return _MARKDOWN_SPECIAL.sub(lambda m: "\\" + m.group(), " ".join(text.split()))


def _paragraph(text: str) -> str:
    """``text`` (already escaped) as a paragraph, never a heading, list item or rule."""
    return _MARKDOWN_BLOCK_START.sub(lambda m: (m.group(1) or "") + "\\", text, count=1)


def conflict_of(answer: Answer, sentence: str) -> Conflict | None:
    """The conflict whose "The sources differ: ..." sentence ``sentence`` is, if any."""
    return next((c for c in answer.conflicts if c.sentence(markers=False) == sentence), None)


def _footnote_refs(text: str) -> str:
    """``[n]`` citation markers as Markdown footnote references ``[^n]``."""
    return re.sub(r"\[(\d+)\]", r"[^\1]", text)


def answer_markdown(answer: Answer) -> str:
    """The question as a heading, the answer with footnote references ``[^n]``, and its sources as footnotes.

    The short answer comes first, in bold, when there is one. A refusal is the question and the
    refusal sentence, with no sources. Used by ``qa ask --markdown`` and the chat's ``/save``.
    """
    blocks = [f"# {_md(answer.question)}"]
    if answer.refused or not answer.sentences:
        blocks.append(_paragraph(_md(answer.answer)))
        return "\n\n".join(blocks) + "\n"
    if answer.short_answer:
        ref = f" [^{answer.short_citation}]" if answer.short_citation else ""
        blocks.append(f"**{_md(answer.short_answer)}**{ref}")
    parts = []
    for s in answer.sentences:
        conflict = conflict_of(answer, s.text)
        if conflict is not None:
            values = ", ".join(f"{_md(v.text)} [^{v.citation}]" for v in conflict.values)
            parts.append(f"**{_md(CONFLICT_PREFIX)}** {values}.")
            continue
        text = _footnote_refs(place_markers(_md(s.text), list(s.citations)))
        parts.append(text if s.supported else f"{text} {_md(unsupported_mark(s.reason))}")
    blocks.append(_paragraph(" ".join(parts)))
    unsupported = sum(not s.supported for s in answer.sentences)
    if unsupported:
        blocks.append(
            f"{_md(UNSUPPORTED_MARK)}: not backed by the passages it cites "
            f"({unsupported} of {len(answer.sentences)} sentences); check it against the sources."
        )
    notes = []
    for c in answer.citations:
        date = f" ({c.date})" if c.date else ""
        where = f"<{c.source}>" if re.fullmatch(r"https?://[^\s<>]+", c.source) else _md(c.source)
        notes.append(f"[^{c.n}]: {_md(c.title)}{date}, {where} — {_md(quoted(c.quote))}")
    if notes:
        blocks.append("\n".join(notes))
    return "\n\n".join(blocks) + "\n"
