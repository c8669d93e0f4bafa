"""Events of the person at the controls: messages to agents, notifications."""

from __future__ import annotations

from dataclasses import dataclass

from maestro_tui.domain.events.base import Event


@dataclass(frozen=True, kw_only=True, slots=True)
class NotifyFailed(Event):
    """A notification channel failed; it is reported once, and the run goes on without it."""

    channel: str
    error: str


@dataclass(frozen=True, kw_only=True, slots=True)
class SteerSent(Event):
    """A person said something to a running agent; it waits for the agent to take it."""

    task: str
    text: str
    source: str = "tui"  # tui | cli (`maestro-tui say`, from another process) | mcp
    delivery: str = ""  # how it will reach the agent, e.g. "at its next turn"


@dataclass(frozen=True, kw_only=True, slots=True)
class SteerDelivered(Event):
    """The agent took the message (as a user message of its next turn, or a follow-up turn)."""

    task: str
    attempt: int
    text: str
