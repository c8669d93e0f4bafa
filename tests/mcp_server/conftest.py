"""A real `maestro-tui mcp` subprocess, an SDK client session on its stdio, a loopback model.

The client is an async context manager used inside each test, not a fixture: the SDK's stdio
transport runs in anyio task groups that must be entered and left in the same task.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TextIO

import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client

from tests.e2e.conftest import FAKE_AGENT, git
from tests.llm.fakeserver import FakeChatServer, Reply

KEY = "sk-test-mcp-5e4d3c2b1a09f8e7"
PRICE_IN, PRICE_OUT = 1.0, 4.0  # usd per 1M tokens, configured for every fake model
ADVISOR = "openai/fake-advisor"
ENSEMBLE = ("openai/fake-a", "openai/fake-b")


def cost(tokens_in: int, tokens_out: int) -> float:
    return (tokens_in * PRICE_IN + tokens_out * PRICE_OUT) / 1e6


def responder(body: dict[str, Any]) -> Reply:
    """Advice names its model and echoes the question's first line; a judge picks 2."""
    tools = {t["function"]["name"] for t in body.get("tools", [])}
    if "pick" in tools:
        return Reply(tool_calls=[("pick", {"candidate": 2, "reason": "clearer"})], usage=(50, 9))
    brief = str(body["messages"][-1]["content"])
    question = re.search(r"^## Question\n(.*)$", brief, re.MULTILINE)
    topic = question.group(1) if question else "?"
    return Reply(text=f"advice from {body['model']}: {topic}", usage=(120, 30))


@pytest.fixture
def server() -> Iterator[FakeChatServer]:
    srv = FakeChatServer().start()
    srv.responder = responder
    try:
        yield srv
    finally:
        srv.stop()


def write_config(repo: Path, api_base: str, state: Path, extra: str = "") -> None:
    prices = "".join(
        f'[llm.prices."{m}"]\ninput_per_mtok = {PRICE_IN}\noutput_per_mtok = {PRICE_OUT}\n\n'
        for m in (ADVISOR, *ENSEMBLE)
    )
    (repo / "maestro.toml").write_text(
        f"""
[run]
default_worker = "fake"
retries = 0

[tests]
command = "env PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {sys.executable} -m pytest -q -p no:cacheprovider"
timeout_s = 120

[merge]
policy = "review"

[llm]
model = "{ADVISOR}"
api_base = "{api_base}"
api_key_env = "FAKE_MCP_KEY"

{prices}
[mcp]
budget_usd = 1.0
ensemble_models = {json.dumps(list(ENSEMBLE))}

[workers.fake]
argv = ["{sys.executable}", "{FAKE_AGENT}", "{{prompt}}"]
env = {{ FAKE_STATE = "{state}" }}
{extra}
"""
    )


@pytest.fixture
def repo(tmp_path: Path, server: FakeChatServer) -> Path:
    """A small Python project whose tests pass, configured for the loopback model."""
    root = tmp_path / "project"
    (root / "calc").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "calc" / "__init__.py").write_text("")
    (root / "calc" / "ops.py").write_text("def add(a, b):\n    return a + b\n")
    (root / "tests" / "test_ops.py").write_text(
        "from calc.ops import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
    )
    (root / "conftest.py").write_text("")
    (root / ".gitignore").write_text("__pycache__/\n")
    state = tmp_path / "fake-state"
    state.mkdir()
    write_config(root, server.api_base, state)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "initial")
    return root


def server_env() -> dict[str, str]:
    """What the agent CLI would give its server: PATH (this interpreter first), HOME, the key."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {
        "PATH": path,
        "HOME": os.environ.get("HOME", "/tmp"),
        "FAKE_MCP_KEY": KEY,
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "MAESTRO_DEMO_PACE": "0",
    }


def maestro_command() -> list[str]:
    """`maestro-tui` as installed beside this interpreter (the venv's console script)."""
    script = Path(sys.executable).parent / "maestro-tui"
    return [str(script)] if script.exists() else [sys.executable, "-m", "maestro_tui"]


def errlog_for(db: Path) -> TextIO:
    """Where the server's stderr goes: beside the database, to read when a test fails."""
    return db.with_suffix(".stderr").open("a", encoding="utf-8")


@asynccontextmanager
async def mcp_client(repo: Path, db: Path) -> AsyncIterator[ClientSession]:
    """An initialized client session on a fresh `maestro-tui mcp` serving `repo`."""
    command, *args = maestro_command()
    params = StdioServerParameters(
        command=command,
        args=[*args, "mcp", "--db", str(db)],
        cwd=str(repo),
        env=server_env(),
    )
    with errlog_for(db) as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                yield session


async def call(client: ClientSession, tool: str, **arguments: Any) -> dict[str, Any]:
    """A tool call that must succeed; its structured content."""
    result = await client.call_tool(tool, arguments)
    text = result.content[0].text if result.content else ""  # type: ignore[union-attr]
    assert not result.is_error, f"{tool} failed: {text}"
    return dict(result.structured_content or {})


async def refused(client: ClientSession, tool: str, **arguments: Any) -> str:
    """A tool call that must be refused; its message."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, f"{tool} was not refused: {result.content}"
    return result.content[0].text  # type: ignore[union-attr]


def events_of(db: Path, run_id: str) -> list[dict[str, Any]]:
    with sqlite3.connect(db) as con:
        rows = con.execute(
            "select seq, type, data from events where run_id = ? order by seq", (run_id,)
        ).fetchall()
    return [{"seq": s, "type": t, **json.loads(d)} for s, t, d in rows]


def session_id(db: Path) -> str:
    with sqlite3.connect(db) as con:
        (row,) = con.execute("select run_id from runs where kind = 'mcp'").fetchall()
    return str(row[0])


def files_hold(folder: Path, pattern: str, secret: str) -> bool:
    """Whether any file matching `pattern` in `folder` holds `secret`."""
    return any(secret.encode() in path.read_bytes() for path in folder.glob(pattern))
