"""The Dashboard's feed/reset contract, on a hand-made run: cheap, incremental, bounded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest
from rich.text import Text
from textual.widgets.data_table import ColumnKey, RowKey

from maestro_tui.domain import events as ev
from maestro_tui.domain.state import RunState, fold
from maestro_tui.ui.bridge import RunBridge
from maestro_tui.ui.screens.run import RunScreen
from maestro_tui.ui.widgets.task_graph import TaskGraph
from tests.ui.conftest import dashboard_app, screen_text, shown
from tests.ui.sample_run import RUN_ID, middle_events, sample_events, sample_session


async def test_feed_shows_statuses_logs_meters_and_the_waiting_merge() -> None:
    session, bus, clock = sample_session()
    app = dashboard_app(session, start=False)
    async with app.run_test(size=(160, 48)) as pilot:
        middle_events(bus, clock)
        await shown(pilot)
        text = screen_text(app)
        assert f"run {RUN_ID}" in text
        assert "◆ waiting    ⚑ version-three" in text
        assert "► running    strings" in text
        assert "merge queue · 1 waiting" in text
        assert "conflict in calc/settings.py" in text
        assert "$0.0560 of $0.50 (simulated)" in text
        assert "unknown cost for 1 call" in text
        assert "tasks 3/8 done" in text
        # The log pane now shares its column with the findings tabs and scrolls: whether a
        # middle line is in view depends on when the scroll to the end lands, so check the log.
        screen = app.screen
        assert isinstance(screen, RunScreen)
        assert "[mul] mul: step 4 of the work" in screen.dashboard.logs.tail()


async def test_unchanged_tasks_are_not_redrawn(monkeypatch: pytest.MonkeyPatch) -> None:
    session, bus, clock = sample_session()
    app = dashboard_app(session, start=False)
    async with app.run_test(size=(160, 48)) as pilot:
        middle_events(bus, clock)
        await shown(pilot)
        graph = app.screen.query_one(TaskGraph)
        updates: list[tuple[object, object]] = []
        original = graph.update_cell

        def update_cell(
            row: RowKey | str, col: ColumnKey | str, value: Text, *, update_width: bool = False
        ) -> None:
            updates.append((row, col))
            original(row, col, value, update_width=update_width)

        monkeypatch.setattr(graph, "update_cell", update_cell)
        bus.emit(ev.AgentOutput, task="strings", attempt=1, text="more output")
        bus.emit(ev.TaskFailed, task="strings", attempt=1, reason="boom")
        await shown(pilot)
        assert updates == [("strings", "status")]
        assert "more output" in screen_text(app)


async def test_number_keys_switch_agent_logs_and_zero_shows_all() -> None:
    session, bus, clock = sample_session()
    app = dashboard_app(session, start=False)
    async with app.run_test(size=(160, 48)) as pilot:
        middle_events(bus, clock)
        await shown(pilot)
        assert isinstance(app.screen, RunScreen)
        logs = app.screen.dashboard.logs
        await pilot.press("1")  # the first running agent (strings started first)
        assert logs.current == "strings"
        assert logs.log_view.lines == [f"strings: working, step {n}" for n in (1, 2, 3)]
        await pilot.press("2")  # the second one
        assert logs.current == "test-mul"
        await pilot.press("7")  # there is no seventh agent: a notice, nothing changes
        assert logs.current == "test-mul"
        await pilot.press("0")  # every agent, prefixed
        assert logs.current == ""
        assert logs.log_view.lines[-1] == "[test-mul] test-mul: working, step 3"
        await pilot.press("enter")  # Enter on a task in the graph shows its log
        assert logs.current == app.screen.dashboard.graph.selected_task_id


async def test_logs_stay_bounded_and_reset_replaces_everything() -> None:
    session, bus, clock = sample_session()
    app = dashboard_app(session, start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, RunScreen)
        middle_events(bus, clock)
        for n in range(5000):
            bus.emit(ev.AgentOutput, task="strings", attempt=1, text=f"line {n}")
        await shown(pilot)
        logs = screen.dashboard.logs
        assert len(logs.tail("strings")) == logs.max_lines == 2000
        assert logs.log_view.line_count <= 2001
        assert logs.tail("strings")[-1] == "line 4999"

        state = fold(sample_events()[:2])  # seek back to just after the plan
        screen.dashboard.reset(state, {"docs": ["only line"]})
        await pilot.pause()
        assert logs.tail("strings") == [] and logs.tail() == ["[docs] only line"]
        assert "merge queue · 0 waiting" in screen_text(app)
        assert "· pending    version-two" in screen_text(app)


def test_the_bridge_only_buffers_until_flushed() -> None:
    fed: list[tuple[int, object]] = []

    class Target:
        def feed(self, events: Sequence[ev.Event], state: RunState) -> None:
            fed.append((len(events), state))

        def reset(  # pragma: no cover - not used here
            self, state: RunState, log_tails: Mapping[str, Sequence[str]]
        ) -> None:
            raise AssertionError

    bridge = RunBridge(Target())
    for e in sample_events():
        bridge(e)
    assert fed == [] and bridge.backlog == len(sample_events())
    bridge.flush()
    assert bridge.backlog == 0 and fed[0][0] == len(sample_events())
    assert fed[0][1] == fold(sample_events())
    bridge.flush()  # nothing new: nothing fed
    assert len(fed) == 1
