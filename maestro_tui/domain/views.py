"""What is known of a run, of each of its tasks and of each model's usage at a point in it; and
the statuses.

RunState and the values it is made of, apart from the reducer that builds them (domain/state.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePosixPath
from types import MappingProxyType
from typing import Any


class TaskStatus(StrEnum):
    PENDING = "pending"  # waiting for its dependencies
    QUEUED = "queued"  # ready, waiting for a free agent
    RUNNING = "running"
    RETRYING = "retrying"  # an attempt failed; the next one waits out its backoff
    MERGING = "merging"  # finished, in the merge queue
    WAITING = "waiting"  # held for the human's review
    MERGED = "merged"
    DONE = "done"  # finished without changes: nothing to merge
    FAILED = "failed"
    BLOCKED = "blocked"  # a dependency failed, was rejected or cancelled
    CANCELLED = "cancelled"
    REJECTED = "rejected"

    @property
    def settled(self) -> bool:
        return self in SETTLED

    @property
    def satisfied(self) -> bool:
        """Dependents may start: the task's work is in the integration branch (or it had none)."""
        return self in (TaskStatus.MERGED, TaskStatus.DONE)


SETTLED = frozenset(
    {
        TaskStatus.MERGED,
        TaskStatus.DONE,
        TaskStatus.FAILED,
        TaskStatus.BLOCKED,
        TaskStatus.CANCELLED,
        TaskStatus.REJECTED,
    }
)


class RunStatus(StrEnum):
    PLANNING = "planning"
    RUNNING = "running"
    SUCCEEDED = "succeeded"  # every task merged or done
    # Settled with nothing failed, but a task that was to change files changed none of them
    # ("done, no changes"): an agent that could not (or would not) write must not pass for
    # one that did the work.
    UNCHANGED = "unchanged"
    WAITING = "waiting"  # stopped with merges waiting for review
    FAILED = "failed"  # some task failed or was blocked
    CANCELLED = "cancelled"
    BUDGET_EXHAUSTED = "budget_exhausted"  # stopped at the budget; raise it and resume
    INTERRUPTED = "interrupted"  # crashed or quit; resumable


@dataclass(frozen=True, slots=True)
class TaskView:
    """What is known of one task at a point in the run."""

    id: str
    title: str
    role: str
    prompt: str
    files: tuple[str, ...]
    depends_on: tuple[str, ...]
    status: TaskStatus = TaskStatus.PENDING
    after: tuple[str, ...] = ()  # ordered after these for naming a common file (Task.after)
    attempts: int = 0
    worker: str = ""
    branch: str = ""
    worktree: str = ""  # where its current attempt works (gone once the task has settled)
    commit: str | None = None
    summary: str = ""
    reason: str = ""  # why it failed, is blocked, waits or was rejected
    tests_passed: bool | None = None
    n_passed: int | None = None
    n_failed: int | None = None
    test_tail: str = ""
    files_changed: tuple[str, ...] = ()
    insertions: int = 0
    deletions: int = 0
    conflict_files: tuple[str, ...] = ()
    wait_reasons: tuple[str, ...] = ()
    fix_rounds: int = 0  # times tests or the critic sent this attempt's work back
    critic: str = ""  # the last verdict: "approved: …" or "changes: …"
    # (candidate, commit, tests ok, lines changed) of an ensemble's candidates
    candidates: tuple[tuple[int, str | None, bool | None, int], ...] = ()
    chosen_candidate: int | None = None
    # The gate's test of the result as merged: "" (not yet), testing, passed, failed
    gate: str = ""
    gate_commit: str = ""
    gate_n_passed: int | None = None
    gate_n_failed: int | None = None
    gate_tail: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    started_ts: float | None = None
    finished_ts: float | None = None
    session_id: str = ""  # the coding CLI's session, resumed by fix rounds and retries
    waiting: str = ""  # why the agent waits (a rate or usage limit) until it tries again
    stalled_s: float | None = None  # the silence that stopped the current attempt
    taken_over: str = ""  # a re-run took it over as it merged in this run ("" = it ran here)

    @property
    def missed_its_files(self) -> bool:
        """It was to change files, and its result changed none of them: it finished with no
        commit, or merged a commit that touched none of `files` (nor anything under one). A
        review changes nothing by design; a commit whose files were not recorded is believed."""
        if not self.files or self.role == "reviewer":
            return False
        if self.status is TaskStatus.DONE:
            return True
        if self.status is not TaskStatus.MERGED or not self.files_changed:
            return False
        named = [PurePosixPath(f) for f in self.files]
        changed = [PurePosixPath(p) for p in self.files_changed]
        return not any(p == f or f in p.parents for p in changed for f in named)


@dataclass(frozen=True, slots=True)
class ModelUsage:
    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    unpriced_calls: int = 0
    simulated: bool = False


_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class RunState:
    """Everything the front ends show about one run."""

    run_id: str = ""
    goal: str = ""
    repo: str = ""
    status: RunStatus = RunStatus.PLANNING
    base_branch: str = ""
    integration_branch: str = ""
    merge_policy: str = "auto"
    max_agents: int = 1
    paused: bool = False
    plan_approved: bool = False
    tasks: Mapping[str, TaskView] = field(default_factory=lambda: _EMPTY)
    layers: tuple[tuple[str, ...], ...] = ()
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    unpriced_calls: int = 0
    cost_simulated: bool = False
    models: Mapping[str, ModelUsage] = field(default_factory=lambda: _EMPTY)
    budget_usd: float | None = None
    budget_tokens: int | None = None
    budget_warned: tuple[str, ...] = ()
    budget_exceeded: tuple[str, ...] = ()
    findings: tuple[tuple[str, str], ...] = ()
    base_red: str = ""  # the integration head last found failing its own tests ("" = none)
    base_red_tail: str = ""
    test_run_s: float | None = None  # one run of the tests on the base (the preflight)
    flaky_tests: tuple[str, ...] = ()  # failed in the gate, then passed when run again
    gate_off: str = ""  # why merges are not tested as merged in this run ("" = they are)
    started_ts: float | None = None
    finished_ts: float | None = None
    resumes: int = 0
    rerun_of: str = ""  # the run this one re-runs ("" = none)
    revisions: int = 0  # new plans of what was left (PlanRevised)
    superseded: tuple[str, ...] = ()  # tasks whose work a revision took over

    def _live(self, *statuses: TaskStatus) -> int:
        """Tasks in `statuses` that still decide the outcome (no revision took them over)."""
        if not self.superseded:
            return self.count(*statuses)
        return sum(
            1 for t in self.tasks.values() if t.status in statuses and t.id not in self.superseded
        )

    def count(self, *statuses: TaskStatus) -> int:
        return sum(1 for t in self.tasks.values() if t.status in statuses)

    @property
    def waiting_merges(self) -> list[TaskView]:
        return [t for t in self.tasks.values() if t.status is TaskStatus.WAITING]

    @property
    def running(self) -> list[TaskView]:
        return [t for t in self.tasks.values() if t.status is TaskStatus.RUNNING]

    @property
    def settled(self) -> bool:
        return all(t.status.settled for t in self.tasks.values())

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out

    @property
    def unchanged(self) -> list[TaskView]:
        """Tasks that were to change files and ended "done, no changes" (reviews may)."""
        return [
            t
            for t in self.tasks.values()
            if t.status is TaskStatus.DONE and t.files and t.role != "reviewer"
        ]

    def outcome(self) -> RunStatus:
        """The status a run ends with, given where its tasks stand now."""
        if self._live(TaskStatus.FAILED, TaskStatus.BLOCKED, TaskStatus.REJECTED):
            return RunStatus.FAILED
        if self.count(TaskStatus.WAITING):
            return RunStatus.WAITING
        if self._live(TaskStatus.CANCELLED):
            return RunStatus.CANCELLED
        if self.settled:
            return RunStatus.UNCHANGED if self.unchanged else RunStatus.SUCCEEDED
        if self.budget_exceeded:
            return RunStatus.BUDGET_EXHAUSTED
        return RunStatus.INTERRUPTED
