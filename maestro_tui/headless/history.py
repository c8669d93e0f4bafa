"""`runs`: the history of past runs, as a table for people or JSON lines for tools."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from maestro_tui.session.outcome import EXIT_OK


async def list_runs(db_path: Path, as_json: bool) -> int:
    from maestro_tui.session.liveness import truthful
    from maestro_tui.store.db import Store
    from maestro_tui.store.run_metrics import metrics_of

    store = await Store.open(db_path)
    try:
        runs = truthful(await store.list_runs(), db_path)  # running: only while driven
        # Stored when each run finished; older or interrupted runs are computed once here.
        metrics = await metrics_of(store, [r.run_id for r in runs])
    finally:
        await store.close()
    if as_json:
        for r in runs:
            m = metrics.get(r.run_id)
            print(json.dumps({**asdict(r), "metrics": m.to_dict() if m else None}))
        return EXIT_OK
    if not runs:
        print(f"no runs yet in {db_path}")
        return EXIT_OK
    head = f"{'RUN':<22} {'KIND':<4} {'STATUS':<20} {'TASKS ok/failed/wait':<21} {'DURATION':>9}"
    print(f"{head} {'OVERHEAD':>8} {'Ec':>5}  GOAL")
    for r in runs:
        duration = f"{r.duration_s:.0f}s" if r.duration_s is not None else "-"
        counts = f"{r.tasks_ok}/{r.tasks_failed}/{r.tasks_waiting} of {r.tasks_total}"
        m = metrics.get(r.run_id)
        overhead = f"{m.overhead_pct:.0f}%" if m and m.overhead_pct is not None else "-"
        ec = f"{m.efficiency:.2f}" if m and m.efficiency is not None else "-"
        print(
            f"{r.run_id:<22} {r.kind:<4} {r.status:<20} {counts:<21} {duration:>9}"
            f" {overhead:>8} {ec:>5}"
            f"  {f'↻ re-run of {r.rerun_of}: ' if r.rerun_of else ''}{r.goal[:50]}"
        )
    return EXIT_OK


def asdict(obj: Any) -> dict[str, Any]:
    return dataclasses.asdict(obj)
