"""The real command in a child process: bad input gets one clear line and an exit status."""

import os

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
