"""``qa chat`` as a person uses it: the real command in a real pseudo-terminal (pexpect), its output
rendered by a terminal emulator (pyte) so the tests assert what the screen shows; and piped."""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pexpect
import pyte
import pytest

from .conftest import ROOT, run_qa

ROWS, COLS = 100, 120
QUESTION = "How many US troops are in Iraq?"
FOLLOW_UP = "And how many are in Syria?"
STANDALONE = "How many US troops are in Syria?"
SEED_FILE = "000_3fec42b9180752d3.txt"


class Terminal:
    """A child process in a pseudo-terminal and the screen a terminal would show for its output."""

    def __init__(self, args: list[str], env: dict[str, str], cols: int = COLS, rows: int = ROWS):
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "qa.cli", *args],
            cwd=str(ROOT),
            env=env,
            dimensions=(rows, cols),
            encoding=None,
            use_poll=True,  # select() fails once the test process holds more than 1024 descriptors
        )
        self.screen = pyte.Screen(cols, rows)
        # Answer the terminal queries (cursor position) a real terminal answers; prompt_toolkit asks.
        self.screen.write_process_input = lambda data: self.child.send(data)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = b""
        self.ended = False

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display).strip("\n")

    def pump(self) -> None:
        try:
            data = self.child.read_nonblocking(65536, timeout=0.2)
        except pexpect.TIMEOUT:
            return
        except pexpect.EOF:
            self.ended = True
            return
        self.raw += data
        self.stream.feed(data)

    def wait_for(self, what, timeout: float = 90) -> str:
        """Until the screen shows ``what`` (a string, or a predicate on the screen text); a hang fails."""
        check = what if callable(what) else (lambda text: what in text)
        deadline = time.monotonic() + timeout
        while not check(self.text()):
            if self.ended or time.monotonic() > deadline:
                raise AssertionError(f"the screen never showed {what!r}; it shows:\n{self.text()}")
            self.pump()
        return self.text()

    def prompt_line(self) -> str:
        return self.screen.display[self.screen.cursor.y].rstrip()

    def wait_for_prompt(self, prompt: str = "qa> ") -> str:
        return self.wait_for(lambda _: self.prompt_line() == prompt.rstrip())

    def type(self, line: str) -> None:
        self.child.send(line.encode() + b"\r")

    def exit_status(self, timeout: float = 120) -> int:
        deadline = time.monotonic() + timeout
        while not self.ended:
            assert time.monotonic() < deadline, f"still running; the screen shows:\n{self.text()}"
            self.pump()
        self.child.close()
        return self.child.exitstatus


@pytest.fixture
def chat_env(tmp_path):
    env = {**os.environ, "TERM": "xterm-256color", "XDG_DATA_HOME": str(tmp_path / "data")}
    env.pop("NO_COLOR", None)
    return env


def test_a_conversation_in_a_terminal(seed_index, chat_env, tmp_path):
    term = Terminal(["chat", "--index", str(seed_index)], chat_env)
    screen = term.wait_for("/help")
    assert "2 articles" in screen and str(seed_index) in screen and "generator extractive" in screen
    term.wait_for_prompt()

    term.type(QUESTION)
    screen = term.wait_for(lambda s: "Sources" in s and s.rstrip().endswith("qa>"))
    assert "Iraq hosts 2,500 US troops and has Iran-backed militias linked to its security forces [1]." in screen
    assert "[1] At least five US personnel were injured" in screen and "(2024-08-06)" in screen
    assert SEED_FILE not in screen  # the list under an answer is compact; /sources has the files

    term.type(FOLLOW_UP)
    screen = term.wait_for(lambda s: s.count("Sources") == 2 and s.rstrip().endswith("qa>"))
    assert f"↳ searching: {STANDALONE}" in screen

    term.type("/sources")
    screen = term.wait_for(SEED_FILE)
    listed = term.wait_for_prompt().count(SEED_FILE)  # one line per source of the last answer
    assert listed >= 1

    term.type("/source 1")
    screen = term.wait_for("Iranian-backed proxies have attacked U.S. forces in Iraq and Syria over 150 times")
    assert screen.count(SEED_FILE) == listed + 1  # /source 1 names the file too

    term.type("   ?")  # an empty question: one line, and the session goes on
    screen = term.wait_for("qa: error: the question is empty")
    term.type("/filter 2024-08-01..2024-08-31")
    term.wait_for_prompt("qa [2024-08-01..2024-08-31]> ")
    term.type("/filter off")
    term.wait_for("no filter: all articles are searched")
    term.wait_for_prompt()

    term.type("/quit")
    assert term.exit_status() == 0
    assert "Traceback" not in term.text()

    # The next session remembers the lines typed (arrow up), and Ctrl-D ends it.
    term = Terminal(["chat", "--index", str(seed_index)], chat_env)
    term.wait_for_prompt()
    term.child.send(b"\x1b[A")  # arrow up: "/quit"
    term.child.send(b"\x1b[A")  # and the line before it
    term.wait_for(lambda _: term.prompt_line() == "qa> /filter off")
    term.child.send(b"\x03")  # Ctrl-C at the prompt drops the line
    term.wait_for_prompt()
    term.child.sendeof()
    assert term.exit_status() == 0


# -- reading well at 60 and 100 columns --------------------------------------------------------

#: Questions whose answers quote passages that begin with a quotation mark, then follow-ups whose
#: rewrites carry terms in brackets from a question that itself carried some.
READING = [
    QUESTION,
    "What did Lloyd Austin say?",
    "Which airbase was attacked?",
    "When did he speak?",
    "What did he say?",
]


def broken_words(lines: list[str], reference: str) -> list[str]:
    """Line breaks that fall inside a word: a line ending in a letter or digit, the next beginning with
    one, where ``reference`` (the same output unwrapped) has no space between the two."""
    flat = " ".join(reference.split())
    broken = []
    for above, below in itertools.pairwise(lines):
        a, b = re.search(r"\S*$", above.rstrip()).group(), re.match(r"\S*", below.lstrip()).group()
        if a[-1:].isalnum() and b[:1].isalnum() and f"{a} {b}" not in flat:
            broken.append(f"{a}|{b}")
    return broken


def test_he_after_an_answer_that_named_a_person_is_that_person(seed_index):
    """The answer "Lloyd Austin" is what the next question's "he" points at: it is searched with it."""
    script = ["Who is the US Secretary of Defense?", "What did he say?"]
    piped = run_qa("chat", "--index", str(seed_index), input="".join(f"{line}\n" for line in script))
    assert piped.returncode == 0, piped.stderr
    assert "Lloyd Austin [" in piped.stdout
    assert re.findall(r"^↳ searching: (.*)$", piped.stdout, re.M) == [
        "What did he say? (Lloyd Austin, US Secretary of Defense)"
    ]


@pytest.mark.parametrize("cols", [60, 100])
def test_answers_quotes_and_titles_wrap_at_words(seed_index, chat_env, cols):
    # then one answered from the untitled article, and last one answered from two sources, one of them a
    # passage that opens with a quotation
    last = ["When did the rocket attack happen?", "What did Austin and Gallant agree on in the call?"]
    script = [*READING, *last, "/sources", "/source 2"]
    piped = run_qa("chat", "--index", str(seed_index), input="".join(f"{line}\n" for line in script))
    assert piped.returncode == 0, piped.stderr
    searched = re.findall(r"^↳ searching: (.*)$", piped.stdout, re.M)
    assert searched == ["When did he speak? (airbase, attacked)", "What did he say? (speak, airbase, attacked)"]

    term = Terminal(["chat", "--index", str(seed_index)], chat_env, cols=cols, rows=400)
    term.wait_for_prompt()
    for n, line in enumerate(script, start=1):
        term.type(line)
        term.wait_for(lambda s, n=n: s.count("qa>") == n + 1 and s.rstrip().endswith("qa>"))
    lines = term.text().splitlines()
    answers = lines[next(i for i, line in enumerate(lines) if line.startswith("qa> ")) :]  # the welcome names a path
    assert max(map(len, lines)) <= cols
    assert sum(len(line) > cols - 15 for line in answers) > 10  # the lines are filled: rich is told the width
    assert broken_words([line for line in answers if not line.startswith("qa>")], piped.stdout) == []
    screen = " ".join(term.text().split())
    assert "““" not in screen and "””" not in screen and "““" not in piped.stdout
    # A quotation at the start of a quote nests inside it: “‘Secretary Austin and Minister Gallant agreed ...’ ...”
    assert "“‘Secretary Austin and Minister Gallant agreed" in screen
    for standalone in searched:
        assert f"↳ searching: {standalone}" in screen
        assert standalone.count("(") == standalone.count(")") <= 1
        assert re.fullmatch(r"[^()]*(\([^()]*\))?", standalone)
    # An untitled article is titled by its first sentence, cut at a word.
    assert "A suspected rocket attack on Monday has injured several U.S. personnel in Iraq…" in screen
    assert "At least five US personnel were injured in an attack against a military base in Iraq on Monday…" in screen
    term.child.sendeof()
    assert term.exit_status() == 0


def test_no_color_in_a_terminal(seed_index, chat_env):
    term = Terminal(["chat", "--index", str(seed_index)], {**chat_env, "NO_COLOR": "1"})
    term.wait_for_prompt()
    term.type("/nonsense")
    term.wait_for("qa: error: unknown command /nonsense; /help lists the commands")
    term.type("/help")
    term.wait_for("/source N")
    assert "/save FILE          write the last answer and its sources to FILE as Markdown" in term.wait_for_prompt()
    term.child.sendeof()
    assert term.exit_status() == 0
    colours = [
        p
        for params in re.findall(rb"\x1b\[([\d;]*)m", term.raw)
        for p in params.split(b";")
        if p and (30 <= int(p) <= 49 or 90 <= int(p) <= 107)
    ]
    assert colours == []


def test_piped_questions_and_commands(seed_index):
    script = (
        f"{QUESTION}\n\n{FOLLOW_UP}\n/sources\n/source 1\n/source 7\n/filter 2024-09..\n{QUESTION}\n"
        "/sources\n/source 1\n/quit\nnot read\n"
    )
    r = run_qa("chat", "--index", str(seed_index), input=script)
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout and "/help" not in r.stdout  # plain text; no welcome when scripted
    assert r.stdout.count("Iraq hosts 2,500 US troops") >= 2
    assert f"↳ searching: {STANDALONE}" in r.stdout
    assert SEED_FILE in r.stdout and "over 150 times" in r.stdout
    assert "An additional 900 are stationed in Syria" in r.stdout  # the follow-up's answer, second of two sources
    assert r.stderr.splitlines() == [
        "qa: error: there is no source 7; the last answer has 2 sources (/source 1 to /source 2)",
        "qa: error: there is no source 1; the last answer cites no sources",  # after the refusal
    ]
    assert "filter: 2024-09-01" in r.stdout and "I cannot answer that from the articles." in r.stdout
    after_refusal = r.stdout.rsplit("I cannot answer that from the articles.", 1)[1]
    assert "the last answer cites no sources" in after_refusal and "qa: error" not in r.stdout
    assert "not read" not in r.stdout


def test_save_writes_the_last_answer_as_markdown(seed_index, tmp_path):
    saved, refusal, nowhere = tmp_path / "answer.md", tmp_path / "refusal.md", tmp_path / "no-such-folder" / "x.md"
    script = (
        f"/save {saved}\n{QUESTION}\n/save {saved}\n/save {nowhere}\n/save {tmp_path}\n/save\n"
        f"What is the capital of France?\n/save {refusal}\n"
    )
    r = run_qa("chat", "--index", str(seed_index), input=script)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count(f"saved to {saved}") == 1 and f"saved to {refusal}" in r.stdout
    assert r.stderr.splitlines() == [
        "qa: error: no answer yet; ask a question first",
        f"qa: error: cannot write {nowhere}: No such file or directory",
        f"qa: error: cannot write {tmp_path}: Is a directory",
        "qa: error: say where: /save FILE",
    ]
    ask = run_qa("ask", "--markdown", "--index", str(seed_index), QUESTION)
    assert ask.returncode == 0, ask.stderr
    assert saved.read_text() == ask.stdout  # one rendering for qa ask --markdown and /save
    assert saved.read_text().startswith(f"# {QUESTION}\n\n**2,500** [^1]\n\nIraq hosts 2,500 US troops")
    assert "\n[^1]: " in saved.read_text() and SEED_FILE in saved.read_text()
    assert refusal.read_text() == "# What is the capital of France?\n\nI cannot answer that from the articles.\n"


# -- Ctrl-C while an answer is being written: a slow OpenAI-compatible server on loopback ---------


class SlowChatServer(ThreadingHTTPServer):
    """Streams a chat completion one piece every 0.2 s for up to two minutes; notes when the client hangs up."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), SlowChatHandler)
        self.hung_up = threading.Event()
        self.requests: list[dict] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class SlowChatHandler(BaseHTTPRequestHandler):
    server: SlowChatServer

    def log_message(self, *args):
        pass

    def do_GET(self):
        self._json({"object": "list", "data": [{"id": "slow", "object": "model", "owned_by": "test"}]})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        self.server.requests.append(body)
        if not body.get("stream"):
            message = {"role": "assistant", "content": "Iraq hosts 2,500 US troops [1]."}
            self._json(
                {
                    "id": "c",
                    "object": "chat.completion",
                    "created": 0,
                    "model": "slow",
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                }
            )
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        pieces = ["Iraq hosts 2,500 US troops [1]. "] + [f"Still writing {i}. " for i in range(600)]
        try:
            for piece in pieces:
                chunk = {
                    "id": "c",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": "slow",
                    "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
                }
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
                time.sleep(0.2)
            self.wfile.write(b"data: [DONE]\n\n")
        except (BrokenPipeError, ConnectionResetError):
            self.server.hung_up.set()

    def _json(self, obj):
        data = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def slow_server():
    server = SlowChatServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_ctrl_c_stops_the_answer_and_keeps_the_session(seed_index, chat_env, slow_server):
    env = {**chat_env, "OPENAI_API_KEY": "test-key"}
    term = Terminal(
        ["chat", "--index", str(seed_index), "--llm", "openai", "--base-url", slow_server.url, "--model", "slow"], env
    )
    term.wait_for("generator openai (slow)")
    term.wait_for_prompt()
    term.type(QUESTION)
    term.wait_for("Still writing 2.")  # the answer appears while it is written
    term.child.sendintr()
    screen = term.wait_for("(cancelled)")
    assert "Sources" not in screen and "Still writing 599" not in screen
    assert slow_server.hung_up.wait(30), "the HTTP stream was not closed when the answer was cancelled"
    term.wait_for_prompt()
    term.type("/help")  # the session goes on
    term.wait_for("/source N")
    term.type("/quit")
    assert term.exit_status() == 0
    assert "Traceback" not in term.text()


# -- Ctrl-C while qa starts: the embedder and spaCy still loading ------------------------------------


def child_commands(pid: int) -> list[str]:
    """The command lines of ``pid``'s child processes (from /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                out.append((stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, IndexError, ValueError):
            continue
    return out


def assert_quiet_interrupt(term: Terminal) -> None:
    term.child.sendintr()
    assert term.exit_status() == 130
    text = term.raw.decode(errors="replace")
    assert "Traceback" not in text and "terminate called" not in text and "Error" not in text, text
    assert "qa: interrupted" in text


@pytest.mark.parametrize("delay", [0.4, 0.9])
def test_ctrl_c_while_qa_ask_starts_leaves_quietly(seed_index, chat_env, delay):
    term = Terminal(["ask", "--index", str(seed_index), QUESTION], chat_env)
    time.sleep(delay)  # its imports, the index opening
    assert_quiet_interrupt(term)


@pytest.mark.parametrize("after", [0.0, 0.2, 0.4, 0.6])  # the answer comes 1.0-1.3 s after the worker starts
def test_ctrl_c_while_spacy_and_the_embedder_load_in_qa_ask_leaves_quietly(seed_index, chat_env, after):
    term = Terminal(["ask", "--index", str(seed_index), QUESTION], chat_env)
    deadline = time.monotonic() + 60
    while not any("qa.reader.nlp" in c for c in child_commands(term.child.pid)):  # the spaCy worker started
        assert time.monotonic() < deadline and term.child.isalive(), "the spaCy worker never started"
        time.sleep(0.01)
    time.sleep(after)  # the embedding model loads in a thread meanwhile: leaving under it must not abort
    assert_quiet_interrupt(term)


@pytest.mark.parametrize("after", [0.0, 0.03, 0.06, 0.1])
def test_ctrl_c_just_as_the_answer_appears_is_not_a_kill(seed_index, chat_env, after):
    term = Terminal(["ask", "--index", str(seed_index), QUESTION], chat_env)
    term.wait_for("Sources")
    time.sleep(after)  # the interpreter shuts down: it gives SIGINT its default action back on the way
    term.child.sendintr()
    status = term.exit_status()
    assert term.child.signalstatus is None, "killed by SIGINT after the answer was written"
    assert status in (0, 130) and "Traceback" not in term.text()


def test_ctrl_c_while_qa_chat_starts_leaves_quietly(seed_index, chat_env, tmp_path):
    from .test_faults import make_corpus

    term = Terminal(["chat", "--index", str(seed_index)], chat_env)
    time.sleep(0.6)
    assert_quiet_interrupt(term)
    make_corpus(tmp_path / "corpus", random.Random(13), n=40)
    env = {**chat_env, "QA_INGEST_BATCH": "8"}
    term = Terminal(["chat", "--index", str(tmp_path / "index"), str(tmp_path / "corpus")], env)
    term.wait_for(lambda _: b"ingesting" in term.raw, timeout=60)  # the embedder loads, the ingest begins
    # The bar counts articles as they are stored and chunks as they are embedded; Ctrl-C keeps what is stored.
    bar = re.compile(r"([1-9]\d*)/47 articles, ([1-9][\d,]*) chunks")
    term.wait_for(lambda text: bar.search(text) is not None, timeout=120)
    assert_quiet_interrupt(term)
    kept = re.search(rb"qa: interrupted: (\d+) of 47 articles kept; run the same command to finish", term.raw)
    assert kept and int(kept[1]) > 0, term.raw[-500:]


# -- the session in-process, with a scripted generator (tests/fakes.py) ---------------------------------


@pytest.fixture
def session(seed_index):
    import io

    from rich.console import Console

    from qa import Assistant
    from qa.chat import ChatSession
    from qa.output import Printer

    out = io.StringIO()
    chat = ChatSession(Assistant(seed_index, llm="fake"), Printer(Console(file=out, width=COLS)))
    chat.err = Console(file=out, width=COLS)
    return chat, chat.assistant.generator, out


def test_a_follow_up_is_rewritten_by_the_generator_with_the_history(session):
    chat, gen, out = session
    gen.enqueue("Iraq hosts 2,500 US troops [1].", "An additional 900 are stationed in Syria [1].")
    gen.enqueue_rewrite(STANDALONE)
    chat.handle(QUESTION)
    chat.handle(FOLLOW_UP)
    [rewrite] = gen.rewrite_history  # the first question had nothing to lean on
    assert rewrite.question == FOLLOW_UP and rewrite.history == [(QUESTION, "Iraq hosts 2,500 US troops [1].")]
    assert [c.question for c in gen.history] == [QUESTION, STANDALONE]  # the standalone question is searched
    text = out.getvalue()
    assert f"↳ searching: {STANDALONE}" in text and "An additional 900 are stationed in Syria [1]." in text
    chat.handle("/source 1")
    assert SEED_FILE in out.getvalue()
    chat.handle("/source 3")
    assert out.getvalue().endswith("qa: error: there is no source 3; the last answer has 1 source (/source 1)\n")
    chat.handle("/source")
    assert out.getvalue().endswith("qa: error: say which source: the last answer has 1 source (/source 1)\n")


def test_a_refusal_under_a_filter_says_so(session):
    chat, gen, out = session
    chat.handle("/filter 2030-01")
    chat.handle(QUESTION)
    assert gen.history == []  # nothing in 2030: refused without a call
    assert "(only articles matching 2030-01-01..2030-01-31 were searched; /filter off for all)" in out.getvalue()
    chat.handle("/sources")  # a plain note, not an error
    assert out.getvalue().endswith("\nthe last answer cites no sources\n") and "qa: error" not in out.getvalue()


def test_sources_before_any_answer_is_an_error(session):
    chat, _, out = session
    chat.handle("/sources")
    chat.handle("/source 1")
    assert out.getvalue().splitlines() == ["qa: error: no answer yet; ask a question first"] * 2
