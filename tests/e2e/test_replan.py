"""`maestro-tui replan RUN` on a real run: a task fails for good, the planner (a scripted
model over HTTP) is told what merged and what failed, its new tasks run and merge, the
settled tasks are untouched, and the stored events replay the revision."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from maestro_tui.domain import events as ev
from maestro_tui.domain.state import fold
from maestro_tui.domain.views import TaskStatus
from maestro_tui.store.db import Store
from tests.llm.fakeserver import FakeChatServer, Reply, serving
from tests.ui.conftest import git, make_project, task, writes

KEY = "sk-test-replan-0123456789"
PLAN = 'goal = "three files"\n\n' + "".join(
    [
        task("good", writes("good.txt", "good")),
        task("broken", "@fail the fixture cannot be written this way"),
        task("after-broken", writes("after.txt", "after"), depends_on=("broken",)),
    ]
)
# The planner's answer: the failed task's work done differently, and what it had blocked;
# the ids are the old ones, so they are made fresh.
NEW_TASKS = {
    "tasks": [
        {"id": "broken", "title": "Fixture, another way", "role": "coder",
         "prompt": "@write fixed.txt :: fixed", "files": ["fixed.txt"], "depends_on": []},
        {"id": "after-broken", "title": "After the fixture", "role": "coder",
         "prompt": "@write after.txt :: after", "files": ["after.txt"],
         "depends_on": ["broken"]},
    ]
}  # fmt: skip


def responder(body: dict[str, Any]) -> Reply:
    tools = {t["function"]["name"] for t in body.get("tools", [])}
    if "submit_plan" in tools:
        return Reply(text="Re-planned.", tool_calls=[("submit_plan", NEW_TASKS)], usage=(500, 80))
    return Reply(text="(no tool)", usage=(1, 1))


@pytest.fixture
def server() -> Iterator[FakeChatServer]:
    with serving(responder) as srv:
        yield srv


def maestro(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "maestro_tui", *args],
        capture_output=True, text=True, timeout=180, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def stored_events(db: Path, run_id: str) -> list[ev.Event]:
    async def load() -> list[ev.Event]:
        store = await Store.open(db)
        try:
            return await store.load_events(run_id)
        finally:
            await store.close()

    return asyncio.run(load())


def test_a_failed_task_is_replanned_and_the_new_tasks_merge(
    tmp_path: Path, server: FakeChatServer
) -> None:
    project = make_project(tmp_path)
    model = "openai/fake-planner"
    with (project / "maestro.toml").open("a") as toml:
        toml.write(f'\n[llm]\nmodel = "{model}"\napi_key_env = "FAKE_LLM_KEY"\n')
        toml.write(f'api_base = "{server.api_base}"\n')
    git(project, "commit", "-qam", "a planner model")
    plan, db = tmp_path / "plan.toml", tmp_path / "runs.db"
    plan.write_text(PLAN)
    env = {**os.environ, "FAKE_LLM_KEY": KEY}

    first = maestro("run", "--plan", str(plan), "--repo", str(project), "--db", str(db),
                    "--headless", "--yes", env=env)  # fmt: skip
    assert first.returncode == 1, first.stdout + first.stderr  # broken failed for good
    run_id = sqlite3.connect(db).execute("select run_id from runs").fetchone()[0]
    branch = f"maestro/{run_id}"
    good_commit = git(project, "rev-parse", f"maestro-task/{run_id}/good").strip()

    second = maestro("replan", run_id, "--yes", "--db", str(db), env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "plan revised: broken-r1, after-broken-r1" in second.stdout

    # The planner was told what merged, what failed and why, and the budget.
    (request,) = [r for r in server.requests if "submit_plan" in json.dumps(r.get("tools", []))]
    told = json.dumps(request["messages"])
    assert "This is a re-plan" in told and "- good: Task good" in told
    assert "broken" in told and "the fixture cannot be written this way" in told
    assert "Budget:" in told

    # The new tasks ran and merged; the settled ones kept their ids, state and commit.
    for name, text in (("good.txt", "good"), ("fixed.txt", "fixed"), ("after.txt", "after")):
        assert git(project, "show", f"{branch}:{name}").strip() == text
    assert git(project, "rev-parse", f"maestro-task/{run_id}/good").strip() == good_commit
    events = stored_events(db, run_id)
    started = [e.task for e in events if isinstance(e, ev.TaskStarted)]
    assert started.count("good") == 1 and started.count("broken") == 1
    assert "after-broken" not in started  # blocked, then superseded: never ran

    # Replayed from the store, the run shows the revision and how each task ended.
    (revised,) = [e for e in events if isinstance(e, ev.PlanRevised)]
    assert revised.added == ("broken-r1", "after-broken-r1")
    assert set(revised.superseded) == {"broken", "after-broken"}
    state = fold(events)
    assert state.revisions == 1 and state.status.value == "succeeded"
    statuses = {t.id: t.status for t in state.tasks.values()}
    assert statuses == {
        "good": TaskStatus.MERGED,
        "broken": TaskStatus.FAILED,
        "after-broken": TaskStatus.BLOCKED,
        "broken-r1": TaskStatus.MERGED,
        "after-broken-r1": TaskStatus.MERGED,
    }
    assert state.tasks["after-broken-r1"].depends_on == ("broken-r1",)
    planner_calls = sqlite3.connect(db).execute(
        "select count(*) from llm_calls where task_id is null"
    )
    assert planner_calls.fetchone() == (1,)  # the re-plan's call, recorded with the run


def test_nothing_to_replan_is_said(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    plan, db = tmp_path / "plan.toml", tmp_path / "runs.db"
    plan.write_text('goal = "one"\n\n' + task("good", writes("good.txt", "good")))
    env = dict(os.environ)
    assert maestro("run", "--plan", str(plan), "--repo", str(project), "--db", str(db),
                   "--headless", "--yes", env=env).returncode == 0  # fmt: skip
    run_id = sqlite3.connect(db).execute("select run_id from runs").fetchone()[0]
    result = maestro("replan", run_id, "--yes", "--db", str(db), env=env)
    assert result.returncode == 2
    assert "nothing to re-plan" in result.stderr
