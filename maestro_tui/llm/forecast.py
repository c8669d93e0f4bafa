"""A labelled cost estimate for a plan, before it runs: per-task token heuristics × price."""

from __future__ import annotations

from dataclasses import dataclass

from maestro_tui.domain.plan import Plan, Task
from maestro_tui.llm.client import Prices, price_per_mtok


@dataclass(frozen=True)
class TaskTokens:
    """Heuristic token use of one task attempt: turns × (context in, answer out)."""

    turns: int
    tokens_in_per_turn: int
    tokens_out_per_turn: int

    @property
    def tokens_in(self) -> int:
        # The conversation grows each turn: on average half of it again is resent.
        return self.turns * self.tokens_in_per_turn * 3 // 2

    @property
    def tokens_out(self) -> int:
        return self.turns * self.tokens_out_per_turn


# Low: the task goes straight through. High: twice the turns, bigger context, one retry.
LOW = TaskTokens(turns=4, tokens_in_per_turn=2_500, tokens_out_per_turn=250)
HIGH = TaskTokens(turns=10, tokens_in_per_turn=6_000, tokens_out_per_turn=900)
HIGH_ATTEMPTS = 2
TOKENS_PER_FILE = 1_200  # a task's own files sent in its first message


def task_tokens(task: Task, shape: TaskTokens, prompt_tokens: int = 0) -> tuple[int, int]:
    """(tokens in, tokens out) one attempt at `task` is expected to use; `prompt_tokens` is
    what the agent sends every turn besides the task (a coding CLI's system prompt and tools)."""
    files = len(task.files) * TOKENS_PER_FILE * shape.turns
    return shape.tokens_in + files + prompt_tokens * shape.turns, shape.tokens_out


def estimate_cost(
    plan: Plan, model: str, prices: Prices | None = None, prompt_tokens: int = 0
) -> tuple[float, float] | None:
    """(usd low, usd high) for running `plan` on `model` — an estimate, not a quote.

    None when the model has no known price (neither configured nor in litellm's map).
    """
    price = price_per_mtok(model, prices)
    if price is None:
        return None
    p_in, p_out = price
    low = high = 0.0
    for task in plan.tasks:
        t_in, t_out = task_tokens(task, LOW, prompt_tokens)
        low += (t_in * p_in + t_out * p_out) / 1_000_000
        t_in, t_out = task_tokens(task, HIGH, prompt_tokens)
        high += HIGH_ATTEMPTS * (t_in * p_in + t_out * p_out) / 1_000_000
    return low, high


def describe_estimate(estimate: tuple[float, float] | None) -> str:
    """How the UI shows an estimate: a range, labelled as such, or 'unknown'."""
    if estimate is None:
        return "cost estimate: unknown (no price for this model)"
    low, high = estimate
    return f"cost estimate: ${low:.2f}–${high:.2f}"
