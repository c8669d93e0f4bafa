"""Projection: the table rows a batch of events implies, as SQL to run in the batch's transaction.

Each event is folded into the pending writes as it is appended (`add`), and `take` turns what
was added since the last `take` into SQL: a row inserted in this batch absorbs the updates
that follow it, and an update to an older row keeps only the last value per column. That
gives last-write-wins per column with one statement per shape, instead of one round trip per
event. The rules mirror `domain.state.reduce`, so the tables say what a replay of the events
would show.

It runs in the writer process (writer.py), on the rows the store sends: it reads an event's
fields from the row's JSON, and imports nothing of the domain, so that process starts quickly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

from maestro_tui.store import bulk
from maestro_tui.store.bulk import Statement, quote

Key = tuple[Any, ...]
# The JSON decoder's C scanner: json.loads without the Python around it (whitespace checks
# that the store's compact `data` never needs); ~2.5× faster on these small objects.
_scan_json: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
Row = tuple[Any, ...]  # an events row: (run_id, seq, ts, wall, type, task_id, data)


class _Table:
    """Pending inserts (full rows) and updates (changed columns) to one table, by primary key."""

    def __init__(self, name: str, key: tuple[str, ...], columns: tuple[str, ...]) -> None:
        self.name, self.key, self.columns = name, key, columns
        self.inserts: dict[Key, dict[str, Any]] = {}
        self.updates: dict[Key, dict[str, Any]] = {}

    def insert(self, key: Key, **row: Any) -> None:
        self.inserts[key] = row
        self.updates.pop(key, None)  # the new row replaces whatever the older one had

    def update(self, key: Key, **changes: Any) -> None:
        pending = self.inserts.get(key)
        if pending is None:
            pending = self.updates.get(key)
            if pending is None:
                self.updates[key] = changes  # a new dict each call: safe to keep
                return
        pending.update(changes)

    def forget_run(self, run_id: str) -> None:
        for pending in (self.inserts, self.updates):
            for key in [k for k in pending if k[0] == run_id]:
                del pending[key]

    def statements(self, max_vars: int) -> Iterator[Statement]:
        # Rows that change the same columns, in the same order, share one statement shape.
        shapes: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        for key, changes in self.updates.items():
            rows = shapes.get(names := tuple(changes))
            if rows is None:
                rows = shapes[names] = []
            rows.append((*changes.values(), *key))
        for names, rows in shapes.items():
            yield from bulk.update(self.name, self.key, names, rows, max_vars)
        if self.inserts:
            cols = (*self.key, *self.columns)
            head = f"INSERT OR REPLACE INTO {self.name} ({', '.join(map(quote, cols))}) VALUES "
            columns = self.columns
            rows = [(*key, *map(row.get, columns)) for key, row in self.inserts.items()]
            yield from bulk.insert(head, len(cols), rows, max_vars)


class _Batch:
    """The writes implied by one batch of events."""

    def __init__(self) -> None:
        self.runs = _Table(
            "runs",
            ("run_id",),
            (
                "goal",
                "repo",
                "base_branch",
                "base_commit",
                "integration_branch",
                "merge_policy",
                "max_agents",
                "status",
                "created_at",
                "finished_at",
                "budget_usd",
                "budget_tokens",
                "kind",
                "rerun_of",
            ),
        )
        self.tasks = _Table(
            "tasks",
            ("run_id", "task_id"),
            ("title", "role", "status", "attempts", "reason", "commit"),
        )
        self.attempts = _Table(
            "attempts",
            ("run_id", "task_id", "attempt"),
            ("worker", "branch", "worktree", "started_ts", "finished_ts", "status", "reason"),
        )
        self.merges = _Table(
            "merges",
            ("run_id", "task_id"),
            (
                "status",
                "commit",
                "reasons",
                "conflict_files",
                "merged_commit",
                "queued_seq",
                "updated_at",
            ),
        )
        # Writes to rows of earlier batches that cannot be keyed; they run before the inserts.
        self.before: list[Statement] = []
        self.llm_calls: list[tuple[Any, ...]] = []
        self.findings: list[tuple[Any, ...]] = []

    def statements(self, max_vars: int) -> list[Statement]:
        out = list(self.before)
        for table in (self.runs, self.tasks, self.attempts, self.merges):
            out.extend(table.statements(max_vars))
        out.extend(bulk.insert(_INSERT_LLM, 10, self.llm_calls, max_vars))
        out.extend(bulk.insert(_INSERT_FINDING, 5, self.findings, max_vars))
        return out


_INSERT_LLM = (
    "INSERT INTO llm_calls (run_id, seq, task_id, model, tokens_in, tokens_out, cost_usd,"
    " latency_s, simulated, ts) VALUES "
)
_INSERT_FINDING = "INSERT INTO findings (run_id, seq, task_id, text, ts) VALUES "
_DELETE_TASKS = "DELETE FROM tasks WHERE run_id = ?"
_INTERRUPT_ATTEMPTS = (
    "UPDATE attempts SET status = 'interrupted' WHERE run_id = ? AND status = 'running'"
)


class Projection:
    """Turns batches of events into SQL; remembers which attempt of each task is open."""

    def __init__(self, max_vars: int = bulk.MAX_VARS) -> None:
        self.max_vars = max_vars  # SQLite's limit on parameters per statement
        self._open: dict[tuple[str, str], int] = {}
        self._batch = _Batch()
        self._handlers: dict[str, Callable[[_Batch, Any, float], None]] = {
            "RunStarted": self._run_started,
            "PlanProposed": self._plan_proposed,
            "PlanRevised": self._plan_revised,
            "PlanApproved": lambda b, e, w: b.runs.update((e.run_id,), status="running"),
            "RunResumed": self._run_resumed,
            "ConcurrencyChanged": lambda b, e, w: b.runs.update(
                (e.run_id,), max_agents=e.max_agents
            ),
            "BudgetRaised": self._budget_raised,
            "RunFinished": lambda b, e, w: b.runs.update(
                (e.run_id,), status=e.status, finished_at=w
            ),
            "TaskQueued": lambda b, e, w: b.tasks.update((e.run_id, e.task), status="queued"),
            "TaskStarted": self._task_started,
            "TaskCommitted": lambda b, e, w: b.tasks.update((e.run_id, e.task), commit=e.commit),
            "TaskFinished": self._task_finished,
            "TaskFailed": self._task_failed,
            "TaskBlocked": lambda b, e, w: b.tasks.update(
                (e.run_id, e.task), status="blocked", reason=e.reason
            ),
            "TaskCancelled": self._task_cancelled,
            "MergeQueued": self._merge_queued,
            "RerunOf": lambda b, e, w: b.runs.update(
                (e.run_id,), rerun_of=e.source, base_branch=e.base_branch
            ),
            "TaskTakenOver": lambda b, e, w: b.tasks.update(
                (e.run_id, e.task),
                status="merged" if e.commit else "done",
                commit=e.source_commit,
            ),
            "MergeConflict": lambda b, e, w: b.merges.update(
                (e.run_id, e.task), conflict_files=json.dumps(list(e.files)), updated_at=w
            ),
            "MergeWaiting": self._merge_waiting,
            "MergeRejected": self._merge_rejected,
            "Merged": self._merged,
            "LLMUsage": self._llm_usage,
            "FindingPublished": lambda b, e, w: b.findings.append(
                (e.run_id, e.seq, e.task, e.text, e.ts)
            ),
        }

    def add(self, row: Row) -> None:
        """Fold one events row into the pending writes, in seq order.

        Folding at once keeps no event alive until the batch is written.
        """
        handler = self._handlers.get(row[4])
        if handler is not None:
            fields = _scan_json(row[6], 0)[0]
            event = SimpleNamespace(run_id=row[0], seq=row[1], ts=row[2], **fields)
            handler(self._batch, event, row[3])

    def take(self) -> list[Statement]:
        """SQL for every event added since the last take; the next batch starts empty."""
        batch, self._batch = self._batch, _Batch()
        return batch.statements(self.max_vars)

    def statements(self, rows: list[Row]) -> list[Statement]:
        """SQL for a batch of events rows, in seq order."""
        for row in rows:
            self.add(row)
        return self.take()

    # --- runs -------------------------------------------------------------------------------

    def _run_started(self, b: _Batch, e: Any, wall: float) -> None:
        b.runs.insert(
            (e.run_id,),
            goal=e.goal,
            repo=e.repo,
            base_branch=e.base_branch,
            base_commit=e.base_commit,
            integration_branch=e.integration_branch,
            merge_policy=e.merge_policy,
            max_agents=e.max_agents,
            status="planning",
            created_at=wall,
            finished_at=None,
            budget_usd=e.budget_usd,
            budget_tokens=e.budget_tokens,
            kind=e.kind,
            rerun_of="",
        )

    def _plan_proposed(self, b: _Batch, e: Any, wall: float) -> None:
        # A new plan replaces the old one whole (the human may have edited it).
        b.before.append((_DELETE_TASKS, [(e.run_id,)]))
        b.tasks.forget_run(e.run_id)
        for task in e.plan.get("tasks", ()):
            if isinstance(task, dict) and task.get("id"):
                _insert_task(b, e.run_id, task)
        if e.plan.get("goal"):
            b.runs.update((e.run_id,), goal=str(e.plan["goal"]))

    def _plan_revised(self, b: _Batch, e: Any, wall: float) -> None:
        # New tasks join; those superseded before they started are cancelled (as the reducer).
        added = set(e.added)
        for task in e.plan.get("tasks", ()):
            if isinstance(task, dict) and task.get("id") in added:
                _insert_task(b, e.run_id, task)
        b.runs.update((e.run_id,), status="running", finished_at=None)

    def _run_resumed(self, b: _Batch, e: Any, wall: float) -> None:
        b.runs.update((e.run_id,), status="running", finished_at=None)
        for task_id in e.interrupted:
            b.tasks.update((e.run_id, task_id), status="pending")
        # Any attempt still open when a run resumes was cut short by the crash or quit.
        b.before.append((_INTERRUPT_ATTEMPTS, [(e.run_id,)]))
        for key, row in b.attempts.inserts.items():
            if key[0] == e.run_id and row["status"] == "running":
                row["status"] = "interrupted"
        for open_key in [k for k in self._open if k[0] == e.run_id]:
            del self._open[open_key]

    def _budget_raised(self, b: _Batch, e: Any, wall: float) -> None:
        if e.kind == "usd":
            b.runs.update((e.run_id,), budget_usd=e.limit)
        else:
            b.runs.update((e.run_id,), budget_tokens=int(e.limit))

    # --- tasks and attempts -----------------------------------------------------------------

    def _task_started(self, b: _Batch, e: Any, wall: float) -> None:
        b.tasks.update((e.run_id, e.task), status="running", attempts=e.attempt, reason="")
        b.attempts.insert(
            (e.run_id, e.task, e.attempt),
            worker=e.worker,
            branch=e.branch,
            worktree=e.worktree,
            started_ts=e.ts,
            finished_ts=None,
            status="running",
            reason="",
        )
        self._open[(e.run_id, e.task)] = e.attempt

    def _close_attempt(
        self, b: _Batch, e: Any, task: str, attempt: int | None, status: str, reason: str
    ) -> None:
        open_attempt = self._open.pop((e.run_id, task), None)
        attempt = open_attempt if attempt is None else attempt
        if attempt is not None:
            b.attempts.update(
                (e.run_id, task, attempt), finished_ts=e.ts, status=status, reason=reason
            )

    def _task_finished(self, b: _Batch, e: Any, wall: float) -> None:
        status = "merging" if e.commit else "done"  # domain.views.TaskStatus values
        b.tasks.update((e.run_id, e.task), status=status, commit=e.commit)
        self._close_attempt(b, e, e.task, e.attempt, "finished", "")

    def _task_failed(self, b: _Batch, e: Any, wall: float) -> None:
        status = "failed" if e.retry_in_s is None else "retrying"
        b.tasks.update((e.run_id, e.task), status=status, reason=e.reason)
        self._close_attempt(b, e, e.task, e.attempt, "failed", e.reason)

    def _task_cancelled(self, b: _Batch, e: Any, wall: float) -> None:
        reason = e.reason or "cancelled"
        b.tasks.update((e.run_id, e.task), status="cancelled", reason=reason)
        self._close_attempt(b, e, e.task, None, "cancelled", reason)

    # --- merges -----------------------------------------------------------------------------

    def _merge_queued(self, b: _Batch, e: Any, wall: float) -> None:
        b.tasks.update((e.run_id, e.task), status="merging", commit=e.commit)
        b.merges.insert(
            (e.run_id, e.task),
            status="queued",
            commit=e.commit,
            reasons="[]",
            conflict_files="[]",
            merged_commit=None,
            queued_seq=e.seq,
            updated_at=wall,
        )

    def _merge_waiting(self, b: _Batch, e: Any, wall: float) -> None:
        b.tasks.update((e.run_id, e.task), status="waiting", reason="; ".join(e.reasons))
        reasons = json.dumps(list(e.reasons), ensure_ascii=False)
        b.merges.update((e.run_id, e.task), status="waiting", reasons=reasons, updated_at=wall)

    def _merge_rejected(self, b: _Batch, e: Any, wall: float) -> None:
        reason = e.reason or "rejected by the reviewer"
        b.tasks.update((e.run_id, e.task), status="rejected", reason=reason)
        b.merges.update((e.run_id, e.task), status="rejected", updated_at=wall)

    def _merged(self, b: _Batch, e: Any, wall: float) -> None:
        b.tasks.update((e.run_id, e.task), status="merged", reason="")
        b.merges.update(
            (e.run_id, e.task), status="merged", merged_commit=e.commit, updated_at=wall
        )

    def _llm_usage(self, b: _Batch, e: Any, wall: float) -> None:
        b.llm_calls.append(
            (
                e.run_id,
                e.seq,
                e.task,
                e.model,
                e.tokens_in,
                e.tokens_out,
                e.cost_usd,
                e.latency_s,
                int(e.simulated),
                e.ts,
            )
        )


def _insert_task(b: _Batch, run_id: str, task: dict[str, Any]) -> None:
    """A task of a plan, pending."""
    b.tasks.insert(
        (run_id, str(task["id"])),
        title=str(task.get("title") or task["id"]),
        role=str(task.get("role") or "coder"),
        status="pending",
        attempts=0,
        reason="",
        commit=None,
    )
