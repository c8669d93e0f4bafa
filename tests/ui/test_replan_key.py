"""r on the dashboard of a run where a task failed for good: the planning screen plans what
is left (a scripted model over HTTP), the plan review shows the new tasks, and once approved
they run and merge in the same run; the settled tasks keep their state."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from maestro_tui.config import load_config
from maestro_tui.domain import events as ev
from maestro_tui.domain.plan import parse_plan
from maestro_tui.domain.views import TaskStatus
from maestro_tui.session.lifecycle import start_session
from maestro_tui.workspace.repo import Workspace
from tests.e2e.test_replan import PLAN, responder
from tests.llm.fakeserver import FakeChatServer, serving
from tests.ui.conftest import BusWatch, dashboard_app, git, make_project, notifications, settle


@pytest.fixture
def server() -> Iterator[FakeChatServer]:
    with serving(responder) as srv:
        yield srv


async def test_r_replans_what_is_left_and_the_run_goes_on(
    tmp_path: Path, server: FakeChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_LLM_KEY", "sk-test-replan-key")
    project = make_project(tmp_path)
    with (project / "maestro.toml").open("a") as toml:
        toml.write('\n[llm]\nmodel = "openai/fake-planner"\napi_key_env = "FAKE_LLM_KEY"\n')
        toml.write(f'api_base = "{server.api_base}"\n')
    git(project, "commit", "-qam", "a planner model")
    watch = BusWatch()
    ws = Workspace.open(project)
    session = await start_session(
        ws=ws,
        config=load_config(ws.root),
        plan=parse_plan(tomllib.loads(PLAN)),
        db_path=tmp_path / "runs.db",
        max_agents=2,
        subscribers=[watch],
    )
    app = dashboard_app(session)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await watch.wait_for(ev.RunFinished)  # broken failed for good
            await settle(pilot)
            assert any("r to re-plan what is left" in n for n in notifications(app))
            await pilot.press("r")  # re-plan
            while type(app.screen).__name__ != "PlanReviewScreen":  # planned, then reviewed
                await settle(pilot)
            review = app.screen
            assert [t.id for t in review.plan.tasks] == ["broken-r1", "after-broken-r1"]  # type: ignore[attr-defined]
            await pilot.press("a")  # approve
            revised = await watch.wait_for(ev.PlanRevised)
            await watch.wait_for(ev.RunFinished, lambda e: e.seq > revised.seq)
            await settle(pilot)
            state = session.state
            await pilot.press("q")
            await app.workers.wait_for_complete()
    finally:
        await session.aclose()
    assert state.revisions == 1 and state.status.value == "succeeded"
    statuses = {t.id: t.status for t in state.tasks.values()}
    assert statuses["good"] is TaskStatus.MERGED and statuses["broken"] is TaskStatus.FAILED
    assert statuses["broken-r1"] is TaskStatus.MERGED
    assert statuses["after-broken-r1"] is TaskStatus.MERGED
    started = [e.task for e in watch.of_type(ev.TaskStarted)]
    assert started.count("good") == 1  # settled: never run again
    branch = state.integration_branch
    assert git(project, "show", f"{branch}:fixed.txt").strip() == "fixed"
