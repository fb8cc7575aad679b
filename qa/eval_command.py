"""``qa eval``: pick the index, ingest, ask every question, print, write the reports, check thresholds.

The measuring is :mod:`qa.eval`, the showing :mod:`qa.eval_report`; this module joins them.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import QAError, UsageError
from .eval import (
    SEED_ARTICLES,
    SEED_CLAIMS,
    SEED_DATASET,
    EvalQuestion,
    QuestionResult,
    below_thresholds,
    claim_scores,
    load_baseline,
    load_claims,
    load_dataset,
    run,
)
from .eval_report import print_failures, print_table, write_html, write_json


@dataclass
class EvalOptions:
    dataset: str | None = None
    articles: str | None = None
    index: str | None = None  # reuse this index (articles, if given, are ingested into it)
    llm: str | None = None
    llm_options: dict[str, Any] = field(default_factory=dict)
    json_report: str | None = None
    html_report: str | None = None
    baseline: str | None = None
    limit: int | None = None
    date_window: int | None = None
    minimums: dict[str, float | None] = field(default_factory=dict)


def run_command(opts: EvalOptions) -> dict[str, Any]:
    """What ``qa eval`` does: pick the index, ingest, ask, print, write reports, check thresholds."""
    from .assistant import Assistant
    from .output import console, ingest_with_progress

    dataset = Path(opts.dataset) if opts.dataset else SEED_DATASET
    articles = opts.articles or (None if opts.dataset else str(SEED_ARTICLES))
    questions = load_dataset(dataset)[: opts.limit or None]
    baseline = load_baseline(opts.baseline) if opts.baseline else None
    if articles and not Path(articles).exists():
        raise UsageError(f"no articles at {articles}; give a folder of articles with --articles")
    out, err = console(), console(stderr=True)
    with contextlib.ExitStack() as stack:
        index = opts.index
        if index is None and articles:  # a fresh index of its own, gone afterwards
            index = stack.enter_context(tempfile.TemporaryDirectory(prefix="qa-eval-index-"))
        assistant = Assistant(index, llm=opts.llm, **opts.llm_options)
        if articles:
            ingest_with_progress(assistant, [articles])
        if assistant.stats()[0] == 0:
            raise QAError(f"the index {assistant.location} holds no articles; pass --articles DIR")
        records = list(assistant.store.article_records(text=True).values())
        texts, days = [rec.text or "" for rec in records], [rec.date for rec in records]
        results, figs = _ask_with_progress(assistant, questions, err, opts.date_window, texts, days)
    if opts.dataset is None:  # the seed run also measures the support check on its labelled claims
        claims = claim_scores(load_claims(SEED_CLAIMS))
        figs["claim_check_precision"], figs["claim_check_recall"] = claims["precision"], claims["recall"]
        figs["claim_check"] = claims
    meta = {
        "qa_eval": 1,
        "dataset": str(dataset),
        "articles": str(articles) if articles else None,
        "index": str(opts.index) if opts.index else (None if articles else str(assistant.location)),
        "llm": assistant.llm,
        "date_window": opts.date_window,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print_table(out, figs, f"qa eval {dataset.name} ({assistant.llm})", baseline)
    print_failures(out, results)
    if opts.json_report:
        write_json(opts.json_report, meta, figs, results)
    if opts.html_report:
        write_html(opts.html_report, meta, figs, results)
    failing = below_thresholds(figs, opts.minimums)
    if failing:
        raise QAError("below threshold: " + "; ".join(failing))
    return figs


def _ask_with_progress(
    assistant: Any,
    questions: Sequence[EvalQuestion],
    err: Any,
    date_window: int | None,
    texts: Sequence[str],
    days: Sequence[str | None],
):
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[right]} right"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("asking", total=len(questions), right=0)
        right = 0

        def progress(r: QuestionResult) -> None:
            nonlocal right
            right += r.verdict in ("correct", "refused")
            bar.update(task, advance=1, right=right)

        return run(assistant, questions, progress, date_window, texts, days)
