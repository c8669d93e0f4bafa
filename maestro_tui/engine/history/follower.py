"""Following a run that another process drives: new events from the store, read-only.

The driving process commits events in batches (WAL); a follower asks the store for the
events after the last seq it has seen, decodes them as replay does and reduces them into its
own RunState, so what it shows is what the driving process's dashboard shows. It never takes
the run's lock and never writes: it works on a store opened with `Store.open_read_only`.
"""

from __future__ import annotations

import os
from collections import deque
from pathlib import Path

from maestro_tui.domain import events as ev
from maestro_tui.domain.state import RunState, fold
from maestro_tui.engine.history.replayer import READ_CHUNK, TAIL_LINES, decode_rows, last_lines
from maestro_tui.engine.runlock import lock_path
from maestro_tui.store import Store

Tails = dict[str, list[str]]


class Follower:
    """A cursor at the end of a run's committed events; `state` is the run as of `seq`."""

    def __init__(self, store: Store, run_id: str, *, tail_lines: int = TAIL_LINES) -> None:
        self.store = store
        self.run_id = run_id
        self.tail_lines = tail_lines
        self.state = RunState()
        self.seq = 0  # the last event applied
        self.count = 0  # events applied

    async def catch_up(self) -> Tails:
        """Apply every event committed so far; return each task's last output lines.

        Output lines that later lines of their task push out of the tail are not decoded, so
        joining a long run costs little more than reading it.
        """
        tails: dict[str, deque[str]] = {}
        while True:
            rows = await self.store.event_rows(self.run_id, self.seq, READ_CHUNK)
            events = decode_rows(self.run_id, last_lines(rows, self.tail_lines))
            self._apply(rows[-1][0] if rows else self.seq, len(rows), events)
            for event in events:
                if type(event) is ev.AgentOutput:
                    tail = tails.setdefault(event.task, deque(maxlen=self.tail_lines))
                    tail.append(event.text)
            if len(rows) < READ_CHUNK:
                return {task: list(lines) for task, lines in tails.items()}

    async def poll(self, limit: int = READ_CHUNK) -> list[ev.Event]:
        """The events committed since the last call (at most `limit`), applied to `state`."""
        rows = await self.store.event_rows(self.run_id, self.seq, limit)
        events = decode_rows(self.run_id, rows)
        self._apply(rows[-1][0] if rows else self.seq, len(rows), events)
        return events

    def apply(self, events: list[ev.Event]) -> None:
        """Events had another way (the engine pushed them), applied as if read here."""
        if events:
            self._apply(events[-1].seq, len(events), events)

    def _apply(self, seq: int, count: int, events: list[ev.Event]) -> None:
        self.state = fold(events, self.state)
        self.seq = seq
        self.count += count

    @property
    def ended(self) -> bool:
        """The run has finished (or stopped, interrupted) since it last started or resumed."""
        return self.state.finished_ts is not None


PROC_LOCKS = Path("/proc/locks")


def lock_holder(db_path: Path, run_id: str, locks: Path = PROC_LOCKS) -> int | None:
    """The pid of the process that holds the run's lock, or None if none does.

    Read from the kernel's table of locks (Linux), so the lock itself is never touched: even
    trying it for a moment could make a `resume` starting at that moment fail. Raises
    OSError where that table cannot be read.
    """
    table = locks.read_text(encoding="ascii", errors="replace")
    try:
        st = lock_path(db_path, run_id).stat()
    except FileNotFoundError:
        return None
    inode = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    for line in table.splitlines():
        # "1: FLOCK  ADVISORY  WRITE 1234 fe:00:2148241 0 EOF"; waiters' lines have "->".
        fields = line.split()
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == inode:
            return int(fields[4])
    return None
