"""What needs a human is counted and marked, and `n` jumps to it."""

from __future__ import annotations

from pathlib import Path

from maestro_tui.domain import events as ev
from maestro_tui.ui.screens.run import RunScreen
from tests.ui.conftest import (
    CONFLICT_PLAN,
    dashboard_app,
    make_project,
    notifications,
    row_text,
    screen_text,
    shown,
    start,
)

SIZE = (160, 48)


async def test_n_jumps_to_the_merge_that_waits_for_you(tmp_path: Path) -> None:
    repo = make_project(tmp_path)
    session, watch = await start(repo, tmp_path / "runs.db", CONFLICT_PLAN, agents=4)
    app = dashboard_app(session)
    try:
        async with app.run_test(size=SIZE) as pilot:
            waiting = await watch.wait_for(ev.MergeWaiting)
            await watch.wait_for(ev.Merged, lambda e: e.task == "strings")
            await shown(pilot)
            screen = app.screen
            assert isinstance(screen, RunScreen)
            assert "⚑ 1 needs you · n" in screen_text(app)  # the count, in the status bar
            assert f"◆ waiting ⚑ {waiting.task} coder" in row_text(pilot, waiting.task)
            assert "⚑" not in row_text(pilot, "docs")
            screen.dashboard.graph.select_task("docs")
            await pilot.press("n")  # jump to what needs me
            merges = screen.dashboard.merges
            assert merges.has_focus and merges.selected_task_id == waiting.task
            assert screen.dashboard.graph.selected_task_id == waiting.task
            assert any("enter (or m) to review it" in n for n in notifications(app))
            await pilot.press("enter")  # and review it from there
            await pilot.pause()
            assert type(app.screen).__name__ == "MergeReviewScreen"
            await pilot.press("escape")
            await pilot.press("q", "y")
            await watch.wait_for(ev.RunFinished)
    finally:
        await session.aclose()
