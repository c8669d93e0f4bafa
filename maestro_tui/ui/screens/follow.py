"""FollowScreen: `maestro-tui watch RUN`, a run that another process drives, read-only.

The Follower (engine/follower.py) catches up with the events committed so far, then polls
the store for newer ones; they go through the same reducer and into the same Dashboard
widget as a live run or a replay. Nothing here can change the run: no engine, no lock, and
the store is opened read-only. When the run ends the app exits with the run's exit code,
unless `stay` keeps the last picture up until the person closes it.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static

from maestro_tui.engine.history import TAIL_LINES, Follower, lock_holder
from maestro_tui.session.outcome import exit_code
from maestro_tui.store import Store, StoreError
from maestro_tui.ui.widgets.dashboard import Dashboard
from maestro_tui.ui.widgets.keys_panel import first_stop, toggle_keys_panel

POLL_S = 0.25  # the driver commits every 50 ms; a quarter second is live enough to watch


class FollowScreen(Screen[None]):
    """The Dashboard widget, fed from the store as another process writes the run."""

    DEFAULT_CSS = """
    FollowScreen { layout: vertical; layers: default keys; }
    FollowScreen > #follow-bar { dock: top; height: 1; background: $panel; }
    FollowScreen > Dashboard { height: 1fr; }
    """
    BINDINGS = [
        Binding("question_mark", "toggle_keys", "keys", key_display="?"),
        Binding("q,escape", "close", "close"),
        Binding("0", "show_agent(0)", "logs 0-9", key_display="0-9"),
        *(Binding(str(n), f"show_agent({n})", show=False) for n in range(1, 10)),
    ]
    BINDINGS = first_stop(BINDINGS)  # nothing here types: the keys act at once

    def __init__(
        self,
        store: Store,
        db_path: Path,
        run_id: str,
        *,
        stay: bool = False,
        poll_s: float | None = POLL_S,
    ) -> None:
        """`poll_s` None: no timer (tests call `poll` themselves)."""
        super().__init__()
        self.follower = Follower(store, run_id)
        self.db_path = db_path
        self.run_id = run_id
        self.stay = stay
        self._poll_s = poll_s
        self._timer: Timer | None = None
        self._started = False

    def compose(self) -> ComposeResult:
        yield Static("", id="follow-bar")
        yield Dashboard(id="dashboard", max_log_lines=TAIL_LINES)
        yield Footer()

    @property
    def dashboard(self) -> Dashboard:
        return self.query_one(Dashboard)

    def on_mount(self) -> None:
        self.sub_title = f"watching {self.run_id} · read-only"
        self._show_bar("joining…")
        self.catch_up()

    @work(exclusive=True, group="follow")
    async def catch_up(self) -> None:
        """Everything committed so far in one reset, then new events as they come."""
        try:
            tails = await self.follower.catch_up()
        except StoreError as exc:
            self._show_bar(f"cannot read the run: {exc}")
            self.notify(str(exc), title="cannot watch", severity="error")
            return
        self.dashboard.reset(self.follower.state, tails)
        self._started = True
        if not self._check_end() and self._poll_s is not None:
            self._timer = self.set_interval(self._poll_s, self.poll)

    async def poll(self) -> None:
        """Show what was committed since the last poll; stop when the run has ended."""
        if not self._started or self.follower.ended:
            return
        try:
            events = await self.follower.poll()
        except StoreError as exc:
            self._show_bar(f"cannot read the run: {exc}")
            return
        if events:
            self.dashboard.feed(events, self.follower.state)
        self._check_end()

    def _check_end(self) -> bool:
        """Update the bar; when the run has ended, stop polling (and exit unless `stay`)."""
        f = self.follower
        if not f.ended:
            self._show_bar(f"following · {f.count:,} events{self._driver()}")
            return False
        if self._timer is not None:
            self._timer.stop()
        self._show_bar(f"the run ended: {f.state.status.value} · {f.count:,} events")
        if not self.stay:
            self.app.exit(exit_code(f.state))
        return True

    def _driver(self) -> str:
        """Who drives the run, if the platform can tell: a crashed driver explains silence."""
        try:
            pid = lock_holder(self.db_path, self.run_id)
        except OSError:
            return ""
        return f" · driven by pid {pid}" if pid else " · no process drives it now"

    def _show_bar(self, message: str) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" WATCHING ", style="reverse bold")
        text.append(f" {message} ")
        text.append(" read-only: this screen cannot change the run", style="dim")
        self.query_one("#follow-bar", Static).update(text)

    def action_show_agent(self, n: int) -> None:
        """0: every agent's log; 1–9: the Nth running agent's log."""
        if not self.dashboard.logs.show_nth(n):
            self.notify(f"no running agent number {n}", timeout=2)

    def action_toggle_keys(self) -> None:
        """?: the keys panel, over the dashboard's right side."""
        toggle_keys_panel(self)

    def action_close(self) -> None:
        """Stop watching; the run goes on in its own process."""
        self.app.exit(0)
