"""The real command in a child process: bad input gets one clear line and an exit status."""

import datetime
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from qa.errors import UsageError

from .conftest import SEEDS, run_qa


def assert_clean_error(r, code, *words):
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    lines = [line for line in r.stderr.splitlines() if line.startswith("qa: error")]
    assert len(lines) == 1 and all(w in lines[0] for w in words), r.stderr


def test_empty_question_exits_2(seed_index):
    for q in ["", "   \t "]:
        assert_clean_error(run_qa("ask", "--index", str(seed_index), q), 2, "empty")


def test_overlong_question_exits_2(seed_index):
    assert_clean_error(run_qa("ask", "--index", str(seed_index), "why " * 25_000), 2, "characters")


def test_ingest_reports_bad_files_and_keeps_the_rest(tmp_path, backend):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text("title: Good\n\nThe mayor opened the bridge on Tuesday.")
    (folder / "bad.txt").write_bytes(b"\xff\xfe\x00\x00garbage")
    (folder / "lines.jsonl").write_text('{"title": "A", "text": "Fine."}\nnot json\n')
    r = run_qa("ingest", *backend.cli_args, str(folder))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "bad.txt" in r.stderr and "binary" in r.stderr
    assert "lines.jsonl:2" in r.stderr and "malformed JSON" in r.stderr
    assert "2 added" in r.stdout
    r = run_qa("ask", "--json", *backend.cli_args, "Who opened the bridge?")
    assert r.returncode == 0 and "mayor" in r.stdout


def test_ingest_missing_path(tmp_path):
    r = run_qa("ingest", "--index", str(tmp_path / "idx"), str(tmp_path / "nothing-here"))
    assert r.returncode == 1 and "no such file or folder" in r.stderr and "Traceback" not in r.stderr


def test_chat_reads_one_question_a_line_from_a_pipe(tmp_path):
    r = run_qa(
        "chat",
        "--index",
        str(tmp_path / "idx"),
        str(SEEDS),
        input="How many US troops are in Iraq?\n\nWhat is the capital of France?\n",
    )
    assert r.returncode == 0, r.stderr
    assert "2,500" in r.stdout and "I cannot answer" in r.stdout


def test_index_from_environment(seed_index):
    r = run_qa("info", env={**os.environ, "QA_INDEX": str(seed_index)})
    assert r.returncode == 0 and "articles: 2" in r.stdout


def test_info_reads_an_index_at_rest_without_starting_chroma(seed_index):
    from qa import Assistant

    a = Assistant(seed_index)
    code = (
        "import sys\nfrom qa.cli import main\ntry:\n    main(['info', '--index', sys.argv[1]])\n"
        "except SystemExit:\n    pass\nprint('chromadb' in sys.modules)"
    )
    r = subprocess.run([sys.executable, "-c", code, str(seed_index)], capture_output=True, text=True, timeout=60)
    articles, chunks = a.stats()
    assert r.stdout == (
        f"index: {seed_index}\narticles: {articles}\nchunks: {chunks}\nembedder: {a.embedder_info()}\nFalse\n"
    ), r.stderr


def test_ask_as_the_command_leaves_at_once_and_from_python_returns(seed_index):
    """``qa ask`` leaves without the interpreter's shutdown once its answer is flushed (``answered``):
    the whole answer is out, with status 0. Called from Python it returns, spaCy's child still there."""
    r = run_qa("ask", "--index", str(seed_index), "--json", "How many US troops are in Iraq?")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["short_answer"] == "2,500"
    as_command = (  # the console script's way in, with a sign of the interpreter's shutdown
        "import atexit, sys\natexit.register(lambda: print('shut down'))\n"
        "sys.argv = ['qa', 'ask', '--index', sys.argv[1], 'How many US troops are in Iraq?']\n"
        "from qa.cli import main\nmain()"
    )
    r = subprocess.run([sys.executable, "-c", as_command, str(seed_index)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "2,500" in r.stdout and "shut down" not in r.stdout, r.stdout + r.stderr
    code = (
        "import sys\nfrom qa.cli import main\nfrom qa.reader import nlp\n"
        "main(['ask', '--index', sys.argv[1], 'How many US troops are in Iraq?'], standalone_mode=False)\n"
        "print('returned', nlp._worker is not None)"
    )
    r = subprocess.run([sys.executable, "-c", code, str(seed_index)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "2,500" in r.stdout and r.stdout.rstrip().endswith("returned True")


def test_peek_agrees_with_chroma_through_ingest_and_remove(tmp_path, seeds_copy):
    """The SQLite read of qa info against Chroma's own answers, and Chroma takes over for what it cannot read."""
    from qa import Assistant
    from qa.store import peek

    index = tmp_path / "index"
    assert peek(index) is None  # nothing there yet

    def agree(a: Assistant) -> None:
        snap = peek(index)
        assert snap is not None
        assert (snap.articles, snap.chunks) == a.stats()
        assert snap.state == a.store.state()
        assert snap.chunk_metadata == a.store.chunks.metadata
        assert peek(index, articles=True).article_metadata == {
            id: a.store.articles.get(ids=[id])["metadatas"][0] for id in a.store.article_records()
        }

    a = Assistant(index)
    a.ingest([seeds_copy])
    agree(a)
    a.remove([a.articles()[0].id])
    agree(a)
    a.ingest([seeds_copy / DATED_SEED])
    agree(a)
    expected = run_qa("info", "--index", str(index)).stdout
    (index / "qa-index.json").unlink()  # an index peek does not vouch for: Chroma opens it
    assert peek(index) is None
    r = run_qa("info", "--index", str(index))
    assert peek(index) is not None  # the marker is written again
    assert r.returncode == 0 and r.stdout == expected, r.stderr


# -- qa ask: filters, passages retrieved, the question from standard input ----------------------

TROOPS = "How many US troops are in Iraq?"
CARRIER = "Which carrier strike group did the U.S. move to the Middle East?"  # only the 004_ seed says
DATED_SEED = "000_3fec42b9180752d3.txt"  # dated 2024-08-06; the other seed has no date
CARRIER_SEED = "004_5ac8039a6aa0238a.txt"


def ask_json(seed_index, *args: str, input: str | None = None) -> dict:
    r = run_qa("ask", "--json", "--index", str(seed_index), *args, input=input)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_ask_since_and_until_take_days_and_months(seed_index):
    answer = ask_json(seed_index, "--until", "2024-08", TROOPS)  # a month's end: the 6th is in
    assert "2,500" in answer["answer"] and {c["date"] for c in answer["citations"]} == {"2024-08-06"}
    assert ask_json(seed_index, "--since", "2024-08-06", "--until", "2024-08-06", TROOPS)["citations"]
    for args in (["--since", "2024-09"], ["--until", "2024-07"], ["--since", "2024-08-07"]):
        assert ask_json(seed_index, *args, TROOPS)["refused"], args
    r = run_qa("ask", "--index", str(seed_index), "--since", "2024-09", TROOPS)
    assert r.returncode == 0 and "only articles matching 2024-09-01" in r.stdout


def test_ask_source_searches_only_matching_articles(seed_index):
    answer = ask_json(seed_index, "--source", "004_5AC", CARRIER)  # any case
    assert "Abraham Lincoln" in answer["answer"]
    assert {c["source"].rsplit("/", 1)[-1] for c in answer["citations"]} == {CARRIER_SEED}
    answer = ask_json(seed_index, "--source", "000_", CARRIER)
    assert "Abraham Lincoln" not in answer["answer"]
    assert all(c["source"].endswith(DATED_SEED) for c in answer["citations"])
    assert ask_json(seed_index, "--source", "no such paper", TROOPS)["refused"]


def test_ask_top_k_is_the_number_of_passages(seed_index):
    assert len(ask_json(seed_index, "--top-k", "6", TROOPS)["citations"]) >= 2
    assert [c["n"] for c in ask_json(seed_index, "--top-k", "1", TROOPS)["citations"]] == [1]
    r = run_qa("ask", "--index", str(seed_index), "--top-k", "0", TROOPS)
    assert r.returncode == 2 and "--top-k" in r.stderr and "Traceback" not in r.stderr


def test_ask_dash_reads_the_question_from_standard_input(seed_index):
    answer = ask_json(seed_index, "-", input="How many US troops\nare in Iraq?\n")
    assert answer["question"] == TROOPS and "2,500" in answer["answer"]
    assert_clean_error(run_qa("ask", "--index", str(seed_index), "-", input="  \n"), 2, "empty")


@pytest.mark.parametrize("flag", ["--since", "--until"])
@pytest.mark.parametrize("value", ["2024-13", "2024-8-1", "yesterday"])
def test_ask_bad_date_is_one_line_naming_the_forms(seed_index, flag, value):
    r = run_qa("ask", "--index", str(seed_index), flag, value, TROOPS)
    assert_clean_error(r, 2, flag, repr(value), "YYYY-MM-DD or YYYY-MM")


def test_ask_a_range_that_ends_before_it_starts(seed_index):
    r = run_qa("ask", "--index", str(seed_index), "--since", "2024-09", "--until", "2024-08", TROOPS)
    assert_clean_error(r, 2, "2024-09-01..2024-08-31 ends before it starts")


def test_the_python_api_takes_the_same_filters(seed_assistant):
    from qa.retrieve import Filter

    assert "Abraham Lincoln" in seed_assistant.ask(CARRIER, source="004_").answer
    assert seed_assistant.ask(TROOPS, since="2024-09").refused
    answer = seed_assistant.ask(TROOPS, until=datetime.date(2024, 8, 6))
    assert "2,500" in answer.answer and {c.date for c in answer.citations} == {"2024-08-06"}
    assert seed_assistant.ask(TROOPS, filter=Filter(source="004_"), until="2024-08").refused  # both apply
    assert {p.source.rsplit("/", 1)[-1] for p in seed_assistant.search(TROOPS, source="000_")} == {DATED_SEED}
    with pytest.raises(UsageError, match="YYYY-MM-DD or YYYY-MM"):
        seed_assistant.ask(TROOPS, since="last week")


# -- an empty index, a folder of nothing qa reads, help, completion -----------------------------


def test_ask_a_missing_or_empty_index_says_so(tmp_path):
    missing = tmp_path / "missing"
    for args in (["--index", str(missing)], ["--json", "--index", str(missing)]):
        r = run_qa("ask", *args, TROOPS)
        assert_clean_error(r, 1, f"the index {missing} has no articles; add some with: qa ingest --index {missing}")
    assert not missing.exists()  # asking made no index
    empty = tmp_path / "empty"
    assert run_qa("info", "--index", str(empty)).returncode == 0  # an index with nothing in it
    r = run_qa("ask", TROOPS, env={"QA_INDEX": str(empty)})
    assert_clean_error(r, 1, f"the index {empty} has no articles; add some with: qa ingest PATH")


def test_ingest_a_folder_with_nothing_qa_reads_names_the_kinds(tmp_path):
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "report.pdf").write_bytes(b"%PDF-1.7")
    (folder / "sub" / "notes.docx").write_bytes(b"PK")
    (folder / ".hidden.txt").write_text("Not read: hidden.")
    r = run_qa("ingest", "--index", str(tmp_path / "index"), str(folder))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    [line] = [line for line in r.stderr.splitlines() if str(folder) in line]
    assert all(kind in line for kind in (".txt", ".md", ".html", ".jsonl")) and "no files of a kind qa reads" in line
    r = run_qa("ingest", "--index", str(tmp_path / "index"), str(SEEDS), str(SEEDS))  # seen twice: nothing to say
    assert r.returncode == 0 and r.stderr == "" and "2 added" in r.stdout


@pytest.mark.parametrize(
    "command", [[], ["ingest"], ["ask"], ["chat"], ["eval"], ["info"], ["articles"], ["remove"], ["mcp"]]
)
def test_help_ends_with_examples_as_written(command):
    r = run_qa(*command, "--help")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.rstrip("\n").splitlines()
    start = lines.index("  Examples:")
    examples = lines[start + 1 :]
    assert 2 <= len(examples) <= 3 and all(line.startswith("    qa ") or " | qa " in line for line in examples)
    if command == ["ask"]:  # longer than the help's width, and still one line
        assert '    qa ask --since 2024-08 --until 2024-09-15 --source reuters --json "Who won the election?"' in lines


def test_shell_completion_as_the_readme_says():
    qa = Path(sys.executable).with_name("qa")  # the script pip installs, named as users type it
    if not qa.exists():
        pytest.skip("no qa script beside this python")
    script = subprocess.run(
        [str(qa)], env={**os.environ, "_QA_COMPLETE": "bash_source"}, capture_output=True, text=True
    )
    assert script.returncode == 0 and "complete -o nosort -F _qa_completion qa" in script.stdout
    env = {**os.environ, "_QA_COMPLETE": "bash_complete", "COMP_WORDS": "qa ar", "COMP_CWORD": "1"}
    words = subprocess.run([str(qa)], env=env, capture_output=True, text=True).stdout.split()
    assert "plain,articles" in words  # bash_complete answers "type,value" a line
    env.update(COMP_WORDS="qa ask --to", COMP_CWORD="2")
    assert "--top-k" in subprocess.run([str(qa)], env=env, capture_output=True, text=True).stdout


# -- qa ask --markdown ---------------------------------------------------------------------------


def test_ask_markdown_has_the_question_answer_and_footnotes(seed_index):
    from qa.text import quoted

    r = run_qa("ask", "--markdown", "--index", str(seed_index), TROOPS)
    assert r.returncode == 0, r.stderr
    data = ask_json(seed_index, TROOPS)
    blocks = r.stdout.split("\n\n")
    assert blocks[0] == f"# {TROOPS}"
    assert blocks[1] == f"**{data['short_answer']}** [^{data['short_answer_citation']}]"
    assert blocks[2] == re.sub(r"\[(\d+)\]", r"[^\1]", data["answer"])  # the same answer, footnote references
    assert "[1]" not in blocks[2] and "Iraq hosts 2,500 US troops" in blocks[2]
    notes = blocks[3].rstrip("\n").split("\n")
    assert len(notes) == len(data["citations"]) >= 2 and len(blocks) == 4
    for line, c in zip(notes, data["citations"]):
        assert line == f"[^{c['n']}]: {c['title']} ({c['date']}), {c['source']} — {quoted(c['quote'])}"
    assert DATED_SEED in notes[0]


def test_ask_markdown_refusal_is_the_question_and_the_refusal(seed_index):
    r = run_qa("ask", "--markdown", "--index", str(seed_index), "What is the capital of France?")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "# What is the capital of France?\n\nI cannot answer that from the articles.\n"


def test_ask_markdown_and_json_together_is_one_line(seed_index):
    assert_clean_error(
        run_qa("ask", "--markdown", "--json", "--index", str(seed_index), TROOPS), 2, "--json", "--markdown"
    )


def test_answer_markdown_escapes_text_and_marks_unsupported_sentences():
    from qa.output import answer_markdown
    from qa.types import Answer, Citation, Sentence

    citations = (
        Citation(1, "A *bold* [claim]", None, "https://example.com/a_b?x=1", "5 < 6\nand *so*", 0, 12),
        Citation(2, "Second", "2024-08-06", "/news/my_file.txt", "Quoted.", 20, 27),
    )
    answer = Answer(
        "What is 2*3?",
        "Six [1]. It is _big_ [2].",
        False,
        citations,
        (Sentence("Six.", (1,)), Sentence("It is _big_.", (2,), supported=False)),
    )
    assert answer_markdown(answer) == (
        "# What is 2\\*3?\n\n"
        "Six [^1]. It is \\_big\\_ [^2]. \\[unsupported\\]\n\n"
        "\\[unsupported\\]: not backed by the passages it cites (1 of 2 sentences); check it against the sources.\n\n"
        "[^1]: A \\*bold\\* \\[claim\\], <https://example.com/a_b?x=1> — “5 \\< 6 and \\*so\\*”\n"
        "[^2]: Second (2024-08-06), /news/my_file.txt — “Quoted.”\n"
    )


@pytest.mark.parametrize(
    "quote, shown",
    [
        ("Iraq hosts 2,500 US troops.", "“Iraq hosts 2,500 US troops.”"),
        ("“We will respond,” Austin said.", "“‘We will respond,’ Austin said.”"),  # a quotation in a quote
        ('He said "no" twice.', "“He said 'no' twice.”"),
        ("“a dangerous escalation”", "“a dangerous escalation”"),  # already one whole quotation: its own marks
        ("today’s “Iran-aligned militia…", "“today’s ‘Iran-aligned militia…”"),  # apostrophes stay
    ],
)
def test_a_quote_is_put_in_quotation_marks_once(quote, shown):
    from qa.output import answer_markdown
    from qa.text import quoted
    from qa.types import Answer, Citation, Sentence

    assert quoted(quote) == shown and "““" not in shown
    cite = (Citation(1, "T", None, "a.txt", quote, 0, len(quote)),)
    assert answer_markdown(Answer("Q?", "Yes [1].", False, cite, (Sentence("Yes.", (1,)),))).endswith(f" — {shown}\n")


def test_answer_markdown_never_starts_a_heading_or_list_by_accident():
    from qa.output import answer_markdown
    from qa.types import Answer, Citation, Sentence

    cite = (Citation(1, "T & Co", None, "a.txt", "#MeToo", 0, 6),)
    for text, shown in [
        ("#MeToo spread.", "\\#MeToo spread [^1]."),
        ("1. It did.", "1\\. It did [^1]."),
        ("- x.", "\\- x [^1]."),
    ]:
        md = answer_markdown(Answer("Q?", text, False, cite, (Sentence(text, (1,)),)))
        assert md == f"# Q?\n\n{shown}\n\n[^1]: T \\& Co, a.txt — “#MeToo”\n"
