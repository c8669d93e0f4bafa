"""Events of model usage, cost and budgets."""

from __future__ import annotations

from dataclasses import dataclass

from maestro_tui.domain.events.base import Event


@dataclass(frozen=True, kw_only=True, slots=True)
class LLMUsage(Event):
    task: str | None
    model: str
    tokens_in: int
    tokens_out: int
    cost_usd: float | None  # None: the model has no known price
    latency_s: float = 0.0
    simulated: bool = False
    # Which attempt (and ensemble candidate) of the task made the call, and why: "work" (the
    # agent), "critic", "judge"; calls of no task are the planner's.
    attempt: int | None = None
    candidate: int | None = None
    purpose: str = "work"


@dataclass(frozen=True, kw_only=True, slots=True)
class BudgetWarning(Event):
    kind: str  # usd | tokens
    used: float
    limit: float


@dataclass(frozen=True, kw_only=True, slots=True)
class BudgetExceeded(Event):
    kind: str
    used: float
    limit: float


@dataclass(frozen=True, kw_only=True, slots=True)
class BudgetRaised(Event):
    kind: str
    limit: float
