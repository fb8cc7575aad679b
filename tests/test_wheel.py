"""The built wheel works on its own: prompts, the seed eval set and the seed articles are inside it.

The wheel is built from this checkout, installed into a fresh virtual environment (its
dependencies borrowed from the test environment's site-packages, so nothing is downloaded, while
``qa`` itself comes from the wheel), and run from another folder: ``qa ingest``, then
``qa ask --llm openai`` against a scripted OpenAI-compatible server on loopback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

from .conftest import ROOT, SEEDS
from .llm_servers import ScriptedServer

QUESTION = "How many US troops are in Iraq?"
DRAFT = ("Iraq hosts 2,500 US troops [1]. ",)


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    r = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"{args}:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    return r


def test_the_wheel_answers_through_an_llm_from_another_folder(tmp_path):
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    run(*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", tmp_path / "dist", ROOT, cwd=tmp_path)
    [wheel] = (tmp_path / "dist").glob("qa-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in (
        "qa/_data/prompts/answer_system.txt",
        "qa/_data/eval/seed.jsonl",
        f"qa/_data/seeds/{next(SEEDS.iterdir()).name}",
    ):
        assert name in names

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    run(*pip, "--python", python, "install", "--no-deps", "--no-index", wheel, cwd=tmp_path)
    site = Path(
        run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path).stdout.strip()
    )
    # The dependencies from the test environment, after the wheel's own qa (a plain path: no .pth of it runs,
    # so the editable checkout is not on the path).
    (site / "zz_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(SEEDS, elsewhere / "articles")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    where = run(python, "-c", "import qa.config; print(qa.config.__file__)", cwd=elsewhere, env=env).stdout.strip()
    assert where.startswith(str(venv)), where
    qa = venv / "bin" / "qa"
    run(qa, "ingest", "--index", "index", "articles", cwd=elsewhere, env=env)
    with ScriptedServer("ok", pieces=DRAFT) as server:
        r = run(
            qa,
            "ask",
            "--index",
            "index",
            "--llm",
            "openai",
            "--base-url",
            server.base_url,
            QUESTION,
            cwd=elsewhere,
            env=env,
        )
    assert server.requests == 1
    assert r.stdout.splitlines()[0] == "Iraq hosts 2,500 US troops [1]."
    assert "Sources" in r.stdout and "Traceback" not in r.stderr
