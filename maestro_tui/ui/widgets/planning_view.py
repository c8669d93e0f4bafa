"""PlanningView: a planner at work — what it says, what it reads, what it has spent so far.

The planner reports through a `PlanningFeed` (a `PlanningProgress`), which only appends to a
queue: it may be called on the app's loop or from another thread. A timer drains the queue
into the widgets, so a burst of streamed fragments costs one redraw, not one per fragment.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import RichLog, Static

from maestro_tui.domain.planning import PlanningLog

FLUSH_INTERVAL_S = 0.05
TICK_INTERVAL_S = 0.25  # the elapsed time's refresh
MAX_LINES = 5_000


class PlanningFeed:
    """What the planner and the preflight report, queued for the view (thread-safe: a deque's
    append and popleft are atomic). `log` keeps everything, for whoever needs it after."""

    def __init__(self) -> None:
        self.queue: deque[tuple[str, object]] = deque()
        self.log = PlanningLog()

    def say(self, line: str) -> None:
        """A line of status (the preflight's, "planning with …")."""
        self.queue.append(("say", line))

    def said(self, text: str) -> None:
        self.queue.append(("said", text))

    def read(self, what: str) -> None:
        self.queue.append(("read", what))

    def spent(self, tokens_in: int, tokens_out: int, cost_usd: float | None) -> None:
        self.queue.append(("spent", (tokens_in, tokens_out, cost_usd)))


def meters_text(log: PlanningLog, calls: int, elapsed_s: float, simulated: bool) -> Text:
    """The meters' line: tokens, cost, calls, reads, time."""
    cost = f"${log.cost_usd:.4f}"
    if log.unpriced:
        cost += f" + {log.unpriced} unpriced call(s)"
    if simulated:
        cost += " (simulated)"
    minutes, seconds = divmod(int(elapsed_s), 60)
    meters = [
        ("tokens", f"{log.tokens_in:,} in · {log.tokens_out:,} out"),
        ("cost", cost),
        ("calls", str(calls)),
        ("read", str(len(log.reads))),
        ("elapsed", f"{minutes}:{seconds:02d}"),
    ]
    return Text("   ").join(
        Text.assemble((name, "dim"), " ", (value, "bold")) for name, value in meters
    )


class PlanningView(Vertical):
    """The planner's words and the status lines beside the list of what it read; meters below."""

    DEFAULT_CSS = """
    PlanningView { height: 1fr; }
    PlanningView #planning-panes { height: 1fr; }
    PlanningView RichLog { overflow-y: auto; border-title-color: $text; }
    PlanningView #planning-text { width: 2fr; border: round $primary 60%; }
    PlanningView #planning-text:focus { border: round $accent; }
    PlanningView #planning-reads { width: 1fr; border: round $secondary 60%; }
    PlanningView #planning-partial { height: auto; max-height: 3; padding: 0 1; }
    PlanningView #planning-meters { height: 1; padding: 0 1; }
    """

    def __init__(
        self,
        feed: PlanningFeed | None = None,
        *,
        simulated: bool = False,
        clock: Callable[[], float] = time.monotonic,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.feed = feed or PlanningFeed()
        self.simulated = simulated
        self._clock = clock
        self._started = clock()
        self._stopped_at: float | None = None
        self._partial = ""  # the planner's line still being streamed
        self.calls = 0

    def compose(self) -> ComposeResult:
        with Horizontal(id="planning-panes"):
            yield RichLog(id="planning-text", wrap=True, max_lines=MAX_LINES, min_width=20)
            yield RichLog(id="planning-reads", max_lines=MAX_LINES, min_width=20)
        yield Static(id="planning-partial")
        yield Static(id="planning-meters")

    def on_mount(self) -> None:
        self.text_log.border_title = "planner"
        self.reads_log.border_title = "read"
        self._ticking = [
            self.set_interval(FLUSH_INTERVAL_S, self.flush),
            self.set_interval(TICK_INTERVAL_S, self._show_meters),
        ]
        self._show_meters()

    @property
    def text_log(self) -> RichLog:
        return self.query_one("#planning-text", RichLog)

    @property
    def reads_log(self) -> RichLog:
        return self.query_one("#planning-reads", RichLog)

    @property
    def elapsed_s(self) -> float:
        return (self._stopped_at or self._clock()) - self._started

    def stop_clock(self) -> None:
        """Planning is over: what came last is shown, and the elapsed time stays."""
        if self._stopped_at is None:
            self._stopped_at = self._clock()
            self.flush()
            self._show_meters()
            for timer in self._ticking:
                timer.stop()

    def flush(self) -> None:
        """Move what the feed queued into the widgets: one write per pane per tick."""
        queue, log = self.feed.queue, self.feed.log
        if not queue:
            return
        lines: list[Text] = []
        reads: list[str] = []
        while queue:
            kind, value = queue.popleft()
            if kind == "said":
                assert isinstance(value, str)
                log.said(value)
                *done, self._partial = (self._partial + value).split("\n")
                lines.extend(Text(line) for line in done)
                continue
            if self._partial.strip():  # a read, a call's end or a status ends the line
                lines.append(Text(self._partial))
            self._partial = ""
            if kind == "say":
                assert isinstance(value, str)
                lines.extend(Text(line, "dim") for line in value.splitlines() or [""])
            elif kind == "read":
                assert isinstance(value, str)
                log.read(value)
                reads.append(value)
                lines.append(Text.assemble("  ", ("→ read", "dim"), " ", (value, "cyan")))
            elif kind == "spent":
                assert isinstance(value, tuple)
                log.spent(*value)
                self.calls += 1
        if lines:
            self.text_log.write(Text("\n").join(lines))
        if reads:
            self.reads_log.write(Text("\n".join(reads), "cyan"))
        self.query_one("#planning-partial", Static).update(Text(self._partial))
        self._show_meters()

    def _show_meters(self) -> None:
        text = meters_text(self.feed.log, self.calls, self.elapsed_s, self.simulated)
        self.query_one("#planning-meters", Static).update(text)
