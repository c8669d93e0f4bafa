"""`maestro-tui watch RUN`: a demo run driven headless by another process, followed live in
the dashboard, read-only — it takes no lock and the database is as if nobody had watched."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from maestro_tui.domain.state import TaskStatus
from maestro_tui.engine.runlock import run_lock
from maestro_tui.session.outcome import EXIT_REVIEW
from maestro_tui.store import Store
from maestro_tui.ui.app import MaestroApp
from maestro_tui.ui.screens.follow import FollowScreen
from tests.support.demo_run import WAIT_S, driven_demo, recorded_run_id
from tests.ui.conftest import screen_text

pytestmark = pytest.mark.slow
DEMO_TASKS = ("pricing-types", "discount-guard", "cart-bulk", "final-review")


def follow_app(store: Store, db: Path, run_id: str, **kwargs: Any) -> MaestroApp:
    return MaestroApp(
        lambda: FollowScreen(store, db, run_id, poll_s=0.1, **kwargs),
        watch_themes=False,
        theme="textual-dark",
    )


async def until(pilot: Pilot[Any], ok: Any, what: str) -> None:
    """Let the app run until `ok()`; the run is in another process, so this polls."""
    deadline = time.monotonic() + WAIT_S
    while not ok():
        assert time.monotonic() < deadline, f"never saw {what}:\n{screen_text(pilot.app)}"
        await pilot.pause(0.05)


async def test_watch_follows_a_live_run_to_its_end_and_writes_nothing(tmp_path: Path) -> None:
    with driven_demo(tmp_path, pace=0.1) as demo:
        run_id = await recorded_run_id(demo)
        store = await Store.open_read_only(demo.db)
        app = follow_app(store, demo.db, run_id)
        try:
            async with app.run_test(size=(160, 48)) as pilot:
                screen = pilot.app.screen
                assert isinstance(screen, FollowScreen)
                # The plan's tasks come in with the first poll; widgets paint on their timers.
                await until(
                    pilot, lambda: all(t in screen_text(app) for t in DEMO_TASKS), "the tasks"
                )
                live = screen_text(app)
                assert demo.proc.poll() is None and not screen.follower.ended  # joined live
                assert "WATCHING" in live and f"driven by pid {demo.proc.pid}" in live
                await until(pilot, lambda: app.return_code is not None, "the app end")
        finally:
            await store.close()
        driver_code = demo.proc.wait(WAIT_S)
        events = demo.table_events()

    # The watcher ended with the run, and with the code the driver exited with.
    assert driver_code == EXIT_REVIEW == app.return_value  # the demo's conflict waits
    follower = screen.follower
    assert follower.ended and follower.count == len(events)
    # What it showed last is the run as the driver left it (which of the two tasks that
    # edit the same lines waits depends on which finished first).
    statuses = demo.task_statuses()
    assert {t: v.status.value for t, v in follower.state.tasks.items()} == statuses
    assert list(statuses.values()).count(TaskStatus.WAITING.value) == 1
    # The events table is exactly what the driver emitted: the watcher added nothing.
    assert events == demo.driver_events()


async def test_watching_a_finished_run_leaves_it_byte_for_byte(tmp_path: Path) -> None:
    with driven_demo(tmp_path, pace=0) as demo:
        run_id = await recorded_run_id(demo)
        demo.proc.wait(WAIT_S)
    before, events = demo.files(), demo.table_events()

    store = await Store.open_read_only(demo.db)
    app = follow_app(store, demo.db, run_id, stay=True)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            # The banner and the task table paint on their own timers: wait for both.
            ended = ("the run ended: waiting", "discount-guard")
            await until(pilot, lambda: all(t in screen_text(app) for t in ended), "the end")
            with run_lock(demo.db, run_id):  # free: a `resume` could start now
                pass
            await pilot.press("question_mark")  # the keys panel
            await pilot.press("1")  # no agent runs: a notice, nothing else
            await pilot.press("q")  # stop watching
            await pilot.pause()
    finally:
        await store.close()
    assert app.return_value == 0
    assert demo.files() == before and demo.table_events() == events
