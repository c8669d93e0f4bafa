"""ReplayScreen: play at a speed, pause, step, seek, max speed — driving the real Dashboard."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Static

from maestro_tui.domain import events as ev
from maestro_tui.domain.state import fold
from maestro_tui.engine.bus import EventBus
from maestro_tui.store import Store
from maestro_tui.ui.screens.replay import ReplayScreen
from maestro_tui.ui.theming import BUILTIN_THEMES, load_themes
from tests.engine.test_replayer import RUN, Clock, emit_run
from tests.support.snapshots import SnapCompare
from tests.ui.conftest import settle


class ReplayApp(App[None]):
    """Only the replay screen, no timer (the test calls `tick`), in maestro-dark; opened
    paused unless told to play, as `maestro-tui replay` does."""

    def __init__(self, db: Path, run_id: str = RUN, *, play: bool = False) -> None:
        super().__init__()
        self.db, self.run_id, self.play = db, run_id, play

    def on_mount(self) -> None:
        for theme in load_themes(BUILTIN_THEMES):
            self.register_theme(theme)
        self.theme = "maestro-dark"

    def get_default_screen(self) -> ReplayScreen:
        return ReplayScreen(self.db, self.run_id, tick_s=None, play=self.play)


@pytest.fixture
async def recorded(tmp_path: Path) -> AsyncIterator[tuple[Path, list[ev.Event]]]:
    """A 3-task run of 385 events, one every 0.1 s (38.4 s long)."""
    path = tmp_path / "maestro.db"
    store = await Store.open(path)
    bus = EventBus(RUN, clock=Clock())
    bus.subscribe(store.append)
    events = emit_run(bus)
    await store.close()
    yield path, events


async def loaded(pilot: Pilot[Any]) -> ReplayScreen:
    await settle(pilot)  # the load worker
    screen = pilot.app.screen
    assert isinstance(screen, ReplayScreen) and screen.replayer is not None
    return screen


def clock_text(screen: ReplayScreen) -> str:
    return str(screen.query_one("#replay-clock", Static).render())


async def test_play_at_a_speed_then_pause(recorded: tuple[Path, list[ev.Event]]) -> None:
    db, events = recorded
    async with ReplayApp(db).run_test(size=(160, 48)) as pilot:
        screen = await loaded(pilot)
        assert screen.replayer is not None
        assert len(events) == 385 and screen.replayer.count == 385
        assert screen.dashboard.state == fold([])
        await pilot.press("space")  # play at 1×
        await screen.tick(2.0)  # two seconds of real time: 2 s of run time
        assert screen.replayer.index == 21 and screen.dashboard.state == fold(events[:21])
        await pilot.press("3")  # 4×
        await screen.tick(0.5)  # two more seconds of run time
        assert screen.replayer.index == 41
        assert clock_text(screen).startswith("0:04 / 0:38 · event 41 of 385")
        await pilot.press("space")  # pause
        await screen.tick(10.0)
        assert screen.replayer.index == 41 and not screen.playing
        assert "paused · 4×" in str(screen.query_one("#replay-state", Static).render())
        logs = screen.dashboard.logs.tail("cli")
        assert logs == [e.text for e in events[:41] if isinstance(e, ev.AgentOutput)
                        and e.task == "cli"]  # fmt: skip


async def test_a_replay_opens_playing_and_says_how_to_pause(
    recorded: tuple[Path, list[ev.Event]],
) -> None:
    db, events = recorded
    async with ReplayApp(db, play=True).run_test(size=(160, 48)) as pilot:
        screen = await loaded(pilot)
        assert screen.replayer is not None
        assert screen.playing and screen.speed == 1  # the run shows at once, at its own pace
        assert "▶ 1× · space pauses" in str(screen.query_one("#replay-state", Static).render())
        await screen.tick(1.0)
        assert screen.replayer.index == 11 and screen.dashboard.state == fold(events[:11])
        await pilot.press("space")  # pause where it got to
        assert "⏸ paused · 1× · space plays" in str(
            screen.query_one("#replay-state", Static).render()
        )


async def test_step_and_seek_reset_the_dashboard_to_a_fresh_reduce(
    recorded: tuple[Path, list[ev.Event]],
) -> None:
    db, events = recorded
    async with ReplayApp(db).run_test(size=(160, 48)) as pilot:
        screen = await loaded(pilot)
        assert screen.replayer is not None
        await pilot.press("full_stop", "full_stop", "full_stop")  # three events forward
        assert screen.replayer.index == 3 and screen.dashboard.state == fold(events[:3])
        await pilot.press("comma")  # one back
        assert screen.replayer.index == 2 and screen.dashboard.state == fold(events[:2])
        await pilot.press("right", "right")  # +10 s
        assert screen.replayer.elapsed_s == pytest.approx(10.1)
        await pilot.press("left")  # -5 s
        index = screen.replayer.index
        assert screen.dashboard.state == fold(events[:index]) and index == 52
        await pilot.press("end")  # the run as it ended
        assert screen.replayer.at_end and screen.dashboard.state == fold(events)
        cli = [e.text for e in events if isinstance(e, ev.AgentOutput) and e.task == "cli"]
        assert screen.dashboard.logs.tail("cli") == cli[-len(screen.dashboard.logs.tail("cli")) :]
        await pilot.press("home")  # back to the start
        assert screen.replayer.index == 0 and screen.dashboard.state == fold([])


async def test_max_speed_plays_to_the_end_and_stops(recorded: tuple[Path, list[ev.Event]]) -> None:
    db, events = recorded
    async with ReplayApp(db).run_test(size=(160, 48)) as pilot:
        screen = await loaded(pilot)
        assert screen.replayer is not None
        await pilot.press("m", "space")  # max speed, play
        await screen.tick(0.0)  # one batch holds the whole run
        assert screen.replayer.at_end and not screen.playing
        assert screen.dashboard.state == fold(events)
        await pilot.press("space")  # play again: starts over from the beginning
        assert screen.playing and screen.replayer.index == 0


async def test_an_unknown_run_says_so(tmp_path: Path) -> None:
    async with ReplayApp(tmp_path / "empty.db", "nope").run_test() as pilot:
        await settle(pilot)
        state = str(pilot.app.screen.query_one("#replay-state", Static).render())
        assert "cannot replay: no run 'nope'" in state


def test_replay_snapshot(snap_compare: SnapCompare, recorded: tuple[Path, list[ev.Event]]) -> None:
    """You should see the REPLAY badge, "⏸ paused · 1× · space plays", the position bar at
    about half, the clock "0:20 / 0:38 · event 201 of 385", and the dashboard as the run
    stood then: three running tasks, each with its log lines up to that point."""
    db, _ = recorded

    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await loaded(pilot)
        assert screen.replayer is not None
        await pilot.press(*["right"] * 4)  # seek to 20 s
        assert screen.replayer.index == 201
        await pilot.pause()

    assert snap_compare(ReplayApp(db), terminal_size=(140, 40), run_before=run_before)
