"""Which run a command means when it names none: the latest one of this repository that is
going (for `attach` and `stop`), and who drives it: an engine in the background, or a front
end in the foreground."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from maestro_tui.session.control import control_path
from maestro_tui.session.inputs import UserError
from maestro_tui.session.liveness import LIVE, STOPPED, driver_pid, truthful
from maestro_tui.store import RunSummary, Store, StoreError

FINAL = frozenset({"succeeded", "failed", "cancelled", "unchanged"})  # ended for good


@dataclasses.dataclass(frozen=True)
class Found:
    """A run and who drives it: `pid` None when no process does; `engine` when that process
    is a background engine that takes commands (else a TUI or headless run in a terminal)."""

    run: RunSummary
    pid: int | None
    engine: bool


async def find_run(db_path: Path, run_ref: str | None, repo: Path | None) -> Found:
    """The run `run_ref` names, or the latest going (else stopped) run of `repo`."""
    try:
        store = await Store.open_read_only(db_path)
    except StoreError as exc:
        raise UserError(f"{exc}: start a run with `maestro-tui run GOAL`") from None
    try:
        if run_ref is not None:
            run = await store.get_run(run_ref)
            if run is None:
                raise UserError(f"no run '{run_ref}' in {db_path}: see `maestro-tui runs`")
            runs = truthful([run], db_path)
        else:
            runs = truthful(await store.list_runs(), db_path)
    finally:
        await store.close()
    if run_ref is None:
        runs = [r for r in runs if r.kind == "run" and _same_repo(r.repo, repo)]
        # live statuses are driven (truthful marked the others); a waiting run may be or not
        going = [
            r for r in runs
            if r.status in LIVE
            or (r.status == "waiting" and driver_pid(db_path, r.run_id) is not None)
        ]  # fmt: skip
        stopped = [r for r in runs if r.status == STOPPED]
        if not going and not stopped:
            where = f" of {repo}" if repo else ""
            raise UserError(f"no run{where} is going or stopped: see `maestro-tui runs`")
        runs = going[:1] or stopped[:1]
    run = runs[0]
    pid = driver_pid(db_path, run.run_id)
    return Found(run, pid, pid is not None and control_path(db_path, run.run_id).exists())


def _same_repo(recorded: str, repo: Path | None) -> bool:
    if repo is None:
        return True
    try:
        return Path(recorded).resolve() == repo.resolve()
    except OSError:
        return False


def not_attachable(found: Found) -> UserError:
    """Why `attach` cannot join this run, and what to do instead."""
    run_id = found.run.run_id
    if found.pid is None:
        return UserError(
            f"run {run_id} is {found.run.status}: no process drives it."
            f" Go on with it: maestro-tui resume {run_id}"
        )
    return UserError(
        f"run {run_id} is driven in the foreground by pid {found.pid} (started with"
        f" --foreground or --headless): watch it with `maestro-tui watch {run_id}`"
    )
