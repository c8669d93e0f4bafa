"""Runs side by side: each task's outcome in every run, and each run's totals. Pure.

The first run is the baseline the others are compared with (a re-run names it first). Totals
count the tasks themselves, never ensemble candidates a second time; a task taken over
counts as merged and costs nothing in the run that took it over.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from maestro_tui.domain.outcomes import TaskOutcome


@dataclass(frozen=True)
class RunTotals:
    """One run's figures over its tasks."""

    run_id: str
    tasks: int
    merged: int
    taken_over: int
    ran: int  # tasks that ran here (not taken over)
    gate_passed: int  # tasks whose merged tree passed its tests
    gate_failed: int
    first_try_green: int
    fix_rounds: int
    conflicts: int
    interventions: int
    files: int
    lines: int
    tokens_in: int
    tokens_out: int
    cost_usd: float
    unpriced_calls: int
    simulated: bool
    wall_s: float | None  # the run's own duration, first event to last

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class TaskRow:
    """One task in every run compared (None: the run's plan has no such task)."""

    task_id: str
    role: str
    outcomes: tuple[TaskOutcome | None, ...]
    candidates: tuple[tuple[TaskOutcome, ...], ...]  # each run's ensemble candidates


@dataclass(frozen=True)
class Comparison:
    run_ids: tuple[str, ...]
    rows: tuple[TaskRow, ...]
    totals: tuple[RunTotals, ...]

    def pairs(self) -> list[tuple[str, int, int]]:
        """(task, i, j): a task that run i (the baseline, 0) and run j both have a result for,
        whose two results can be compared."""
        out = []
        for row in self.rows:
            first = row.outcomes[0]
            for j, other in enumerate(row.outcomes[1:], start=1):
                if first is None or other is None or not (first.commit and other.commit):
                    continue
                if not (first.taken_over or other.taken_over):  # else: the same result
                    out.append((row.task_id, 0, j))
        return out


def totals_of(run_id: str, outcomes: Sequence[TaskOutcome], wall_s: float | None) -> RunTotals:
    tasks = [o for o in outcomes if o.candidate == 0]
    ran = [o for o in tasks if not o.taken_over]
    return RunTotals(
        run_id=run_id,
        tasks=len(tasks),
        merged=sum(o.merged for o in tasks),
        taken_over=len(tasks) - len(ran),
        ran=sum(o.started for o in ran),
        gate_passed=sum(o.gate == "passed" for o in ran),
        gate_failed=sum(o.gate == "failed" for o in ran),
        first_try_green=sum(bool(o.first_try_green) for o in ran),
        fix_rounds=sum(o.fix_rounds or 0 for o in ran),
        conflicts=sum(o.conflicts for o in ran),
        interventions=sum(o.interventions for o in ran),
        files=sum(o.files for o in ran),
        lines=sum(o.lines for o in ran),
        tokens_in=sum(o.tokens_in for o in tasks),
        tokens_out=sum(o.tokens_out for o in tasks),
        cost_usd=sum(o.cost_usd for o in tasks),
        unpriced_calls=sum(o.unpriced_calls for o in tasks),
        simulated=any(o.simulated for o in tasks),
        wall_s=wall_s,
    )


def compare_runs(
    outcomes: Mapping[str, Sequence[TaskOutcome]], durations: Mapping[str, float | None]
) -> Comparison:
    """The runs in the order given (the first is the baseline), task by task in plan order:
    the baseline's tasks first, then those only later runs have."""
    run_ids = tuple(outcomes)
    order: dict[str, str] = {}
    for run_id in run_ids:
        for o in outcomes[run_id]:
            if o.candidate == 0:
                order.setdefault(o.task_id, o.role)
    rows = []
    for task_id, role in order.items():
        per_run = []
        candidates = []
        for run_id in run_ids:
            mine = [o for o in outcomes[run_id] if o.task_id == task_id]
            per_run.append(next((o for o in mine if o.candidate == 0), None))
            candidates.append(tuple(o for o in mine if o.candidate))
        rows.append(TaskRow(task_id, role, tuple(per_run), tuple(candidates)))
    totals = tuple(totals_of(r, outcomes[r], durations.get(r)) for r in run_ids)
    return Comparison(run_ids, tuple(rows), totals)
