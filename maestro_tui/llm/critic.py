"""A critic backed by a model: one `verdict` tool call on the task's diff and tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from maestro_tui.agents.base import Reporter
from maestro_tui.agents.reviewers import Verdict
from maestro_tui.domain.plan import Task
from maestro_tui.llm.client import LLMClient, LLMError

VERDICT_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "verdict",
        "description": "Approve the task's result, or send it back with comments.",
        "parameters": {
            "type": "object",
            "properties": {
                "approved": {"type": "boolean"},
                "comments": {"type": "string", "description": "what to fix, if anything"},
            },
            "required": ["approved", "comments"],
        },
    },
}
SYSTEM = (
    "You are a strict, fair code reviewer. You judge one small task's diff against what the "
    "task asked for, using the test output as evidence. Be brief and specific."
)


DIFF_LIMIT = 12_000
TESTS_LIMIT = 3_000


DEFAULT_CRITERIA = (
    "does what the task asks; correct; no unrelated changes; simpler"  # in this order
)


def judge_request(task: Task, diffs: Mapping[int, str], criteria: str = "") -> str:
    """The judge's brief: the task and each candidate's diff, bounded in size."""
    share = max(2000, DIFF_LIMIT // max(1, len(diffs)))
    parts = [f"Task id: {task.id}\nTask: {task.title}\n\n{task.prompt}\n"]
    for index, diff in sorted(diffs.items()):
        clipped = diff if len(diff) <= share else diff[:share] + "\n… (diff cut)"
        parts.append(f"## Candidate {index}\n```diff\n{clipped}\n```")
    parts.append(
        f"Criteria, in order: {criteria.strip() or DEFAULT_CRITERIA}. "
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


class LLMCritic:
    """Reviews with one model call; a missing or malformed verdict counts as an approval
    that says so, so a flaky reviewer never blocks work on its own."""

    def __init__(self, client: LLMClient) -> None:
        self._client = client

    async def review(self, task: Task, diff: str, test_output: str, report: Reporter) -> Verdict:
        messages = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": review_request(task, diff, test_output)},
        ]
        forced = {"type": "function", "function": {"name": "verdict"}}
        try:
            c = await self._client.complete(messages, tools=[VERDICT_TOOL], tool_choice=forced)
        except LLMError as exc:
            report.output(f"critic unavailable: {exc}", "stderr")
            return Verdict(True, f"not reviewed: {exc}", self._client.model)
        report.usage(
            c.model, c.tokens_in, c.tokens_out, c.cost_usd, c.latency_s, simulated=c.simulated
        )
        for call in c.tool_calls:
            if call.name == "verdict" and isinstance(call.arguments, dict):
                approved = call.arguments.get("approved")
                comments = str(call.arguments.get("comments", "")).strip()
                if isinstance(approved, bool):
                    return Verdict(approved, comments, c.model)
        return Verdict(True, "not reviewed: the critic gave no verdict", c.model)


PICK_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "pick",
        "description": "Choose the best candidate for the task.",
        "parameters": {
            "type": "object",
            "properties": {
                "candidate": {"type": "integer"},
                "reason": {"type": "string"},
            },
            "required": ["candidate", "reason"],
        },
    },
}


class LLMJudge:
    """Picks among candidate diffs with one model call; a bad answer falls back to the first."""

    def __init__(self, client: LLMClient) -> None:
        self._client = client

    async def choose(
        self, task: Task, diffs: Mapping[int, str], report: Reporter, criteria: str = ""
    ) -> tuple[int, str]:
        """The best candidate by `criteria` (default: the task, correctness, focus, size)."""
        first = min(diffs)
        messages = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": judge_request(task, diffs, criteria)},
        ]
        forced = {"type": "function", "function": {"name": "pick"}}
        try:
            c = await self._client.complete(messages, tools=[PICK_TOOL], tool_choice=forced)
        except LLMError as exc:
            return first, f"judge unavailable ({exc}); the first candidate"
        report.usage(
            c.model, c.tokens_in, c.tokens_out, c.cost_usd, c.latency_s, simulated=c.simulated
        )
        for call in c.tool_calls:
            if call.name == "pick" and isinstance(call.arguments, dict):
                choice = call.arguments.get("candidate")
                if isinstance(choice, int) and choice in diffs:
                    return choice, str(call.arguments.get("reason", "")).strip()
        return first, "the judge gave no valid pick; the first candidate"
