"""Whether a run the store calls running really is: a live process holds its run lock.

The store says "running" (or "planning") from the moment a run starts until its last event; a
driver killed without a word (SIGKILL, a closed machine) leaves it saying so forever. Every
list of runs asks here, so a run nobody drives reads `stopped — resumable`, never `running`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from maestro_tui.engine.history import lock_holder
from maestro_tui.engine.runlock import is_locked
from maestro_tui.store import RunSummary

STOPPED = "stopped — resumable"
LIVE = frozenset({"running", "planning"})


def driver_pid(db_path: Path, run_id: str) -> int | None:
    """The pid of the process driving the run, None when none does (0 if it cannot be told)."""
    try:
        return lock_holder(db_path, run_id)
    except OSError:  # no /proc/locks: ask the lock itself
        return 0 if is_locked(db_path, run_id) else None


def truthful(runs: Sequence[RunSummary], db_path: Path) -> list[RunSummary]:
    """The runs, each run the store calls live but no process drives marked STOPPED."""
    return [
        dataclasses.replace(r, status=STOPPED)
        if r.status in LIVE and driver_pid(db_path, r.run_id) is None
        else r
        for r in runs
    ]
