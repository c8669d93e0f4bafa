"""Events of a coding agent at work: its session, the limits it waits out, its silences."""

from __future__ import annotations

from dataclasses import dataclass

from maestro_tui.domain.events.base import Event


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentSession(Event):
    """A coding CLI's session (thread) for this attempt: a fix round, a critic's send-back, a
    retry or a steering message resumes it, so the agent keeps its context."""

    task: str
    attempt: int
    session_id: str
    worker: str = ""
    resumed: bool = False  # this run of the CLI went on with an earlier session
    candidate: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskWaiting(Event):
    """The agent hit a rate or usage limit: it waits, then tries again by itself."""

    task: str
    attempt: int
    reason: str
    retry_in_s: float


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskStalled(Event):
    """The agent printed nothing for `silent_s` ([run] stall_s): it is stopped, and the
    attempt fails (to be retried per the retry policy)."""

    task: str
    attempt: int
    silent_s: float
