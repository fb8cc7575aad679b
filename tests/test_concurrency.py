"""Reading while another process ingests: no error, and every cited passage is from a whole, live version.

One process rewrites an article and re-ingests it, again and again; meanwhile the real ``qa ask``
runs in fresh processes and a long-lived ``Assistant`` (what ``qa chat`` holds) asks too.
"""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import ROOT

WRITER = """
import json, pathlib, sys
from qa import Assistant
index, url, folder, log, rounds = sys.argv[1:]
a = Assistant(index or None, chroma_url=url or None)
f = sorted(pathlib.Path(folder).glob("004_*.txt"))[0]
base = f.read_text()
with open(log, "a") as out:
    for i in range(1, int(rounds) + 1):
        f.write_text(base + f"\\n\\nUpdate {i}: the Zebulon accord now has {i * 7} signatories.")
        a.ingest([folder])
        for rec in a.store.article_records(text=True).values():  # every version that went live
            out.write(json.dumps({"id": rec.id, "text": rec.text}) + "\\n")
        out.flush()
"""

QUESTIONS = ["How many signatories does the Zebulon accord have?", "How many US troops are in Iraq?"]


def ask_cli(backend, question):
    r = subprocess.run(
        [sys.executable, "-m", "qa.cli", "ask", "--json", *backend.cli_args, question],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr
    return json.loads(r.stdout)


def test_ask_while_ingest_writes(backend, seeds_copy, tmp_path):
    from qa import Assistant

    writer_side = backend.new_assistant()
    writer_side.ingest([seeds_copy])
    versions = {r.id: r.text for r in writer_side.store.article_records(text=True).values()}
    log = tmp_path / "versions.jsonl"
    rounds = 3
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(backend.index or ""), backend.chroma_url or "", str(seeds_copy), str(log), str(rounds)],
        cwd=ROOT, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    reader: Assistant = backend.new_assistant()
    citations = []
    asked = 0
    try:
        while writer.poll() is None or asked < 3:
            q = QUESTIONS[asked % 2]
            citations += [(c.get("article_id"), c) for c in ask_cli(backend, q)["citations"]]
            answer = reader.ask(q)
            citations += [(c.article_id, {"quote": c.quote, "start": c.start, "end": c.end}) for c in answer.citations]
            asked += 1
        assert writer.wait(300) == 0, writer.stderr.read()
    finally:
        if writer.poll() is None:
            writer.kill()
    for line in log.read_text().splitlines():
        rec = json.loads(line)
        versions[rec["id"]] = rec["text"]
    assert citations
    for article_id, c in citations:
        texts = [versions[article_id]] if article_id else list(versions.values())
        assert any(t[c["start"] : c["end"]] == c["quote"] for t in texts), c
    # The long-lived reader sees the last version once the writer is done.
    final = reader.ask(QUESTIONS[0])
    assert f"{rounds * 7} signatories" in final.answer, final.answer
