"""ReplayControls: the replay's transport bar — a REPLAY badge, play state, speed, position."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import ProgressBar, Static


def clock(seconds: float) -> str:
    """ "m:ss", or "h:mm:ss" from an hour."""
    s = max(0, int(seconds))
    if s >= 3600:
        return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
    return f"{s // 60}:{s % 60:02d}"


class ReplayControls(Horizontal):
    """Shows where a replay stands; the screen owns the keys and calls `show`."""

    DEFAULT_CSS = """
    ReplayControls { height: 1; background: $panel; }
    ReplayControls > #replay-badge {
        width: auto; padding: 0 1; background: $warning; color: $background; text-style: bold;
    }
    ReplayControls > #replay-state { width: auto; min-width: 30; padding: 0 1; }
    ReplayControls > ProgressBar { width: 1fr; padding: 0 1; }
    ReplayControls > ProgressBar > Bar { width: 1fr; }
    ReplayControls > #replay-clock { width: auto; padding: 0 1; color: $foreground-muted; }
    """

    def compose(self) -> ComposeResult:
        yield Static("REPLAY", id="replay-badge")
        yield Static("loading…", id="replay-state")
        yield ProgressBar(total=1, show_eta=False, show_percentage=False, id="replay-position")
        yield Static("", id="replay-clock")

    def show(
        self,
        *,
        playing: bool,
        speed: int | None,
        elapsed: float,
        total: float,
        index: int,
        count: int,
    ) -> None:
        """Redraw: playing or paused at `speed` (None: max), `elapsed` of `total` seconds."""
        rate = "max" if speed is None else f"{speed}×"
        if playing:
            state = f"▶ {rate} · space pauses"
        elif count and index >= count:
            state = f"■ end · {rate} · space plays again"
        else:
            state = f"⏸ paused · {rate} · space plays"
        self.query_one("#replay-state", Static).update(state)
        bar = self.query_one(ProgressBar)
        if total > 0:
            bar.update(total=total, progress=min(elapsed, total))
        else:  # one instant (or nothing): the bar says how many events are in
            bar.update(total=max(count, 1), progress=index)
        self.query_one("#replay-clock", Static).update(
            f"{clock(elapsed)} / {clock(total)} · event {index:,} of {count:,}"
        )

    def show_message(self, text: str) -> None:
        """A line in place of the play state (loading, or what went wrong)."""
        self.query_one("#replay-state", Static).update(text)
