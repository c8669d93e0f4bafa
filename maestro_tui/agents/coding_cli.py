"""The worker for the coding CLIs people use: Claude Code, Codex, Gemini CLI and Aider.

A command worker whose output is read by the CLI's own parser (a `Dialect`), so its messages,
tool calls, edits and model usage become events like the LLM worker's; whose success is read
from what it says, not from its exit code; which waits and tries again after a rate or usage
limit; and which goes on with the CLI's session in a fix round, a retry, or when the person
supervising the run sends it a message (a follow-up turn of the same session).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from maestro_tui.agents.aider import AiderDialect
from maestro_tui.agents.base import Reporter, WorkerError, WorkerJob, WorkerResult
from maestro_tui.agents.claude import ClaudeDialect
from maestro_tui.agents.codex import CodexDialect
from maestro_tui.agents.command import CommandWorker, build_prompt
from maestro_tui.agents.dialect import Dialect
from maestro_tui.agents.gemini import GeminiDialect
from maestro_tui.agents.readiness import model_endpoint, why_unreachable
from maestro_tui.agents.stream import Pricer, RunOutcome, no_prices
from maestro_tui.config import WorkerSpec

DIALECTS: dict[str, Dialect] = {
    d.name: d for d in (ClaudeDialect(), CodexDialect(), GeminiDialect(), AiderDialect())
}
T = TypeVar("T")
LIMIT_WAIT_CAP_S = 600.0  # the longest wait between two tries after a rate or usage limit
HUMAN_MESSAGE = "A message from the person supervising this run, while you work:\n\n"
WRAP_UP = "When you are done, say in a few lines what you changed and why."
GO_ON = (
    "You were stopped by a rate or usage limit, which has now passed. Go on with the task"
    " where you left off. " + WRAP_UP
)


def resume_prompt(job: WorkerJob) -> str:
    """What a resumed session is told: it has the task and its work so far; only the feedback
    (test failures, a reviewer's comments, why the last attempt failed) is new."""
    if not job.feedback.strip():
        return build_prompt(job)
    return f"## Feedback on your work\n\n{job.feedback.strip()}\n\n{WRAP_UP}"


class CodingCliWorker(CommandWorker):
    """A coding CLI driven through its structured output (see the module docstring)."""

    def __init__(
        self,
        spec: WorkerSpec,
        dialect: Dialect,
        *,
        price: Pricer = no_prices,
        stall_s: float | None = None,
        limit_wait_s: float = 30.0,
        refusal_is_error: bool = True,
    ) -> None:
        super().__init__(spec, stall_s=stall_s)
        self.dialect = dialect
        self.price = price
        self.limit_wait_s = limit_wait_s
        # False: a refused action is not the run's error (a planner, read-only on purpose).
        self.refusal_is_error = refusal_is_error
        # Steerable: a CLI that resumes its session takes a message as a follow-up turn.
        self.steering = "as a follow-up turn" if dialect.resumes else ""

    async def run(self, job: WorkerJob, report: Reporter) -> WorkerResult:
        """Run the CLI, then again for each limit passed and each message from the human."""
        env = self.env_for(job)
        d = self.dialect
        model = self.spec.model or env.get(d.model_variable, "") or d.configured_model(env)
        # Pricing imports litellm (~2 s) the first time: not on the event loop, where it would
        # hold up every agent's output meanwhile.
        await asyncio.to_thread(self.price, model or "gpt-4o", 0, 0)
        session = job.resume_session if self.dialect.resumes else ""
        prompt = resume_prompt(job) if session else build_prompt(job)
        waits = 0
        last = RunOutcome()
        while True:
            outcome = await self._once(job, report, prompt, session, model)
            if session and outcome.lost_session:
                report.output(f"{self.name} no longer has session {session}: a new one", "stderr")
                session, prompt = "", build_prompt(job)
                continue
            if outcome.limit:
                waits += 1
                delay = outcome.retry_after_s or min(
                    LIMIT_WAIT_CAP_S, self.limit_wait_s * 2 ** (waits - 1)
                )
                report.waiting(outcome.limit, delay)
                await asyncio.sleep(delay)
                if outcome.session and self.dialect.resumes:
                    session, prompt = outcome.session, GO_ON
                continue
            if outcome.error:
                raise WorkerError(outcome.error)
            last = outcome
            session = outcome.session or session
            model = outcome.model or model
            taken = job.mailbox.take() if job.mailbox is not None and session else []
            if not taken:
                break
            prompt = HUMAN_MESSAGE + "\n\n".join(taken) + f"\n\n{WRAP_UP}"
        summary = last.final.strip() or f"{self.name} finished"
        return WorkerResult(
            summary=summary, agent=f"command:{self.name}", model=model, session=session
        )

    async def _once(
        self, job: WorkerJob, report: Reporter, prompt: str, session: str, model: str
    ) -> RunOutcome:
        """One run of the CLI, read by its parser."""
        agent_dir, env = await asyncio.to_thread(self._prepare, job)
        argv = self._argv(job, prompt, session, model, env, agent_dir)
        stream = self.dialect.stream(report, self.price, model, bool(session), agent_dir)
        stream.worktree = await asyncio.to_thread(Path(job.worktree).resolve)
        stream.endpoint = model_endpoint(self.dialect.name, env)
        stream.refusal_is_error = self.refusal_is_error
        stream.env = env
        tail: deque[str] = deque(maxlen=8)
        hopeless = asyncio.Event()

        def on_line(line: str, kind: str) -> None:
            tail.append(line[:500])
            stream.feed(line, kind)
            if stream.hopeless:
                hopeless.set()

        result = await _unless(hopeless, self.spawn(argv, job, report, on_line, env=env))
        if stream.hopeless:
            stream.say_unreachable(await asyncio.to_thread(why_unreachable, stream.endpoint, env))
        outcome = stream.finish(None if result is None else result.exit_code)
        if outcome.error and "exited with code" in outcome.error and tail:
            outcome.error += "; last output:\n" + "\n".join(tail)
        return outcome

    def _prepare(self, job: WorkerJob) -> tuple[Path, dict[str, str]]:
        """The agent's folder (with its own TMPDIR) and the CLI's environment."""
        agent_dir = job.agent_dir or job.worktree.parent / f".{job.worktree.name}.agent"
        tmp = agent_dir / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        env = self.env_for(job)
        env["TMPDIR"] = str(tmp)  # each task its own temp files
        env.update(self.dialect.prepare(job, env, agent_dir))
        return agent_dir, env

    def _argv(
        self,
        job: WorkerJob,
        prompt: str,
        session: str,
        model: str,
        env: dict[str, str],
        agent_dir: Path,
    ) -> list[str]:
        d = self.dialect
        argv = self.argv_for(job, prompt, d.files(job))
        argv = d.extra_args(argv, _index(argv, prompt), job, env, agent_dir)
        argv = d.with_model(argv, _index(argv, prompt), model)
        if session and d.resumes:
            argv = d.with_session(argv, _index(argv, prompt), session)
        return argv


async def _unless(stop: asyncio.Event, work: Coroutine[Any, Any, T]) -> T | None:
    """What `work` returns, or None when `stop` is set first: `work` is then cancelled, and
    waited for (a run of a CLI stops its whole process group)."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((task, stopping), return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not task.done():
            task.cancel()
            await asyncio.wait((task,))
    if task.cancelled():
        return None
    return task.result()


def _index(argv: list[str], prompt: str) -> int:
    """Where the prompt is in the argv (-1: nowhere, or only inside a longer argument)."""
    try:
        return argv.index(prompt)
    except ValueError:
        return -1
