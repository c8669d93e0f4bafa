"""`f` in a replay: re-run from the selected task, with a change, and watch it on a dashboard;
`f` on a run still going says to wait."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from textual.widgets import Input, Static

from maestro_tui.session.lifecycle import RunSession, drive
from maestro_tui.ui.app import MaestroApp
from maestro_tui.ui.screens.replay import ReplayScreen
from maestro_tui.ui.screens.rerun import RerunModal
from maestro_tui.ui.screens.run import RunScreen
from maestro_tui.ui.widgets.keys_panel import KeysTable
from tests.ui.conftest import (
    BusWatch,
    dashboard_app,
    notifications,
    ready,
    settle,
    start,
    task,
    writes,
)

PLAN = 'goal = "notes"\n\n' + "".join(
    [
        task("docs", writes("docs/usage.md", "# Usage")),
        task("strings", writes("calc/strings.py", "X = 1"), depends_on=("docs",)),
        task("other", writes("other.txt", "other")),
    ]
)


async def finished_run(repo: Path, db: Path) -> str:
    session, _ = await start(repo, db, PLAN, agents=2)
    async with session:
        state = await drive(session.orch)
    assert state.status.value == "succeeded"
    return state.run_id


async def test_f_in_a_replay_reruns_from_the_selected_task(
    ui_project: Path, tmp_path: Path
) -> None:
    db = tmp_path / "runs.db"
    first = await finished_run(ui_project, db)
    app = MaestroApp(lambda: ReplayScreen(db, first, tick_s=None, play=False), watch_themes=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)  # the replay loaded
        await pilot.press("end")  # the run as it ended
        await pilot.press("question_mark")  # the keys panel lists the new key
        await pilot.pause()
        assert "f  rerun from" in app.screen.query_one(KeysTable).plain()
        await pilot.press("question_mark")
        replay = app.screen
        assert isinstance(replay, ReplayScreen)
        replay.dashboard.graph.select_task("docs")
        await pilot.press("f")  # re-run from docs
        await settle(pilot)  # the modal read what runs again and what is taken over
        modal = app.screen
        assert isinstance(modal, RerunModal)
        scope = str(modal.query_one("#scope", Static).render())
        assert "taken over as they merged (1): other" in scope
        assert "runs again (2): docs, strings" in scope
        modal.query_one("#set", Input).value = "run.max_agents=1"
        await pilot.pause()  # its Changed message: the command line follows
        command = str(modal.query_one("#command", Static).render())
        assert command == f"maestro-tui rerun {first} --from docs --set run.max_agents=1"
        await pilot.press("enter")  # start it
        await settle(pilot, groups=("open",))  # the new run recorded, on a dashboard
        dashboard = app.screen
        assert isinstance(dashboard, RunScreen) and dashboard.run_worker_ is not None
        state = await dashboard.run_worker_.wait()
        assert state.status.value == "succeeded"
        second = state.run_id
        await pilot.press("q")  # back to the replay
        await settle(pilot)
        assert app.screen is replay
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT rerun_of FROM runs WHERE run_id = ?", (second,)).fetchone() == (
            first,
        )
        taken = con.execute(
            "SELECT task_id FROM events WHERE run_id = ? AND type = 'TaskTakenOver'", (second,)
        ).fetchall()
        ran = con.execute(
            "SELECT DISTINCT task_id FROM events WHERE run_id = ? AND type = 'TaskStarted'",
            (second,),
        ).fetchall()
    assert taken == [("other",)] and sorted(ran) == [("docs",), ("strings",)]


async def test_f_while_the_run_goes_on_says_to_wait(slow_run: tuple[RunSession, BusWatch]) -> None:
    session, _ = slow_run
    app = dashboard_app(session)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(pilot)
        await pilot.press("f")  # the run is still going
        await pilot.pause()
        assert any("once this run has ended" in n for n in notifications(app))
        assert not isinstance(app.screen, RerunModal)
