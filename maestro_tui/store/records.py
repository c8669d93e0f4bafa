"""What the store hands back: run summaries and merge records, kept apart from domain objects."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs


class StoreError(Exception):
    """The database cannot be used; the message says what failed and what to do."""


def default_db_path() -> Path:
    """$MAESTRO_TUI_DB if set, else maestro.db in the user data dir."""
    override = os.environ.get("MAESTRO_TUI_DB")
    if override:
        return Path(override).expanduser()
    return platformdirs.user_data_path("maestro-tui") / "maestro.db"


@dataclass(frozen=True)
class RunSummary:
    """One run as the run list shows it; numbers come from the tasks and llm_calls tables."""

    run_id: str
    goal: str
    repo: str
    status: str
    created_at: float  # wall clock, time.time()
    finished_at: float | None
    duration_s: float | None  # run clock from first to last event (excludes downtime)
    tasks_total: int
    tasks_ok: int  # merged or done
    tasks_failed: int  # failed, blocked, rejected or cancelled
    tasks_waiting: int
    tokens_in: int
    tokens_out: int
    cost_usd: float
    unpriced_calls: int
    integration_branch: str
    base_branch: str
    merge_policy: str
    kind: str = "run"  # "run", or "mcp": a session of an agent calling maestro's MCP tools
    cost_simulated: bool = False  # some calls were priced at a simulated rate (the demo model)
    rerun_of: str = ""  # the run this one re-runs (`maestro-tui rerun`), "" for none


@dataclass(frozen=True)
class MergeRecord:
    """One task's entry in the merge queue."""

    run_id: str
    task_id: str
    status: str  # queued | waiting | merged | rejected
    commit: str | None
    reasons: tuple[str, ...]
    conflict_files: tuple[str, ...]
    merged_commit: str | None


def summary_sql(tail: str) -> str:
    """The RunSummary query over the runs picked by `tail` (a WHERE or ORDER/LIMIT clause)."""
    return f"""
    WITH r AS (SELECT rowid AS rid, * FROM runs {tail})
    SELECT r.run_id, r.goal, r.repo, r.status, r.created_at, r.finished_at,
        (SELECT ts FROM events e WHERE e.run_id = r.run_id ORDER BY seq DESC LIMIT 1)
        - (SELECT ts FROM events e WHERE e.run_id = r.run_id ORDER BY seq LIMIT 1),
        coalesce(t.total, 0), coalesce(t.ok, 0), coalesce(t.failed, 0), coalesce(t.waiting, 0),
        coalesce(l.tokens_in, 0), coalesce(l.tokens_out, 0), coalesce(l.cost, 0.0),
        coalesce(l.unpriced, 0), r.integration_branch, r.base_branch, r.merge_policy, r.kind,
        coalesce(l.simulated, 0), r.rerun_of
    FROM r
    LEFT JOIN (
        SELECT run_id, count(*) AS total,
            sum(status IN ('merged', 'done')) AS ok,
            sum(status IN ('failed', 'blocked', 'rejected', 'cancelled')) AS failed,
            sum(status = 'waiting') AS waiting
        FROM tasks WHERE run_id IN (SELECT run_id FROM r) GROUP BY run_id
    ) t ON t.run_id = r.run_id
    LEFT JOIN (
        SELECT run_id, sum(tokens_in) AS tokens_in, sum(tokens_out) AS tokens_out,
            total(cost_usd) AS cost, sum(cost_usd IS NULL) AS unpriced,
            max(simulated) AS simulated
        FROM llm_calls WHERE run_id IN (SELECT run_id FROM r) GROUP BY run_id
    ) l ON l.run_id = r.run_id
    ORDER BY r.created_at DESC, r.rid DESC
    """


def run_summary(row: tuple[Any, ...]) -> RunSummary:
    """A RunSummary from a row of summary_sql."""
    return RunSummary(
        run_id=row[0],
        goal=row[1],
        repo=row[2],
        status=row[3],
        created_at=float(row[4]),
        finished_at=None if row[5] is None else float(row[5]),
        duration_s=None if row[6] is None else float(row[6]),
        tasks_total=int(row[7]),
        tasks_ok=int(row[8]),
        tasks_failed=int(row[9]),
        tasks_waiting=int(row[10]),
        tokens_in=int(row[11]),
        tokens_out=int(row[12]),
        cost_usd=float(row[13]),
        unpriced_calls=int(row[14]),
        integration_branch=row[15],
        base_branch=row[16],
        merge_policy=row[17],
        kind=row[18],
        cost_simulated=bool(row[19]),
        rerun_of=row[20],
    )


def merge_record(row: tuple[Any, ...]) -> MergeRecord:
    """A MergeRecord from a merges row (reasons and conflict files are JSON lists)."""
    return MergeRecord(
        run_id=row[0],
        task_id=row[1],
        status=row[2],
        commit=row[3],
        reasons=tuple(json.loads(row[4] or "[]")),
        conflict_files=tuple(json.loads(row[5] or "[]")),
        merged_commit=row[6],
    )
