"""RunState and its pure reducer: `reduce(state, event) -> state`.

The live TUI, replay, resume and the headless summary all rebuild what they show from
events through this one function, so a replayed run looks exactly like the live one. RunState
is defined beside the views it is made of (domain/views.py); the handlers of each subject of
events are in domain/reducer/.
"""

from __future__ import annotations

from collections.abc import Iterable

from maestro_tui.domain import events as ev
from maestro_tui.domain.reducer import HANDLERS

# Re-exported: the state, its statuses and views are imported from here, beside the reducer.
from maestro_tui.domain.views import ModelUsage as ModelUsage
from maestro_tui.domain.views import RunState as RunState
from maestro_tui.domain.views import RunStatus as RunStatus
from maestro_tui.domain.views import TaskStatus as TaskStatus
from maestro_tui.domain.views import TaskView as TaskView

_HANDLERS = HANDLERS  # every event type the reducer reads (tests/domain/test_metrics.py)


def reduce(state: RunState, event: ev.Event) -> RunState:
    """Apply one event. Events that do not change what is shown return the same state."""
    handler = _HANDLERS.get(type(event))
    return handler(state, event) if handler else state


def fold(events: Iterable[ev.Event], state: RunState | None = None) -> RunState:
    """Fold a sequence of events into a RunState."""
    s = state or RunState()
    handlers = _HANDLERS
    for event in events:
        handler = handlers.get(type(event))
        if handler:
            s = handler(s, event)
    return s
