"""Entry flows: the plan reviewed before the run starts, backing out, the launcher starting one."""

from __future__ import annotations

from pathlib import Path

from maestro_tui.domain import events as ev
from maestro_tui.domain.state import RunStatus
from maestro_tui.ui.app import MaestroApp
from maestro_tui.ui.screens.run import RunScreen
from tests.ui.conftest import dashboard_app, start, task, writes

QUICK_PLAN = (
    'goal = "two steps"\n\n'
    + task("first", writes("a.txt", "a"))
    + task("second", writes("b.txt", "b"), depends_on=("first",))
)


async def test_an_edited_plan_is_revised_then_run(ui_project: Path, tmp_path: Path):
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


async def test_backing_out_of_the_plan_review_runs_nothing(ui_project: Path, tmp_path: Path):
    session, watch = await start(ui_project, tmp_path / "runs.db", QUICK_PLAN, agents=2)
    app = dashboard_app(session, review_plan=True)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("escape")  # back out of the plan review
        await watch.wait_for(ev.RunFinished)
    assert watch.of_type(ev.RunFinished)[0].status == RunStatus.CANCELLED
    assert not watch.of_type(ev.TaskStarted)
    assert app.return_code == 0


async def test_the_launcher_starts_a_run_on_the_dashboard(ui_project: Path, tmp_path: Path):
    from maestro_tui.ui.entry import LauncherApp
    from maestro_tui.ui.screens.launcher import LauncherScreen

    db = tmp_path / "runs.db"
    asked: list[tuple[str, str, int, float | None]] = []
    watches = []

    async def start_run(goal: str, model: str, agents: int, budget: float | None):
        asked.append((goal, model, agents, budget))
        session, watch = await start(ui_project, db, QUICK_PLAN, agents=agents)
        watches.append(watch)
        return session

    app = LauncherApp(db, ui_project, start_run, watch_themes=False)

    async def launched() -> None:
        for worker in [w for w in app.workers if w.group == "launch"]:
            await worker.wait()
        await pilot.pause()

    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, LauncherScreen)
        app.screen.post_message(LauncherScreen.StartRun("two steps", "demo", 3, 1.5))
        await pilot.pause()
        await launched()
        assert type(app.screen).__name__ == "PlanReviewScreen"
        await pilot.press("a")  # approve the plan as it is
        await watches[0].wait_for(ev.RunFinished)
        await pilot.press("q")  # leave the dashboard: back to the launcher
        for worker in [w for w in app.workers if w.group == "close"]:
            await worker.wait()
        await pilot.pause()
        assert isinstance(app.screen, LauncherScreen)
    assert asked == [("two steps", "demo", 3, 1.5)]


def test_the_app_registers_the_shipped_themes():
    app = MaestroApp(lambda: RunScreen.__new__(RunScreen), watch_themes=False)
    assert {"maestro-dark", "maestro-light"} <= set(app.available_themes)
    assert app.theme == "maestro-dark"


def test_the_ui_starts_without_litellm():
    import subprocess
    import sys

    code = (
        "import sys, maestro_tui.ui.entry, maestro_tui.ui.screens.run, "
        "maestro_tui.ui.palette; print('litellm' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # it costs 2.4 s: only a model call may import it
