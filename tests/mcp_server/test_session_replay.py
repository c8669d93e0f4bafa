"""An MCP session is a run like the others once recorded: replayed through the same dashboard,
its stages are the tasks, its consults and answers the logs, its cost the meters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from maestro_tui.domain.state import RunStatus, TaskStatus
from maestro_tui.mcp_server.fleet import Fleet
from maestro_tui.mcp_server.session import McpSession
from maestro_tui.mcp_server.tools import Tools
from tests.e2e.conftest import git
from tests.ui.test_replay import ReplayApp, loaded


@pytest.fixture
def plain_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MAESTRO_DEMO_PACE", "0")  # the demo model answers at once
    root = tmp_path / "repo"
    root.mkdir()
    (root / "app.py").write_text("def total(items):\n    return sum(items)\n")
    (root / "maestro.toml").write_text('[llm]\nmodel = "demo"\n')  # named: never by default
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "initial")
    return root


async def record_session(repo: Path, db: Path) -> str:
    """A session on the offline demo model: a consult, a stage with an ensemble, a pick."""
    session = McpSession(repo, db)
    session.client = "claude-code"
    fleet = Fleet(session)
    tools = Tools(session, fleet)
    calls: list[tuple[str, dict[str, Any]]] = [
        ("maestro_consult", {"question": "Why is total slow?", "files": ["app.py"]}),
        ("maestro_run_stage", {"stage": "hypothesize", "input": "sum is slow", "summary": "ok"}),
        ("maestro_select_best", {"candidates": [{"content": "a"}, {"content": "b b"}]}),
    ]
    try:
        for name, args in calls:
            text, _, failed = await tools.call(name, args)
            assert not failed, text
    finally:
        await fleet.close()
        await session.close()
    return session.run_id


async def test_a_recorded_session_replays_like_a_run(plain_repo: Path, tmp_path: Path) -> None:
    db = tmp_path / "maestro.db"
    run_id = await record_session(plain_repo, db)
    async with ReplayApp(db, run_id).run_test(size=(160, 48)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("end")  # the session as it ended
        await pilot.pause()
        state = screen.dashboard.state
        assert state is not None and state.status is RunStatus.SUCCEEDED
        assert state.goal == "MCP session of claude-code"
        assert list(state.tasks) == ["analyze", "hypothesize", "implement", "debug", "improve"]
        assert state.tasks["analyze"].status is TaskStatus.DONE
        assert state.tasks["hypothesize"].chosen_candidate == 1  # level: the judge's pick
        # a consult, an ensemble of three, and the judge that broke the tie
        assert state.models["demo/coder"].calls == 5 and state.cost_simulated
        log = screen.dashboard.logs.tail("analyze")
        assert log[0] == "consult demo/coder: Why is total slow?"
        assert log[1].startswith("Demo advice on “Why is total slow?”. In the analyze stage")
        assert any(
            line.startswith("candidate 3 (demo/coder #3):")
            for line in screen.dashboard.logs.tail("hypothesize")
        )
