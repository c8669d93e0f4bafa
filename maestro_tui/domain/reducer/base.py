"""What the reducer's parts share: the shape of an event handler, and the change of one task."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from maestro_tui.domain.frozen import replace
from maestro_tui.domain.views import RunState

# A handler takes the state and one event of its type, and returns the new state.
Handler = Callable[[RunState, Any], RunState]


def update_task(state: RunState, task_id: str, **changes: Any) -> RunState:
    """The state with task `task_id`'s view changed; the same state for a task it lacks."""
    current = state.tasks.get(task_id)
    if current is None:
        return state
    tasks = dict(state.tasks)
    tasks[task_id] = replace(current, **changes)
    return replace(state, tasks=tasks)
