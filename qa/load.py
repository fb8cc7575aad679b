"""Load news articles from files: plain text / markdown, HTML, and JSON Lines.

A text file may start with header lines before a blank line::

    title: Rocket attack on Al-Asad
    date: 2024-08-06
    url: https://example.com/story

    Body text ...

or with the seed articles' one-line form ``date 2024-08-06 Body text ...``.
Problems (binary file, undecodable text, empty article, malformed JSON line) are
returned as :class:`Problem` values, never raised, so one bad file loses nothing else.

One article may hold at most ``MAX_ARTICLE_BYTES`` (5 MB, about a million words; a long
news article is under 100 kB). A bigger text or HTML file is reported, not read: it is most
likely many articles in one file, which would be cited as one. JSON Lines files may be of
any size: they are read a line at a time and each line is one article.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .chunk import split_sentences
from .text import TITLE_LIMIT, written_day

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES
HEADER_KEYS = ("title", "date", "url", "source")
#: What scrapers and feeds call an article's date (news-please, newspaper3k, schema.org, RSS), read as
#: ``date``; compared in lower case without "_" or "-" ("published_at", "datePublished", "pubDate").
DATE_ALIASES = frozenset({"published", "publishdate", "datepublish", "publishedat", "datepublished", "pubdate"})
MAX_ARTICLE_BYTES = 5_000_000

#: A header line: ``key: value``. Header lines open the file and end at a blank line; at least one
#: names a key qa reads (:data:`HEADER_KEYS` or a date alias), the others ("author:", "tags:") are
#: passed over.
_HEADER_LINE = re.compile(r"^([A-Za-z][\w-]{0,30})\s*:\s*(.*?)\s*$")
_LEADING_DATE = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\b[ \t]*")
#: "WASHINGTON (AP) — ", "KYIV, Ukraine (Reuters) - ": the place and agency a news story opens with.
_DATELINE = re.compile(
    r"^[A-Z][A-Z.'-]+(?: [A-Z][A-Z.'-]+)*(?:, [A-Z][\w.]*(?: [A-Z][\w.]*)*)?(?: \([^)]{1,40}\))? ?[—–-]{1,2} "
)
#: A date field written as one number, "20240806".
_COMPACT_DAY = re.compile(r"^((?:19|20)\d\d)(\d\d)(\d\d)$")
#: A day in an article's address, as news sites write it: "/2026/01/03/" or "/2026-01-03-".
_URL_DAY = re.compile(r"/((?:19|20)\d\d)[/-](\d\d?)[/-](\d\d?)(?!\d)")
#: An article's date may stand on one of its first lines ("Updated Jan. 3, 2026, 2:06 p.m. ET"),
#: a short one: a longer line is a sentence of the story, whose dates are the story's.
DATELINE_LINES = 3
DATELINE_CHARS = 100
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)]*$")
_CLAUSE_BREAK = re.compile(r"[,;:] | [—–-]{1,2} ")


@dataclass(frozen=True)
class Article:
    """One article. ``text`` is what chunk spans and citation offsets index into."""

    text: str
    title: str
    source: str  # the file it came from (``file.jsonl#3`` for JSON Lines)
    date: str | None = None
    url: str | None = None
    publisher: str | None = None  # a "source:" header (or JSON field): who published it
    titled: bool = True  # False: the file gave no title, and ``title`` is its first sentence (:func:`default_title`)

    @property
    def id(self) -> str:
        """Content address: the same text under two names is one article."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:24]


@dataclass(frozen=True)
class Problem:
    """Something that could not be ingested, and why."""

    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


def iter_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path | Problem]:
    """Files to ingest under ``paths`` (folders recursively), sorted, each once.

    Hidden files and folders and unknown suffixes inside folders are skipped; a path
    named explicitly with an unknown suffix or that does not exist is a Problem, and so is
    a folder with no file qa reads.
    Symlinked folders are followed once (loops are cut by their real path).
    """
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            empty = True
            for found in _walk(path, seen):
                empty = False
                yield found
            if empty and next(_walk(path, set()), None) is None:  # not merely all seen under another path
                kinds = ", ".join(sorted(SUFFIXES))
                yield Problem(str(path), f"no files of a kind qa reads ({kinds}) in this folder")
        elif path.is_file():
            if path.suffix.lower() not in SUFFIXES:
                yield Problem(
                    str(path), f"unsupported file type {path.suffix or '(none)'!r}; use .txt, .md, .html or .jsonl"
                )
            elif path.resolve() not in seen:
                seen.add(path.resolve())
                yield path
        else:
            yield Problem(str(path), "no such file or folder")


def _walk(root: Path, seen: set[Path]) -> Iterator[Path]:
    visited_dirs: set[Path] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = Path(dirpath).resolve()
        if real in visited_dirs:
            dirnames[:] = []
            continue
        visited_dirs.add(real)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if name.startswith(".") or path.suffix.lower() not in SUFFIXES or not path.is_file():
                continue
            resolved = path.resolve()
            if resolved not in seen:
                seen.add(resolved)
                yield path


def load_file(path: Path) -> tuple[list[Article], list[Problem]]:
    """Every article in ``path`` and every problem met reading it."""
    suffix = path.suffix.lower()
    try:
        if suffix in JSONL_SUFFIXES:
            return load_jsonl(path)
        size = path.stat().st_size
        if size > MAX_ARTICLE_BYTES:
            return [], [
                Problem(
                    str(path),
                    f"{size / 1e6:.1f} MB is too big for one article (the limit is "
                    f"{MAX_ARTICLE_BYTES / 1e6:.0f} MB); split it into one file per article, "
                    "or a .jsonl file with one article a line",
                )
            ]
        data = path.read_bytes()
    except OSError as e:
        return [], [Problem(str(path), f"cannot read: {e.strerror or e}")]
    text, problem = decode(data, str(path))
    if problem:
        return [], [problem]
    assert text is not None
    if suffix in HTML_SUFFIXES:
        article = parse_html(text, str(path))
    else:
        article = parse_text(text, str(path))
    if isinstance(article, Problem):
        return [], [article]
    return [article], []


def decode(data: bytes, source: str) -> tuple[str | None, Problem | None]:
    """UTF-8 text (a BOM is dropped), or the reason it is not text."""
    if b"\x00" in data[:8192]:
        return None, Problem(source, "binary file, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return None, Problem(source, f"not UTF-8 text (bad byte at offset {e.start}); convert it to UTF-8")
    return text.replace("\r\n", "\n").replace("\r", "\n"), None


def parse_text(raw: str, source: str) -> Article | Problem:
    """A text/markdown article with optional header lines.

    >>> a = parse_text("title: T\\ndate: 2024-08-06\\n\\nBody.", "x.txt")
    >>> (a.title, a.date, a.text)
    ('T', '2024-08-06', 'Body.')
    >>> parse_text(" date 2024-08-06 At least five.", "s.txt").date
    '2024-08-06'
    """
    headers: dict[str, str] = {}
    body = raw
    lines = raw.split("\n")
    block: list[re.Match[str]] = []
    while len(block) < len(lines) and (m := _HEADER_LINE.match(lines[len(block)])):
        block.append(m)
    ends = len(block) == len(lines) or not lines[len(block)].strip()
    if block and ends and any(_header_key(m.group(1)) for m in block):
        for m in block:
            if (key := _header_key(m.group(1))) and not headers.get(key):
                headers[key] = m.group(2)
        body = "\n".join(lines[len(block) :])
    elif m := _LEADING_DATE.match(raw):
        headers["date"] = m.group(1)
        body = raw[m.end() :]
    return make_article(body, source, **headers)


def _header_key(name: str) -> str | None:
    """The header key qa reads under ``name`` ("Published" is the date), or None."""
    key = name.lower()
    return "date" if key.replace("_", "").replace("-", "") in DATE_ALIASES else key if key in HEADER_KEYS else None


def parse_html(raw: str | bytes, source: str, url: str | None = None) -> Article | Problem:
    """The article text of an HTML page (navigation, ads and footers dropped).

    ``raw`` may be bytes of a fetched page (trafilatura finds their encoding); ``url`` is the
    page's address, when it came from the web.
    """
    import trafilatura

    doc = trafilatura.bare_extraction(raw, url=url, with_metadata=True, include_comments=False, favor_precision=True)
    if doc is None or isinstance(doc, dict) or not (doc.text or "").strip():  # a dict only with as_dict=True
        return Problem(source, "no article text found in the HTML")
    return make_article(doc.text or "", source, title=doc.title, date=doc.date, url=doc.url)


def parse_jsonl(raw: str, source: str) -> tuple[list[Article], list[Problem]]:
    """One article per line: ``{"title", "text" or "body", "date"?, "url"?, "source"?}``."""
    articles: list[Article] = []
    problems: list[Problem] = []
    for lineno, line in enumerate(raw.split("\n"), start=1):
        item = parse_jsonl_line(line, source, lineno)
        if isinstance(item, Article):
            articles.append(item)
        elif item:
            problems.append(item)
    return articles, problems


def load_jsonl(path: Path) -> tuple[list[Article], list[Problem]]:
    """:func:`parse_jsonl` over a file read a line at a time (a feed may be far bigger than memory wants)."""
    articles: list[Article] = []
    problems: list[Problem] = []
    with path.open("rb") as f:
        head = f.read(8192)
        if b"\x00" in head:
            return [], [Problem(str(path), "binary file, not text")]
        f.seek(3 if head.startswith(b"\xef\xbb\xbf") else 0)
        for lineno, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                problems.append(
                    Problem(
                        f"{path}:{lineno}", f"not UTF-8 text (bad byte at column {e.start + 1}); convert it to UTF-8"
                    )
                )
                continue
            item = parse_jsonl_line(line, str(path), lineno)
            if isinstance(item, Article):
                articles.append(item)
            elif item:
                problems.append(item)
    return articles, problems


def parse_jsonl_line(line: str, source: str, lineno: int) -> Article | Problem | None:
    """The article on one JSON Lines line, the problem with it, or None for a blank line."""
    if not line.strip():
        return None
    where = f"{source}:{lineno}"
    if len(line) > MAX_ARTICLE_BYTES:
        return Problem(
            where,
            f"{len(line) / 1e6:.1f} MB is too big for one article (the limit is {MAX_ARTICLE_BYTES / 1e6:.0f} MB)",
        )
    try:
        obj = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as e:
        return Problem(where, f"malformed JSON ({getattr(e, 'msg', 'nested too deeply')})")
    if not isinstance(obj, dict):
        return Problem(where, "expected a JSON object")
    body = obj.get("text", obj.get("body"))
    if not isinstance(body, str):
        return Problem(where, 'needs a "text" or "body" string')
    fields = {
        k: v for k in HEADER_KEYS if isinstance(v := _field(obj, k), str | int | float) and not isinstance(v, bool)
    }
    item = make_article(body, f"{source}#{lineno}", **{k: str(v) for k, v in fields.items()})
    return Problem(where, item.reason) if isinstance(item, Problem) else item


def _field(obj: dict[str, Any], key: str) -> Any:
    """``obj[key]``; for the date, else the first field named as one of its aliases ("published", ...)."""
    if key == "date" and obj.get("date") in (None, ""):
        return next((v for k, v in obj.items() if _header_key(k) == "date" and v not in (None, "")), None)
    return obj.get(key)


def make_article(
    body: str,
    origin: str,
    title: str | None = None,
    date: str | None = None,
    url: str | None = None,
    **extra: str | None,
) -> Article | Problem:
    text = body.strip()
    if not text:
        return Problem(origin, "empty article (no text)")
    given = (title or "").strip()
    return Article(
        text=text,
        title=given or default_title(text),
        source=origin,
        date=article_day(date, url, text),
        url=url or None,
        publisher=(extra.get("source") or "").strip() or None,  # kept beside the url, not in its place
        titled=bool(given),
    )


def article_day(date: str | None, url: str | None, text: str) -> str | None:
    """The article's day, ``YYYY-MM-DD``: its date as given, the ISO way or written ("Aug. 6, 2024");
    else the day in its address (".../2026/01/03/..."); else a day on one of the short lines it
    opens with ("Updated Jan. 3, 2026, 2:06 p.m. ET"). A news article without a date line mostly
    carries one of those, and the question's day is read against it (an undated article is only
    as good as any other). A date that names no day ("yesterday") counts as none.

    Example: article_day(None, "https://x.com/story/2026/01/03/maduro/", "Body.") -> "2026-01-03"
    """
    if date and (day := written_day(_COMPACT_DAY.sub(r"\1-\2-\3", date.strip()))):
        return day
    if url and (m := _URL_DAY.search(urlsplit(url).path)):
        if day := written_day("-".join(f"{int(x):02d}" for x in m.groups())):
            return day
    opening = [line for line in text.lstrip().split("\n", 2 * DATELINE_LINES) if line.strip()][:DATELINE_LINES]
    return next((day for line in opening if len(line) <= DATELINE_CHARS and (day := written_day(line))), None)


def default_title(text: str, limit: int = TITLE_LIMIT) -> str:
    """A title for an article that has none: its first sentence, shortened at a word with "…".

    Lines that are not sentences (a byline, "Updated Jan. 3, 2026, 5:19 p.m. ET", a section name)
    and a dateline ("WASHINGTON (AP) — ") are passed over, so that articles of one paper are told
    apart; a long sentence is cut at a clause break (a comma, semicolon or dash) when one leaves at
    least half of ``limit``, else at the last whole word.

    Example: default_title("Updated 5:19 p.m. ET\n\nWASHINGTON (AP) — Iran said yes. Then no.")
    -> "Iran said yes."
    """
    spans = split_sentences(text)
    sentences = [" ".join(text[a:b].split()) for a, b in spans]
    first = next((s for s in sentences if _is_sentence(s)), sentences[0] if sentences else text.strip())
    first = _DATELINE.sub("", first, count=1) or first
    if len(first) <= limit:
        return first
    cut = first[: limit - 1]
    clause = max((m.start() for m in _CLAUSE_BREAK.finditer(cut)), default=-1)
    cut = cut[:clause] if clause >= limit // 2 else cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:—–-") + "…"


def _is_sentence(text: str) -> bool:
    """Three words or more, ending as a sentence ends: "Iran said yes." but not "By Jane Doe" or "Photos:"."""
    return len(text.split()) >= 3 and bool(_SENTENCE_END.search(text))
