"""The planner: it reads the code with read-only tools, within a budget, then submits a plan
through submit_plan, validated and sent back with its problems until it is right.

Its first message holds the goal and a map of the repository ranked by relevance to the goal
(workspace.ranked_map); list_files, read_file and search_code (llm.plan_tools) let it look
further; when its reading budget (llm.plan_budget) is spent it is told to submit, and the
tool choice is forced to submit_plan.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from maestro_tui.domain.plan import Plan, PlanError, parse_plan, validate_plan
from maestro_tui.domain.planning import PlanningProgress
from maestro_tui.llm.client import (
    Completion,
    LLMClient,
    LLMError,
    ToolCall,
    import_litellm_off_loop,
)
from maestro_tui.llm.plan_budget import DEFAULT_TURNS, ReadingBudget, context_window
from maestro_tui.llm.plan_tools import READ_TOOLS, PlanReader
from maestro_tui.llm.roles import normalize_role, role_summaries
from maestro_tui.workspace.ranked_map import ranked_map


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
First look at the code the goal touches: list_files, read_file and search_code are
read-only and cost tokens, so read what the plan depends on (the files tasks will change,
their callers, their tests) and stop when you know enough; you have {turns} turns for it.
Then split the goal into small tasks, each doable by one agent in a few minutes, and submit
them by calling the tool submit_plan exactly once. Rules:
- Each task names the files it will change or create ('files', relative paths); it sees only
  those files, the coding standards and summaries of the tasks it depends on.
- Tasks that touch the same lines must depend on each other, or they will conflict.
- 'depends_on' lists task ids that must be merged first; no cycles.
- Ids are short slugs (letters, digits, '-'); prompts say precisely what to do and how to
  check it.
- Every task has one of these roles:
{roles}"""
NO_TOOL = (
    "No tool call: read more with list_files, read_file or search_code, or call submit_plan "
    "with the plan."
)
NO_SUBMIT = "no submit_plan call: answer by calling the tool submit_plan"
SUBMIT_NOW = "Your reading budget is spent ({why}): call submit_plan now, with the whole plan."
FORCED = {"type": "function", "function": {"name": "submit_plan"}}


def planner_messages(
    goal: str,
    root: Path,
    roles: Mapping[str, str],
    budget: ReadingBudget | None = None,
    exclude: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """The planner's first request: the rules and roles, then the goal and the ranked map."""
    budget = budget or ReadingBudget.for_window(None)
    system = SYSTEM_PROMPT.format(turns=budget.turns, roles=role_summaries(dict(roles)))
    files = ranked_map(root, goal, budget.map_tokens, exclude)
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": f"Goal: {goal}\n\nRepository files:\n{files}"},
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
    *,
    max_turns: int = DEFAULT_TURNS,
    max_tokens: int | None = None,
    map_tokens: int | None = None,
    exclude: Iterable[str] = (),
) -> Plan:
    """Ask the planner model for a plan: it reads (within `max_turns` model calls and
    `max_tokens` tokens, by default scaled to its context window), then submits; a plan with
    problems goes back to it, `max_attempts` times at most. What it says (streamed), reads
    and spends goes to `progress`."""
    root = Path(root)
    await import_litellm_off_loop()
    budget = ReadingBudget.for_window(
        context_window(client.model), max_turns, max_tokens, map_tokens
    )
    messages = await asyncio.to_thread(planner_messages, goal, root, roles, budget, exclude)
    talk = _Conversation(messages, PlanReader(root, exclude, progress, budget.result_chars))
    tools = [*READ_TOOLS, SUBMIT_PLAN]
    while talk.attempts < max_attempts:
        if not talk.forced and (why := budget.spent(talk.turns, talk.tokens, talk.last_prompt)):
            talk.force(why)
        completion = await _ask(client, messages, tools, talk.forced, progress)
        talk.count(completion)
        if not completion.tool_calls:
            talk.no_tool_call(completion)
            continue
        plan = await talk.tool_calls(completion, lambda a: check_answer(a, goal, root, roles))
        if plan is not None:
            return plan
    raise PlannerError(f"no valid plan after {max_attempts} attempts", talk.problems)


class _Conversation:
    """The planner's messages so far, what it has spent, and the plans it has got wrong."""

    def __init__(self, messages: list[dict[str, Any]], reader: PlanReader) -> None:
        self.messages = messages
        self.reader = reader
        self.turns = self.tokens = self.attempts = self.last_prompt = 0
        self.forced = False  # the reading budget is spent: only submit_plan is allowed
        self.problems: list[str] = []

    def force(self, why: str) -> None:
        self.forced = True
        _tell(self.messages, SUBMIT_NOW.format(why=why))

    def count(self, completion: Completion) -> None:
        self.turns += 1
        self.tokens += completion.tokens_in + completion.tokens_out
        self.last_prompt = completion.tokens_in

    def no_tool_call(self, completion: Completion) -> None:
        """A plain answer: asked to use its tools (once forced, that counts as an attempt)."""
        self.messages.append({"role": "assistant", "content": completion.text or "(no answer)"})
        if self.forced:
            self.attempts += 1
            self.problems = [NO_SUBMIT]
        note = self.problems[0] if self.forced else NO_TOOL
        self.messages.append({"role": "user", "content": note})

    async def tool_calls(
        self, completion: Completion, check: Callable[[Mapping[str, Any] | str], Plan]
    ) -> Plan | None:
        """The plan submitted, if `check` finds it valid; else every call answered."""
        calls = completion.tool_calls
        self.messages.append(
            {
                "role": "assistant",
                "content": completion.text or None,
                "tool_calls": [_as_message(call) for call in calls],
            }
        )
        submitted = next((c for c in calls if c.name == "submit_plan"), None)
        results: dict[str, str] = {}
        if submitted is not None:
            try:
                return check(submitted.arguments)
            except PlanError as exc:
                self.problems = exc.problems
            self.attempts += 1
            results[submitted.id] = (
                "The plan was rejected:\n- "
                + "\n- ".join(self.problems)
                + "\nFix these problems and call submit_plan again with the whole plan."
            )
        elif self.forced:
            self.attempts += 1
            self.problems = [NO_SUBMIT]
        for call in calls:
            if call.id not in results:
                results[call.id] = await self._result(call)
        self.messages += [
            {"role": "tool", "tool_call_id": call.id, "content": results[call.id]} for call in calls
        ]
        return None

    async def _result(self, call: ToolCall) -> str:
        """What a call other than the one submit_plan is answered."""
        if call.name == "submit_plan":
            return "error: one submit_plan at a time"
        if self.forced:
            return "error: " + SUBMIT_NOW.format(why="no more reading")
        return await self.reader.execute(call.name, call.arguments)


async def _ask(
    client: LLMClient,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    forced: bool,
    progress: PlanningProgress | None,
) -> Completion:
    """One model call: its text streamed to `progress` (a turn's text ends its line), its
    usage told."""
    try:
        completion = await client.complete(
            messages,
            tools=tools,
            tool_choice=FORCED if forced else "auto",
            on_text=progress.said if progress is not None else None,
        )
    except LLMError as exc:
        raise PlannerError("the planner model failed", [str(exc)]) from None
    if progress is not None:
        if completion.text and not completion.text.endswith("\n"):
            progress.said("\n")  # its line ends before what comes next is told
        progress.spent(completion.tokens_in, completion.tokens_out, completion.cost_usd)
    return completion


def _as_message(call: ToolCall) -> dict[str, Any]:
    raw = json.dumps(call.arguments) if isinstance(call.arguments, dict) else "{}"
    return {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": raw}}


def _tell(messages: list[dict[str, Any]], note: str) -> None:
    """Add a note for the model: to the last tool result (some providers want no user turn
    between tool results and the next answer), else as a user message."""
    last = messages[-1]
    if last.get("role") == "tool":
        messages[-1] = {**last, "content": f"{last['content']}\n\n{note}"}
    else:
        messages.append({"role": "user", "content": note})
