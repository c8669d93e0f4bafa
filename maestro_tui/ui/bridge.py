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

    def flush(self) -> None:
        """Fold what arrived since the last tick into the state and feed it on."""
        if not self._pending:
            return
        events, self._pending = self._pending, []
        self.state = fold(events, self.state)
        self.target.feed(events, self.state)
        self.events_fed += len(events)
        self.flushes += 1
