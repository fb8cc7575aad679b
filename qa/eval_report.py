"""How an eval run is shown: a rich table in the terminal, a JSON report, an HTML page for people.

The HTML page lists every question, failures first, with a switch to hide the rest; every
piece of text from the dataset, the articles or the answer is escaped.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .eval import LOWER_IS_BETTER, RECENT_DAYS, QuestionResult
from .text import shorten

#: (key, label, kind) of each figure, in the order shown.
FIGURES: list[tuple[str, str, str]] = [
    ("accuracy", "accuracy (answerable)", "share"),
    ("f1", "token F1 (answerable)", "share"),
    ("sentence_accuracy", "accuracy of the sentences", "share"),
    ("short_answer_share", "answers with a short answer", "share"),
    ("refusal_precision", "refusal precision", "share"),
    ("refusal_recall", "refusal recall (unanswerable)", "share"),
    ("answer_in_articles", "answer occurs in the articles", "share"),
    ("accuracy_when_in_articles", "accuracy when it does", "share"),
    ("refused_when_not_in_articles", "refused when it does not", "share"),
    ("answer_in_recent_articles", f"answer in the articles, in one dated within {RECENT_DAYS} days", "share"),
    ("citation_recall", "citation recall (ALCE)", "share"),
    ("citation_precision", "citation precision (ALCE)", "share"),
    ("sources_cited", "every listed source cited", "share"),
    ("conflicts_shown", "conflict questions showing both sides", "share"),
    ("conflicts_elsewhere", "other answers reporting a conflict", "count"),
    ("retrieval_hit_at_1", "retrieval hit@1", "share"),
    ("retrieval_hit_at_k", "retrieval hit@k", "share"),
    ("retrieval_mrr", "retrieval MRR", "share"),
    ("claim_check_precision", "claim check: precision of unsupported", "share"),
    ("claim_check_recall", "claim check: recall of unsupported", "share"),
    ("latency_p50", "latency p50", "seconds"),
    ("latency_p95", "latency p95", "seconds"),
    ("total_seconds", "total time", "seconds"),
]


def fmt(value: Any, kind: str) -> str:
    """Example: fmt(0.8125, "share") -> "0.812"; fmt(1.5, "seconds") -> "1.50 s"; fmt(None, "share") -> "–" """
    if value is None:
        return "–"
    if kind == "count":
        return str(value)
    return f"{value:.2f} s" if kind == "seconds" else f"{value:.3f}"


def change(new: Any, old: Any, key: str) -> tuple[str, str]:
    """The signed change and a rich style: green when better, red when worse.

    Example: change(0.7, 0.5, "accuracy") -> ("+0.200", "green")
    """
    if new is None or old is None:
        return "–", ""
    d = new - old
    if abs(d) < 1e-9:
        return "±0", "dim"
    better = d < 0 if key in LOWER_IS_BETTER else d > 0
    return f"{d:+.3f}", "green" if better else "red"


def lost_line(figs: dict[str, Any]) -> str | None:
    """Where the answerable questions' answers went, as one line.

    Example: {"lost": {"right": 3, "in no article": 1, "not retrieved": 0, ...}} -> "3 right · 1 in no article"
    """
    lost = figs.get("lost")
    return " · ".join(f"{n} {stage}" for stage, n in lost.items() if n) if lost else None


def print_table(out: Console, figs: dict[str, Any], title: str, baseline: dict[str, Any] | None = None) -> None:
    table = Table(title=title, title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    if baseline is not None:
        table.add_column("baseline", justify="right")
        table.add_column("change", justify="right")
    for key, label, kind in FIGURES:
        if key == "retrieval_hit_at_k":
            label = f"retrieval hit@{figs.get('k', 'k')}"
        row = [label, fmt(figs.get(key), kind)]
        if baseline is not None:
            text, style = change(figs.get(key), baseline.get(key), key)
            row += [fmt(baseline.get(key), kind), f"[{style}]{text}[/]" if style else text]
        table.add_row(*row)
    out.print(table)
    if figs.get("coverage"):
        out.print(
            "coverage (answerable): "
            + ", ".join(f"{p['answered']:.0%} answered → {p['accuracy']:.3f}" for p in figs["coverage"])
        )
    out.print(f"{figs['questions']} questions: {figs['answerable']} answerable, {figs['unanswerable']} unanswerable")
    if line := lost_line(figs):
        out.print(f"where the answerable went: {line}")
    if baseline is not None and (line := lost_line(baseline)):
        out.print(f"  in the baseline: {line}")
    if figs.get("claim_check"):
        c = figs["claim_check"]
        out.print(f"claim check: {c['pairs']} labelled claims ({c['changed']} changed), {len(c['misses'])} misjudged")
    if baseline is not None and baseline.get("questions") != figs["questions"]:
        out.print(
            f"[yellow]note:[/] the baseline ran {baseline.get('questions')} questions, this run {figs['questions']}"
        )


def print_failures(out: Console, results: Sequence[QuestionResult], limit: int = 15) -> None:
    failed = [r for r in results if r.failed]
    if not failed:
        return
    out.print(f"[bold]{len(failed)} failures[/] (all of them in --json / --html):")
    for r in failed[:limit]:
        why = r.verdict if r.verdict not in ("correct", "refused") else "citations"
        out.print(f"  [red]{escape(why)}[/] {escape(r.id)}: {escape(shorten(r.question, 90, at_word=False))}")
    if len(failed) > limit:
        out.print(f"  … and {len(failed) - limit} more")


def write_json(path: str | Path, meta: dict[str, Any], figs: dict[str, Any], results: Sequence[QuestionResult]) -> None:
    from dataclasses import asdict

    data = {**meta, "figures": figs, "questions": [{**asdict(r), "failed": r.failed, "lost": r.lost} for r in results]}
    Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


# -- HTML -------------------------------------------------------------------------------------

_CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em;color:#222}
table.figs td{padding:2px 12px}table.figs td:last-child{text-align:right;font-variant-numeric:tabular-nums}
section{border:1px solid #ddd;border-left:6px solid #4a4;border-radius:4px;margin:1em 0;padding:.5em 1em}
section.failed{border-left-color:#c33}
.tag{display:inline-block;border-radius:3px;padding:0 6px;font-size:85%;background:#eee;margin-right:4px}
.bad{background:#fdd}.good{background:#dfd}
.answer{background:#f7f7f7;padding:.4em .6em;border-radius:3px}
.unsupported{text-decoration:underline wavy #c33}
blockquote{margin:.3em 0 .6em 1em;color:#444;font-size:92%}mark{background:#ffe58a}
body.only-failed section.passed{display:none}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def render_html(meta: dict[str, Any], figs: dict[str, Any], results: Sequence[QuestionResult]) -> str:
    ordered = sorted(results, key=lambda r: not r.failed)  # failures first, dataset order kept within
    rows = "".join(
        f"<tr><td>{_e(label)}</td><td>{_e(fmt(figs.get(key), kind))}</td></tr>" for key, label, kind in FIGURES
    )
    if line := lost_line(figs):
        rows += f"<tr><td>where the answerable went</td><td>{_e(line)}</td></tr>"
    n_failed = sum(r.failed for r in results)
    curve = "".join(
        f"<tr><td>{p['threshold']:.2f}</td><td>{p['answered']:.3f}</td><td>{p['accuracy']:.3f}</td></tr>"
        for p in figs.get("coverage") or []
    )
    if curve:
        rows += (
            "<tr><td colspan=2><b>coverage</b>: accuracy when answering only above a confidence</td></tr>"
            f"<tr><td colspan=2><table><tr><th>confidence ≥</th><th>answered</th><th>accuracy</th></tr>{curve}</table></td></tr>"
        )
    head = (
        f"<h1>qa eval: {_e(Path(str(meta.get('dataset', ''))).name)}</h1>"
        f"<p>dataset {_e(meta.get('dataset'))} · articles {_e(meta.get('articles') or meta.get('index'))} · "
        f"generator {_e(meta.get('llm'))} · {_e(meta.get('created'))}</p>"
        f"<table class=figs>{rows}</table>"
        f"<p><label><input type=checkbox id=only onchange=\"document.body.classList.toggle('only-failed',this.checked)\"> "
        f"show only the {n_failed} failures</label></p>"
    )
    body = "".join(_question_html(r) for r in ordered)
    return (
        "<!doctype html><html><head><meta charset=utf-8><title>qa eval</title>"
        f"<style>{_CSS}</style></head><body>{head}{body}</body></html>\n"
    )


def _question_html(r: QuestionResult) -> str:
    good = r.verdict in ("correct", "refused")
    tags = [f"<span class='tag {'good' if good else 'bad'}'>{_e(r.verdict)}</span>"]
    if r.f1 is not None:
        tags.append(f"<span class=tag>F1 {r.f1:.2f}</span>")
    if r.citation_recall is not None:
        ok = r.citation_recall == 1.0 and r.citation_precision == 1.0
        tags.append(
            f"<span class='tag {'good' if ok else 'bad'}'>citations: recall {r.citation_recall:.2f}, "
            f"precision {r.citation_precision:.2f}</span>"
        )
    if r.sources_cited is not None:
        tags.append(
            f"<span class='tag {'good' if r.sources_cited else 'bad'}'>sources "
            f"{'all cited' if r.sources_cited else 'not all cited'}</span>"
        )
    if r.hit is not None:
        rank = "not retrieved" if r.retrieval_rank is None else f"first relevant passage #{r.retrieval_rank}"
        tags.append(f"<span class=tag>{_e(rank)}</span>")
    if r.lost not in (None, "right"):
        tags.append(f"<span class='tag bad'>lost: {_e(r.lost)}</span>")
    if r.confidence is not None:
        tags.append(f"<span class=tag>confidence {r.confidence:.2f}</span>")
    tags.append(f"<span class=tag>{r.seconds:.2f} s</span>")
    if r.sentences:
        answer = " ".join(
            f"<span class='{'' if s['supported'] else 'unsupported'}'>{_e(s['text'])}</span>"
            + "".join(f" <sup>[{n}]{'' if rel else '✗'}</sup>" for n, rel in zip(s["citations"], s["relevant"]))
            for s in r.sentences
        )
    else:
        answer = _e(r.answer)
    if r.short_answer:
        answer = f"<b>{_e(r.short_answer)}</b><br>{answer}"
    accepted = (
        "cannot be answered from the articles: should refuse"
        if not r.answers
        else " | ".join(" + ".join(_e(p) for p in ([a] if isinstance(a, str) else a)) for a in r.answers)
    )
    cites = "".join(
        f"<p><b>[{c['n']}]</b> {_e(c['title'])} {_e(c.get('date') or '')} <small>{_e(c['source'])}</small></p>"
        f"<blockquote>{_passage_with_quote(c)}</blockquote>"
        for c in r.citations
    )
    retrieved = "".join(
        f"<li>{_e(p['title'])} <small>{_e(p['source'])}</small><br>{_e(p['text'])}</li>" for p in r.retrieved
    )
    extra = ""
    if r.evidence:
        extra += "<p>evidence: " + " | ".join(f"“{_e(e)}”" for e in r.evidence) + "</p>"
    return (
        f"<section class='{'failed' if r.failed else 'passed'}' id='q-{_e(r.id)}'>"
        f"<h3>{_e(r.id)}: {_e(r.question)}</h3><p>{''.join(tags)}</p>"
        f"<div class=answer>{answer}</div><p>accepted: {accepted}</p>{extra}"
        + (f"<details open><summary>cited passages</summary>{cites}</details>" if cites else "")
        + (f"<details><summary>retrieved passages</summary><ol>{retrieved}</ol></details>" if retrieved else "")
        + "</section>"
    )


def _passage_with_quote(c: dict[str, Any]) -> str:
    """The cited passage with the quoted span marked (offsets are article offsets)."""
    passage, p0 = c.get("passage"), c.get("passage_start")
    if not passage or p0 is None:
        return _e(c["quote"])
    a, b = c["start"] - p0, c["end"] - p0
    if not (0 <= a <= b <= len(passage)):
        return _e(c["quote"])
    return f"{_e(passage[:a])}<mark>{_e(passage[a:b])}</mark>{_e(passage[b:])}"


def write_html(path: str | Path, meta: dict[str, Any], figs: dict[str, Any], results: Sequence[QuestionResult]) -> None:
    Path(path).write_text(render_html(meta, figs, results), encoding="utf-8")
