"""Events of a run as a whole: started, planned, paused, resumed, finished."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from maestro_tui.domain.events.base import Event


@dataclass(frozen=True, kw_only=True, slots=True)
class RunStarted(Event):
    goal: str
    repo: str
    base_branch: str
    base_commit: str
    integration_branch: str
    merge_policy: str
    max_agents: int
    budget_usd: float | None = None
    budget_tokens: int | None = None
    # What drives the run: "run" (the orchestrator works a plan) or "mcp" (a coding agent
    # calls maestro as MCP tools; its tasks are the workflow's stages).
    kind: str = "run"


@dataclass(frozen=True, kw_only=True, slots=True)
class PlanProposed(Event):
    plan: dict[str, Any]
    layers: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class PlanApproved(Event):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class PlanRevised(Event):
    """A new plan of what the run had left, approved: `plan` is the whole plan from now on;
    `added` its new tasks; `superseded` the tasks whose work they take over (those that had
    not started never will; the settled keep their state)."""

    plan: dict[str, Any]
    layers: tuple[tuple[str, ...], ...] = ()
    added: tuple[str, ...] = ()
    superseded: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class RunResumed(Event):
    interrupted: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class RunPaused(Event):
    reason: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class DispatchPaused(Event):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class DispatchResumed(Event):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class ConcurrencyChanged(Event):
    max_agents: int


@dataclass(frozen=True, kw_only=True, slots=True)
class RunFinished(Event):
    status: str  # RunStatus value
    merged: int
    failed: int
    waiting: int
