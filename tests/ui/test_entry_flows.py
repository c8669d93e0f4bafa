"""Entry flows: the plan reviewed before the run starts, backing out, the launcher starting one."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

from maestro_tui import cli
from maestro_tui.domain import events as ev
from maestro_tui.domain.state import RunStatus
from maestro_tui.session.lifecycle import RunSession
from maestro_tui.session.outcome import EXIT_INTERRUPTED
from maestro_tui.ui.app import MaestroApp
from maestro_tui.ui.screens.run import RunScreen
from tests.ui.conftest import (
    BusWatch,
    dashboard_app,
    git,
    notifications,
    screen_text,
    settle,
    shown,
    start,
    task,
    writes,
)

QUICK_PLAN = (
    'goal = "two steps"\n\n'
    + task("first", writes("a.txt", "a"))
    + task("second", writes("b.txt", "b"), depends_on=("first",))
)


async def test_an_edited_plan_is_revised_then_run(ui_project: Path, tmp_path: Path) -> None:
    session, watch = await start(ui_project, tmp_path / "runs.db", QUICK_PLAN, agents=2)
    app = dashboard_app(session, review_plan=True)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.pause()
            assert type(app.screen).__name__ == "PlanReviewScreen"
            assert not watch.of_type(ev.PlanApproved)  # nothing runs before the review
            await pilot.press("d")  # delete the first task…
            await pilot.press("y")  # …yes
            await pilot.press("a")  # approve the edited plan
            finished = await watch.wait_for(ev.RunFinished)
            assert isinstance(app.screen, RunScreen)
            await pilot.press("q")  # the run is over: leave
    finally:
        await session.aclose()
    revised = watch.of_type(ev.PlanProposed)[-1]
    assert [t["id"] for t in revised.plan["tasks"]] == ["second"]
    assert finished.status == RunStatus.SUCCEEDED and app.return_code == 0


async def test_backing_out_of_the_plan_review_runs_nothing(
    ui_project: Path, tmp_path: Path
) -> None:
    session, watch = await start(ui_project, tmp_path / "runs.db", QUICK_PLAN, agents=2)
    app = dashboard_app(session, review_plan=True)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("escape")  # back out of the plan review
        await watch.wait_for(ev.RunFinished)
    assert watch.of_type(ev.RunFinished)[0].status == RunStatus.CANCELLED
    assert not watch.of_type(ev.TaskStarted)
    assert app.return_code == 0


async def test_the_launcher_starts_a_run_on_the_dashboard(ui_project: Path, tmp_path: Path) -> None:
    import tomllib

    from maestro_tui.config import load_config
    from maestro_tui.domain.plan import parse_plan
    from maestro_tui.session.preparing import Outlet, Prepared
    from maestro_tui.ui.entry import LauncherApp
    from maestro_tui.ui.screens.launcher import LauncherScreen
    from maestro_tui.ui.widgets.planning_view import PlanningFeed
    from maestro_tui.workspace.repo import Workspace

    db = tmp_path / "runs.db"
    asked: list[tuple[str, str, int, float | None]] = []

    async def plan(
        goal: str, model: str, agents: int, budget: float | None, outlet: Outlet
    ) -> Prepared:
        asked.append((goal, model, agents, budget))
        assert isinstance(outlet.progress, PlanningFeed)  # the planning screen shows it
        ws = Workspace.open(ui_project)
        return Prepared(ws, load_config(ws.root), parse_plan(tomllib.loads(QUICK_PLAN)))

    app = LauncherApp(db, ui_project, plan, watch_themes=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)  # the history's load
        assert isinstance(app.screen, LauncherScreen)
        app.screen.post_message(LauncherScreen.StartRun("two steps", "demo", 3, 1.5))
        # Planned on the planning screen, the run recorded, the plan review pushed.
        while type(app.screen).__name__ != "PlanReviewScreen":
            await settle(pilot)
        assert type(app.screen).__name__ == "PlanReviewScreen"
        run_screen = app.screen_stack[-2]
        assert isinstance(run_screen, RunScreen) and run_screen.session is not None
        watch = BusWatch()
        run_screen.session.orch.bus.subscribe(watch)
        await pilot.press("a")  # approve the plan as it is
        await watch.wait_for(ev.RunFinished)
        await pilot.press("q")  # leave the dashboard: back to the launcher
        await settle(pilot)  # the close worker, and the launcher shown again
        assert isinstance(app.screen, LauncherScreen)
    assert asked == [("two steps", "demo", 3, 1.5)]


def test_the_app_registers_the_shipped_themes() -> None:
    app = MaestroApp(lambda: RunScreen.__new__(RunScreen), watch_themes=False)
    assert {"maestro-dark", "maestro-light"} <= set(app.available_themes)
    assert app.theme == "maestro-dark"


def test_the_ui_starts_without_litellm() -> None:
    import subprocess
    import sys

    code = (
        "import sys, maestro_tui.ui.entry, maestro_tui.ui.screens.run, "
        "maestro_tui.ui.palette; print('litellm' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # it costs 2.4 s: only a model call may import it


def opening_app(opener: Any, **kwargs: Any) -> MaestroApp:
    return MaestroApp(
        lambda: RunScreen(opener=opener, **kwargs), watch_themes=False, theme="textual-dark"
    )


async def test_the_dashboard_shows_before_its_session_opens(
    ui_project: Path, tmp_path: Path
) -> None:
    gate = asyncio.Event()
    opened: list[tuple[RunSession, BusWatch]] = []

    async def slow_open() -> tuple[RunSession, bool]:
        await gate.wait()  # the repository, the database and the models, taking their time
        opened.append(await start(ui_project, tmp_path / "runs.db", QUICK_PLAN, agents=2))
        return opened[0][0], True

    app = opening_app(slow_open)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, RunScreen) and screen.session is None
            assert "opening the run" in screen_text(app)
            assert screen.dashboard.graph.loading
            await pilot.press("p")  # pause: nothing to pause yet, and nothing breaks
            assert "cannot pause: the run is still opening" in notifications(app)
            gate.set()
            assert screen.open_worker is not None
            await screen.open_worker.wait()
            finished = await opened[0][1].wait_for(ev.RunFinished)
            await shown(pilot)
            assert not screen.dashboard.graph.loading
            assert "opening the run" not in screen_text(app)
            await pilot.press("q")
            await app.workers.wait_for_complete()
    finally:
        for session, _ in opened:
            await session.aclose()
    assert finished.status == RunStatus.SUCCEEDED and app.return_code == 0


async def test_quitting_while_the_run_opens_opens_nothing(ui_project: Path, tmp_path: Path) -> None:
    never = asyncio.Event()

    async def stuck() -> tuple[RunSession, bool]:
        await never.wait()
        raise AssertionError("cancelled before it opened")

    app = opening_app(stuck)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("q")  # nothing runs yet: no question asked
        await app.workers.wait_for_complete()
    assert app.return_code == EXIT_INTERRUPTED


def test_bad_input_found_opening_the_run_is_reported_as_before(
    ui_project: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """On a terminal, `run` shows the dashboard first; a database that is not ours is found
    when the run is recorded behind it, and is still bad input: the message, exit code 2,
    and nothing written (no branch, no rows)."""
    run_async = MaestroApp.run_async
    monkeypatch.setattr(
        MaestroApp, "run_async", lambda self, **kw: run_async(self, headless=True, size=(80, 24))
    )
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    plan = tmp_path / "plan.toml"
    plan.write_text(QUICK_PLAN)
    not_ours = tmp_path / "notes.db"
    not_ours.write_text("my notes, not a database\n" * 100)

    code = cli.main(
        ["run", "--plan", str(plan), "--repo", str(ui_project), "--db", str(not_ours), "--yes"]
    )

    assert code == 2
    assert "is not a maestro-tui database" in capsys.readouterr().err
    assert git(ui_project, "branch", "--list", "maestro*") == ""
    assert not_ours.read_text().startswith("my notes")


async def test_a_resumed_run_shows_its_earlier_log_lines(ui_project: Path, tmp_path: Path) -> None:
    from maestro_tui.session.lifecycle import resume
    from maestro_tui.ui.entry import Opening

    db = tmp_path / "runs.db"
    session, _ = await start(ui_project, db, QUICK_PLAN, agents=2)
    for n in range(5):
        session.orch.bus.emit(ev.AgentOutput, task="first", attempt=1, text=f"earlier {n}")
    run_id = session.state.run_id
    await session.aclose()  # stopped before it ran: resumable

    opening = Opening(lambda: resume(db, run_id))
    app = opening_app(opening, earlier_logs=True)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await shown(pilot)  # settled: the run reopened and its earlier lines read
            screen = app.screen
            assert isinstance(screen, RunScreen)
            logs = screen.dashboard.logs
            assert logs.tail("first")[:5] == [f"earlier {n}" for n in range(5)]
            assert logs.tail()[:5] == [f"[first] earlier {n}" for n in range(5)]
            await pilot.press("q", "y")  # quit (the run may still go: yes)
            await app.workers.wait_for_complete()
    finally:
        if opening.session is not None:
            await opening.session.aclose()
    assert opening.error is None
