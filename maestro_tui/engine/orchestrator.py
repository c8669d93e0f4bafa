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
from maestro_tui.domain.plan import Plan, validate_plan
from maestro_tui.domain.replan import NOT_STARTED, Revision
from maestro_tui.domain.state import RunState, RunStatus, TaskStatus, fold, reduce
from maestro_tui.engine.attempt import WORKTREE_ENV, AttemptRunner
from maestro_tui.engine.budget import BudgetGuard, PlanBudgets, TaskLimits
from maestro_tui.engine.bus import EventBus
from maestro_tui.engine.executors import Executor
from maestro_tui.engine.merge import Candidate, Decision, MergeDecisions, MergeQueue
from maestro_tui.engine.scheduler import Outcome, RetryPolicy, Scheduler
from maestro_tui.engine.steering import SteerRefused
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
    # How many agents at once in this process; None: as the run recorded it.
    max_agents: int | None = None


class Orchestrator:
    """Drives one run. Commands from a front end are methods (the human's decisions on
    waiting merges are on `merges`); what happens comes back as events.

    Everything a run needs is made with it: a revision's new tasks run in the next `run`.
    """

    def __init__(self, setup: RunSetup, plan: Plan, state: RunState) -> None:
        self.setup = setup
        self.plan = plan
        self.state = state
        self.bus = setup.bus
        self.config = c = setup.config
        self.ws = setup.ws
        self.bus.subscribe(self._follow)
        self.running = False  # `run` is under way (a revision waits until it is not)
        # How the run's trees are made like the user's checkout ([worktree]): one for the
        # tasks' worktrees and the gate's trees alike, the environment read once.
        self.preparer = Preparer.from_config(c, self.ws.root)
        self.merges = MergeDecisions(
            lambda: self.merge_queue, self.ws, self.bus, lambda: self.state, self._decided
        )
        self.attempts = AttemptRunner(
            bus=self.bus,
            ws=self.ws,
            config=c,
            workers=setup.workers,
            state=lambda: self.state,
            merge_queue=lambda: self.merge_queue,
            goal=plan.goal,
            env=dict(setup.env),
            critic=setup.critic,
            judge=setup.judge,
            executor=setup.executor,
            preparer=self.preparer,
        )
        policy = RetryPolicy(c.retries, c.retry_backoff_s, timeout_s=c.task_timeout_s)
        initial, attempts = self._where_tasks_stand()
        self.scheduler = Scheduler(
            self.bus,
            plan,
            self.attempts,
            max_agents=setup.max_agents or state.max_agents,
            policy=policy,
            initial=initial,
            attempts_done=attempts,
        )
        self.budget = BudgetGuard(
            self.bus,
            lambda: self.state,
            on_exhausted=self._budget_exhausted,
            on_restored=self.scheduler.allow_dispatch,
            on_task_over=self.scheduler.abort,
            task_limits=TaskLimits(
                c.task_budget_usd, c.task_budget_tokens, PlanBudgets(lambda: self.plan)
            ),
        )
        self._budget_watched = False  # from the first run on (see `_watch_budget`)

    @functools.cached_property
    def merge_queue(self) -> MergeQueue:
        """The merge queue of the run as recorded when it is first needed (after `resume`
        found what git merged)."""
        env = {**WORKTREE_ENV, **self.setup.env}
        return MergeQueue.for_run(
            self.bus,
            self.ws,
            self.config,
            lambda: self.state,
            env=env,
            preparer=self.preparer,
            on_decided=self._decided,
        )

    def _decided(self, decision: Decision) -> None:
        """The merge queue (or the human) decided a task: free it in the scheduler, or run it
        again, to fix it or from scratch. Outside a run there is nothing to tell: the next
        run starts from the state as recorded, and from the fix kept here."""
        if decision.fix is not None:
            self.attempts.fixes[decision.task_id] = decision.fix
        if not self.running:
            return
        if decision.outcome is None:  # on the branch as it is now
            self.scheduler.retry(decision.task_id)
        else:
            self.scheduler.release(decision.task_id, decision.outcome, decision.reason)

    async def aclose(self) -> None:
        """Stop the merge gate's test runs (what was in it is tested again on resume)."""
        await asyncio.shield(self.merge_queue.aclose())

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
        started = bus.emit(
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
        proposed = bus.emit(ev.PlanProposed, plan=plan.to_dict(), layers=layers)
        return cls(setup, plan, fold([started, proposed]))

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
            await self._start_run()
            return await self._drive(wait_for_review)
        finally:
            self.running = False

    async def _start_run(self) -> None:
        """The plan approved; the scheduler given the plan as it is now and where each task
        stands; results a crash left on their way to the merge queue sent through it."""
        self.approve_plan()
        initial, attempts = self._where_tasks_stand()
        self.scheduler.load(self.plan, initial, attempts)
        await self._remerge_finished([t for t, o in initial.items() if o is Outcome.GATED])
        self._watch_budget()
        if self.state.budget_exceeded:
            self.scheduler.stop_dispatch()

    async def _drive(self, wait_for_review: bool) -> RunState:
        try:
            await self.scheduler.run(wait_for_review=wait_for_review)
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

    def _where_tasks_stand(self) -> tuple[dict[str, Outcome], dict[str, int]]:
        """Where each task stands for the scheduler: settled, held, finished but not through
        the merge queue (gated: a crash left it so, `_remerge_finished` sends it), or still
        to run (so is a task with a fix waiting, whatever its last state says)."""
        initial: dict[str, Outcome] = {}
        for task in self.state.tasks.values():
            if task.id in self.attempts.fixes:
                continue
            if task.status.satisfied:
                initial[task.id] = Outcome.SATISFIED
            elif task.status is TaskStatus.WAITING:
                initial[task.id] = Outcome.HELD
            elif task.status.settled:
                initial[task.id] = Outcome.DEAD
            elif task.status is TaskStatus.MERGING and task.commit:
                initial[task.id] = Outcome.GATED
        attempts = {t.id: t.attempts for t in self.state.tasks.values()}
        return initial, attempts

    async def _remerge_finished(self, task_ids: list[str]) -> None:
        """Results finished before a crash but not yet through the merge queue go through it
        now; the scheduler has them as gated until the queue says otherwise."""
        for task_id in task_ids:
            task = self.state.tasks[task_id]
            assert task.commit  # gated only with one
            outcome = await self.merge_queue.submit(
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
            if outcome is not Outcome.GATED:  # merged at once, or held (already said)
                self.scheduler.release(task_id, outcome)

    def _watch_budget(self) -> None:
        """The budget guard follows the bus from the first run on: what was spent before
        (the planner's calls) is judged with the run's first own spending."""
        if not self._budget_watched:
            self.bus.subscribe(self.budget)
            self._budget_watched = True

    # --- commands from the human -----------------------------------------------------------

    def _budget_exhausted(self) -> None:
        self.scheduler.stop_dispatch()
        if self.config.on_budget_exceeded == "cancel":
            self.scheduler.interrupt_running("stopped: the run's budget is spent")

    def raise_budget(self, kind: str, limit: float) -> None:
        """Set a new run budget ("usd" or "tokens"); dispatch goes on if it is no longer spent."""
        if kind not in ("usd", "tokens"):
            raise ValueError(f"budget kind must be 'usd' or 'tokens', got {kind!r}")
        if limit <= 0:
            raise ValueError("a budget must be more than zero")
        self.bus.emit(ev.BudgetRaised, kind=kind, limit=float(limit))

    def use_executor(self, executor: Executor) -> None:
        """Attempts work there from now on (a resumed run joins its cluster only when it goes
        on: reviewing or landing it does not need one)."""
        self.setup.executor = executor
        self.attempts.executor = executor

    def steer_delivery(self, task_id: str) -> str | None:
        """How a message to the task's agent would reach it now; None when it cannot."""
        return self.attempts.steering.delivery(task_id)

    def steer(self, task_id: str, text: str, source: str = "tui") -> str:
        """Say something to a running task's agent; returns how it will reach it, or raises
        SteerRefused saying why it cannot."""
        if task_id not in self.state.tasks:
            raise SteerRefused(f"no task '{task_id}' in run {self.bus.run_id}")
        if not self.running:
            raise SteerRefused(f"run {self.bus.run_id} is not running")
        return self.attempts.steering.steer(task_id, text, source)

    def pause(self) -> None:
        """Start no new task (running ones go on) until `unpause`."""
        self.scheduler.pause()

    def unpause(self) -> None:
        self.scheduler.unpause()

    def set_max_agents(self, n: int) -> None:
        self.scheduler.set_max_agents(n)

    def cancel_task(self, task_id: str) -> bool:
        if not self.scheduler.cancel_task(task_id):
            return False
        self.merge_queue.drop(task_id)
        return True

    def cancel(self) -> None:
        self.scheduler.cancel_all()
        for task in self.state.tasks.values():
            if task.status is TaskStatus.CANCELLED:
                self.merge_queue.drop(task.id)
