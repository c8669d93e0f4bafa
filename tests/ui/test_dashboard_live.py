"""Key flows on the live dashboard against a real run: git worktrees, the fake agent, SQLite."""

from __future__ import annotations

from pathlib import Path

from maestro_tui.domain import events as ev
from maestro_tui.domain.state import RunStatus, TaskStatus
from maestro_tui.session.lifecycle import RunSession, resume
from maestro_tui.session.outcome import EXIT_INTERRUPTED
from maestro_tui.ui.screens.modals import ConfirmModal
from maestro_tui.ui.screens.run import RunScreen
from tests.ui.conftest import (
    CONFLICT_PLAN,
    BusWatch,
    dashboard_app,
    notifications,
    row_text,
    screen_text,
    shown,
    start,
)

SIZE = (160, 48)


async def test_pause_stops_dispatch_and_unpause_starts_it_again(
    slow_run: tuple[RunSession, BusWatch],
) -> None:
    session, watch = slow_run
    app = dashboard_app(session)
    async with app.run_test(size=SIZE) as pilot:
        await watch.wait_for(ev.TaskStarted)
        await pilot.press("p")  # pause dispatch
        await watch.wait_for(ev.DispatchPaused)
        await shown(pilot)
        assert "dispatch paused" in screen_text(app).splitlines()[0]
        await pilot.press("p")  # unpause: dispatch goes on
        await watch.wait_for(ev.DispatchResumed)
        await shown(pilot)
        assert "dispatch paused" not in screen_text(app).splitlines()[0]
        await pilot.press("q")  # quit: the run is still going, so a confirmation comes up
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")  # yes, stop it
        await watch.wait_for(ev.RunFinished)
        await pilot.app.workers.wait_for_complete()  # the close worker: session shut, app exits
    assert app.return_code == EXIT_INTERRUPTED


async def test_cancel_a_running_task_blocks_its_dependents_on_screen(
    slow_run: tuple[RunSession, BusWatch],
) -> None:
    session, watch = slow_run
    app = dashboard_app(session)
    async with app.run_test(size=SIZE) as pilot:
        await watch.wait_for(ev.TaskStarted, lambda e: e.task == "slow")
        screen = app.screen
        assert isinstance(screen, RunScreen)
        screen.dashboard.graph.select_task("slow")
        await pilot.press("x")  # cancel the selected task…
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        assert "Cancel task 'slow'?" in screen_text(app)
        await pilot.press("y")  # …yes
        await watch.wait_for(ev.TaskCancelled, lambda e: e.task == "slow")
        await watch.wait_for(ev.TaskBlocked, lambda e: e.task == "last")
        await shown(pilot)
        assert "cancelled" in row_text(pilot, "slow")
        assert "blocked" in row_text(pilot, "after-slow")
        assert "blocked" in row_text(pilot, "last")
        screen.dashboard.graph.select_task("last")
        await pilot.pause()
        assert "dependency 'slow' was cancelled" in screen_text(app)
        finished = await watch.wait_for(ev.RunFinished)  # the rest runs to the end
        assert finished.status == RunStatus.FAILED
        await pilot.press("q")  # the run is over: no question asked
        await pilot.app.workers.wait_for_complete()  # the close worker: session shut, app exits
    assert app.return_code == 1
    assert session.orch.state.tasks["other"].status is TaskStatus.MERGED


async def test_plus_and_minus_change_the_concurrency(slow_run: tuple[RunSession, BusWatch]) -> None:
    session, watch = slow_run
    app = dashboard_app(session)
    async with app.run_test(size=SIZE) as pilot:
        await watch.wait_for(ev.TaskStarted)
        await pilot.press("plus")  # one more agent
        changed = await watch.wait_for(ev.ConcurrencyChanged)
        assert changed.max_agents == 3
        await pilot.press("minus", "minus")  # two fewer
        await watch.wait_for(ev.ConcurrencyChanged, lambda e: e.max_agents == 1)
        await shown(pilot)
        assert "agents ≤1" in screen_text(app).splitlines()[0]
        await pilot.press("minus")  # never below one: nothing happens
        await pilot.pause()
        assert [e.max_agents for e in watch.of_type(ev.ConcurrencyChanged)] == [3, 2, 1]
        await pilot.press("q", "y")  # quit, confirm
        await watch.wait_for(ev.RunFinished)


async def test_quit_mid_run_leaves_it_resumable(ui_project: Path, tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    session, watch = await start(ui_project, db, CONFLICT_PLAN.replace("0.3", "2"), agents=4)
    run_id = session.orch.state.run_id
    app = dashboard_app(session)
    async with app.run_test(size=SIZE) as pilot:
        await watch.wait_for(ev.TaskStarted, lambda e: e.task == "version-three")
        await pilot.press("q")  # quit while agents work
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")  # yes: stop the run where it is
        finished = await watch.wait_for(ev.RunFinished)
        await pilot.app.workers.wait_for_complete()  # the close worker: session shut, app exits
    assert finished.status == RunStatus.INTERRUPTED
    assert watch.of_type(ev.RunPaused)[0].reason == "interrupted"
    assert app.return_code == EXIT_INTERRUPTED

    # The lock is released and the store flushed: the run reopens and finishes.
    resumed, to_run = await resume(db, run_id)
    async with resumed:
        assert to_run
        state = await resumed.orch.run()
    # version-three ran again on top of version-two's merge, so nothing conflicts any more.
    assert state.status is RunStatus.SUCCEEDED
    assert state.tasks["version-three"].attempts == 2
    assert state.tasks["strings"].status is TaskStatus.MERGED


async def test_a_conflict_waits_in_the_merge_queue_and_m_opens_its_review(
    ui_project: Path, tmp_path: Path
) -> None:
    session, watch = await start(ui_project, tmp_path / "runs.db", CONFLICT_PLAN, agents=4)
    app = dashboard_app(session)
    try:
        async with app.run_test(size=SIZE) as pilot:
            waiting = await watch.wait_for(ev.MergeWaiting)
            await shown(pilot)
            assert isinstance(app.screen, RunScreen)
            merges = app.screen.dashboard.merges
            assert merges.border_title == "merge queue · 1 waiting"
            assert merges.get_row(waiting.task)[0].plain == f"⚑ {waiting.task}"
            await pilot.press("m")  # focus the merge queue
            assert merges.has_focus
            await pilot.press("m")  # again: review the merge under the cursor
            await pilot.pause()
            assert type(app.screen).__name__ == "MergeReviewScreen"
            await pilot.press("escape")  # back to the dashboard, nothing decided
            await pilot.pause()
            assert isinstance(app.screen, RunScreen)
            await pilot.press("q", "y")  # the run still waits for review: quit, confirm
            await watch.wait_for(ev.RunFinished)
    finally:
        await session.aclose()
    assert not notifications(app) or "error" not in " ".join(notifications(app))
