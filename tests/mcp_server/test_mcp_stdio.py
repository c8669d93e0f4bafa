"""`maestro-tui mcp` over stdio, driven by the SDK's client: every tool, once, against a real
server process, models on a loopback OpenAI-compatible server; then the session as recorded."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from maestro_tui.mcp_server.schemas import TOOLS
from tests.e2e.conftest import git
from tests.llm.fakeserver import FakeChatServer
from tests.mcp_server.conftest import (
    ADVISOR,
    ENSEMBLE,
    KEY,
    call,
    cost,
    events_of,
    files_hold,
    mcp_client,
    refused,
    session_id,
)

pytestmark = pytest.mark.slow

MUL_PLAN = {
    "goal": "multiply",
    "tasks": [
        {
            "id": "mul",
            "title": "Add mul",
            "prompt": "@write calc/mul.py :: def mul(a, b):\\n    return a * b",
            "files": ["calc/mul.py"],
        }
    ],
}


async def test_every_tool_over_stdio_is_answered_and_recorded(
    repo: Path, tmp_path: Path, server: FakeChatServer
) -> None:
    db = tmp_path / "maestro.db"
    async with mcp_client(repo, db) as client:
        listed = (await client.list_tools()).tools
        assert [t.name for t in listed] == [t.name for t in TOOLS]
        assert all(t.input_schema["type"] == "object" and t.description for t in listed)

        # Bad arguments: a clear error, nothing asked of any model.
        message = await refused(client, "maestro_consult", questoin="?", files="calc/ops.py")
        assert "'question' is required" in message and "did you mean 'question'" in message
        assert "'files' must be an array" in message and not server.requests

        # A consult: the question with packed context goes out, with no tools; text comes back.
        data = await call(
            client, "maestro_consult", question="Why would add overflow?", files=["calc/ops.py"]
        )
        assert data["answer"] == "advice from fake-advisor: Why would add overflow?"
        assert (data["stage"], data["tokens_in"], data["tokens_out"]) == ("analyze", 120, 30)
        assert data["cost_usd"] == pytest.approx(cost(120, 30))
        assert data["context"]["files"] == ["calc/ops.py"]
        (asked,) = server.requests
        assert "tools" not in asked and "def add(a, b)" in asked["messages"][-1]["content"]
        assert "text advice only" in asked["messages"][0]["content"]

        packed = await call(
            client,
            "maestro_pack_context",
            files=["calc/ops.py", "nope.py"],
            errors=["E   assert add(2, 2) == 5"],
            stage="debug",
        )
        assert packed["text"].startswith("## Stage: debug")
        assert "## Errors" in packed["text"] and "## Repository map" in packed["text"]
        assert packed["left_out"] == ["nope.py: no such file"]

        # The workflow: no skipping ahead; hypothesize asks an ensemble of the configured models.
        message = await refused(client, "maestro_run_stage", stage="implement", input="x")
        assert "cannot go to implement from analyze" in message
        data = await call(
            client,
            "maestro_run_stage",
            stage="hypothesize",
            input="add may overflow",
            summary="add is a plain +",
        )
        candidates = data["candidates"]
        assert [c["label"] for c in candidates] == list(ENSEMBLE)
        assert candidates[0]["content"].startswith("advice from fake-a: ")
        message = await refused(client, "maestro_ensemble_generate", task="more ideas")
        assert "hypothesize: 0 of 2 consults, 1 of 1 ensemble" in message
        brief = server.requests[-1]["messages"][-1]["content"]
        assert "add is a plain +" in brief  # the summary of analyze is later stages' context

        # Selection: a judge by criteria (no tests: not backed), then tests first, by the
        # results passed (backed).
        picks = [{"content": c["content"], "label": c["label"]} for c in candidates]
        judged = await call(
            client, "maestro_select_best", candidates=picks, mode="llm_judge", criteria="clarity"
        )
        assert (judged["best"], judged["method"]) == (2, "llm_judge")
        assert "Criteria, in order: clarity." in server.requests[-1]["messages"][-1]["content"]
        chosen = await call(
            client,
            "maestro_select_best",
            candidates=picks,
            test_results=[
                {"candidate": 1, "passed": False, "n_passed": 0, "n_failed": 1},
                {"candidate": 2, "passed": True, "n_passed": 1, "n_failed": 0},
            ],
        )
        assert (chosen["best"], chosen["label"], chosen["backed_by_tests"]) == (
            2,
            ENSEMBLE[1],
            True,
        )

        state = await call(client, "maestro_workflow_state")
        assert state["current"] == "hypothesize" and state["next"] == ["implement", "analyze"]
        spent = cost(120, 30) * 3 + cost(50, 9)
        assert state["spent_usd"] == pytest.approx(spent) and state["budget_usd"] == 1.0

        # Run control: a fleet of one task under review, decided here; git as decided.
        main_before = git(repo, "rev-parse", "main")
        started = await call(client, "maestro_start_run", plan=MUL_PLAN, agents=1)
        run_id = started["run_id"]
        status = await call(client, "maestro_run_status", run_id=run_id, wait_s=120)
        assert status["waiting_merges"] == ["mul"] and status["live"]
        merges = (await call(client, "maestro_list_merges", run_id=run_id))["merges"]
        assert [(m["task"], m["reasons"]) for m in merges] == [("mul", ["merge policy is review"])]
        await call(client, "maestro_decide_merge", run_id=run_id, task="mul", decision="approve")
        status = await call(client, "maestro_run_status", run_id=run_id[:-1], wait_s=120)
        assert status["status"] == "succeeded" and status["tasks"] == {"mul": "merged"}
        resumed = await call(client, "maestro_resume_run", run_id=run_id)
        assert resumed["note"] == "nothing left to run"

        metrics = await call(client, "maestro_get_metrics")
        by_name = {m["name"]: m for m in metrics["metrics"]}
        assert metrics["decisions"] == 2 and metrics["decisions_backed_by_tests"] == 1
        assert by_name["test-signal coverage"]["value"] == 0.5
        assert by_name["merge success"]["value"] == 1.0
        assert metrics["model_calls"] == 4 and metrics["stages_visited"] == 2

    assert git(repo, "show", f"maestro/{run_id}:calc/mul.py") == "def mul(a, b):\n    return a * b"
    assert git(repo, "rev-parse", "main") == main_before  # your branch: untouched until `land`

    # The session as recorded: a run of kind mcp, every call and model call, exact costs.
    session = session_id(db)
    with sqlite3.connect(db) as con:
        kinds = dict(con.execute("select run_id, kind from runs"))
        status_row = con.execute("select status from runs where run_id = ?", (session,))
        calls = con.execute(
            "select task_id, model, tokens_in, tokens_out, cost_usd from llm_calls"
            " where run_id = ? order by seq",
            (session,),
        ).fetchall()
        assert status_row.fetchone()[0] == "succeeded"
    assert kinds == {session: "mcp", run_id: "run"}
    assert calls == [
        ("analyze", ADVISOR, 120, 30, pytest.approx(cost(120, 30))),
        ("hypothesize", ENSEMBLE[0], 120, 30, pytest.approx(cost(120, 30))),
        ("hypothesize", ENSEMBLE[1], 120, 30, pytest.approx(cost(120, 30))),
        ("hypothesize", ADVISOR, 50, 9, pytest.approx(cost(50, 9))),
    ]
    events = events_of(db, session)
    tools = {e["tool"] for e in events if e["type"] == "ToolCalled"}
    assert tools == {t.name for t in TOOLS}
    refusals = [e for e in events if e["type"] == "ToolCalled" and not e["ok"]]
    assert [e["tool"] for e in refusals] == [
        "maestro_consult",
        "maestro_run_stage",
        "maestro_ensemble_generate",
    ]
    usage = [(e["task"], e["purpose"], e["candidate"]) for e in events if e["type"] == "LLMUsage"]
    assert usage == [
        ("analyze", "consult", None),
        ("hypothesize", "ensemble", 1),
        ("hypothesize", "ensemble", 2),
        ("hypothesize", "judge", None),
    ]
    stages = [
        (e["type"], e["task"]) for e in events if e["type"] in ("TaskStarted", "TaskFinished")
    ]
    assert stages == [
        ("TaskStarted", "analyze"),
        ("TaskFinished", "analyze"),
        ("TaskStarted", "hypothesize"),
        ("TaskFinished", "hypothesize"),
    ]
    selected = [
        (e["candidate"], e["backed_by_tests"]) for e in events if e["type"] == "CandidateSelected"
    ]
    assert selected == [(2, False), (2, True)]
    assert events[-1]["type"] == "RunFinished"
    assert not files_hold(tmp_path, "maestro.db*", KEY)  # the key went to the server only
    assert all(KEY not in json.dumps(e) for e in events)
