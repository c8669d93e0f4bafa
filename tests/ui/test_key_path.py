"""The dashboard's keys take the short way: they act where the key first arrives, even while
the focused task list is busy, and the keys panel does not re-lay the dashboard out."""

from __future__ import annotations

import asyncio

from textual import events

from maestro_tui.ui.widgets.dashboard import Dashboard
from maestro_tui.ui.widgets.keys_panel import KeysPanel
from maestro_tui.ui.widgets.task_graph import TaskGraph
from tests.ui.conftest import dashboard_app
from tests.ui.sample_run import sample_session


async def test_keys_act_while_the_focused_task_list_is_busy() -> None:
    """A key sent on to the task list would wait behind whatever the list is doing (with 200
    agents, its queue and every container's on the way back up): these act at once."""
    session, _, _ = sample_session()
    app = dashboard_app(session, start=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        graph = app.screen.query_one(TaskGraph)
        logs = app.screen.query_one(Dashboard).logs
        assert app.focused is graph and graph.cursor_row == 0
        busy, release = asyncio.Event(), asyncio.Event()

        async def hold() -> None:
            busy.set()
            await release.wait()

        graph.call_later(hold)  # the list's own message queue stops here
        await busy.wait()
        try:
            app.post_message(events.Key("down", None))  # a table key
            app.post_message(events.Key("down", None))
            app.post_message(events.Key("enter", None))  # the table's: this task's log
            for _ in range(20):
                await asyncio.sleep(0.01)
            assert graph.cursor_row == 2
            chosen = graph.selected_task_id
            app.post_message(events.Key("question_mark", "?"))  # the screen's
            for _ in range(20):
                await asyncio.sleep(0.01)
            assert app.screen.query(KeysPanel)
        finally:
            release.set()
        await pilot.pause()
        assert logs.current == chosen  # the choice reached the log pane once the list was free


async def test_the_keys_panel_covers_the_side_without_resizing_the_dashboard() -> None:
    session, _, _ = sample_session()
    app = dashboard_app(session, start=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        dashboard = app.screen.query_one(Dashboard)
        before = dashboard.region
        await pilot.press("question_mark")
        await pilot.pause()
        panel = app.screen.query_one(KeysPanel)
        # Drawn over the right side, the footer left in sight; the dashboard as it was (a
        # narrower one would also have switched to its condensed layout).
        assert panel.region.right == 160 and panel.region.x > 80
        assert panel.region.bottom <= 47
        assert dashboard.region == before and not dashboard.has_class("-condensed")
        await pilot.press("question_mark")
        await pilot.pause()
        assert not app.screen.query(KeysPanel) and dashboard.region == before
