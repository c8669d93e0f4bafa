"""The planner: a goal and the repository map turned into a validated Plan via submit_plan."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from maestro_tui.domain.plan import Plan, PlanError, parse_plan, validate_plan
from maestro_tui.domain.planning import PlanningProgress
from maestro_tui.llm.client import LLMClient, LLMError
from maestro_tui.llm.roles import normalize_role, role_summaries
from maestro_tui.workspace.files import repo_map


class PlannerError(Exception):
    """The planner gave no valid plan; `problems` lists what was wrong with its last answer."""

    def __init__(self, message: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(message + ("\n  - " + "\n  - ".join(problems) if problems else ""))


SUBMIT_PLAN: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "submit_plan",
        "description": "Submit the plan: small tasks with their files and dependencies.",
        "parameters": {
            "type": "object",
            "properties": {
                "tasks": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "string", "description": "short slug: a-z, 0-9, -"},
                            "title": {"type": "string"},
                            "role": {"type": "string"},
                            "prompt": {"type": "string", "description": "what to do, precisely"},
                            "files": {"type": "array", "items": {"type": "string"}},
                            "depends_on": {"type": "array", "items": {"type": "string"}},
                        },
                        "required": ["id", "title", "role", "prompt", "files", "depends_on"],
                    },
                }
            },
            "required": ["tasks"],
        },
    },
}

SYSTEM_PROMPT = """\
You are the planner of a team of coding agents working in parallel on one git repository.
Split the goal into small tasks, each doable by one agent in a few minutes, and submit them
by calling the tool submit_plan exactly once. Rules:
- Each task names the files it will change or create ('files', relative paths); it sees only
  those files, the coding standards and summaries of the tasks it depends on.
- Tasks that touch the same lines must depend on each other, or they will conflict.
- 'depends_on' lists task ids that must be merged first; no cycles.
- Ids are short slugs (letters, digits, '-'); prompts say precisely what to do and how to
  check it.
- Every task has one of these roles:
{roles}"""


def planner_messages(goal: str, root: Path, roles: Mapping[str, str]) -> list[dict[str, Any]]:
    """The planner's first request: the rules and roles, then the goal and the repo map."""
    return [
        {"role": "system", "content": SYSTEM_PROMPT.format(roles=role_summaries(dict(roles)))},
        {
            "role": "user",
            "content": f"Goal: {goal}\n\nRepository files:\n{repo_map(root)}",
        },
    ]


def check_answer(
    arguments: Mapping[str, Any] | str, goal: str, root: Path, roles: Mapping[str, str]
) -> Plan:
    """Turn submit_plan arguments into a valid Plan, or raise PlanError saying what is wrong."""
    if isinstance(arguments, str):
        raise PlanError([f"submit_plan {arguments}"])
    plan = parse_plan(_known_roles(arguments, roles), goal=goal)
    problems = [
        f"task '{t.id}': unknown role '{t.role}' (roles: {', '.join(roles)})"
        for t in plan.tasks
        if t.role not in roles
    ]
    try:
        validate_plan(plan, repo_root=root)
    except PlanError as exc:
        problems = exc.problems + problems
    if problems:
        raise PlanError(problems)
    return plan


def _known_roles(arguments: Mapping[str, Any], roles: Mapping[str, str]) -> Mapping[str, Any]:
    """The answer with each task's role as the known role it means ("doc writer", "Docs" →
    doc_writer); a role that means none is left as written, and refused by check_answer."""
    tasks = arguments.get("tasks")
    if not isinstance(tasks, list):
        return arguments
    fixed = []
    for task in tasks:
        role = task.get("role") if isinstance(task, dict) else None
        meant = normalize_role(role, roles) if isinstance(role, str) else None
        fixed.append({**task, "role": meant} if meant and meant != role else task)
    return {**arguments, "tasks": fixed}


async def plan_goal(
    client: LLMClient,
    goal: str,
    root: Path,
    roles: Mapping[str, str],
    max_attempts: int = 3,
    progress: PlanningProgress | None = None,
) -> Plan:
    """Ask the planner model for a plan; on bad output send the problems back and ask again.
    Each answer's text and tokens go to `progress`."""
    messages = planner_messages(goal, Path(root), roles)
    forced = {"type": "function", "function": {"name": "submit_plan"}}
    problems: list[str] = []
    for _attempt in range(max_attempts):
        try:
            completion = await client.complete(messages, tools=[SUBMIT_PLAN], tool_choice=forced)
        except LLMError as exc:
            raise PlannerError("the planner model failed", [str(exc)]) from None
        if progress is not None:
            progress.spent(completion.tokens_in, completion.tokens_out, completion.cost_usd)
            if completion.text:
                progress.said(completion.text)
        calls = [c for c in completion.tool_calls if c.name == "submit_plan"]
        assistant: dict[str, Any] = {"role": "assistant", "content": completion.text or None}
        if not calls:
            problems = ["no submit_plan call: answer by calling the tool submit_plan"]
            messages.append({**assistant, "content": completion.text or "(no answer)"})
            messages.append({"role": "user", "content": problems[0]})
            continue
        call = calls[0]
        raw = json.dumps(call.arguments) if isinstance(call.arguments, dict) else "{}"
        assistant["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": "submit_plan", "arguments": raw},
            }
        ]
        messages.append(assistant)
        try:
            return check_answer(call.arguments, goal, Path(root), roles)
        except PlanError as exc:
            problems = exc.problems
        feedback = (
            "The plan was rejected:\n- "
            + "\n- ".join(problems)
            + ("\nFix these problems and call submit_plan again with the whole plan.")
        )
        messages.append({"role": "tool", "tool_call_id": call.id, "content": feedback})
    raise PlannerError(f"no valid plan after {max_attempts} attempts", problems)
