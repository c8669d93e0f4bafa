"""The steer box: `s` on a running task sends the agent a message it takes at its next turn."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from maestro_tui.domain import events as ev
from maestro_tui.ui.screens.modals import TextModal
from maestro_tui.ui.screens.run import RunScreen
from tests.llm.fakeserver import FakeChatServer, Reply
from tests.ui.conftest import SLOW_PLAN, dashboard_app, git, make_project, notifications, start

PLAN = 'goal = "steered"\n\n[[tasks]]\nid = "style"\ntitle = "Tidy"\nprompt = "Tidy it."\n'
SIZE = (160, 48)


@pytest.fixture
def server() -> Iterator[FakeChatServer]:
    srv = FakeChatServer().start()
    try:
        yield srv
    finally:
        srv.stop()


async def test_s_sends_the_running_agent_a_message(
    tmp_path: Path, server: FakeChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def agent(body: dict[str, Any]) -> Reply:
        if "keep it short" in json.dumps(body["messages"]):
            return Reply(tool_calls=[("finish", {"summary": "short"})])
        return Reply(tool_calls=[("list_files", {})], delay_s=0.05)

    server.responder = agent
    monkeypatch.setenv("FAKE_KEY", "sk-test-fake-key-0123456789")
    repo = make_project(tmp_path)
    (repo / "maestro.toml").write_text(
        f'[run]\ndefault_worker = "llm"\n[llm]\nmodel = "openai/fake-model"\n'
        f'api_base = "{server.api_base}"\napi_key_env = "FAKE_KEY"\nmax_turns = 500\n'
        "[notify]\nbell = false\nosc = false\ndesktop = false\n"
    )
    git(repo, "commit", "-qam", "llm worker")
    session, watch = await start(repo, tmp_path / "runs.db", PLAN, agents=1)
    app = dashboard_app(session)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await watch.wait_for(ev.TaskStarted)
            await pilot.pause()
            await pilot.press("s")  # say something to the selected (only) task's agent
            await pilot.pause()
            assert isinstance(app.screen, TextModal)
            assert "at its next turn" in str(app.screen.prompt)
            app.screen.query_one(Input).value = "keep it short"
            await pilot.press("enter")  # send
            delivered = await watch.wait_for(ev.SteerDelivered)
            assert delivered.text == "keep it short"
            await watch.wait_for(ev.RunFinished)
            await pilot.press("q")
    finally:
        await session.aclose()
    (sent,) = watch.of_type(ev.SteerSent)
    assert (sent.task, sent.source, sent.delivery) == ("style", "tui", "at its next turn")


async def test_s_on_an_agent_that_cannot_listen_says_so(tmp_path: Path) -> None:
    repo = make_project(tmp_path)
    session, watch = await start(repo, tmp_path / "runs.db", SLOW_PLAN, agents=2)
    app = dashboard_app(session)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await watch.wait_for(ev.TaskStarted, lambda e: e.task == "slow")
            await pilot.pause()
            assert isinstance(app.screen, RunScreen)
            app.screen.dashboard.graph.select_task("slow")  # a plain command worker
            await pilot.press("s")
            await pilot.pause()
            assert not isinstance(app.screen, TextModal)
            assert any("its worker cannot take a message" in n for n in notifications(app))
            await pilot.press("q", "y")
            await watch.wait_for(ev.RunFinished)
    finally:
        await session.aclose()
