"""Shared fixtures. Every test process, and every process the tests start, refuses
non-loopback network connections (tests/netguard/sitecustomize.py)."""

from __future__ import annotations

import itertools
import os
import runpy
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from qa.generators.gguf import free_port  # one helper for a free loopback port; tests import it from here

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
NETGUARD = Path(__file__).resolve().parent / "netguard"

# Property tests try the same examples on every run (as hypothesis's own "ci" profile, which it loads only
# when a CI variable is set), so a run passes or fails the same in CI and here, whatever the load: no
# deadlines, no timing health check. A failure found is pinned with @example. To hunt for new ones,
# `pytest --hypothesis-profile=explore` (random examples, failures kept in .hypothesis/; add
# --hypothesis-seed=N to replay a run; under the default profile that option has no effect).
settings.register_profile(
    "repeatable",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "explore", settings.get_profile("default"), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("repeatable")

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


@pytest.fixture(autouse=True)
def fake_generator():
    """``Assistant(..., llm="fake")`` is a scripted :class:`tests.fakes.FakeGenerator` in every test."""
    from .fakes import register_fake, unregister_fake

    register_fake()
    yield
    unregister_fake()


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


# -- a real Chroma server -------------------------------------------------------------------


def wait_for_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"no answer from {url} after {timeout} s:\n{log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory) -> str:
    """URL of a real ``chroma run`` server on a free loopback port, for the whole test run."""
    folder = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    log = folder / "server.log"
    chroma = Path(sys.executable).with_name("chroma")  # the script the chromadb wheel installs
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [str(chroma), "run", "--path", str(folder / "data"), "--host", "127.0.0.1", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/api/v2/heartbeat", proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


_databases = itertools.count(1)


@dataclass
class Backend:
    """Where an index lives: an embedded folder, or a database of its own on the test Chroma server."""

    kind: str
    index: Path | None = None
    chroma_url: str | None = None

    @cached_property
    def assistant(self):
        return self.new_assistant()

    def new_assistant(self, **options):
        from qa import Assistant

        return Assistant(self.index, chroma_url=self.chroma_url, **options)

    @property
    def cli_args(self) -> list[str]:
        return ["--chroma-url", self.chroma_url] if self.chroma_url else ["--index", str(self.index)]


def make_backend(kind: str, folder: Path, request) -> Backend:
    if kind == "server":
        return Backend(kind, chroma_url=f"{request.getfixturevalue('chroma_server')}/test{next(_databases):04d}")
    return Backend(kind, index=folder)


@pytest.fixture(params=["embedded", "server"])
def backend(request, tmp_path) -> Backend:
    """An empty index, once embedded and once on the Chroma server."""
    return make_backend(request.param, tmp_path / "index", request)


@pytest.fixture(scope="session", params=["embedded", "server"])
def seed_backend(request, seed_index) -> Backend:
    """The seed articles' index, embedded (``seed_index``) and on the Chroma server. Do not write to it."""
    if request.param == "embedded":
        return Backend("embedded", index=seed_index)
    b = make_backend("server", seed_index, request)
    b.assistant.ingest([SEEDS])
    return b
