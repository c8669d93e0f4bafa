"""One attempt at one task: its worktree, one agent or an ensemble of candidates, the result.

The rounds in a worktree (commit, tests, the fix loop and the critic) are the `FixLoop`'s.

An attempt may also be a *rebase and fix*: the gate found the task's result red as merged, so
the new worktree starts from the current integration branch with that result merged in (or its
conflicts marked), and the agent gets the failing output as feedback.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence

from maestro_tui.agents.base import Worker, WorkerError, WorkerJob, WorkerSource
from maestro_tui.agents.reviewers import Critic, Judge
from maestro_tui.config import Config
from maestro_tui.domain import events as ev
from maestro_tui.domain.plan import Task
from maestro_tui.domain.state import RunState
from maestro_tui.engine.bus import EventBus
from maestro_tui.engine.context import task_context
from maestro_tui.engine.executors import Executor, LocalExecutor, WorkingCopy
from maestro_tui.engine.fixloop import FEEDBACK_LIMIT, FixLoop, Work
from maestro_tui.engine.merge import Candidate, FixRequest, MergeQueue, test_detail
from maestro_tui.engine.reporter import TaskReporter
from maestro_tui.engine.scheduler import Outcome
from maestro_tui.engine.selection import CandidateResult, Selection, judged, select
from maestro_tui.engine.steering import Steering
from maestro_tui.process import Sandbox, base_env
from maestro_tui.workspace.prepare import Preparer, SetupFailed
from maestro_tui.workspace.repo import Workspace

# Agents and tests rewrite files within the same second, often at the same size: Python would
# then trust a stale .pyc and test the old code. No bytecode cache in worktrees, then.
WORKTREE_ENV = {"PYTHONDONTWRITEBYTECODE": "1"}


class AttemptRunner:
    """Runs attempts for the orchestrator; everything it does is an event on the bus."""

    def __init__(
        self,
        *,
        bus: EventBus,
        ws: Workspace,
        config: Config,
        workers: WorkerSource,
        state: Callable[[], RunState],
        merge_queue: Callable[[], MergeQueue],
        goal: str,
        env: dict[str, str],
        critic: Critic | None = None,
        judge: Judge | None = None,
        executor: Executor | None = None,
        preparer: Preparer | None = None,
    ) -> None:
        self.bus = bus
        self.ws = ws
        self.config = config
        self.workers = workers
        self.state = state
        self.merge_queue = merge_queue
        self.goal = goal
        self.env = {**WORKTREE_ENV, **ws.agent_env(), **env}
        self.judge = judge
        self.rounds = FixLoop(
            bus=bus,
            ws=ws,
            config=config,
            merge_queue=merge_queue,
            goal=goal,
            env=self.env,
            critic=critic,
        )
        self.preparer = preparer or Preparer.from_config(config, ws.root)  # [worktree]
        self.executor = executor or LocalExecutor(ws, self.preparer)  # here, or Ray
        self.steering = Steering(bus)
        self.fixes: dict[str, FixRequest] = {}  # the gate sent these results back
        roots = ws.worktree_roots()
        sandbox = Sandbox.for_run(config, ws.root, ws.common_dir, roots)
        self.sandbox = self.preparer.confine(sandbox)  # the checkout's venv shown read-only

    async def __call__(self, task: Task, attempt: int) -> Outcome:
        integration = self.state().integration_branch
        base = self.ws.branch_head(integration)
        if base is None:
            raise RuntimeError(f"integration branch {integration} is missing")
        fix = self.fixes.pop(task.id, None)
        if fix is not None:  # one agent rebases and fixes, even for an ensemble's task
            work = await self._in_worktree(task, attempt, base, self.workers(task), fix=fix)
        elif task.candidates > 1:
            work = await self._ensemble(task, attempt, base)
        else:
            work = await self._in_worktree(task, attempt, base, self.workers(task))
        summary = work.result.summary
        if work.commit is None:
            self.bus.emit(ev.TaskFinished, task=task.id, attempt=attempt, summary=summary)
            return Outcome.SATISFIED
        info = work.commit
        self.bus.emit(
            ev.TaskFinished, task=task.id, attempt=attempt, summary=summary, commit=info.sha
        )
        tests = work.tests
        return await self.merge_queue().submit(
            Candidate(
                task_id=task.id,
                title=task.title,
                commit=info.sha,
                summary=summary,
                files_changed=len(info.files),
                lines_changed=info.insertions + info.deletions,
                tests_passed=None if tests is None else tests.passed,
                tests_detail=test_detail(tests),
                attempt=attempt,
                base_red=work.base_red,
            )
        )

    async def _in_worktree(
        self,
        task: Task,
        attempt: int,
        base: str,
        worker: Worker,
        candidate: int | None = None,
        fix: FixRequest | None = None,
    ) -> Work:
        """One agent's work in a fresh worktree, removed afterwards (its branch stays)."""
        run_id = self.bus.run_id
        label = task.id if candidate is None else f"{task.id}.cand{candidate}"
        copy = await self.executor.open(run_id, label, attempt, base)
        agent_dir = await asyncio.to_thread(self.ws.agent_dir, run_id, label)
        carry_over = self._carry_over(task, attempt, candidate)  # before TaskStarted clears why
        mailbox = self.steering.open(task.id, attempt, worker) if copy.steerable else None
        try:
            if candidate is None:
                self.bus.emit(
                    ev.TaskStarted,
                    task=task.id,
                    attempt=attempt,
                    worker=worker.name,
                    branch=self.ws.task_branch(run_id, task.id),
                    worktree=copy.shown,
                    base_commit=base,
                )
            sandbox = self.sandbox and self.sandbox.for_task(copy.path, agent_dir)
            await self._prepare(copy, task, attempt, candidate, sandbox)
            job = WorkerJob(
                run_id=run_id,
                task=task,
                attempt=attempt,
                worktree=copy.path,
                context=task_context(task, self.state(), self.ws.root, self.config.standards_file),
                timeout_s=self.config.task_timeout_s,
                env=base_env({**self.env, **copy.env}),
                candidate=candidate,
                mailbox=mailbox,
                agent_dir=agent_dir,
                sandbox=sandbox,
                **carry_over,
            )
            fixes = 0
            if fix is not None:  # its old result merged onto the branch, for the agent to fix
                marked = await copy.check_out_merge(base, fix.commit)
                job = self.rounds.send_back(job, fix.round, fix.feedback_with(marked))
                fixes = fix.round

            def changed(path: str, change: str) -> None:
                self.bus.emit(ev.FileChanged, task=task.id, path=path, change=change)

            async with copy.watching(changed):
                return await self.rounds.until_accepted(copy, worker, job, base, candidate, fixes)
        finally:
            self.steering.close(task.id, mailbox)
            with contextlib.suppress(Exception):
                await copy.close()

    async def _prepare(
        self,
        copy: WorkingCopy,
        task: Task,
        attempt: int,
        candidate: int | None,
        sandbox: Sandbox | None,
    ) -> None:
        """[worktree] applied to the new checkout, its output in the task's log; a setup that
        fails is the attempt's error, naming the command and its last lines."""
        reporter = TaskReporter(self.bus, task.id, attempt, candidate=candidate)
        try:
            await copy.prepare(base_env(self.env), sandbox, reporter.output)
        except SetupFailed as exc:
            raise WorkerError(str(exc)) from None

    async def _ensemble(self, task: Task, attempt: int, base: str) -> Work:
        """N independent candidates in parallel; one is selected, the rest stay as branches."""
        n = task.candidates
        self.bus.emit(
            ev.TaskStarted,
            task=task.id,
            attempt=attempt,
            worker=f"ensemble of {n}",
            branch=self.ws.task_branch(self.bus.run_id, task.id),
            base_commit=base,
        )

        async def one(i: int) -> Work | None:
            model = task.models[i - 1] if i <= len(task.models) else ""
            try:
                worker = self.workers.for_model(task, model) if model else self.workers(task)
                work = await self._in_worktree(task, attempt, base, worker, candidate=i)
            except Exception as exc:  # one candidate failing is an outcome, not an error
                self.bus.emit(
                    ev.CandidateFinished, task=task.id, candidate=i, commit=None, error=str(exc)
                )
                return None
            c, t = work.commit, work.tests
            self.bus.emit(
                ev.CandidateFinished,
                task=task.id,
                candidate=i,
                commit=c.sha if c else None,
                tests_passed=None if t is None else t.passed,
                n_passed=t.n_passed if t else None,
                n_failed=t.n_failed if t else None,
                lines_changed=(c.insertions + c.deletions) if c else 0,
                model=work.result.model,
            )
            return work

        works = await asyncio.gather(*(one(i) for i in range(1, n + 1)))
        chosen = await self._select(task, works)
        if chosen.index is None:
            finished = [w for w in works if w is not None]
            if finished:  # they worked and changed nothing (a review): nothing to choose
                return finished[0]
            raise WorkerError(f"none of {n} candidates finished")
        self.bus.emit(
            ev.CandidateSelected,
            task=task.id,
            candidate=chosen.index,
            method=chosen.method,
            reason=chosen.reason,
            backed_by_tests=chosen.backed_by_tests,
        )
        winner = works[chosen.index - 1]
        assert winner is not None
        return winner

    async def _select(self, task: Task, works: Sequence[Work | None]) -> Selection:
        results = []
        for i, w in enumerate(works, start=1):
            commit = w.commit if w else None
            tests = w.tests if w else None
            tree = None
            if commit is not None:
                tree = (await asyncio.to_thread(self.ws.rev_parse, f"{commit.sha}^{{tree}}"))[0]
            results.append(
                CandidateResult(
                    index=i,
                    commit=commit.sha if commit else None,
                    tree=tree,
                    tests_passed=None if tests is None else tests.passed,
                    n_passed=tests.n_passed if tests else None,
                    lines_changed=(commit.insertions + commit.deletions) if commit else 0,
                )
            )
        chosen, pool = select(results, task.select)
        if self.judge is None or not pool:
            return chosen
        diffs = {}
        for i in pool:
            sha = results[i - 1].commit
            assert sha is not None
            diffs[i] = await asyncio.to_thread(self.ws.diff_text, f"{sha}^", sha)
        reporter = TaskReporter(self.bus, task.id, 0, purpose="judge")
        pick, why = await self.judge.choose(task, diffs, reporter)
        return judged(chosen, pick, why, pool, task.select)

    def _carry_over(self, task: Task, attempt: int, candidate: int | None) -> dict[str, str]:
        """A retry is told why the attempt before failed (as the config promises), and goes on
        with that attempt's session when its coding CLI has one, so it keeps its context."""
        view = self.state().tasks.get(task.id)
        if candidate is not None or attempt < 2 or view is None:
            return {}
        feedback = (
            f"Your previous attempt at this task failed: {view.reason or 'no reason given'}\n"
            "You are in a fresh checkout of the integration branch: none of your earlier"
            " changes are in it. Do the task again."
        )
        if view.session_id:
            feedback += f"\n\n{task.prompt.strip()}"
        carried = {"feedback": feedback[-FEEDBACK_LIMIT:]}
        if view.session_id:
            carried["resume_session"] = view.session_id
        return carried
