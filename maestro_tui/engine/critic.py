"""The critic: an optional review of a task's diff and test output before it is merged."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from maestro_tui.agents.base import Reporter
from maestro_tui.domain.plan import Task

DIFF_LIMIT = 12_000
TESTS_LIMIT = 3_000


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


def judge_request(task: Task, diffs: Mapping[int, str]) -> str:
    """The judge's brief: the task and each candidate's diff, bounded in size."""
    share = max(2000, DIFF_LIMIT // max(1, len(diffs)))
    parts = [f"Task id: {task.id}\nTask: {task.title}\n\n{task.prompt}\n"]
    for index, diff in sorted(diffs.items()):
        clipped = diff if len(diff) <= share else diff[:share] + "\n… (diff cut)"
        parts.append(f"## Candidate {index}\n```diff\n{clipped}\n```")
    parts.append(
        "Criteria, in order: does what the task asks; correct; no unrelated changes; simpler. "
        "Call `pick` once with the number of the best candidate and a one-line reason."
    )
    return "\n\n".join(parts)


def review_request(task: Task, diff: str, test_output: str) -> str:
    """The reviewer's brief: the task, its diff and its tests, bounded in size."""
    clipped = diff if len(diff) <= DIFF_LIMIT else diff[:DIFF_LIMIT] + "\n… (diff cut)"
    tests = test_output[-TESTS_LIMIT:] if test_output else "(no test command configured)"
    return (
        f"Task id: {task.id}\nTask: {task.title}\n\n{task.prompt}\n\n"
        f"## The diff\n```diff\n{clipped}\n```\n\n## Test output (tail)\n```\n{tests}\n```\n\n"
        "Call `verdict` once: approved=true if the diff does what the task asks, correctly and "
        "without unrelated changes; otherwise approved=false with specific comments the "
        "author can act on."
    )
