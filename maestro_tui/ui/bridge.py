"""RunBridge: engine events into the dashboard, buffered and drained on a timer (~20 fps).

The bus calls subscribers synchronously while the engine works, so the subscriber only
appends to a list; a Textual timer folds the batch into the RunState and feeds the dashboard
once per tick. Widgets are never touched from the subscriber, and a burst of ten thousand
log lines costs one redraw, not ten thousand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from maestro_tui.domain.events import Event
from maestro_tui.domain.state import RunState, fold

FLUSH_INTERVAL_S = 0.05


class Feedable(Protocol):
    """What the bridge feeds: the Dashboard widget (live) or anything shaped like it."""

    def feed(self, events: Sequence[Event], state: RunState) -> None: ...

    def reset(self, state: RunState, log_tails: Mapping[str, Sequence[str]]) -> None: ...


class RunBridge:
    """A bus subscriber that buffers; `flush()` (called by a timer) reduces and feeds."""

    def __init__(self, target: Feedable, state: RunState | None = None) -> None:
        self.target = target
        self.state = state or RunState()
        self._pending: list[Event] = []
        self.events_fed = 0
        self.flushes = 0

    def __call__(self, event: Event) -> None:
        """The bus subscriber: O(1), never blocks, never touches a widget."""
        self._pending.append(event)

    @property
    def backlog(self) -> int:
        """Events received but not yet shown."""
        return len(self._pending)

    def flush(self) -> bool:
        """Fold what arrived since the last tick into the state and feed it on; False if
        nothing had arrived."""
        if not self._pending:
            return False
        events, self._pending = self._pending, []
        self.state = fold(events, self.state)
        self.target.feed(events, self.state)
        self.events_fed += len(events)
        self.flushes += 1
        return True


# After a batch is on screen, the next waits for this many times what showing it took, so
# the dashboard's redraws take at most about a third of the event loop and keys are
# handled between them; never longer than MAX_WAIT_S, so a busy dashboard stays live.
SHOW_COST_RATIO = 2.0
MAX_WAIT_S = 0.5


class FlushPacer:
    """When the live dashboard may feed its next batch: on every tick while showing a batch
    is cheap, less often while it is not (200 agents on two busy cores).

    The cost of a batch is measured from the flush to the frame after it (`shown`), so it
    counts the redraw the batch caused and the wait for the loop to get to it.
    """

    def __init__(self, ratio: float = SHOW_COST_RATIO, max_wait_s: float = MAX_WAIT_S) -> None:
        self.ratio = ratio
        self.max_wait_s = max_wait_s
        self.not_before = 0.0
        self._flushed_at: float | None = None  # a batch fed and not yet on screen

    def ready(self, now: float) -> bool:
        if self._flushed_at is not None:
            if now - self._flushed_at < self.max_wait_s:
                return False
            self._flushed_at = None  # no word of its frame (another screen on top): go on
            return True
        return now >= self.not_before

    def flushed(self, now: float) -> None:
        self._flushed_at = now

    def shown(self, now: float) -> None:
        if self._flushed_at is None:
            return
        cost = now - self._flushed_at
        self._flushed_at = None
        self.not_before = now + min(self.max_wait_s, self.ratio * cost)
