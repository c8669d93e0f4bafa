"""Coordination budgets over stdio: a stage's consults and ensembles, and the session's dollars.
A refused call asks no model and says what the budget is."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import git
from tests.llm.fakeserver import FakeChatServer
from tests.mcp_server.conftest import call, cost, events_of, mcp_client, refused, session_id

pytestmark = pytest.mark.slow


async def test_run_stage_refuses_a_call_over_its_stage_budget(
    repo: Path, tmp_path: Path, server: FakeChatServer
) -> None:
    async with mcp_client(repo, tmp_path / "m.db") as client:
        first = await call(client, "maestro_run_stage", stage="analyze", input="add is slow")
        assert (first["entered"], first["budget"]) == (
            False,
            "analyze: 1 of 2 consults, 0 of 0 ensembles",
        )
        await call(client, "maestro_consult", question="and why?")
        asked = len(server.requests)
        message = await refused(client, "maestro_run_stage", stage="analyze", input="once more")
        assert message == (
            "error: stage analyze's consult budget is spent: analyze: 2 of 2 consults, 0 of 0"
            " ensembles. Decide yourself, or move on with maestro_run_stage (next: hypothesize)"
        )
        assert len(server.requests) == asked  # refused before any model was asked

        # Confident: one consult instead of hypothesize's ensemble, which stays unspent.
        data = await call(
            client, "maestro_run_stage", stage="hypothesize", input="cache it", confidence=0.9
        )
        assert data["note"] == "confident: one consult instead of an ensemble"
        assert data["budget"] == "hypothesize: 1 of 2 consults, 0 of 1 ensemble"
        message = await refused(client, "maestro_ensemble_generate", task="t", confidence=0.8)
        assert "you are confident (0.8 ≥ [mcp] confident 0.45): skip the ensemble" in message

        # implement: one consult, then refused; moving on leaves it, entering says so.
        await call(client, "maestro_run_stage", stage="implement", input="the patch")
        message = await refused(client, "maestro_consult", question="really?")
        assert "implement: 1 of 1 consult, 0 of 0 ensembles" in message
        assert "next: debug, improve" in message
        message = await refused(client, "maestro_ensemble_generate", task="patches")
        assert "stage implement allows no ensembles" in message
        state = await call(client, "maestro_workflow_state")
    implement = next(s for s in state["stages"] if s["stage"] == "implement")
    assert implement["consults"] == {"used": 1, "allowed": 1} and implement["current"]
    events = events_of(tmp_path / "m.db", session_id(tmp_path / "m.db"))
    refusals = [e["error"] for e in events if e["type"] == "ToolCalled" and not e["ok"]]
    assert len(refusals) == 4 and all(refusals)


async def test_the_session_budget_refuses_with_the_figures(
    repo: Path, tmp_path: Path, server: FakeChatServer
) -> None:
    config = repo / "maestro.toml"
    config.write_text(config.read_text().replace("budget_usd = 1.0", "budget_usd = 0.0003"))
    git(repo, "commit", "-qam", "a small budget")
    db = tmp_path / "m.db"
    async with mcp_client(repo, db) as client:
        await call(client, "maestro_consult", question="one")
        await call(client, "maestro_run_stage", stage="hypothesize", input="two", confidence=1)
        spent = 2 * cost(120, 30)
        message = await refused(client, "maestro_consult", question="three")
        assert message == (
            f"error: the MCP session has spent ${spent:.4f} of its budget of $0.0003"
            " ([mcp] budget_usd in maestro.toml): raise it to go on"
        )
        message = await refused(client, "maestro_start_run", goal="anything")
        assert "has spent" in message
    assert len(server.requests) == 2
    kinds = [(e["type"], e["kind"]) for e in events_of(db, session_id(db)) if "Budget" in e["type"]]
    assert kinds == [("BudgetWarning", "usd"), ("BudgetExceeded", "usd")]
