"""qa ingest URL...: web pages and RSS/Atom feeds, fetched from a real HTTP server on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from qa import Assistant
from qa.load import Problem
from qa.web import check_url, is_url

from .conftest import ROOT, SEEDS, run_qa
from .web_server import Resource, news_site

BOILERPLATE = ("Subscribe", "Related stories", "Copyright", "cookies", "Most read", "Log in", "Advertisement", "Jobs")


@pytest.fixture
def site():
    with news_site() as s:
        yield s


@pytest.fixture
def assistant(tmp_path):
    return Assistant(tmp_path / "index")


def by_url(a: Assistant) -> dict[str, object]:
    return {r.url: r for r in a.store.article_records(text=True).values()}


def test_a_page_is_its_article_text_with_title_date_and_url(site, assistant):
    url = site.url("/news/strike.html")
    report = assistant.ingest([url])
    assert (report.added, report.problems) == (1, [])
    [rec] = assistant.store.article_records(text=True).values()
    assert rec.title == "Valdmar dockworkers end six-day strike after pay deal"
    assert (rec.date, rec.url, rec.sources) == ("2024-08-06", url, [url])
    assert "About 2,400 dockworkers at the Port of Valdmar returned to work on Tuesday" in rec.text
    assert "40 million euros" in rec.text
    assert not [w for w in BOILERPLATE if w.lower() in rec.text.lower()]
    hits = assistant.search("Baltic Dockers' Union wages")
    assert hits and hits[0].url == url


def test_feeds_fetch_each_items_page_and_keep_the_items_title_date_and_link(site, assistant):
    rss, atom = site.url("/feeds/rss.xml"), site.url("/feeds/atom.xml")
    report = assistant.ingest([rss, atom])
    got = by_url(assistant)
    storm, tram, bridge = (site.url(f"/news/{n}.html") for n in ("storm", "tram", "bridge"))
    assert set(got) == {storm, tram, bridge} and report.added == 3
    # the feed's title and date win over the page's (the page says "... as rivers burst their banks")
    assert (got[storm].title, got[storm].date) == ("Storm Ilse floods coastal towns", "2024-08-07")
    assert "112 millimetres of rain" in got[storm].text and "Most read" not in got[storm].text
    assert (got[tram].title, got[tram].date) == ("Lindholm tram line approved after years of debate", "2024-08-08")
    assert "9.2-kilometre tram line" in got[tram].text  # the page's text, not the one-line summary
    # the bridge page is gone (404); the Atom entry carries its full text, which stands in
    assert got[bridge].title == "Old town bridge to close for repairs" and got[bridge].date == "2024-08-09"
    assert "corroded steel bearings" in got[bridge].text and "22,000 vehicles a day" in got[bridge].text
    # the glacier page is gone too, and its RSS summary is one line: reported, nothing stored
    [problem] = report.problems
    assert problem.source == site.url("/news/glacier.html")  # a relative link, made absolute
    assert problem.reason.startswith("HTTP 404 Not Found;") and "too short" in problem.reason
    assert site.statuses("/news/bridge.html") == [404] and site.statuses("/news/storm.html") == [200]


def test_a_rerun_asks_conditionally_and_skips_unchanged_pages(site, backend):
    assistant = backend.new_assistant()  # embedded, and on a Chroma server: the manifest keeps the validators
    urls = [site.url("/news/strike.html"), site.url("/feeds/rss.xml"), site.url("/feeds/atom.xml")]
    first = assistant.ingest(urls)
    assert first.added == 4 and first.chunks > 0
    chunks = set(assistant.store.chunk_article_ids())
    site.hits.clear()
    again = assistant.ingest(urls)
    assert (again.added, again.updated, again.removed, again.chunks) == (0, 0, 0, 0)
    assert again.unchanged == 4 and chunks == set(assistant.store.chunk_article_ids())
    assert site.statuses("/news/strike.html") == [304]  # ETag (If-None-Match)
    assert site.statuses("/news/tram.html") == [304]  # Last-Modified only (If-Modified-Since)
    assert site.statuses("/news/storm.html") == [200]  # no validators: fetched, found the same, not re-read
    assert site.statuses("/news/bridge.html") == [404]  # a stand-in: its page is asked for again
    assert site.statuses("/feeds/rss.xml") == [200]  # a feed is what changes: read each time
    assert [str(p) for p in again.problems] == [str(p) for p in first.problems]


def test_a_changed_page_replaces_its_old_chunks(site, assistant):
    url = site.url("/news/strike.html")
    assistant.ingest([url])
    [old] = assistant.store.article_records()
    page = site.resources["/news/strike.html"]
    page.body = page.body.replace(
        b"</article>", b"<p>The Zebulon crane fleet will be replaced by 2027, the port authority said.</p></article>"
    )
    report = assistant.ingest([url])
    assert (report.added, report.updated, report.unchanged) == (0, 1, 0)
    assert site.statuses("/news/strike.html") == [200, 200]  # the ETag no longer matched
    live = assistant.store.article_records()
    assert old not in live and len(live) == 1
    ids = assistant.store.chunk_article_ids()
    assert set(ids.values()) == set(live) and len(ids) == sum(r.chunks for r in live.values())
    hits = assistant.search("Zebulon crane fleet")
    assert "Zebulon" in hits[0].text and hits[0].url == url


def test_a_page_that_fails_later_keeps_what_was_stored(site, assistant):
    url = site.url("/news/strike.html")
    assistant.ingest([url])
    del site.resources["/news/strike.html"]
    report = assistant.ingest([url])
    assert [str(p) for p in report.problems] == [f"{url}: HTTP 404 Not Found"]
    assert [r.url for r in assistant.articles()] == [url]


def test_prune_keeps_web_articles_and_remove_takes_a_page_or_a_feeds_items(site, assistant, seeds_copy):
    page, atom = site.url("/news/strike.html"), site.url("/feeds/atom.xml")
    assistant.ingest([seeds_copy, page, atom])
    assert len(assistant.articles()) == 5
    next(seeds_copy.glob("000_*.txt")).unlink()
    pruned = assistant.ingest([seeds_copy], prune=True)  # no URL given: none fetched, none dropped
    assert pruned.removed == 1 and len(assistant.articles()) == 4
    assert {r.url for r in assistant.articles()} >= {page, site.url("/news/tram.html"), site.url("/news/bridge.html")}
    gone = assistant.remove([atom])  # the feed's URL: every article from its items
    assert {r.url for r in gone.removed} == {site.url("/news/tram.html"), site.url("/news/bridge.html")}
    assert assistant.remove([page + "#comments"]).removed[0].url == page
    assert [r.url for r in assistant.articles()] == [None]  # the seed article left
    back = assistant.ingest([atom, page])  # removed, so fetched in full again, not asked with a validator
    assert back.added == 3 and len(assistant.articles()) == 4


def test_failed_urls_are_one_line_each_and_the_rest_is_ingested(site, tmp_path):
    index = tmp_path / "index"
    local = tmp_path / "local.txt"
    local.write_text("title: Local note\ndate: 2024-08-01\n\nThe ferry to Holm will run twice a day from Monday.")
    bad = {
        "/news/missing.html": "HTTP 404 Not Found",
        "/slow": "no answer within 1 s (QA_WEB_TIMEOUT)",
        "/trickle": "no answer within 1 s (QA_WEB_TIMEOUT)",
        "/big": "bigger than 100 kB, the most qa fetches (QA_WEB_MAX_BYTES)",
        "/big-unsized": "bigger than 100 kB, the most qa fetches (QA_WEB_MAX_BYTES)",
        "/loop": "more than 5 redirects",
        "/logo.png": "not a web page or feed (image/png)",
    }
    args = [site.url(p) for p in bad] + ["ftp://files.example.com/a.html", site.url("/moved"), str(local)]
    env = {"QA_WEB_TIMEOUT": "1", "QA_WEB_MAX_BYTES": "100000"}
    r = run_qa("ingest", "--index", str(index), *args, env=env)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    expected = [f"qa: skipped {site.url(p)}: {reason}" for p, reason in bad.items()]
    expected.append("qa: skipped ftp://files.example.com/a.html: only http and https URLs are fetched")
    assert sorted(r.stderr.splitlines()) == sorted(expected)
    assert r.stdout.startswith("2 added, 0 updated, 0 unchanged, 0 removed;")
    listed = json.loads(run_qa("articles", "--json", "--index", str(index)).stdout)
    assert {a["url"] or a["sources"][0] for a in listed} == {site.url("/moved"), str(local)}
    text = run_qa("articles", "--index", str(index)).stdout
    assert site.url("/moved") in text and "Valdmar dockworkers" in text


def test_a_host_that_does_not_resolve_is_one_line(tmp_path):
    r = run_qa("ingest", "--index", str(tmp_path / "i"), "https://news.invalid/story.html")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    [line] = r.stderr.splitlines()
    assert line.startswith("qa: skipped https://news.invalid/story.html: cannot fetch it (")


def test_ingest_of_local_files_opens_no_socket(tmp_path):
    """Not even to loopback: the guard of this child process records and refuses every connect."""
    (tmp_path / "page.html").write_text((ROOT / "tests" / "web" / "strike.html").read_text())
    script = textwrap.dedent(
        """
        import socket, sys
        tried = []
        def refuse(self, address, *args):
            tried.append(address)
            raise OSError("no sockets in this test")
        socket.socket.connect = socket.socket.connect_ex = refuse
        from qa.cli import main
        try:
            main(sys.argv[1:])
        except SystemExit as e:
            print("exit", e.code, "connects", len(tried), file=sys.stderr)
        """
    )
    r = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            "ingest",
            "--index",
            str(tmp_path / "i"),
            str(SEEDS),
            str(tmp_path / "page.html"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ,
        cwd=ROOT,
    )
    assert r.stderr.strip().splitlines()[-1] == "exit 0 connects 0", r.stderr
    assert r.stdout.startswith("3 added")


def test_a_question_is_answered_with_the_pages_url(site, tmp_path):
    index = str(tmp_path / "index")
    url = site.url("/news/strike.html")
    assert run_qa("ingest", "--index", index, url, site.url("/feeds/rss.xml")).returncode == 1  # the glacier 404
    r = run_qa("ask", "--json", "--index", index, "How many dockworkers returned to work at the Port of Valdmar?")
    assert r.returncode == 0, r.stderr
    answer = json.loads(r.stdout)
    assert not answer["refused"] and "2,400" in answer["answer"]
    assert answer["citations"] and {c["source"] for c in answer["citations"]} == {url}


def test_urls_as_qa_keeps_them():
    assert is_url("http://a.example/x") and is_url("HTTPS://a.example") and not is_url("./http:/x")
    assert check_url("HTTPS://News.Example.com:8080?id=4#top") == "https://news.example.com:8080/?id=4"
    assert check_url("https://user:Secret@Example.com/a") == "https://user:Secret@example.com/a"
    for bad in ("file:///etc/passwd", "javascript://x", "https:///nohost"):
        assert isinstance(check_url(bad), Problem)


def test_a_page_not_in_utf8_reads_right(site, assistant):
    paragraphs = [
        "The Rosé café on Södra Förstadsgatan in Malmö reopened on Friday after a fire in March closed it for five months.",
        "Owner Åsa Lindqvist said the rebuilt kitchen cost 1.2 million kronor, most of it covered by insurance.",
        "Regulars queued before the doors opened at seven, and the first hundred customers were served coffee for free.",
    ]
    page = "<html><head><title>Malmö café reopens</title></head><body><nav><a href='/'>Hem</a></nav><article>"
    page += "".join(f"<p>{p}</p>" for p in paragraphs) + "</article><footer>Kontakt</footer></body></html>"
    site.resources["/news/cafe.html"] = Resource(page.encode("iso-8859-1"), "text/html; charset=ISO-8859-1")
    assert assistant.ingest([site.url("/news/cafe.html")]).added == 1
    [rec] = assistant.store.article_records(text=True).values()
    assert rec.title == "Malmö café reopens" and "Owner Åsa Lindqvist" in rec.text and "Kontakt" not in rec.text
