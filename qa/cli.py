"""The ``qa`` command: a thin layer over :class:`qa.Assistant`. Expected errors print one line.

Options that are settings (``--index``, ``--llm``...) are resolved with the environment and the
defaults once, here, into :class:`qa.settings.Settings`; ``qa info --settings`` shows the result.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

import click

from . import _started_as_command as started_as_command
from .config import setup_offline
from .errors import QAError, UsageError

if TYPE_CHECKING:
    from .assistant import Assistant
    from .settings import Settings

setup_offline()


def index_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option("--chroma-url", help="Use a Chroma server (QA_CHROMA_URL; token from QA_CHROMA_TOKEN).")(f)
    f = click.option("--index", "index", type=click.Path(file_okay=False), help="Index folder (QA_INDEX).")(f)
    return f


def llm_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option("--base-url", help="OpenAI-compatible endpoint for --llm openai (OPENAI_BASE_URL).")(f)
    f = click.option("--model", help="Model name for --llm openai (QA_MODEL).")(f)
    f = click.option("--llm", help="Generator: extractive, openai or gguf:PATH (QA_LLM).  [default: extractive]")(f)
    return f


def embedder_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option(
        "--embed-model",
        help="Embedding model for --embedder openai (QA_EMBED_MODEL).  [default: text-embedding-3-small]",
    )(f)
    f = click.option(
        "--embed-url", help="OpenAI-compatible embeddings server, e.g. http://host:8080/v1 (QA_EMBED_URL)."
    )(f)
    f = click.option(
        "--embedder",
        type=click.Choice(["builtin", "openai"], case_sensitive=False),
        help="What embeds passages and questions (QA_EMBEDDER).  [default: builtin]",
    )(f)
    return f


def settings(**arguments: Any) -> Settings:
    """The settings of this run: the options given, else the environment, else the defaults."""
    from .settings import Settings

    return Settings.resolve({k: v or None for k, v in arguments.items()})


def assistant(settings: Settings) -> Assistant:
    from .assistant import Assistant

    return Assistant(settings=settings)


def as_of_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--as-of",
        "as_of",
        metavar="YYYY-MM-DD",
        help="The day the question is asked: articles dated near it are preferred.  [default: today]",
    )(f)


def as_of_day(value: str | None):
    """The --as-of day, today when not given; a bad value is a one-line usage error."""
    from datetime import date

    from .errors import UsageError
    from .retrieve import parse_as_of

    try:
        return parse_as_of(value) if value is not None else date.today()
    except UsageError as e:
        raise UsageError(f"--as-of: {e}") from None


def examples(*lines: str) -> str:
    """A help epilog of example command lines; ``\\b`` keeps click from rewrapping them."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


def clean_errors(f: Callable[..., Any]) -> Callable[..., Any]:
    """Turn expected errors into one line on stderr and an exit status; no traceback."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except QAError as e:
            click.echo(f"qa: error: {e}", err=True)
            sys.exit(e.exit_code)
        except KeyboardInterrupt:
            sys.stdout.flush()
            exit_interrupted()

    return wrapper


def exit_interrupted(signum: int | None = None, frame: Any = None) -> NoReturn:
    """Ctrl-C: say so in one line and leave with exit status 130, at once.

    Not through the interpreter's shutdown: the embedding model or spaCy may still be loading in a
    thread, and tearing that down aborts the process ("terminate called without an active
    exception"). As a SIGINT handler (``qa ask``, and ``qa chat`` until its session starts) it also
    spares a KeyboardInterrupt landing half-way through a redraw of the answer.
    """
    for fd in (1, 2):
        if os.isatty(fd):
            os.write(fd, b"\x1b[?25h")  # show the cursor a live answer or a progress bar hid
    os.write(2, b"qa: interrupted\n")
    os._exit(130)


#: After Ctrl-C or SIGTERM an ingest stops at its next safe point, within a second or two; if it has not
#: stopped after this many seconds (a slow web page, a long write), it leaves at once.
STOP_GRACE_SECONDS = 10.0


class IngestStopper:
    """Ctrl-C and SIGTERM during ``qa ingest`` (and ``qa chat PATHS``'s ingest), as signal handlers.

    Until the ingest starts writing (its first progress event), a signal leaves at once, as
    :func:`exit_interrupted`. Then the first one asks it to stop at its next safe point (``stop``):
    what is written stays, and :meth:`leave` says in one line how many articles are kept, exit status
    130. A second signal, or a stop that takes more than :data:`STOP_GRACE_SECONDS`, leaves at once with
    the same line: as safe as a kill, which the next ingest repairs (see qa/ingest.py).
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.requested = False
        self.writing = False
        self.kept = self.total = 0
        self._before: list[Any] = []
        self._timer: Any = None

    def __enter__(self) -> IngestStopper:
        self._before = [signal.signal(s, self._signal) for s in self.SIGNALS]
        return self

    def __exit__(self, *exc: object) -> None:
        if self._timer is not None:  # it finished before the grace ran out
            self._timer.cancel()
        for s, handler in zip(self.SIGNALS, self._before):
            signal.signal(s, handler)

    def stop(self) -> bool:
        return self.requested

    def watch(self, kind: str, n: int) -> None:
        """Sees each progress event of the ingest: the articles counted and kept."""
        self.writing = True
        if kind == "articles":
            self.total = n
        elif kind == "article":
            self.kept += n

    def _signal(self, signum: int, frame: Any) -> None:
        if not self.writing:
            exit_interrupted()
        if self.requested:
            self.leave()
        self.requested = True
        import threading

        self._timer = threading.Timer(STOP_GRACE_SECONDS, self.leave)
        self._timer.daemon = True
        self._timer.start()

    def leave(self, report: Any = None) -> NoReturn:
        """One line, ``qa: interrupted: 312 of 886 articles kept; run the same command to finish``, exit 130."""
        from .ingest import IngestReport

        if report is None:
            report = IngestReport(kept=self.kept, total=self.total)
        sys.stdout.flush()
        for fd in (1, 2):
            if os.isatty(fd):
                os.write(fd, b"\x1b[?25h")  # show the cursor the progress bar hid
        os.write(2, f"qa: {report.interrupted()}\n".encode())
        os._exit(130)


def ingest_until_stopped(a: Assistant, paths: tuple[str, ...], prune: bool = False, rebuild: bool = False):
    """An ingest with its progress bar that Ctrl-C or SIGTERM stops cleanly (:class:`IngestStopper`)."""
    from .ingest import IngestInterrupted
    from .output import ingest_with_progress

    with IngestStopper() as stopper:
        try:
            return ingest_with_progress(a, paths, prune=prune, rebuild=rebuild, stop=stopper.stop, watch=stopper.watch)
        except IngestInterrupted as e:
            stopper.leave(e.report)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=examples(
        "qa ingest ~/news/",
        'qa ask --since 2024-08 "Who won the election?"',
        "qa chat ~/news/",
    ),
)
@click.version_option(package_name="qa")
def main() -> None:
    """Ask questions about news articles; every answer cites the passages it comes from."""
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C is KeyboardInterrupt again (see qa/__init__)


@main.command(
    epilog=examples(
        "qa ingest ~/news/",
        "qa ingest https://example.com/news/story.html https://example.com/rss.xml",
        "qa ingest --prune ~/news/ feeds/today.jsonl",
    )
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(), metavar="PATH|URL...")
@click.option("--prune", is_flag=True, help="Drop articles whose files are gone (articles from URLs stay).")
@click.option("--rebuild", is_flag=True, help="Empty the index first and ingest from scratch.")
@index_options
@embedder_options
@clean_errors
def ingest(
    paths: tuple[str, ...], prune: bool, rebuild: bool, index: str | None, chroma_url: str | None, **embed: Any
) -> None:
    """Add the articles in files or folders (.txt, .md, .html, .jsonl) and at http(s) URLs.

    A URL is a web page (its article text) or an RSS/Atom feed (each item's page). Unchanged
    files and pages are skipped; whatever cannot be read is one line on stderr, and the exit
    status is then 1.
    """
    report = ingest_until_stopped(
        assistant(settings(index=index, chroma_url=chroma_url, **embed)), paths, prune=prune, rebuild=rebuild
    )
    if report.problems:
        sys.exit(1)


def filter_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option(
        "--source", metavar="TEXT", help="Only articles whose file, URL or title contains TEXT (any case)."
    )(f)
    f = click.option(
        "--until", metavar="DATE", help="Only articles dated DATE or earlier (YYYY-MM-DD, or YYYY-MM: to its last day)."
    )(f)
    f = click.option(
        "--since",
        metavar="DATE",
        help="Only articles dated DATE or later (YYYY-MM-DD, or YYYY-MM: from its first day).",
    )(f)
    return f


def option_filter(since: str | None, until: str | None, source: str | None):
    """The filter --since, --until and --source make (the chat's /filter, as a Filter); None for none."""
    from .retrieve import make_filter

    return make_filter(since, until, source, name="--{}")


@main.command(
    epilog=examples(
        'qa ask "How many US troops are in Iraq?"',
        'qa ask --since 2024-08 --until 2024-09-15 --source reuters --json "Who won the election?"',
        'echo "Who won the election?" | qa ask --markdown - > answer.md',
    )
)
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--markdown", "as_markdown", is_flag=True, help="Print Markdown: the answer, its sources as footnotes.")
@filter_options
@click.option("--top-k", "top_k", type=click.IntRange(1), metavar="N", help="Passages retrieved (QA_K).  [default: 6]")
@as_of_option
@index_options
@embedder_options
@llm_options
@clean_errors
def ask(
    question: str,
    as_json: bool,
    as_markdown: bool,
    since: str | None,
    until: str | None,
    source: str | None,
    top_k: int | None,
    as_of: str | None,
    index: str | None,
    chroma_url: str | None,
    llm: str | None,
    model: str | None,
    base_url: str | None,
    **embed: Any,
) -> None:
    """Answer QUESTION with citations; - reads the question from standard input."""
    from .assistant import check_question
    from .embed import preload

    signal.signal(signal.SIGINT, exit_interrupted)  # nothing to keep: Ctrl-C leaves at once, whatever is loading
    if as_json and as_markdown:
        raise UsageError("--json and --markdown: give one of them")
    if question == "-":
        question = " ".join(sys.stdin.read().split())
    check_question(question)
    day = as_of_day(as_of)
    search_filter = option_filter(since, until, source)
    s = settings(index=index, chroma_url=chroma_url, llm=llm, model=model, base_url=base_url, k=top_k, **embed)
    a = assistant(s)
    if a.missing:  # before the model loads in another thread: exiting under it would abort
        raise QAError(a.empty_message())
    if s.llm == "extractive":
        from .reader import neural
        from .reader.nlp import start_worker

        start_worker()  # spaCy's import (1-2 s) runs in a child process on the other core
        if neural.READER_FILE.exists():  # the span reader the shipped model reads (answer model 29)
            neural.preload()
    preload()  # the model loads on the other core while Chroma is imported and opened
    if as_json:
        answer = a.ask(question, filter=search_filter, as_of=day)
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    elif as_markdown:
        from .output import answer_markdown

        click.echo(answer_markdown(a.ask(question, filter=search_filter, as_of=day)), nl=False)
    else:
        from .output import Printer

        printer = Printer()
        answer = printer.stream_answer(a.stream(question, filter=search_filter, as_of=day))
        if answer.refused and search_filter:
            printer.note(f"(only articles matching {search_filter.describe()} were searched)")
    answered()


def answered() -> None:
    """The answer is out: a Ctrl-C from now on has nothing left to stop, and is ignored; the ``qa``
    command then leaves at once.

    The interpreter's shutdown gives SIGINT back its default action before the process ends, so a
    Ctrl-C pressed just as the answer appears would kill it by the signal (no exit status, no
    "qa: interrupted"); ignored, the process ends as it would have, with status 0.

    The shutdown itself takes 0.2-0.3 s (it frees the modules of Chroma and the models, measured with
    ``/usr/bin/time qa ask``), about a tenth of the whole command, and does nothing an answer needs:
    the output is flushed here, and what ``qa ask`` writes (a keyword index it had to rebuild) is
    written before it answers. Called from Python (``main([...])``) rather than as the command, it returns.
    """
    sys.stdout.flush()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if started_as_command():
        sys.stderr.flush()
        if (nlp := sys.modules.get("qa.reader.nlp")) is not None:
            nlp.stop_worker()  # spaCy's child process, which may still be loading its model
        os._exit(0)


@main.command(epilog=examples("qa chat", "qa chat ~/news/", "qa chat --llm openai --as-of 2024-08-06 seeds/"))
@click.argument("paths", nargs=-1, type=click.Path())
@as_of_option
@index_options
@embedder_options
@llm_options
@clean_errors
def chat(
    paths: tuple[str, ...],
    as_of: str | None,
    index: str | None,
    chroma_url: str | None,
    llm: str | None,
    model: str | None,
    base_url: str | None,
    **embed: Any,
) -> None:
    """Chat about the articles. PATHS, if given, are ingested first (unchanged files are skipped)."""
    from .chat import run_chat
    from .embed import preload

    signal.signal(signal.SIGINT, exit_interrupted)  # until the session starts, Ctrl-C leaves at once
    day = as_of_day(as_of) if as_of is not None else None  # None: each question is asked today
    s = settings(index=index, chroma_url=chroma_url, llm=llm, model=model, base_url=base_url, **embed)
    preload()
    a = assistant(s)
    if paths:
        ingest_until_stopped(a, paths)  # Ctrl-C stops it cleanly, keeping what is written, and leaves
    run_chat(a, as_of=day)  # once the index is open, in the session, Ctrl-C stops the answer being written


@main.command(
    epilog=examples(
        "qa mcp", "qa mcp --index ~/news-index", "qa mcp --llm openai --as-of 2024-08-06 --index ~/news-index"
    )
)
@as_of_option
@index_options
@llm_options
@clean_errors
def mcp(
    as_of: str | None,
    index: str | None,
    chroma_url: str | None,
    llm: str | None,
    model: str | None,
    base_url: str | None,
) -> None:
    """Serve the index to MCP clients over stdio: tools ask, search and list_articles (needs qa[mcp])."""
    from .mcp_server import QAServer

    day = as_of_day(as_of) if as_of is not None else None  # None: each question is asked today
    s = settings(index=index, chroma_url=chroma_url, llm=llm, model=model, base_url=base_url)
    QAServer(assistant(s), as_of=day).run()


_THRESHOLDS = [
    ("accuracy", "accuracy"),
    ("f1", "f1"),
    ("sentence-accuracy", "sentence_accuracy"),
    ("refusal-precision", "refusal_precision"),
    ("refusal-recall", "refusal_recall"),
    ("citation-recall", "citation_recall"),
    ("citation-precision", "citation_precision"),
    ("sources-cited", "sources_cited"),
    ("hit-at-k", "retrieval_hit_at_k"),
    ("mrr", "retrieval_mrr"),
]


def threshold_options(f: Callable[..., Any]) -> Callable[..., Any]:
    for flag, key in reversed(_THRESHOLDS):
        f = click.option(
            f"--min-{flag}", key, type=click.FloatRange(0, 1), metavar="X", help=f"Exit 1 when {key} is below X."
        )(f)
    return f


@main.command(
    "eval",
    epilog=examples(
        "qa eval",
        "qa eval questions.jsonl --articles DIR --json now.json --html now.html",
        "qa eval questions.jsonl --articles DIR --baseline before.json --min-accuracy 0.8",
    ),
)
@click.argument("dataset", required=False, type=click.Path(dir_okay=False))
@click.option(
    "--articles",
    type=click.Path(),
    help="Ingest this folder into a fresh index first (default with no DATASET: seeds/).",
)
@click.option(
    "--index",
    "index",
    type=click.Path(file_okay=False),
    help="Use (and keep) this index instead of a fresh one; --articles are ingested into it, unchanged files skipped.",
)
@click.option("--json", "json_report", type=click.Path(dir_okay=False), help="Write every figure and answer as JSON.")
@click.option("--html", "html_report", type=click.Path(dir_okay=False), help="Write a page to scan for failures.")
@click.option(
    "--baseline", type=click.Path(dir_okay=False), help="A previous --json report: print each figure's change."
)
@click.option("--limit", type=click.IntRange(1), help="Ask only the first N questions.")
@click.option(
    "--date-window",
    type=click.IntRange(0),
    metavar="DAYS",
    help="Search only articles of the DAYS days up to each question's date (questions with a date).",
)
@embedder_options
@llm_options
@threshold_options
@clean_errors
def eval_(
    dataset: str | None,
    articles: str | None,
    index: str | None,
    json_report: str | None,
    html_report: str | None,
    baseline: str | None,
    limit: int | None,
    date_window: int | None,
    llm: str | None,
    model: str | None,
    base_url: str | None,
    embedder: str | None,
    embed_url: str | None,
    embed_model: str | None,
    **minimums: float | None,
) -> None:
    """Measure answers against DATASET (JSONL; default: the seed set about seeds/).

    Accuracy and token F1, refusals, ALCE citation recall/precision, retrieval hit@k/MRR, latency.
    """
    from .eval_command import EvalOptions, run_command

    given = {
        "model": model,
        "base_url": base_url,
        "embedder": embedder,
        "embed_url": embed_url,
        "embed_model": embed_model,
    }
    options = {k: v for k, v in given.items() if v}
    run_command(
        EvalOptions(
            dataset,
            articles,
            index,
            llm,
            options,
            json_report,
            html_report,
            baseline,
            limit,
            date_window,
            {key: minimums[key] for _, key in _THRESHOLDS},
        )
    )


@main.command(epilog=examples("qa info", "qa info --index /tmp/my-index", "qa info --settings"))
@index_options
@embedder_options
@click.option(
    "--settings",
    "show_settings",
    is_flag=True,
    help="List every setting: its value, where it came from and its environment variable.",
)
@clean_errors
def info(index: str | None, chroma_url: str | None, show_settings: bool, **embed: Any) -> None:
    """Show where the index is, what it holds and what embedded it."""
    s = settings(index=index, chroma_url=chroma_url, **embed)
    if show_settings:
        from .output import print_settings

        print_settings(s)
        return
    a = assistant(s)
    articles, chunks, embedder = a.info()
    click.echo(f"index: {a.location}\narticles: {articles}\nchunks: {chunks}\nembedder: {embedder}")


@main.command(epilog=examples("qa articles", "qa articles --json --index /tmp/my-index"))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@index_options
@embedder_options
@clean_errors
def articles(as_json: bool, index: str | None, chroma_url: str | None, **embed: Any) -> None:
    """List the articles in the index, newest first: id, date, chunks, title, and URL or file."""
    a = assistant(settings(index=index, chroma_url=chroma_url, **embed))
    records = a.articles()
    if as_json:
        keys = ("id", "title", "date", "url", "publisher", "sources", "chunks")
        click.echo(json.dumps([{k: getattr(r, k) for k in keys} for r in records], ensure_ascii=False, indent=2))
        return
    from .output import print_articles

    print_articles(records, a.empty_message())


@main.command(epilog=examples("qa remove 5ac8039a6aa0", "qa remove ~/news/old.txt ~/news/2023/"))
@click.argument("items", nargs=-1, required=True, metavar="ID|PATH...")
@index_options
@embedder_options
@clean_errors
def remove(items: tuple[str, ...], index: str | None, chroma_url: str | None, **embed: Any) -> None:
    """Take articles out of the index: by id (qa articles lists them), by file or folder, or by a
    web page's URL (its article) or a feed's (the articles of its items)."""
    from .text import TITLE_LIMIT, shorten

    report = assistant(settings(index=index, chroma_url=chroma_url, **embed)).remove(items)
    for r in report.removed:
        click.echo(
            f"removed {r.id[:12]} {shorten(r.title, TITLE_LIMIT)} ({r.chunks} chunk{'s' if r.chunks != 1 else ''})"
        )
    if report.removed:
        click.echo("qa ingest of their folders leaves them out from now on; qa ingest FILE adds a file's articles back")
    if report.unknown:
        names = ", ".join(repr(u) for u in report.unknown)
        raise QAError(
            f"not in the index: {names}; give an article's id (or its start), its file or its URL, as qa articles lists them"
        )


@main.command(context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def train(args: tuple[str, ...]) -> None:
    """Fit the answer model from a training set: qa train --data DIR (see python -m qa.train --help)."""
    from .train import main as train_main

    raise SystemExit(train_main(list(args)))


if __name__ == "__main__":
    main()
