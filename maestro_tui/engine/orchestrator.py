"""Orchestrator: one run of a plan, from integration branch to merged results, and its resume."""

from __future__ import annotations

import asyncio
import functools
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from maestro_tui.agents.base import WorkerSource
from maestro_tui.agents.reviewers import Critic, Judge
from maestro_tui.config import Config
from maestro_tui.domain import events as ev
from maestro_tui.domain.dag import topological_layers
from maestro_tui.domain.plan import Plan, parse_plan, validate_plan
from maestro_tui.domain.replan import NOT_STARTED, Revision
from maestro_tui.domain.state import RunState, RunStatus, TaskStatus, reduce
from maestro_tui.engine.attempt import WORKTREE_ENV, AttemptRunner
from maestro_tui.engine.budget import BudgetGuard, TaskLimits
from maestro_tui.engine.bus import EventBus
from maestro_tui.engine.executors import Executor
from maestro_tui.engine.merge import (
    Candidate,
    Decision,
    GateSettings,
    MergeDecisions,
    MergeLimits,
    MergeQueue,
    PendingMerge,
)
from maestro_tui.engine.scheduler import Outcome, RetryPolicy, Scheduler
from maestro_tui.engine.steering import SteerRefused
from maestro_tui.process import Sandbox
from maestro_tui.workspace.prepare import Preparer
from maestro_tui.workspace.repo import Workspace


def new_run_id() -> str:
    """Sortable and short: it names the run's git branches."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


@dataclass
class RunSetup:
    """Everything a run needs that is not the plan."""

    ws: Workspace
    config: Config
    workers: WorkerSource
    bus: EventBus
    # Extra environment for agents and the test command (the demo puts its Python first).
    env: Mapping[str, str] = field(default_factory=dict)
    critic: Critic | None = None
    judge: Judge | None = None
    # Where attempts work: None is a worktree here; the session may give a Ray executor.
    executor: Executor | None = None


class Orchestrator(MergeDecisions):
    """Drives one run. Commands from a front end are methods; what happens comes back as events."""

    def __init__(self, setup: RunSetup, plan: Plan, state: RunState) -> None:
        self.setup = setup
        self.plan = plan
        self.state = state
        self.bus = setup.bus
        self.config = setup.config
        self.ws = setup.ws
        self.bus.subscribe(self._follow)
        self._merge_queue: MergeQueue | None = None
        self.scheduler: Scheduler | None = None
        self._attempt: AttemptRunner | None = None
        self._early: list[Decision] = []  # the merge queue decided before the scheduler existed
        self._pending_max_agents = state.max_agents
        self.running = False  # `run` is under way (a revision waits until it is not)
        self._budget_guard: BudgetGuard | None = None

    @functools.cached_property
    def preparer(self) -> Preparer:
        """How the run's trees are made like the user's checkout ([worktree]): one for the
        tasks' worktrees and the gate's trees alike, the environment read once."""
        return Preparer.from_config(self.config, self.ws.root)

    @property
    def merge_queue(self) -> MergeQueue:
        """Made on first use, from the run as recorded: its branch, policy and waiting merges."""
        if self._merge_queue is None:
            s, c = self.state, self.config
            roots = self.ws.worktree_roots()
            sandbox = Sandbox.for_run(c, self.ws.root, self.ws.common_dir, roots)
            pending = {
                t.id: PendingMerge(t.id, t.title, t.commit, t.summary)
                for t in s.waiting_merges
                if t.commit
            }
            self._merge_queue = MergeQueue(
                self.bus,
                self.ws,
                s.integration_branch,
                policy=s.merge_policy,
                limits=MergeLimits(c.max_diff_lines, c.max_diff_files),
                pending=pending,
                gate=GateSettings.from_config(
                    c,
                    {**WORKTREE_ENV, **self.setup.env},
                    sandbox,
                    self.preparer,
                ),
                rounds_used=self._fix_rounds,
                on_decided=self._decided,
                summary_of=self._summary_of,
            )
        return self._merge_queue

    def _fix_rounds(self, task_id: str) -> int:
        task = self.state.tasks.get(task_id)
        return task.fix_rounds if task else 0

    def _summary_of(self, task_id: str) -> str:
        task = self.state.tasks.get(task_id)
        return task.summary if task else ""

    def _decided(self, decision: Decision) -> None:
        """The merge queue decided a task: free it in the scheduler, or run it again to fix."""
        if self.scheduler is None or self._attempt is None:
            self._early.append(decision)
            return
        if decision.fix is not None:
            self._attempt.fixes[decision.task_id] = decision.fix
            self.scheduler.retry(decision.task_id)
        elif decision.outcome is None:  # run it again from scratch, on the branch as it is
            self.scheduler.retry(decision.task_id)
        else:
            self.scheduler.release(decision.task_id, decision.outcome, decision.reason)

    async def aclose(self) -> None:
        """Stop the merge gate's test runs (what was in it is tested again on resume)."""
        if self._merge_queue is not None:
            await asyncio.shield(self._merge_queue.aclose())

    def _follow(self, event: ev.Event) -> None:
        self.state = reduce(self.state, event)

    # --- starting and resuming -------------------------------------------------------------

    @classmethod
    def start(
        cls,
        setup: RunSetup,
        plan: Plan,
        *,
        merge_policy: str,
        max_agents: int,
        base: str | None = None,
    ) -> Orchestrator:
        """Create the integration branch from `base` (default: the user's checked-out branch)
        and record the run and its plan."""
        ws, bus = setup.ws, setup.bus
        base_branch, base_commit = ws.resolve_base(base)
        if ws.is_checked_out(base_branch):  # the agents start from its last commit, not the tree
            ws.check_clean_for(f for t in plan.tasks for f in t.files)
        branch = ws.create_integration_branch(bus.run_id, base_commit)
        orch = cls(setup, plan, RunState())
        bus.emit(
            ev.RunStarted,
            goal=plan.goal,
            repo=str(ws.root),
            base_branch=base_branch,
            base_commit=base_commit,
            integration_branch=branch,
            merge_policy=merge_policy,
            max_agents=max_agents,
            budget_usd=setup.config.budget_usd,
            budget_tokens=setup.config.budget_tokens,
        )
        layers = tuple(tuple(layer) for layer in topological_layers(plan.graph()))
        bus.emit(ev.PlanProposed, plan=plan.to_dict(), layers=layers)
        orch._pending_max_agents = max_agents
        return orch

    def revise_plan(self, plan: Plan) -> None:
        """Replace the plan before it is approved (the human edited it); validated first."""
        if self.state.plan_approved:
            raise RuntimeError("the plan is already approved and running")
        validate_plan(plan, repo_root=self.ws.root)
        self.plan = Plan(goal=self.plan.goal, tasks=plan.tasks)
        layers = tuple(tuple(layer) for layer in topological_layers(plan.graph()))
        self.bus.emit(ev.PlanProposed, plan=self.plan.to_dict(), layers=layers)

    def revise_remaining(self, revision: Revision) -> None:
        """Record a new plan of what was left (domain/replan.py): tasks it supersedes that had
        not started are cancelled, its new tasks join; the next `run` runs them."""
        if self.running:
            raise RuntimeError("the run is going: a revised plan is taken once it has stopped")
        validate_plan(revision.plan, repo_root=self.ws.root)
        for task_id in revision.superseded:
            task = self.state.tasks.get(task_id)
            if task is not None and task.status in NOT_STARTED:
                self.bus.emit(ev.TaskCancelled, task=task_id, reason="replaced by the revised plan")
        self.plan = Plan(goal=self.plan.goal, tasks=revision.plan.tasks)
        layers = tuple(tuple(layer) for layer in topological_layers(self.plan.graph()))
        self.bus.emit(
            ev.PlanRevised,
            plan=self.plan.to_dict(),
            layers=layers,
            added=revision.added,
            superseded=revision.superseded,
            reason=revision.reason,
        )

    def approve_plan(self) -> None:
        if not self.state.plan_approved:
            self.bus.emit(ev.PlanApproved)

    @classmethod
    def restore(cls, setup: RunSetup, events: list[ev.Event]) -> Orchestrator:
        """Rebuild a run from its stored events (for resume, approve and reject)."""
        state = RunState()
        plan_data = None
        for event in events:
            state = reduce(state, event)
            if isinstance(event, ev.PlanProposed | ev.PlanRevised):
                plan_data = event.plan
        if plan_data is None:
            raise ValueError(f"run {setup.bus.run_id} has no plan recorded: nothing to resume")
        return cls(setup, parse_plan(plan_data, goal=state.goal), state)

    def resume(self) -> list[str]:
        """After a crash or a quit: record merges git has but the events missed, remove the
        worktrees the run left, and send interrupted tasks back to the queue.

        Returns the interrupted task ids.
        """
        merged = self.ws.merged_task_ids(self.state.integration_branch)
        for task_id, commit in merged.items():
            task = self.state.tasks.get(task_id)
            if task and not task.status.satisfied:
                self.bus.emit(ev.Merged, task=task_id, commit=commit, auto=True)
        for worktree in self.ws.list_worktrees():
            if self.ws.run_of(worktree.path, worktree.branch) == self.bus.run_id:
                self.ws.remove_worktree(worktree.path)
        interrupted = tuple(
            t.id
            for t in self.state.tasks.values()
            if t.status in (TaskStatus.QUEUED, TaskStatus.RUNNING, TaskStatus.RETRYING)
        )
        self.bus.emit(ev.RunResumed, interrupted=interrupted)
        return list(interrupted)

    # --- running ---------------------------------------------------------------------------

    async def run(self, *, wait_for_review: bool = False) -> RunState:
        """Run every unsettled task; return the final state once settled (or held, headless).
        After a revision it runs again: the new tasks."""
        self.running = True
        try:
            return await self._run(wait_for_review)
        finally:
            self.running = False

    async def _run(self, wait_for_review: bool) -> RunState:
        self.approve_plan()
        initial, attempts = self._initial_outcomes()
        initial.update(await self._remerge_finished())
        early, self._early = self._early, []
        if self._budget_guard is None:  # once: a run after a revision has it already
            self._budget_guard = BudgetGuard(
                self.bus,
                lambda: self.state,
                on_exhausted=self._budget_exhausted,
                on_restored=self._budget_restored,
                on_task_over=self._task_over_budget,
                task_limits=TaskLimits(
                    self.config.task_budget_usd,
                    self.config.task_budget_tokens,
                    {t.id: t.budget_tokens for t in self.plan.tasks if t.budget_tokens},
                ),
            )
            self.bus.subscribe(self._budget_guard)
        attempt = AttemptRunner(
            bus=self.bus,
            ws=self.ws,
            config=self.config,
            workers=self.setup.workers,
            state=lambda: self.state,
            merge_queue=lambda: self.merge_queue,
            goal=self.plan.goal,
            env=dict(self.setup.env),
            critic=self.setup.critic,
            judge=self.setup.judge,
            executor=self.setup.executor,
            preparer=self.preparer,
        )
        self.scheduler = Scheduler(
            self.bus,
            self.plan,
            attempt,
            max_agents=self._pending_max_agents,
            policy=RetryPolicy(
                retries=self.config.retries,
                backoff_s=self.config.retry_backoff_s,
                timeout_s=self.config.task_timeout_s,
            ),
            initial=initial,
            attempts_done=attempts,
            wait_for_review=wait_for_review,
        )
        self._attempt = attempt
        for decision in early:  # recorded before the loop starts: run() enqueues what is ready
            self._decided(decision)
        if self.state.budget_exceeded:
            self.scheduler.stop_dispatch()
        try:
            await self.scheduler.run()
        except asyncio.CancelledError:
            try:
                await self.aclose()
            finally:  # even if cancelled again while closing: the run says it stopped
                self.bus.emit(ev.RunPaused, reason="interrupted")
                self.finish(RunStatus.INTERRUPTED)
            raise
        self.finish(self.state.outcome())
        return self.state

    def finish(self, status: RunStatus) -> None:
        s = self.state
        self.bus.emit(
            ev.RunFinished,
            status=status.value,
            merged=s.count(TaskStatus.MERGED),  # "done, no changes" merged nothing
            failed=s.count(
                TaskStatus.FAILED, TaskStatus.BLOCKED, TaskStatus.REJECTED, TaskStatus.CANCELLED
            ),
            waiting=s.count(TaskStatus.WAITING),
        )

    def _initial_outcomes(self) -> tuple[dict[str, Outcome], dict[str, int]]:
        """Where each task stands for the scheduler: settled, held, or still to run."""
        initial: dict[str, Outcome] = {}
        for task in self.state.tasks.values():
            if task.status.satisfied:
                initial[task.id] = Outcome.SATISFIED
            elif task.status is TaskStatus.WAITING:
                initial[task.id] = Outcome.HELD
            elif task.status.settled:
                initial[task.id] = Outcome.DEAD
        attempts = {t.id: t.attempts for t in self.state.tasks.values()}
        return initial, attempts

    async def _remerge_finished(self) -> dict[str, Outcome]:
        """Results finished before a crash but not yet through the merge queue go through it now."""
        out: dict[str, Outcome] = {}
        for task in list(self.state.tasks.values()):
            if task.status is TaskStatus.MERGING and task.commit:
                out[task.id] = await self.merge_queue.submit(
                    Candidate(
                        task_id=task.id,
                        title=task.title,
                        commit=task.commit,
                        summary=task.summary,
                        files_changed=len(task.files_changed),
                        lines_changed=task.insertions + task.deletions,
                        tests_passed=task.tests_passed,
                        attempt=task.attempts,
                    )
                )
        return out

    # --- commands from the human -----------------------------------------------------------

    def _budget_exhausted(self) -> None:
        if self.scheduler is None:
            return
        self.scheduler.stop_dispatch()
        if self.config.on_budget_exceeded == "cancel":
            self.scheduler.interrupt_running("stopped: the run's budget is spent")

    def _task_over_budget(self, task_id: str, reason: str) -> None:
        if self.scheduler is not None:
            self.scheduler.abort(task_id, reason)

    def _budget_restored(self) -> None:
        if self.scheduler is not None:
            self.scheduler.allow_dispatch()

    def raise_budget(self, kind: str, limit: float) -> None:
        """Set a new run budget ("usd" or "tokens"); dispatch goes on if it is no longer spent."""
        if kind not in ("usd", "tokens"):
            raise ValueError(f"budget kind must be 'usd' or 'tokens', got {kind!r}")
        if limit <= 0:
            raise ValueError("a budget must be more than zero")
        self.bus.emit(ev.BudgetRaised, kind=kind, limit=float(limit))

    def steer_delivery(self, task_id: str) -> str | None:
        """How a message to the task's agent would reach it now; None when it cannot."""
        return self._attempt.steering.delivery(task_id) if self._attempt else None

    def steer(self, task_id: str, text: str, source: str = "tui") -> str:
        """Say something to a running task's agent; returns how it will reach it, or raises
        SteerRefused saying why it cannot."""
        if task_id not in self.state.tasks:
            raise SteerRefused(f"no task '{task_id}' in run {self.bus.run_id}")
        if self._attempt is None:
            raise SteerRefused(f"run {self.bus.run_id} is not running")
        return self._attempt.steering.steer(task_id, text, source)

    def pause(self) -> None:
        if self.scheduler:
            self.scheduler.pause()

    def resume_dispatch(self) -> None:
        if self.scheduler:
            self.scheduler.resume()

    def set_max_agents(self, n: int) -> None:
        self._pending_max_agents = n
        if self.scheduler:
            self.scheduler.set_max_agents(n)

    def cancel_task(self, task_id: str) -> bool:
        if not self.scheduler or not self.scheduler.cancel_task(task_id):
            return False
        self.merge_queue.drop(task_id)
        return True

    def cancel(self) -> None:
        if self.scheduler:
            self.scheduler.cancel_all()
            for task in self.state.tasks.values():
                if task.status is TaskStatus.CANCELLED:
                    self.merge_queue.drop(task.id)
