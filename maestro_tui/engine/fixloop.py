"""The fix loop: an agent's rounds in one worktree until its work is accepted.

Each round runs the agent, commits what it changed and runs the tests; red tests and a critic's
comments send the work back to the agent for another round, as many as the config allows. Red
tests on a base that is red the same way are not the task's: they end the loop, uncharged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace

from maestro_tui.agents.base import Worker, WorkerError, WorkerJob, WorkerResult
from maestro_tui.agents.reviewers import Critic
from maestro_tui.config import Config
from maestro_tui.domain import events as ev
from maestro_tui.domain.plan import Task
from maestro_tui.engine.bus import EventBus
from maestro_tui.engine.executors import WorkingCopy
from maestro_tui.engine.merge import MergeQueue, test_detail
from maestro_tui.engine.reporter import TaskReporter
from maestro_tui.process import Sandbox, base_env
from maestro_tui.workspace.repo import CommitInfo, Workspace
from maestro_tui.workspace.validate import TestResult

FEEDBACK_LIMIT = 4000


@dataclass(frozen=True)
class Work:
    """What an agent produced in a worktree, committed and validated."""

    result: WorkerResult
    commit: CommitInfo | None
    tests: TestResult | None
    base_red: bool = False  # its tests fail, and the base's own tests fail the same way


class FixLoop:
    """Runs an attempt's rounds in its worktree; everything it does is an event on the bus."""

    def __init__(
        self,
        *,
        bus: EventBus,
        ws: Workspace,
        config: Config,
        merge_queue: Callable[[], MergeQueue],
        goal: str,
        env: dict[str, str],
        critic: Critic | None = None,
    ) -> None:
        self.bus = bus
        self.ws = ws
        self.config = config
        self.merge_queue = merge_queue
        self.goal = goal
        self.env = env
        self.critic = critic

    async def until_accepted(
        self,
        copy: WorkingCopy,
        worker: Worker,
        job: WorkerJob,
        base: str,
        candidate: int | None = None,
        fixes: int = 0,
    ) -> Work:
        """Run the agent; send red tests (fix loop) and critic comments back to it, bounded.

        `fixes` rounds are already spent (the gate sent the result back). Red tests on a base
        that is red the same way are not the task's: they stop the loop, uncharged.
        """
        critiques = 0
        while True:
            work = await self._work_once(copy, worker, job, base, candidate)
            if work.commit is None:
                return work
            job = replace(job, resume_session=work.result.session or job.resume_session)
            tests = work.tests
            if tests is not None and not tests.passed:
                if await self._base_is_to_blame(job.task.id, base, tests):
                    return replace(work, base_red=True)
                if fixes >= self.config.fix_attempts:
                    if self.config.fix_attempts == 0:
                        return work  # no fix loop: the merge queue holds it for the human
                    raise WorkerError(
                        f"tests still fail after {fixes} fix attempt(s): {test_detail(tests)}\n"
                        + tests.output_tail[-1500:]
                    )
                fixes += 1
                feedback = "The tests fail. Fix the code (not the tests, unless they are wrong).\n"
                job = self.send_back(job, fixes + critiques, feedback + tests.output_tail)
                continue
            if self.critic is None or critiques >= self.config.critic_rounds:
                return work
            verdict = await self._review(job, base, work)
            if verdict is None:
                return work
            critiques += 1
            job = self.send_back(job, fixes + critiques, "A reviewer asks for changes:\n" + verdict)

    def send_back(self, job: WorkerJob, round_no: int, feedback: str) -> WorkerJob:
        """The job again, with `feedback` for the agent; the task is shown fixing."""
        feedback = feedback[-FEEDBACK_LIMIT:]
        first_line = feedback.strip().splitlines()[0] if feedback.strip() else ""
        self.bus.emit(
            ev.TaskFixing, task=job.task.id, attempt=job.attempt, round=round_no, reason=first_line
        )
        return replace(job, feedback=feedback)

    async def _base_is_to_blame(self, task_id: str, base: str, tests: TestResult) -> bool:
        """Do the base's own tests fail, with every test this result fails among them?"""
        trials = self.merge_queue().trials
        if trials is None:
            return False
        verdict = await trials.base_verdict(base, found_by=task_id)
        if verdict.passed:
            return False
        ours = tests.failing
        return not (ours and verdict.failing and not ours <= verdict.failing)

    async def _work_once(
        self, copy: WorkingCopy, worker: Worker, job: WorkerJob, base: str, candidate: int | None
    ) -> Work:
        task, attempt = job.task, job.attempt
        reporter = TaskReporter(self.bus, task.id, attempt, candidate=candidate, worker=worker.name)
        result = await copy.run(worker, job, reporter)
        trailers = {
            "Maestro-Run": self.bus.run_id,
            "Maestro-Task": task.id,
            "Maestro-Agent": result.agent,
            "Maestro-Model": result.model or "none",
        }
        if candidate is not None:
            trailers["Maestro-Candidate"] = str(candidate)
        body = f'{result.summary.strip()}\n\nWhy: part of the goal "{self.goal}".'
        info = await copy.commit(base, task.title[:72], body, trailers, self.config.exclude)
        if info is None:
            return Work(result, None, None)
        self.bus.emit(
            ev.TaskCommitted,
            task=task.id,
            attempt=attempt,
            commit=info.sha,
            files=info.files,
            insertions=info.insertions,
            deletions=info.deletions,
        )
        return Work(result, info, await self._validate(task, attempt, copy, job.sandbox))

    async def _validate(
        self, task: Task, attempt: int, copy: WorkingCopy, sandbox: Sandbox | None = None
    ) -> TestResult | None:
        command = self.config.test_command
        if not command:
            return None
        env = base_env(self.env)
        result = await copy.run_tests(command, self.config.test_timeout_s, env, sandbox)
        self.bus.emit(
            ev.TestsRan,
            task=task.id,
            attempt=attempt,
            command=command,
            passed=result.passed,
            exit_code=result.exit_code,
            n_passed=result.n_passed,
            n_failed=result.n_failed,
            duration_s=round(result.duration_s, 3),
            output_tail=result.output_tail[-4000:],
        )
        return result

    async def _review(self, job: WorkerJob, base: str, work: Work) -> str | None:
        """The critic's comments when it sends the work back; None when it approves."""
        assert self.critic is not None and work.commit is not None
        diff = await asyncio.to_thread(self.ws.diff_text, base, work.commit.sha)
        tail = work.tests.output_tail if work.tests else ""
        reporter = TaskReporter(self.bus, job.task.id, job.attempt, purpose="critic")
        verdict = await self.critic.review(job.task, diff, tail, reporter)
        self.bus.emit(
            ev.CriticVerdict,
            task=job.task.id,
            attempt=job.attempt,
            approved=verdict.approved,
            comments=verdict.comments,
            model=verdict.model,
        )
        return None if verdict.approved else (verdict.comments or "the reviewer disapproved")
