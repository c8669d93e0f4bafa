"""The reducer's handlers, one module per subject of events, gathered in one table.

`domain.state` applies them: `reduce(state, event) -> state`.
"""

from __future__ import annotations

from maestro_tui.domain import events as ev
from maestro_tui.domain.reducer import merges, run, tasks, usage
from maestro_tui.domain.reducer.base import Handler

HANDLERS: dict[type[ev.Event], Handler] = {
    **run.HANDLERS,
    **tasks.HANDLERS,
    **merges.HANDLERS,
    **usage.HANDLERS,
}
