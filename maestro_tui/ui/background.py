"""The dashboard of a run whose engine runs in a process of its own: handing a run just
recorded (or to be resumed) to its engine, attaching to it, and what to say on leaving.

`run`, `demo` and `resume` in a terminal record or pick the run here, start its engine in the
background (session/background.py) and attach; `--foreground` keeps today's one process.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from maestro_tui.session import background
from maestro_tui.session.attached import AttachedRun
from maestro_tui.session.finding import Found
from maestro_tui.session.handle import RunHandle
from maestro_tui.session.lifecycle import RunSession
from maestro_tui.session.liveness import driver_pid


async def hand_off(session: RunSession) -> AttachedRun:
    """A run just recorded here, handed to an engine of its own, and attached to."""
    run_id, repo, db = session.state.run_id, session.orch.ws.root, session.store.path
    await session.aclose()  # its lock, for the engine to take
    await background.spawn(db, run_id, repo, background.engine_options(new=True))
    return await AttachedRun.attach(db, run_id)


async def resume_in_background(
    db_path: Path,
    found: Found,
    *,
    max_agents: int | None = None,
    budgets: Mapping[str, float | None] | None = None,
    retry_task: str | None = None,
    resolve_task: str | None = None,
) -> AttachedRun:
    """A stopped run resumed by an engine of its own, and attached to."""
    options = background.engine_options(
        max_agents=max_agents, budgets=budgets, retry_task=retry_task, resolve_task=resolve_task
    )
    repo = Path(found.run.repo)
    await background.spawn(db_path, found.run.run_id, repo, options)
    return await AttachedRun.attach(db_path, found.run.run_id)


def ask_to_resume(found: Found) -> bool:
    """`attach` to a run nobody drives: offer to resume it (in a terminal; else no)."""
    if not sys.stdin.isatty():
        return False
    print(f"Run {found.run.run_id} is {found.run.status}: no process drives it.")
    try:
        answer = input("Resume it in the background? [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def goes_on(handle: RunHandle | RunSession | None) -> str | None:
    """What to tell a person who left a dashboard while its run goes on in the background;
    None when it does not (it finished, was stopped, or ran in this process)."""
    if not isinstance(handle, AttachedRun):
        return None
    pid = driver_pid(handle.db_path, handle.run_id)
    if pid is None:
        return None
    run_id = handle.run_id
    return (
        f"run {run_id} goes on in the background (engine pid {pid});"
        f" attach: maestro-tui attach {run_id} · stop: maestro-tui stop {run_id}"
    )
