"""Run control over stdio: a fleet started by the agent goes on between calls, its merges are
decided through the same merge queue as the TUI's, git ends as decided, and a run outlives its
server: paused when it stops, decided and resumed by the next one."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession

from tests.e2e.conftest import git
from tests.mcp_server.conftest import call, mcp_client

pytestmark = pytest.mark.slow


def task(task_id: str, path: str, text: str, *deps: str) -> dict[str, Any]:
    return {
        "id": task_id,
        "prompt": f"@write {path} :: {text}",
        "files": [path],
        "depends_on": list(deps),
    }


async def wait_for_waiting(client: ClientSession, run_id: str, count: int) -> dict[str, Any]:
    """Status once `count` merges wait: each call returns on news, so no polling and no sleep."""
    status = await call(client, "maestro_run_status", run_id=run_id)
    while len(status["waiting_merges"]) < count and status["live"]:
        status = await call(client, "maestro_run_status", run_id=run_id, wait_s=120)
    return status


async def test_start_run_and_decide_merges_leave_git_as_decided(repo: Path, tmp_path: Path) -> None:
    plan = {
        "goal": "three small modules",
        "tasks": [
            task("keep", "calc/mul.py", "def mul(a, b):\\n    return a * b"),
            task("drop", "calc/div.py", "def div(a, b):\\n    return a / b", "keep"),
            task("again", "calc/neg.py", "def neg(a):\\n    return -a", "keep"),
        ],
    }
    main = git(repo, "rev-parse", "main")
    async with mcp_client(repo, tmp_path / "m.db") as client:
        run_id = (await call(client, "maestro_start_run", plan=plan, agents=2))["run_id"]
        status = await wait_for_waiting(client, run_id, 1)
        assert status["waiting_merges"] == ["keep"]  # its dependents wait for the decision
        await call(client, "maestro_decide_merge", run_id=run_id, task="keep", decision="approve")
        status = await wait_for_waiting(client, run_id, 2)
        assert sorted(status["waiting_merges"]) == ["again", "drop"]
        await call(
            client,
            "maestro_decide_merge",
            run_id=run_id,
            task="drop",
            decision="reject",
            reason="no division",
        )
        await call(client, "maestro_decide_merge", run_id=run_id, task="again", decision="retry")
        status = await wait_for_waiting(client, run_id, 1)
        assert status["waiting_merges"] == ["again"]
        await call(client, "maestro_decide_merge", run_id=run_id, task="again", decision="approve")
        status = await call(client, "maestro_run_status", run_id=run_id, wait_s=120)
    assert status["status"] == "failed" and not status["live"]  # a rejected task fails the run
    assert status["tasks"] == {"keep": "merged", "drop": "rejected", "again": "merged"}
    branch = f"maestro/{run_id}"
    files = git(repo, "ls-tree", "-r", "--name-only", branch).split()
    assert "calc/mul.py" in files and "calc/neg.py" in files and "calc/div.py" not in files
    assert git(repo, "rev-parse", "main") == main and git(repo, "status", "--porcelain") == ""
    with sqlite3.connect(tmp_path / "m.db") as con:
        attempts = con.execute(
            "select attempts from tasks where run_id = ? and task_id = 'again'", (run_id,)
        ).fetchone()[0]
        reason = con.execute(
            "select reason from tasks where run_id = ? and task_id = 'drop'", (run_id,)
        ).fetchone()[0]
    assert attempts == 2 and reason == "no division"


async def test_a_run_outlives_its_server_and_is_decided_and_resumed_by_the_next(
    repo: Path, tmp_path: Path
) -> None:
    plan = {
        "tasks": [
            task("one", "one.txt", "first"),
            task("two", "two.txt", "second"),
        ]
    }
    db = tmp_path / "m.db"
    async with mcp_client(repo, db) as client:
        run_id = (await call(client, "maestro_start_run", plan=plan, goal="two files"))["run_id"]
        await wait_for_waiting(client, run_id, 2)
    # The server is gone: its run was paused, not lost.
    async with mcp_client(repo, db) as client:
        status = await call(client, "maestro_run_status", run_id=run_id)
        assert (status["status"], status["live"]) == ("interrupted", False)
        assert sorted(status["waiting_merges"]) == ["one", "two"]
        # A decision on a run nobody drives goes through the recorded run, like the CLI's.
        await call(client, "maestro_decide_merge", run_id=run_id, task="one", decision="approve")
        assert git(repo, "show", f"maestro/{run_id}:one.txt") == "first"
        resumed = await call(client, "maestro_resume_run", run_id=run_id)
        assert resumed["live"] and resumed["waiting_merges"] == ["two"]
        await call(client, "maestro_decide_merge", run_id=run_id, task="two", decision="approve")
        status = await call(client, "maestro_run_status", run_id=run_id, wait_s=120)
    assert status["status"] == "succeeded"
    assert git(repo, "show", f"maestro/{run_id}:two.txt") == "second"
