"""The real Claude Code CLI with `maestro-tui mcp` as its MCP server (`--mcp-config`), driven by
a scripted Anthropic Messages backend: the model calls maestro_consult and gets maestro's answer.

This rests on the CLI lab (the `cli` tests): Claude Code installed at a pinned version in the
git-ignored `.agents/` by `make agent-clis`, the scripted servers of `tests/agents/servers/`,
and the loopback-only network namespace both run in. Until those are here, or where Claude
Code is not installed or no namespace can be made, the test is skipped and says why. The
consult is answered by the offline demo model, so nothing leaves the namespace.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import git

harness = pytest.importorskip(
    "tests.agents.cli_harness", reason="the CLI lab's harness (tests/agents/) is not here yet"
)
netns = pytest.importorskip("tests.agents.netns")
core = pytest.importorskip("tests.agents.servers.core")

pytestmark = pytest.mark.cli

TOOL = "mcp__maestro__maestro_consult"  # Claude Code's name for an MCP server's tool
QUESTION = "Why does test_add fail?"


def find(request: Any) -> Any:
    """First turn: Claude Code defers MCP tools (named only); fetch maestro's consult."""
    assert TOOL in json.dumps(request.body.get("messages")), "maestro's tools were not named"
    select = core.ToolCall("ToolSearch", {"query": f"select:{TOOL}"})
    return core.Turn(text="Looking for maestro.", tool_calls=(select,))


def consult(request: Any) -> Any:
    """Second turn: the tool's schema, as maestro serves it, is on offer; call it."""
    schemas = {t["name"]: t for t in request.body.get("tools", []) if "name" in t}
    assert "question" in schemas[TOOL]["input_schema"]["properties"], schemas.get(TOOL)
    call = core.ToolCall(TOOL, {"question": QUESTION})
    return core.Turn(text="Asking maestro.", tool_calls=(call,))


def relay(request: Any) -> Any:
    """Last turn: say what maestro answered."""
    (result,) = request.tool_results
    assert not result.is_error, result.text
    return core.Turn(text=f"maestro says: {result.text}")


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Any]:
    reason = netns.unavailable_reason() or harness.CLIS["claude"].missing_reason()
    if reason:
        pytest.skip(reason)
    ns = netns.NetNamespace()
    server = harness.CLIS["claude"].server([find, consult, relay]).start(ns)
    try:
        yield harness.Lab(harness.CLIS["claude"], ns, server, tmp_path / "lab")
    finally:
        server.stop()
        ns.close()


def test_claude_code_calls_maestro_consult_and_gets_the_answer(lab: Any, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (repo / "maestro.toml").write_text('[llm]\nmodel = "demo"\n')  # the demo model answers
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    db = tmp_path / "maestro.db"
    maestro = Path(sys.executable).parent / "maestro-tui"
    config = tmp_path / "mcp.json"
    config.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "maestro": {
                        "command": str(maestro),
                        "args": ["mcp", "--db", str(db)],
                        "env": {"MAESTRO_DEMO_PACE": "0"},
                    }
                }
            }
        )
    )
    extra = ["--mcp-config", str(config), "--strict-mcp-config", "--allowedTools", TOOL]
    run = lab.run("Find out why test_add fails.", repo, extra=extra, timeout_s=120)

    assert run.exit_code == 0, run.stderr
    assert lab.server.script_errors == []
    result = run.of_type("result")[-1]
    assert result["is_error"] is False
    # Claude Code hands the model the tool's structured content: maestro's answer, as JSON.
    said = json.loads(result["result"].removeprefix("maestro says: "))
    assert said["answer"].startswith(f"Demo advice on “{QUESTION}”. In the analyze stage")
    assert (said["model"], said["stage"], said["budget"]) == (
        "demo/coder",
        "analyze",
        "analyze: 1 of 2 consults, 0 of 0 ensembles",
    )
    init = run.of_type("system")[0]
    servers = {s["name"]: s["status"] for s in init["mcp_servers"]}
    assert servers == {"maestro": "connected"}

    with sqlite3.connect(db) as con:
        ((session, goal),) = con.execute("select run_id, goal from runs where kind = 'mcp'")
        calls = con.execute(
            "select task_id, model from llm_calls where run_id = ?", (session,)
        ).fetchall()
        tools = con.execute(
            "select data from events where run_id = ? and type = 'ToolCalled'", (session,)
        ).fetchall()
    assert goal.startswith("MCP session of ")  # the client's name, as Claude Code gives it
    assert calls == [("analyze", "demo/coder")]
    assert [(json.loads(d)["tool"], json.loads(d)["ok"]) for (d,) in tools] == [
        ("maestro_consult", True)
    ]
