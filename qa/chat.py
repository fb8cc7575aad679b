"""``qa chat``: questions and follow-ups in the terminal, with commands for sources and filters.

On a terminal it uses prompt_toolkit (line editing, history kept across sessions in the per-user
data folder, Tab completes commands); Ctrl-C stops the answer being written and keeps the session,
Ctrl-D or ``/quit`` ends it. With standard input not a terminal it reads one question or command a
line, so it can be scripted: ``printf 'Who?\\n/sources\\n' | qa chat``.

Follow-ups are made standalone before retrieval (:mod:`qa.followup`) and the question searched is
shown dimmed.
"""

from __future__ import annotations

import re
import signal
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from .errors import QAError, UsageError
from .followup import standalone_question
from .output import Printer, answer_markdown, console, ingest_with_progress
from .retrieve import Filter, parse_filter
from .text import mask_credentials
from .types import Answer

#: How many earlier turns a follow-up may lean on (sent to an LLM's rewrite).
HISTORY_TURNS = 4
#: Quotes in the list under each answer are cut to this many characters; /sources shows them whole.
QUOTE_LIMIT = 160

HELP = """\
Ask a question in plain words. Follow-ups ("And how many are in Syria?") build on the question before.
  /sources            the last answer's sources in full
  /source N           source N of the last answer: its whole passage, article title, date and file
  /filter FROM..TO    only articles dated FROM to TO (YYYY-MM-DD or YYYY-MM; either side may be left out)
  /filter SOURCE      only articles whose file, URL or title contains SOURCE
  /filter off         search all articles again (/filter alone shows the filter)
  /save FILE          write the last answer and its sources to FILE as Markdown
  /reset              forget the conversation: the next question starts afresh
  /help               this list
  /quit               leave (Ctrl-D does too); Ctrl-C stops an answer being written"""

COMMANDS = ("/help", "/sources", "/source", "/filter", "/save", "/reset", "/quit")


@dataclass(frozen=True)
class Turn:
    question: str  # as typed
    standalone: str  # as searched
    answer: str  # the answer as shown, short answer first (Answer.said); "" when it was cancelled


class ChatSession:
    """One conversation: its turns, the active filter, and the commands. :meth:`handle` takes one line."""

    def __init__(self, assistant, printer: Printer | None = None, as_of: date | None = None):
        self.assistant = assistant
        self.as_of = as_of  # the day questions are asked; None: today, at each question
        self.printer = printer or Printer()
        self.err = console(stderr=True)
        self.turns: list[Turn] = []
        self.last: Answer | None = None  # the last answer completed, for /sources and /source N
        self.filter = Filter()

    def welcome(self) -> str:
        articles, _ = self.assistant.stats()
        model = self.assistant.model
        generator = f"{self.assistant.llm} ({model})" if model else self.assistant.llm
        location = mask_credentials(self.assistant.location)  # never show a password in a URL
        text = (
            f"qa chat · {articles:,} article{'s' if articles != 1 else ''} in {location}"
            f" · generator {generator} · /help for commands, Ctrl-D to quit"
        )
        if not articles:
            text += "\nThe index is empty: quit and run 'qa chat FOLDER' or 'qa ingest FOLDER' to add articles."
        return text

    def prompt(self) -> str:
        return f"qa [{self.filter.describe()}]> " if self.filter else "qa> "

    def handle(self, line: str) -> bool:
        """Act on one line (a question or a command); False when the session should end."""
        line = line.strip()
        if not line:
            return True
        try:
            if line.startswith("/"):
                return self.command(line)
            self.ask(line)
        except QAError as e:
            self.error(str(e))
        except KeyboardInterrupt:
            self.printer.note("(cancelled)")
        return True

    def error(self, message: str) -> None:
        self.printer.out.file.flush()  # keep the order when both streams go to one place
        self.err.print(f"[red]qa: error:[/] {message}", markup=True, highlight=False)

    # -- questions ----------------------------------------------------------------------------

    def ask(self, question: str) -> Answer:
        if not re.search(r"\w", question):
            raise UsageError("the question is empty; type a question, or /help for the commands")
        history = [(t.standalone, t.answer) for t in self.turns[-HISTORY_TURNS:]]
        standalone = standalone_question(question, history, self.assistant.generator.rewrite)
        if standalone != question:
            self.printer.note(f"↳ searching: {standalone}")
        stream = self.assistant.stream(
            question, filter=self.filter or None, search_query=standalone, as_of=self.as_of or date.today()
        )
        try:
            answer = self.printer.stream_answer(stream, quote_limit=QUOTE_LIMIT, compact=True)
        except KeyboardInterrupt:
            self.turns.append(Turn(question, standalone, ""))  # a follow-up may still build on the question
            raise
        finally:
            stream.close()  # on Ctrl-C: stop the generator (and its HTTP stream) now
        if answer.refused and self.filter:
            self.printer.note(f"(only articles matching {self.filter.describe()} were searched; /filter off for all)")
        self.printer.out.print()
        self.turns.append(Turn(question, standalone, answer.said))
        self.last = answer
        return answer

    # -- commands -----------------------------------------------------------------------------

    def command(self, line: str) -> bool:
        name, _, arg = line.partition(" ")
        name, arg = name.lower(), arg.strip()
        if name in ("/quit", "/exit", "/q"):
            return False
        if name in ("/help", "/?", "/h"):
            self.printer.out.print(HELP, markup=False)
        elif name == "/sources":
            answer = self._last_answer()
            if answer.citations:
                self.printer.sources(answer, compact=False)
            else:
                self.printer.note("the last answer cites no sources")
        elif name == "/source":
            self.show_source(arg)
        elif name == "/reset":
            self.turns.clear()
            self.last = None
            note = "conversation forgotten; the next question starts afresh"
            self.printer.note(note + (f" (filter still on: {self.filter.describe()})" if self.filter else ""))
        elif name == "/filter":
            self.set_filter(arg)
        elif name == "/save":
            self.save(arg)
        else:
            raise UsageError(f"unknown command {name}; /help lists the commands")
        return True

    def _last_answer(self) -> Answer:
        if self.last is None:
            raise UsageError("no answer yet; ask a question first")
        return self.last

    def show_source(self, arg: str) -> None:
        answer = self._last_answer()
        count = len(answer.citations)
        if count == 0:
            has = "cites no sources"
        elif count == 1:
            has = "has 1 source (/source 1)"
        else:
            has = f"has {count} sources (/source 1 to /source {count})"
        if not arg:
            raise UsageError(f"say which source: the last answer {has}")
        if not arg.isdigit() or not 1 <= int(arg) <= count:
            raise UsageError(f"there is no source {arg}; the last answer {has}")
        citation = answer.citations[int(arg) - 1]
        passages = {p.id: p for p in answer.passages}
        self.printer.passage(citation, passages.get(citation.passage_id))

    def save(self, arg: str) -> None:
        if not arg:
            raise UsageError("say where: /save FILE")
        if self.last is None:
            raise UsageError("no answer yet; ask a question first")
        path = Path(arg).expanduser()
        try:
            path.write_text(answer_markdown(self.last), encoding="utf-8")
        except OSError as e:
            raise QAError(f"cannot write {arg}: {e.strerror or e}") from None
        self.printer.note(f"saved to {arg}")

    def set_filter(self, arg: str) -> None:
        if arg:
            self.filter = Filter() if arg.lower() in ("off", "none", "clear") else parse_filter(arg, self.filter)
        active = self.filter.describe()
        self.printer.note(f"filter: {active}" if active else "no filter: all articles are searched")


# -- the loop -----------------------------------------------------------------------------------


def run_chat(assistant, paths: Iterable[str] = (), as_of: date | None = None) -> None:
    paths = list(paths)
    if paths:
        ingest_with_progress(assistant, paths)
    session = ChatSession(assistant, as_of=as_of)
    # The welcome opens the index (Chroma's import, most of a second) under the caller's Ctrl-C, which
    # leaves at once: an interrupt inside an import can come out as another error (pydantic's
    # SchemaError). Then, in the session, Ctrl-C stops the answer being written.
    welcome = session.welcome()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    terminal = sys.stdin.isatty() and sys.stdout.isatty()
    lines = _terminal_lines(session) if terminal else _piped_lines()
    if sys.stdin.isatty():
        session.printer.out.print(welcome, markup=False)
    for line in lines:
        if not session.handle(line):
            break


def _piped_lines() -> Iterator[str]:
    for line in sys.stdin:
        yield line.rstrip("\n")


def history_file() -> Path:
    from .settings import _user_dir

    return _user_dir("data") / "chat_history"


def _terminal_lines(session: ChatSession) -> Iterator[str]:
    """Lines typed at a prompt_toolkit prompt; Ctrl-C clears the line, Ctrl-D ends."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
    from prompt_toolkit.completion import Completer, Completion
    from prompt_toolkit.history import FileHistory, History, InMemoryHistory

    class CommandCompleter(Completer):
        def get_completions(self, document, complete_event):
            text = document.text_before_cursor
            if text.startswith("/") and " " not in text:
                for c in COMMANDS:
                    if c.startswith(text):
                        yield Completion(c, start_position=-len(text))

    history: History
    try:
        path = history_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        history = FileHistory(str(path))
    except OSError:
        history = InMemoryHistory()
    prompt: PromptSession[Any] = PromptSession(
        history=history,
        auto_suggest=AutoSuggestFromHistory(),
        completer=CommandCompleter(),
        complete_while_typing=False,
        # prompt_toolkit itself draws without colour when NO_COLOR is set
    )
    while True:
        try:
            yield prompt.prompt([("bold", session.prompt())])
        except KeyboardInterrupt:
            continue
        except EOFError:
            return
