"""Settings: one object, resolved once; bad values are one line naming the variable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qa.errors import UsageError
from qa.settings import Settings, setting_names

from .conftest import run_qa


def test_arguments_over_environment_over_defaults():
    s = Settings.resolve({"llm": "openai", "model": None}, {"QA_LLM": "gguf:x.gguf", "QA_MODEL": "m", "QA_K": "4"})
    assert (s.llm, s.model, s.k, s.timeout) == ("openai", "m", 4, 60.0)
    assert [s.source(n) for n in ("llm", "model", "k", "timeout")] == [
        "argument",
        "environment",
        "environment",
        "default",
    ]
    assert Settings.resolve({}, {"QA_INDEX": "~/idx"}).index_dir == Path("~/idx").expanduser()
    assert Settings.resolve({}, {"QA_THREADS": ""}).threads is None  # empty means unset, as before
    assert Settings.resolve({}, {"QA_SHORT_ANSWERS": "off"}).short_answers is False
    assert Settings.resolve({"short_answers": True}, {"QA_SHORT_ANSWERS": "0"}).short_answers is True


@pytest.mark.parametrize(
    "env, message",
    [
        ({"QA_THREADS": "auto"}, "QA_THREADS must be a whole number of at least 0, got 'auto'"),
        ({"QA_LLM_TIMEOUT": "soon"}, "QA_LLM_TIMEOUT must be a number of at least 0.001 (seconds), got 'soon'"),
        ({"QA_K": "0"}, "QA_K must be a whole number of at least 1, got '0'"),
        ({"QA_SHORT_ANSWERS": "maybe"}, "QA_SHORT_ANSWERS must be on or off (1/0, true/false, yes/no), got 'maybe'"),
        ({"QA_MIN_CONFIDENCE": "high"}, "QA_MIN_CONFIDENCE must be a number of at least 0, got 'high'"),
    ],
)
def test_bad_values_name_the_variable_and_what_it_takes(env, message):
    with pytest.raises(UsageError) as e:
        Settings.resolve({}, env)
    assert str(e.value) == message


def test_unknown_setting_names_the_known_ones():
    with pytest.raises(UsageError, match="unknown setting 'treads'; known: index, "):
        Settings.resolve({"treads": 2}, {})


def test_every_setting_has_a_variable_and_a_description():
    rows = Settings.resolve({}, {}).rows()
    assert [r[0] for r in rows] == list(setting_names())
    for _, _, source, env, help in rows:
        assert source == "default" and env.isupper() and help and "\n" not in help


def test_qa_info_settings_shows_value_source_and_masks_secrets(tmp_path):
    env = {**os.environ, "OPENAI_API_KEY": "sk-secret-123", "QA_CHROMA_URL": "http://me:pw@127.0.0.1:1/db", "QA_K": "4"}
    r = run_qa("info", "--settings", "--index", str(tmp_path / "i"), env=env)
    assert r.returncode == 0, r.stderr
    lines = {line.split()[0]: line.split() for line in r.stdout.splitlines()}
    assert lines["k"][1:4] == ["4", "environment", "QA_K"]
    assert lines["index"][1:3] == [str(tmp_path / "i"), "argument"]
    assert lines["api_key"][1:3] == ["***", "environment"]
    assert lines["chroma_url"][1] == "http://127.0.0.1:1/db"
    assert lines["answer_tokens"][1:3] == ["512", "default"]
    assert lines["cache_dir"][1:3] == [os.environ["QA_CACHE_DIR"], "environment"]
    assert "sk-secret-123" not in r.stdout and "pw@" not in r.stdout


def test_a_bad_variable_is_one_line_without_a_traceback(seed_index):
    for var, value in (("QA_THREADS", "auto"), ("QA_LLM_TIMEOUT", "soon")):
        r = run_qa("ask", "--index", str(seed_index), "How many US troops are in Iraq?", env={**os.environ, var: value})
        assert r.returncode == 2 and "Traceback" not in r.stderr
        assert r.stderr.strip().splitlines() == [
            f"qa: error: {var} must be " + r.stderr.split(" must be ", 1)[1].strip()
        ]
        assert value in r.stderr
