"""`merges`, `approve` and `reject`: the merges of a run that wait for a human, decided here."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from maestro_tui.headless.history import asdict
from maestro_tui.headless.printer import Output
from maestro_tui.session.lifecycle import UserError, open_session
from maestro_tui.session.outcome import EXIT_OK, EXIT_TASK_FAILED
from maestro_tui.store import RunSummary


async def list_merges(db_path: Path, run_ref: str, as_json: bool) -> int:
    from maestro_tui.store.db import Store

    store = await Store.open(db_path)
    try:
        run = await store.get_run(run_ref)
        if run is None:
            raise UserError(f"no run '{run_ref}' in {db_path}: see `maestro-tui runs`")
        merges = await store.merges(run.run_id, status="waiting")
    finally:
        await store.close()
    if as_json:
        for m in merges:
            print(json.dumps(asdict(m)))
        return EXIT_OK
    if not merges:
        print(f"no merges of run {run.run_id} wait for review")
        return EXIT_OK
    for m in merges:
        print(f"{m.task_id}  {(m.commit or '')[:9]}  {'; '.join(m.reasons)}")
        if m.conflict_files:
            print(f"    conflicts: {', '.join(m.conflict_files)}")
    print(f"approve: maestro-tui approve {run.run_id} TASK [--take ours|theirs]")
    print(f"reject:  maestro-tui reject {run.run_id} TASK")
    return EXIT_OK


async def decide_merge(
    db_path: Path,
    run_ref: str,
    task_id: str,
    *,
    approve: bool,
    take: str | None,
    reason: str,
    out: Output,
) -> int:
    """approve / reject a merge waiting for review, from the command line. An approval is
    tested as merged first; a red one is refused (exit 1) and nothing moves."""
    from maestro_tui.engine.merge import MergeRefused
    from maestro_tui.session.finding import find_run

    found = await find_run(db_path, run_ref, None)
    if found.engine:  # a background engine drives the run: the decision is its command
        return await _decide_by_engine(db_path, found.run, task_id, approve, take, reason, out)
    async with await open_session(db_path, run_ref) as session:
        orch = session.orch
        try:
            if approve:
                head = await orch.merges.approve(task_id, take)
                print(
                    f"merged {task_id} into {orch.state.integration_branch} → {head[:9]}",
                    file=out.stream,
                )
            else:
                await orch.merges.reject(task_id, reason)
                print(f"rejected {task_id}; its branch is kept for inspection", file=out.stream)
        except KeyError as exc:
            raise UserError(exc.args[0]) from None
        except MergeRefused as exc:
            print(f"maestro-tui: {exc}", file=sys.stderr)
            return EXIT_TASK_FAILED
        state = orch.state
        if not state.settled and not state.waiting_merges:
            print(f"tasks remain: maestro-tui resume {state.run_id}", file=out.stream)
        elif state.settled:
            orch.finish(state.outcome())
    return EXIT_OK


async def _decide_by_engine(
    db_path: Path,
    run: RunSummary,
    task_id: str,
    approve: bool,
    take: str | None,
    reason: str,
    out: Output,
) -> int:
    """The decision sent to the run's engine, as an attached dashboard sends it: decided
    once, however many front ends decide at the same moment."""
    from maestro_tui.engine.merge import MergeRefused
    from maestro_tui.session.client import ControlClient
    from maestro_tui.session.control import control_path

    client = await ControlClient.connect(control_path(db_path, run.run_id))
    try:
        if approve:
            head = await client.call("approve", task=task_id, resolution=take)
            print(f"merged {task_id} into {run.integration_branch} → {head[:9]}", file=out.stream)
        else:
            await client.call("reject", task=task_id, reason=reason)
            print(f"rejected {task_id}; its branch is kept for inspection", file=out.stream)
    except KeyError as exc:
        raise UserError(exc.args[0]) from None
    except MergeRefused as exc:
        print(f"maestro-tui: {exc}", file=sys.stderr)
        return EXIT_TASK_FAILED
    finally:
        await client.aclose()
    return EXIT_OK
