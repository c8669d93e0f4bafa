"""Reviewers of finished work: a critic that can send a result back, a judge among candidates.

The engine asks them through these protocols; the LLM layer implements them with a model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from maestro_tui.agents.base import Reporter
from maestro_tui.domain.plan import Task


@dataclass(frozen=True)
class Verdict:
    approved: bool
    comments: str = ""
    model: str = ""


class Critic(Protocol):
    """Reads what a task did and approves it, or sends it back with comments."""

    async def review(
        self, task: Task, diff: str, test_output: str, report: Reporter
    ) -> Verdict: ...


class Judge(Protocol):
    """Picks the best of several candidate diffs for one task."""

    async def choose(
        self, task: Task, diffs: Mapping[int, str], report: Reporter
    ) -> tuple[int, str]: ...
