"""``qa mcp``: the real server in a child process, driven by the MCP SDK's own stdio client.

One server for the module: it starts on an index folder that does not exist yet (every tool must say
so and keep serving), then the seed articles are ingested into it with the real ``qa ingest`` while it
runs, and the tests ask it about them. Every line the server writes to stdout must be a protocol
message: the client's transport hands anything else to the session as an error, which is recorded.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

mcp = pytest.importorskip("mcp")

from anyio.from_thread import start_blocking_portal  # noqa: E402  (after the SDK is known to be there)
from mcp import ClientSession  # noqa: E402
from mcp.client.stdio import StdioServerParameters, stdio_client  # noqa: E402

from .conftest import ROOT, SEEDS, run_qa  # noqa: E402
from .test_cli import assert_clean_error  # noqa: E402

TROOPS = "How many US troops does Iraq host?"  # the seed set's first question: "2,500", from the 000_ seed
TROOPS_SEED = "000_3fec42b9180752d3.txt"
CARRIER = "Which carrier strike group did the U.S. move to the Middle East?"  # only the 004_ seed says
CARRIER_SEED = "004_5ac8039a6aa0238a.txt"
CALL_TIMEOUT = 180.0  # seconds; the machine is shared and slow


class Client:
    """A synchronous face on an MCP ``ClientSession`` that runs in a portal's event loop thread."""

    def __init__(self, portal: Any, session: ClientSession, transport_errors: list[Exception]):
        self.portal = portal
        self.session = session
        self.transport_errors = transport_errors
        self.before_ingest: dict[str, Any] = {}

    def call(self, tool: str, arguments: dict[str, Any] | None = None) -> Any:
        result = self.portal.call(self.session.call_tool, tool, arguments or {}, CALL_TIMEOUT)
        assert not self.transport_errors, self.transport_errors  # stdout held something but the protocol
        return result

    def ok(self, tool: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        """The structured result of a call that must succeed; its text content is the same JSON."""
        result = self.call(tool, arguments)
        assert not result.is_error, result.content
        assert json.loads(result.content[0].text) == result.structured_content
        return result.structured_content

    def error(self, tool: str, arguments: dict[str, Any] | None = None) -> str:
        """The message of a call that must fail as a tool error: one line."""
        result = self.call(tool, arguments)
        assert result.is_error, result.structured_content
        (content,) = result.content
        assert "\n" not in content.text and "Traceback" not in content.text, content.text
        return content.text


def readme_config() -> dict[str, Any]:
    """The ``mcpServers`` entry the README gives a desktop client."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"```json\n(.*?)```", readme, re.S)
    return json.loads(block)["mcpServers"]["qa"]


@contextlib.asynccontextmanager
async def connect(index: Path, errlog: Any, transport_errors: list[Exception]) -> AsyncIterator[ClientSession]:
    """A session with ``qa mcp`` started as the README's configuration says, on ``index``."""
    config = readme_config()
    assert Path(config["command"]).name == "qa" and config["args"][:2] == ["mcp", "--index"]
    args = [*config["args"][:2], str(index), *config["args"][3:]]
    params = StdioServerParameters(command=sys.executable, args=["-m", "qa.cli", *args], env=dict(os.environ), cwd=ROOT)

    async def on_message(message: Any) -> None:
        if isinstance(message, Exception):
            transport_errors.append(message)

    async with stdio_client(params, errlog=errlog) as (read, write):
        async with ClientSession(read, write, read_timeout_seconds=CALL_TIMEOUT, message_handler=on_message) as session:
            await session.initialize()
            yield session


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Client:
    folder = tmp_path_factory.mktemp("mcp")
    index = folder / "index"  # not there yet
    errors: list[Exception] = []
    with open(folder / "stderr.log", "w") as errlog, start_blocking_portal() as portal:
        with portal.wrap_async_context_manager(connect(index, errlog, errors)) as session:
            client = Client(portal, session, errors)
            client.before_ingest = {
                "ask": client.error("ask", {"question": TROOPS}),
                "search": client.error("search", {"query": TROOPS}),
                "list_articles": client.ok("list_articles"),
            }
            r = run_qa("ingest", "--index", str(index), str(SEEDS))
            assert r.returncode == 0, r.stderr
            yield client
    assert "Traceback" not in (folder / "stderr.log").read_text()


def article_text(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def test_lists_its_three_tools_with_their_schemas(server):
    tools = {t.name: t for t in server.portal.call(server.session.list_tools).tools}
    assert set(tools) == {"ask", "search", "list_articles"}
    ask, search = tools["ask"].input_schema, tools["search"].input_schema
    assert ask["required"] == ["question"] and search["required"] == ["query"]
    for schema in (ask, search):
        assert {"since", "until", "source", "top_k"} <= set(schema["properties"])
        assert schema["properties"]["top_k"]["anyOf"][0]["minimum"] == 1
    assert tools["list_articles"].input_schema.get("required", []) == []
    assert {"answer", "short_answer", "citations", "confidence", "refused"} <= set(
        tools["ask"].output_schema["properties"]
    )
    assert all(t.description and t.annotations.read_only_hint for t in tools.values())


def test_ask_cites_a_seed_article_with_quotes_from_it(server):
    result = server.ok("ask", {"question": TROOPS})
    assert not result["refused"] and result["note"] is None
    assert "2,500" in result["answer"] and result["short_answer"] == "2,500"
    assert 0 < result["confidence"] <= 1
    assert result["citations"]
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", result["answer"])}
    assert markers and markers <= {c["n"] for c in result["citations"]}
    for c in result["citations"]:
        assert c["path"].endswith(TROOPS_SEED) and c["url"] is None and c["date"] == "2024-08-06"
        assert c["title"].startswith("At least five US personnel")
        assert c["quote"] and c["quote"] in article_text(c["path"])
    assert any("2,500" in c["quote"] for c in result["citations"])


def test_search_gives_passages_only(server):
    result = server.ok("search", {"query": CARRIER, "top_k": 3})
    passages = result["passages"]
    assert result["query"] == CARRIER and 1 <= len(passages) <= 3
    assert [p["n"] for p in passages] == list(range(1, len(passages) + 1))
    assert [p["score"] for p in passages] == sorted((p["score"] for p in passages), reverse=True)
    assert passages[0]["path"].endswith(CARRIER_SEED) and "Abraham Lincoln" in passages[0]["text"]
    ids = {a["id"] for a in server.ok("list_articles")["articles"]}
    for p in passages:
        assert p["text"] in article_text(p["path"])
        assert p["article_id"] in ids
    assert set(passages[0]) == {"n", "title", "date", "url", "path", "text", "score", "article_id"}  # no answer


def test_list_articles_is_what_qa_articles_json_gives(server):
    listed = server.ok("list_articles")["articles"]
    r = run_qa("articles", "--json", "--index", str(server_index(server)))
    assert r.returncode == 0, r.stderr
    assert listed == json.loads(r.stdout)
    assert [Path(a["sources"][0]).name for a in listed] == [TROOPS_SEED, CARRIER_SEED]


def server_index(server: Client) -> Path:
    return Path(server.before_ingest["ask"].split("the index ", 1)[1].split(" has no articles")[0])


def test_filters_narrow_the_search_and_one_that_excludes_everything_is_a_refusal(server):
    for arguments in ({"since": "2030-01"}, {"source": "no-such-paper"}, {"until": "2001-12-31"}):
        result = server.ok("ask", {"question": TROOPS, **arguments})
        assert result["refused"] and result["citations"] == [] and result["short_answer"] is None
        assert result["answer"] == "I cannot answer that from the articles."
        assert result["note"].startswith("Nothing relevant was found in articles matching ")
        found = server.ok("search", {"query": TROOPS, **arguments})
        assert found["passages"] == [] and found["note"].startswith("No passage was found in articles matching ")
    assert "2030-01-01" in server.ok("ask", {"question": TROOPS, "since": "2030-01"})["note"]
    only = server.ok("ask", {"question": CARRIER, "source": CARRIER_SEED[:8]})
    assert only["citations"] and all(c["path"].endswith(CARRIER_SEED) for c in only["citations"])
    assert "Abraham Lincoln" in only["answer"]
    passages = server.ok("search", {"query": TROOPS, "since": "2024-08", "until": "2024-08"})["passages"]
    assert passages and {p["date"] for p in passages} == {"2024-08-06"}  # the undated article is left out


def test_bad_input_is_a_tool_error_and_the_server_keeps_serving(server):
    message = server.error("ask", {"question": TROOPS, "since": "2024-13"})
    assert "since: '2024-13' is not a date; write YYYY-MM-DD or YYYY-MM" in message
    assert "until: the range 2024-09-01..2024-08-31 ends before it starts" in server.error(
        "search", {"query": TROOPS, "since": "2024-09", "until": "2024-08"}
    )
    assert "the question is empty" in server.error("ask", {"question": "  "})
    assert "the query is empty" in server.error("search", {"query": ""})
    assert "characters long" in server.error("ask", {"question": "why " * 1000})
    assert server.call("ask", {"question": TROOPS, "top_k": 0}).is_error  # the schema's minimum, checked by the SDK
    assert server.call("ask", {}).is_error  # no question
    assert server.ok("ask", {"question": TROOPS, "top_k": 2})["short_answer"] == "2,500"  # still serving


def test_a_missing_index_is_a_tool_error_until_it_is_filled(server):
    index = server_index(server)
    for tool in ("ask", "search"):
        message = server.before_ingest[tool]
        assert f"the index {index} has no articles; add some with: qa ingest --index {index} PATH..." in message
    assert server.before_ingest["list_articles"] == {"articles": []}
    assert server.ok("list_articles")["articles"]  # the ingest made while it ran is served


def test_without_the_sdk_it_says_how_to_install_it(tmp_path):
    code = "import sys; sys.modules['mcp'] = None; from qa.cli import main; main()"
    r = subprocess.run(
        [sys.executable, "-c", code, "mcp", "--index", str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=ROOT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert_clean_error(r, 1, "qa mcp needs the MCP SDK", "pip install 'qa[mcp]'")
    assert r.stdout == ""


def test_ctrl_c_in_a_terminal_stops_it_at_once(tmp_path):
    import pexpect

    child = pexpect.spawn(
        sys.executable, ["-m", "qa.cli", "mcp", "--index", str(tmp_path / "index")],
        cwd=str(ROOT), env=dict(os.environ), encoding="utf-8", timeout=60,
        use_poll=True,  # select() fails once the test process holds more than 1024 descriptors (late in the suite)
    )  # fmt: skip
    child.expect("stop with Ctrl-C")
    hello = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "a terminal", "version": "1"}}
    child.sendline(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": hello}))
    child.expect('"id":1,"result"')  # serving: the SDK's reader waits for the next line
    child.sendintr()
    child.expect(pexpect.EOF, timeout=20)  # not waiting for another line of input
    child.close()
    assert child.exitstatus == 130 and "qa: interrupted" in child.before and "Traceback" not in child.before
