"""The Worker protocol: what every kind of agent (external CLI, LLM loop, plugin) provides."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from maestro_tui.domain.plan import Task
from maestro_tui.process import Sandbox


class WorkerError(Exception):
    """The attempt failed; the message says why (it becomes TaskFailed.reason)."""


class Mailbox:
    """Messages from the human to one running agent. The worker takes them when it can (the
    LLM worker before each model call); `on_take` reports each one as delivered."""

    def __init__(self, on_take: Callable[[str], None] | None = None) -> None:
        self._messages: list[str] = []
        self._on_take = on_take

    def put(self, text: str) -> None:
        self._messages.append(text)

    def take(self) -> list[str]:
        taken, self._messages = self._messages, []
        if self._on_take is not None:
            for text in taken:
                self._on_take(text)
        return taken

    def __len__(self) -> int:
        return len(self._messages)


@dataclass(frozen=True)
class WorkerJob:
    """One attempt at one task, as the worker sees it."""

    run_id: str
    task: Task
    attempt: int
    worktree: Path
    # Only what this task needs: coding standards, summaries and findings of upstream tasks.
    context: str = ""
    # The previous attempt's failure (test output, reviewer comments) for a fix attempt.
    feedback: str = ""
    timeout_s: float | None = None
    # In an ensemble: which of the task's independent candidates this is (1-based).
    candidate: int | None = None
    # The explicit environment a subprocess gets: never the whole of os.environ.
    env: Mapping[str, str] = field(default_factory=dict)
    # Messages from the human while the attempt runs (only for workers that can take them).
    mailbox: Mailbox | None = None
    # A coding CLI's session to go on with (a fix round, a critic's send-back, a retry): the
    # agent keeps its context, and the prompt is only the feedback.
    resume_session: str = ""
    # A folder private to this task's agent, beside its worktree and kept across attempts
    # (temp files, a CLI's own home or history); None: the worker makes do without.
    agent_dir: Path | None = None
    # Where the agent's processes run confined ([sandbox]); None: with the user's rights.
    sandbox: Sandbox | None = None


@dataclass(frozen=True)
class WorkerResult:
    """What a worker hands back: the summary becomes the commit message body."""

    summary: str
    agent: str
    model: str = ""  # the model actually used, for the Maestro-Model trailer
    session: str = ""  # a coding CLI's session id, to resume in a fix round


class Reporter(Protocol):
    """How a worker tells the run what it is doing; each call becomes an event."""

    def output(self, text: str, stream: str = "stdout") -> None:
        """One or more whole lines (a worker that streams fragments assembles lines itself)."""
        ...

    def usage(
        self,
        model: str,
        tokens_in: int,
        tokens_out: int,
        cost_usd: float | None,
        latency_s: float = 0.0,
        simulated: bool = False,
    ) -> None: ...

    def tool(self, tool: str, args: str = "", ok: bool = True, error: str = "") -> None: ...

    def finding(self, text: str) -> None: ...

    def file_changed(self, path: str, change: str = "modified") -> None:
        """An edit the agent says it made (worktree-relative path; added/modified/deleted)."""
        ...

    def session(self, session_id: str, resumed: bool = False) -> None:
        """The coding CLI's session (thread) id for this run of it."""
        ...

    def waiting(self, reason: str, retry_in_s: float) -> None:
        """A rate or usage limit: the agent waits `retry_in_s`, then tries again."""
        ...

    def stalled(self, silent_s: float) -> None:
        """The agent printed nothing for `silent_s`: it is being stopped."""
        ...


@runtime_checkable
class Worker(Protocol):
    """An agent that works on a task inside its worktree. It edits files; the run commits."""

    name: str

    async def run(self, job: WorkerJob, report: Reporter) -> WorkerResult: ...


@runtime_checkable
class NeedsPreflight(Protocol):
    """A worker that can tell, before a run starts, whether it can run at all (a CLI that is
    not installed, say): `preflight` raises WorkerError saying what to do."""

    def preflight(self) -> None: ...


class WorkerSource(Protocol):
    """Where the engine gets workers: the one a task names, or an LLM worker on a model."""

    def __call__(self, task: Task) -> Worker: ...

    def for_model(self, task: Task, model: str) -> Worker: ...


@runtime_checkable
class Steerable(Protocol):
    """A worker that can take a message while it works. `steering` says how, for the person
    sending it: "at its next turn" (the LLM worker), "as a follow-up turn" (a CLI that
    resumes its session)."""

    steering: str
