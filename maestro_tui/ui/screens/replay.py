"""ReplayScreen: a recorded run in the dashboard, played on its own clock, seekable.

The Replayer (engine/replay.py) does the work; this screen owns the keys and a timer. While
playing, each tick moves a virtual clock by (real time since the last tick × speed) and feeds
the dashboard the events up to it; "max" feeds big batches as fast as they come. A seek
resets the dashboard to the state and log tails at the new position. The engine's controls
(pause, approve, cancel…) are not here: nothing runs, and the screen says REPLAY.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer

from maestro_tui.engine.history import TAIL_LINES, Replayer
from maestro_tui.store import Store, StoreError
from maestro_tui.ui.widgets.dashboard import Dashboard
from maestro_tui.ui.widgets.keys_panel import toggle_keys_panel
from maestro_tui.ui.widgets.replay_controls import ReplayControls

SPEEDS = (1, 2, 4, 8, 16, 32, 64)  # keys 1…7
TICK_S = 1 / 20
MAX_STEP = 20_000  # events per tick at most: at "max", and when a fast speed falls behind
SEEK_S = 5.0
RERUN_TIP = "re-run from the selected task: it and its dependents run again, the rest is kept"


def _speed_bindings() -> list[Binding]:
    keys = [Binding("1", "speed(1)", "speed 1×–64×", key_display="1-7")]
    return keys + [
        Binding(str(n), f"speed({speed})", f"{speed}×", show=False)
        for n, speed in enumerate(SPEEDS[1:], start=2)
    ]


class ReplayScreen(Screen[None]):
    """Replays a stored run in the Dashboard widget; keys play, pause, step and seek."""

    # Not CSS_PATH: Textual loads that only for pushed screens, and this one may be the first.
    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")
    # Priority: the dashboard's tables would take space, arrows, home and end for scrolling.
    BINDINGS = [
        Binding("space", "toggle_play", "play/pause", priority=True),
        *_speed_bindings(),
        Binding("m", "max_speed", "max"),
        Binding("full_stop", "step", "step", key_display="."),
        Binding("comma", "step_back", "back", key_display=","),
        Binding("left", "seek(-5)", "-5s", key_display="←", priority=True),
        Binding("right", "seek(5)", "+5s", key_display="→", priority=True),
        Binding("home", "seek_start", "start", show=False, priority=True),
        Binding("end", "seek_end", "end", show=False, priority=True),
        Binding("f", "rerun_from", "rerun from", tooltip=RERUN_TIP),
        Binding("question_mark", "toggle_keys", "keys", key_display="?"),
        Binding("q,escape", "close", "close"),
    ]

    def __init__(
        self, db_path: Path, run_id: str, *, tick_s: float | None = TICK_S, play: bool = True
    ) -> None:
        """`tick_s` None: no timer (tests call `tick` themselves). `play`: start playing at 1×
        once loaded, so the run shows at once (an empty dashboard at event 0 told a newcomer
        nothing); False opens it paused at the start."""
        super().__init__()
        self._play_on_load = play
        self.db_path = db_path
        self.run_id = run_id
        self.replayer: Replayer | None = None
        self.playing = False
        self.speed: int | None = 1  # None: max
        self._tick_s = tick_s
        self._clock = 0.0  # virtual elapsed seconds while playing
        self._last_tick = 0.0
        self._store: Store | None = None
        self._timer: Timer | None = None
        self._lock = asyncio.Lock()  # the timer and the keys take turns with the replayer

    def compose(self) -> ComposeResult:
        yield ReplayControls(id="controls")
        yield Dashboard(id="dashboard", max_log_lines=TAIL_LINES)
        yield Footer()

    @property
    def dashboard(self) -> Dashboard:
        return self.query_one(Dashboard)

    @property
    def controls(self) -> ReplayControls:
        return self.query_one(ReplayControls)

    def on_mount(self) -> None:
        self.sub_title = f"replay of {self.run_id} · engine controls are off"
        if self._tick_s is not None:
            self._timer = self.set_interval(self._tick_s, self._on_timer, pause=True)
        self.load()

    async def on_unmount(self) -> None:
        if self.replayer is not None:
            self.replayer.close()
        if self._store is not None:
            await self._store.close()

    @work(exclusive=True, group="replay-load")
    async def load(self) -> None:
        """Open the store and read the run's positions and checkpoints."""
        self.controls.show_message("loading…")
        try:
            self._store = store = await Store.open(self.db_path)
            summary = await store.get_run(self.run_id)
            if summary is None:
                raise StoreError(f"no run '{self.run_id}' in {self.db_path}")
            self.run_id = summary.run_id
            self.replayer = await Replayer.load(store, summary.run_id)
        except StoreError as exc:
            self.controls.show_message(f"cannot replay: {exc}")
            self.notify(str(exc), title="cannot replay", severity="error")
            return
        self.dashboard.reset(self.replayer.state, {})
        if self._play_on_load and self.replayer.count:
            self._set_playing(True)
        self._show()

    def _show(self) -> None:
        r = self.replayer
        if r is not None:
            self.controls.show(
                playing=self.playing,
                speed=self.speed,
                elapsed=r.elapsed_s if not self.playing or self.speed is None else self._clock,
                total=r.duration_s,
                index=r.index,
                count=r.count,
            )

    # --- playing ----------------------------------------------------------------------------

    async def _on_timer(self) -> None:
        now = time.monotonic()
        dt, self._last_tick = now - self._last_tick, now
        await self.tick(dt)

    async def tick(self, dt: float) -> None:
        """Play `dt` real seconds' worth (at max speed, one batch); pause at the end."""
        r = self.replayer
        if r is None or not self.playing:
            return
        async with self._lock:
            if self.speed is None:
                events = await r.step(MAX_STEP, lines=TAIL_LINES)
            else:
                self._clock = min(self._clock + dt * self.speed, r.duration_s)
                events = await r.advance_to(self._clock, max_events=MAX_STEP)
                if len(events) == MAX_STEP:  # too many to keep up: slow down, don't fall behind
                    self._clock = r.elapsed_s
            if events:
                self.dashboard.feed(events, r.state)
            if r.at_end:
                self._set_playing(False)
            self._show()

    def _set_playing(self, playing: bool) -> None:
        self.playing = playing
        if self._timer is not None:
            if playing:
                self._last_tick = time.monotonic()
                self._timer.resume()
            else:
                self._timer.pause()

    async def action_toggle_play(self) -> None:
        """Play or pause; playing at the end starts again from the beginning."""
        r = self.replayer
        if r is None:
            return
        if not self.playing and r.at_end:
            await self._seek_index(0)
        self._clock = r.elapsed_s
        self._set_playing(not self.playing)
        self._show()

    def action_speed(self, speed: int) -> None:
        """Play at `speed`× the run's own pace."""
        if self.replayer is not None and self.speed is None:
            self._clock = self.replayer.elapsed_s  # from max: go on from where it got to
        self.speed = speed
        self._show()

    def action_max_speed(self) -> None:
        """Play as fast as events can be read and shown."""
        self.speed = None
        self._show()

    # --- stepping and seeking ---------------------------------------------------------------

    async def action_step(self) -> None:
        """One event forward (pauses)."""
        r = self.replayer
        if r is None:
            return
        self._set_playing(False)
        async with self._lock:
            events = await r.step(1)
            if events:
                self.dashboard.feed(events, r.state)
            self._clock = r.elapsed_s
        self._show()

    async def action_step_back(self) -> None:
        """One event back (a seek; pauses)."""
        if self.replayer is not None:
            self._set_playing(False)
            await self._seek_index(self.replayer.index - 1)

    async def action_seek(self, seconds: float) -> None:
        """Jump `seconds` of run time forward or back from the current position."""
        r = self.replayer
        if r is not None:
            here = self._clock if self.playing and self.speed is not None else r.elapsed_s
            await self._seek_index(r.index_at(elapsed=here + seconds))

    async def action_seek_start(self) -> None:
        """Back to before the first event."""
        await self._seek_index(0)

    async def action_seek_end(self) -> None:
        """To the last event: the run as it ended."""
        if self.replayer is not None:
            self._set_playing(False)
            await self._seek_index(self.replayer.count)

    async def _seek_index(self, index: int) -> None:
        r = self.replayer
        if r is None:
            return
        async with self._lock:
            state, tails = await r.seek_index(index)
            self._clock = r.elapsed_s
            self.dashboard.reset(state, tails)
        self._show()

    def action_rerun_from(self) -> None:
        """f: re-run the run from the selected task (it and its dependents run again)."""
        from maestro_tui.ui.screens.rerun import rerun_from
        from maestro_tui.ui.screens.run import RunScreen

        task = self.dashboard.graph.selected_task_id
        rerun_from(self, self.db_path, self.run_id, task, lambda o: RunScreen(opener=o))

    def action_toggle_keys(self) -> None:
        """?: the keys panel, this screen's keys first."""
        toggle_keys_panel(self)

    def action_close(self) -> None:
        """Back to where the replay was opened from; quit if it is the only screen."""
        if len(self.app.screen_stack) > 1:
            self.dismiss()
        else:
            self.app.exit()
