"""Every command of the dashboard's keymap, pressed in a TUI attached to a real background
engine, reaches the engine and is an event of the run: the store (what a replay reads) has
each one, in the order the keys were pressed."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from maestro_tui.domain import events as ev
from maestro_tui.domain.state import TaskStatus
from maestro_tui.session.attached import AttachedRun
from maestro_tui.store import Store
from maestro_tui.ui.app import MaestroApp
from maestro_tui.ui.screens.modals import ConfirmModal, LeaveModal, NumberModal, TextModal
from maestro_tui.ui.screens.run import RunScreen
from tests.support.engine_runs import demo_engine

pytestmark = pytest.mark.slow
WAIT_S = 90.0


async def _until(pilot: Pilot[Any], check: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.05)


async def test_each_key_of_the_dashboard_is_an_event_of_the_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAESTRO_DEMO_PACE", "0.6")  # agents at work long enough to steer
    async with demo_engine(tmp_path) as engine:
        run = await AttachedRun.attach(engine.db, engine.run_id)
        screen = RunScreen(run)
        app = MaestroApp(lambda: screen, watch_themes=False)
        async with app.run_test(size=(160, 48)) as pilot:
            await _until(pilot, lambda: run.state.count(TaskStatus.RUNNING) >= 2, "agents")
            await pilot.press("p")  # pause dispatch
            await _until(pilot, lambda: run.state.paused, "paused")
            await pilot.press("p")  # and go on
            await _until(pilot, lambda: not run.state.paused, "going on")
            await pilot.press("plus")
            await _until(pilot, lambda: run.state.max_agents == 5, "five agents")
            await pilot.press("minus")
            await _until(pilot, lambda: run.state.max_agents == 4, "four agents")
            await pilot.press("b")  # raise the budget
            await _until(pilot, lambda: isinstance(app.screen, NumberModal), "the budget")
            app.screen.query_one(Input).value = "9"
            await pilot.press("enter")
            await _until(pilot, lambda: run.state.budget_usd == 9.0, "the new budget")

            running = [t.id for t in run.state.tasks.values() if t.status is TaskStatus.RUNNING]
            steered = running[0]
            screen.dashboard.graph.select_task(steered)
            await pilot.press("s")  # say something to its agent
            await _until(pilot, lambda: isinstance(app.screen, TextModal), "the message box")
            app.screen.query_one(Input).value = "keep the public names"
            await pilot.press("enter")
            await _until(pilot, lambda: not isinstance(app.screen, TextModal), "sent")

            running = [t.id for t in run.state.tasks.values() if t.status is TaskStatus.RUNNING]
            cancelled = running[-1]
            screen.dashboard.graph.select_task(cancelled)
            await pilot.press("x")  # cancel it
            await _until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the question")
            await pilot.press("y")
            await _until(pilot, lambda: run.state.tasks[cancelled].status.settled, "cancelled")

            await pilot.press("q")  # leave: asked whether to leave it going
            await _until(pilot, lambda: isinstance(app.screen, LeaveModal), "the question")
            await pilot.press("s")  # stop it
            await _until(pilot, lambda: run.gone.is_set(), "the engine to end")
    store = await Store.open_read_only(engine.db)
    try:
        events = await store.load_events(engine.run_id)
    finally:
        await store.close()
    commands = [
        e for e in events
        if isinstance(e, ev.DispatchPaused | ev.DispatchResumed | ev.ConcurrencyChanged
                      | ev.BudgetRaised | ev.SteerSent | ev.TaskCancelled | ev.RunPaused)
    ]  # fmt: skip
    said = [
        (type(e).__name__, getattr(e, "max_agents", None) or getattr(e, "task", None))
        for e in commands
    ]
    assert said == [
        ("DispatchPaused", None),
        ("DispatchResumed", None),
        ("ConcurrencyChanged", 5),
        ("ConcurrencyChanged", 4),
        ("BudgetRaised", None),
        ("SteerSent", steered),
        ("TaskCancelled", cancelled),
        ("RunPaused", None),
    ], said
    assert isinstance(events[-1], ev.RunFinished) and events[-1].status == "interrupted"
