"""What a planner shows while it plans: its words, what it reads, what it spends.

Every planner (a litellm model that explores the code with read-only tools, or a coding CLI
in a scratch checkout) reports through a `PlanningProgress`; the planning view in the TUI,
the headless printer and the plan review are its listeners. `PlanningLog` keeps it all, for
the plan review ("what the planner read") and for tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class PlanningProgress(Protocol):
    """A planner's live report; every method is called on the planning task's event loop."""

    def said(self, text: str) -> None:
        """Text the planner streamed (a fragment, or a whole line of status)."""
        ...

    def read(self, what: str) -> None:
        """Something it looked at: `src/x.py`, `src/x.py:10-40`, `grep 'def total' src/`."""
        ...

    def spent(self, tokens_in: int, tokens_out: int, cost_usd: float | None) -> None:
        """One model call's tokens and cost (None when unknown), as it ends."""
        ...


@dataclass
class PlanningLog:
    """A PlanningProgress that keeps everything, in order; optionally forwards to another."""

    forward: PlanningProgress | None = None
    text: list[str] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    unpriced: int = 0  # calls whose cost is unknown

    def said(self, text: str) -> None:
        self.text.append(text)
        if self.forward is not None:
            self.forward.said(text)

    def read(self, what: str) -> None:
        self.reads.append(what)
        if self.forward is not None:
            self.forward.read(what)

    def spent(self, tokens_in: int, tokens_out: int, cost_usd: float | None) -> None:
        self.tokens_in += tokens_in
        self.tokens_out += tokens_out
        if cost_usd is None:
            self.unpriced += 1
        else:
            self.cost_usd += cost_usd
        if self.forward is not None:
            self.forward.spent(tokens_in, tokens_out, cost_usd)
