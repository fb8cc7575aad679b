"""Shared fixtures. Every test process, and every process the tests start, refuses
non-loopback network connections (tests/netguard/sitecustomize.py)."""

from __future__ import annotations

import os
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
NETGUARD = Path(__file__).resolve().parent / "netguard"

runpy.run_path(str(NETGUARD / "sitecustomize.py"))  # the guard in this process too

os.environ["PYTHONPATH"] = os.pathsep.join([str(NETGUARD), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)


@pytest.fixture(scope="session", autouse=True)
def _private_dirs(tmp_path_factory):
    """Keep the user's real index and caches out of the tests."""
    home = tmp_path_factory.mktemp("home")
    os.environ["QA_CACHE_DIR"] = str(home / "cache")
    os.environ["QA_INDEX"] = str(home / "default-index")
    os.environ.pop("QA_CHROMA_URL", None)
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "QA_LLM", "QA_MODEL", "QA_CONTEXT_TOKENS", "QA_ANSWER_TOKENS"):
        os.environ.pop(var, None)  # the user's LLM settings must not leak into the tests
    yield


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory) -> Path:
    """An index of the two seed articles, built once per test run. Do not write to it."""
    from qa import Assistant

    path = tmp_path_factory.mktemp("seed-index")
    Assistant(path).ingest([SEEDS])
    return path


@pytest.fixture(scope="session")
def seed_assistant(seed_index):
    from qa import Assistant

    return Assistant(seed_index)


@pytest.fixture
def seeds_copy(tmp_path) -> Path:
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    return folder


def run_qa(*args: str, input: str | None = None, env: dict[str, str] | None = None, timeout: float = 120):
    """Run the real ``qa`` command in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "qa.cli", *args],
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )
