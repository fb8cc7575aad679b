import json

import pytest

from qa.load import Article, Problem, default_title, iter_files, load_file, parse_text
from qa.text import TITLE_LIMIT

from .conftest import SEEDS


def test_text_with_headers(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text(
        "title: Rockets hit base\ndate: 2024-08-05\nurl: https://x.test/a\nsource: Reuters\n\nFive were hurt.\n"
    )
    [a], problems = load_file(f)
    assert problems == []
    assert (a.title, a.date, a.url, a.text) == ("Rockets hit base", "2024-08-05", "https://x.test/a", "Five were hurt.")
    assert a.publisher == "Reuters"  # kept beside the url


def test_header_lines_qa_does_not_read_are_passed_over_and_a_published_line_is_the_date():
    """Scrapers write more than title, date and url; once an "author:" line made qa read every header as body."""
    a = parse_text("title: Rockets hit base\nauthor: Jane Doe\npublished: Aug. 5, 2024\ntags: iraq\n\nFive.", "x.txt")
    assert isinstance(a, Article) and (a.title, a.date, a.text) == ("Rockets hit base", "2024-08-05", "Five.")
    a = parse_text("Author: Jane Doe\nTitle: Rockets hit base\n\nFive.", "x.txt")
    assert isinstance(a, Article) and (a.title, a.text) == ("Rockets hit base", "Five.")
    # a block of "key: value" lines that names nothing qa reads is the article's own text
    a = parse_text("Note: the figures are provisional.\n\nFive were hurt.", "x.txt")
    assert isinstance(a, Article) and a.text.startswith("Note: the figures")


def test_jsonl_takes_the_date_under_the_names_feeds_give_it(tmp_path):
    f = tmp_path / "feed.jsonl"
    rows = [
        {"title": "A", "text": "Five were hurt.", "published": "2024-08-05T10:00:00Z"},
        {"title": "B", "text": "Nine were hurt.", "datePublished": "Aug. 6, 2024"},
        {"title": "C", "text": "Two were hurt.", "date": "2024-08-07", "published": "2020-01-01"},
    ]
    f.write_text("\n".join(json.dumps(r) for r in rows))
    articles, problems = load_file(f)
    assert problems == [] and [a.date for a in articles] == ["2024-08-05", "2024-08-06", "2024-08-07"]


def test_a_source_header_without_a_url_is_the_publisher_not_a_url():
    a = parse_text("title: T\nsource: Reuters\n\nBody.", "x.txt")
    assert isinstance(a, Article) and (a.url, a.publisher) == (None, "Reuters")


@pytest.mark.parametrize(
    "raw, day",
    [
        ("title: T\ndate: August 6, 2024\n\nBody.", "2024-08-06"),  # a date written out
        ("title: T\ndate: 6 Aug 2024 10:00 GMT\n\nBody.", "2024-08-06"),
        ("title: T\ndate: 2024-08-06T23:30:00-05:00\n\nBody.", "2024-08-06"),
        ("title: T\ndate: 20240806\n\nBody.", "2024-08-06"),  # a JSON feed's number
        ("title: T\ndate: 2024/08/06 10:00\n\nBody.", "2024-08-06"),
        # no date line: the day in the address, as news sites write it
        (
            "title: T\nurl: https://www.usatoday.com/story/news/2026/01/03/maduro-captured/88005804007/\n\nBody.",
            "2026-01-03",
        ),
        ("url: https://example.com/2024-08-06-rockets-hit-base\n\nBody.", "2024-08-06"),
        # nor there: a short line the article opens with (the first day on it: published, then updated)
        ("title: T\n\nJan. 3, 2026 Updated Jan. 7, 2026, 4:34 a.m. ET\n\nMaduro was captured.", "2026-01-03"),
        ("Updated Nov. 18, 2022, 1:28 p.m. ET\n\nA Columbus man was sentenced.", "2022-11-18"),
        # the date given wins over the address; a date that names no day counts as none
        ("date: 2024-08-05\nurl: https://x.test/2020/01/01/a\n\nBody.", "2024-08-05"),
        ("date: yesterday\nurl: https://x.test/2020/01/31/a\n\nBody.", "2020-01-31"),
        ("date: yesterday\n\nBody.", None),
        ("date: Feb. 30, 2024\n\nBody.", None),
        # a day inside the story is the story's, not the article's
        (
            "The council met on Aug. 1, 2024 and voted, after a debate of more than three hours that ran late into "
            "the evening.\n\nBody.",
            None,
        ),
        ("One.\n\nTwo.\n\nThree.\n\nAug. 1, 2024", None),
        ("url: https://x.test/story/12345/a\n\nBody.", None),
    ],
)
def test_an_articles_day_from_its_date_line_address_or_opening_line(raw, day):
    a = parse_text(raw, "x.txt")
    assert isinstance(a, Article) and a.date == day


def test_a_date_written_out_is_stored_as_a_day_and_searched_by_it(tmp_path):
    """A "date: August 6, 2024" line once stopped an ingest with a traceback."""
    from qa import Assistant

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("title: Ferries\ndate: August 6, 2024\n\nThe harbor council approved 12 new ferries.")
    a = Assistant(tmp_path / "index")
    a.ingest([folder])
    [p] = a.search("How many ferries did the harbor council approve?", since="2024-08-06", until="2024-08-06")
    assert p.date == "2024-08-06"


def test_seed_leading_date_form():
    [a], _ = load_file(next(SEEDS.glob("000_*.txt")))
    assert a.date == "2024-08-06"
    assert a.text.startswith("At least five US personnel")
    assert a.title.startswith("At least five US personnel")


@pytest.mark.parametrize(
    "text, title",
    [
        ("Iran said yes. Then it said no.", "Iran said yes."),
        # a sentence break, not a line, ends it; "U.S." is no sentence end
        (
            "The U.S. sent 900 more troops to Syria on Monday. They arrived.",
            "The U.S. sent 900 more troops to Syria on Monday.",
        ),
        # lines that are not sentences (a timestamp, a byline) and a dateline are passed over
        (
            "Updated Jan. 3, 2026, 5:19 p.m. ET\n\nBy Jane Doe\n\nWASHINGTON (AP) — Iran said yes today. No.",
            "Iran said yes today.",
        ),
        (
            "KYIV, Ukraine (Reuters) - Russia struck the city overnight, officials said.",
            "Russia struck the city overnight, officials said.",
        ),
        # a long first sentence: cut at a clause break that keeps most of it, with an ellipsis
        (
            "At least five US personnel were injured in an attack against a military base in Iraq on Monday, "
            "US officials told Reuters, as the Middle East braced for a possible new wave of attacks.",
            "At least five US personnel were injured in an attack against a military base in Iraq on Monday…",
        ),
        ("Short line only", "Short line only"),  # no sentence at all: the first line
    ],
)
def test_an_untitled_article_is_titled_by_its_first_sentence(text, title):
    assert default_title(text) == title
    a = parse_text(text, "x.txt")
    assert isinstance(a, Article) and a.title == title and not a.titled  # a stand-in, not a headline


def test_an_article_with_a_title_line_is_titled():
    a = parse_text("title: Harbor vote\n\nThe council approved twelve ferries.", "x.txt")
    assert isinstance(a, Article) and a.title == "Harbor vote" and a.titled


def test_a_long_first_sentence_is_cut_at_a_word():
    words = "Supercalifragilistic expialidocious antidisestablishmentarianism " * 6
    title = default_title(words + "ended.")
    assert title.endswith("…") and len(title) <= TITLE_LIMIT
    assert words.startswith(title[:-1] + " ")  # whole words only


def test_untitled_seed_articles_have_distinct_titles():
    titles = [load_file(p)[0][0].title for p in sorted(SEEDS.glob("*.txt"))]
    assert titles == [
        "At least five US personnel were injured in an attack against a military base in Iraq on Monday…",
        "A suspected rocket attack on Monday has injured several U.S. personnel in Iraq…",
    ]


def test_text_without_headers_keeps_first_line_as_text():
    a = parse_text("Title-less story: it begins here.\n\nMore.", "x.txt")
    assert isinstance(a, Article) and a.text.startswith("Title-less story")


def test_markdown(tmp_path):
    f = tmp_path / "a.md"
    f.write_text("title: MD\n\n# Heading\n\nBody text.")
    [a], _ = load_file(f)
    assert a.title == "MD" and "Body text." in a.text


def test_html_article_text_not_navigation(tmp_path):
    f = tmp_path / "page.html"
    body = " ".join(["The council voted 7 to 2 to approve the new bridge over the river."] * 6)
    f.write_text(
        "<html><head><title>Bridge approved</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/sports'>Sports</a> <a href='/weather'>Weather menu</a></nav>"
        f"<article><h1>Bridge approved</h1><p>{body}</p><p>Construction starts in May.</p></article>"
        "<footer>Copyright footer text, subscribe now</footer></body></html>"
    )
    [a], problems = load_file(f)
    assert problems == []
    assert "voted 7 to 2" in a.text and "Construction starts in May." in a.text
    assert "Weather menu" not in a.text and "subscribe now" not in a.text
    assert a.title == "Bridge approved"


def test_jsonl_text_or_body_and_bad_lines(tmp_path):
    f = tmp_path / "news.jsonl"
    f.write_text(
        "\n".join(
            [
                json.dumps({"title": "One", "text": "First story.", "date": "2024-08-01", "url": "https://x.test/1"}),
                "{not json",
                json.dumps({"title": "Two", "body": "Second story.", "source": "AP"}),
                json.dumps({"title": "Three"}),
                json.dumps({"title": "Empty", "text": "   "}),
            ]
        )
    )
    articles, problems = load_file(f)
    assert [a.title for a in articles] == ["One", "Two"]
    assert articles[0].source.endswith("news.jsonl#1") and (articles[1].url, articles[1].publisher) == (None, "AP")
    reasons = {p.source.rsplit(":", 1)[1]: p.reason for p in problems}
    assert set(reasons) == {"2", "4", "5"}
    assert "malformed JSON" in reasons["2"] and "text" in reasons["4"] and "empty" in reasons["5"]


@pytest.mark.parametrize(
    "data, reason",
    [(b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"), (b"caf\xe9 au lait", "not UTF-8"), (b"  \n\n ", "empty")],
)
def test_unreadable_files_are_problems(tmp_path, data, reason):
    f = tmp_path / "bad.txt"
    f.write_bytes(data)
    articles, problems = load_file(f)
    assert articles == [] and len(problems) == 1 and reason in problems[0].reason


def test_iter_files_recursive_sorted_skips_hidden_and_unknown(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.md").write_text("x")
    (tmp_path / "1.txt").write_text("x")
    (tmp_path / ".hidden.txt").write_text("x")
    (tmp_path / "photo.jpg").write_bytes(b"x")
    (tmp_path / "b" / "loop").symlink_to(tmp_path, target_is_directory=True)
    found = list(iter_files([tmp_path, tmp_path / "1.txt", tmp_path / "nope.txt", tmp_path / "photo.jpg"]))
    files = [p.name for p in found if not isinstance(p, Problem)]
    problems = [p for p in found if isinstance(p, Problem)]
    assert files == ["1.txt", "2.md"]
    assert {p.source.rsplit("/", 1)[1] for p in problems} == {"nope.txt", "photo.jpg"}


def test_same_text_same_id():
    a = parse_text("Same body.", "a.txt")
    b = parse_text("title: Other\n\nSame body.", "b.txt")
    assert isinstance(a, Article) and isinstance(b, Article) and a.id == b.id
