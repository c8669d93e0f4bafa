"""`maestro-tui say` from a second process reaches an LLM agent of a run driven by another."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import events_of, run_cli
from tests.llm.fakeserver import FakeChatServer, Reply

PLAN = """
goal = "one task, steered"

[[tasks]]
id = "style"
title = "Tidy the style"
prompt = "Tidy calc/ops.py."
files = ["calc/ops.py"]
"""


@pytest.fixture
def server() -> Iterator[FakeChatServer]:
    srv = FakeChatServer().start()
    try:
        yield srv
    finally:
        srv.stop()


def _heard(body: dict[str, Any]) -> bool:
    return any(
        m["role"] == "user" and "use tabs, not spaces" in str(m["content"])
        for m in body["messages"]
    )


def _run_id(db: Path, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if db.exists():
            with sqlite3.connect(db) as con:
                try:
                    row = con.execute("select run_id from runs").fetchone()
                except sqlite3.OperationalError:
                    row = None
            if row:
                return str(row[0])
        time.sleep(0.05)
    raise AssertionError("the run never started")


def test_say_reaches_the_agent_of_a_run_in_another_process(
    project: Path, tmp_path: Path, server: FakeChatServer
) -> None:
    # The agent lists files, slowly, until it hears from the human; then it finishes.
    def agent(body: dict[str, Any]) -> Reply:
        if _heard(body):
            tabbed = {"path": "calc/ops.py", "content": "def add(a, b):\n\treturn a + b\n"}
            return Reply(
                tool_calls=[("write_file", tabbed), ("finish", {"summary": "Tabs, as asked."})]
            )
        return Reply(tool_calls=[("list_files", {})], delay_s=0.1)

    server.responder = agent
    (project / "maestro.toml").write_text(
        f"""
[run]
default_worker = "llm"
[llm]
model = "openai/fake-model"
api_base = "{server.api_base}"
api_key_env = "FAKE_KEY"
max_turns = 300
[llm.prices."openai/fake-model"]
input_per_mtok = 1.0
output_per_mtok = 2.0
[notify]
desktop = false
"""
    )
    subprocess.run(["git", "-C", str(project), "commit", "-qam", "llm worker"], check=True)
    plan, db = tmp_path / "plan.toml", tmp_path / "runs.db"
    plan.write_text(PLAN)
    env = {**os.environ, "FAKE_KEY": "sk-test-fake-key-0123456789"}
    env.pop("MAESTRO_TUI_DB", None)
    argv = [sys.executable, "-m", "maestro_tui", "run", "--plan", str(plan), "--repo",
            str(project), "--db", str(db), "--headless", "--yes"]  # fmt: skip
    driver = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        run_id = _run_id(db)
        deadline = time.monotonic() + 30
        while not server.requests:  # the agent is at work
            assert time.monotonic() < deadline and driver.poll() is None
            time.sleep(0.05)
        nobody = run_cli("say", run_id, "no-such-task", "hello", "--db", str(db))
        assert nobody.returncode == 2 and "no task 'no-such-task'" in nobody.stderr
        said = run_cli("say", run_id, "style", "use tabs, not spaces", "--db", str(db))
        assert said.returncode == 0, said.stderr
        assert "style: sent: the agent takes it at its next turn" in said.stdout
        out, err = driver.communicate(timeout=60)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 0, out + err
    assert "» you (cli): use tabs, not spaces" in out
    events = events_of(db, run_id)
    sent = [e for e in events if e["type"] == "SteerSent"]
    assert [(e["task"], e["text"], e["source"]) for e in sent] == [
        ("style", "use tabs, not spaces", "cli")
    ]
    delivered = [e for e in events if e["type"] == "SteerDelivered"]
    assert len(delivered) == 1 and delivered[0]["seq"] > sent[0]["seq"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))  # nothing corrupted
    after = run_cli("say", run_id, "style", "too late", "--db", str(db))
    assert after.returncode == 2 and "is not running in any maestro-tui process" in after.stderr
    assert json.loads(json.dumps(events[-1]))["type"] == "RunFinished"
