"""A coding CLI as the planner: Claude Code, Codex or Gemini CLI, read-only, in a scratch checkout.

The CLI the user already has (with its own login, or a key) explores the code with its own
read tools and answers with a plan in the schema of `submit_plan`; an answer `check_answer`
refuses goes back to the same session with the problems, as the model planner's does, a
bounded number of times. It starts as the run's workers start it — the `[workers.<cli>]`
table (argv, env, pass_env), its output parser, the [sandbox] — with the flags of
agents/read_only.py, in a detached checkout of HEAD that is removed afterwards whatever
happens. Its tokens and cost become `Completion`s like any model call's; what it says, reads
and spends goes to the `PlanningProgress`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from maestro_tui.agents.base import WorkerError, WorkerJob
from maestro_tui.agents.coding_cli import DIALECTS, CodingCliWorker
from maestro_tui.agents.read_only import PLANNING_CLIS, enforces_schema, read_only_argv
from maestro_tui.config import Config, ConfigError, WorkerSpec
from maestro_tui.domain.plan import Plan, PlanError, Task
from maestro_tui.domain.planning import PlanningProgress
from maestro_tui.llm.client import Completion, cost_usd
from maestro_tui.llm.planner import SUBMIT_PLAN, PlannerError, check_answer
from maestro_tui.llm.roles import load_roles, role_summaries
from maestro_tui.process import Sandbox, base_env
from maestro_tui.workspace.repo import Workspace

MAX_ATTEMPTS = 3
PLAN_SCHEMA: dict[str, Any] = SUBMIT_PLAN["function"]["parameters"]

PROMPT = """\
You plan the work of a team of coding agents who will work in parallel on the git repository
in your working directory. It is a checkout for you to read, not to change: read the code the
goal concerns before you plan (the files, their callers, their tests) with your read-only
tools, and change nothing.

Goal: {goal}

Split the goal into small tasks, each one agent's work of a few minutes:
- 'files': the paths (from the repository's top) the task will change or create; its agent
  sees only those, the coding standards, and what the tasks it depends on did.
- Two tasks that touch the same lines must be ordered by 'depends_on', or they will conflict.
- 'depends_on': ids of the tasks to merge before this one starts; no cycles.
- 'id': a short slug (letters, digits, '-'); 'prompt': precisely what to do and how to check.
- 'role', one of:
{roles}

{answer}"""
ENFORCED = (
    'Answer with the plan in the structured output you are asked for: {"tasks": [{"id",'
    ' "title", "role", "prompt", "files", "depends_on"}, ...]}.'
)
IN_PROMPT = (
    "Your last message is the plan and nothing else: one JSON object, without a code fence"
    " or any words around it, that matches this JSON schema:\n"
)
REPAIR = (
    "The plan was rejected:\n- {problems}\nFix these problems and answer again with the whole"
    " plan, in the same format."
)


def planner_cli(config: Config) -> WorkerSpec | None:
    """The worker whose coding CLI plans (`[llm] planner` names it), or None when a model
    plans; ConfigError for a worker that cannot plan read-only (Aider, a plain command)."""
    spec = config.workers.get(config.planner) if config.planner else None
    if spec is None:
        return None
    if spec.kind != "command" or spec.parser not in PLANNING_CLIS:
        raise ConfigError(
            f"[llm] planner = '{config.planner}': that worker cannot plan read-only; a planner"
            " is Claude Code, Codex or Gemini CLI ('claude', 'codex', 'gemini', or a worker"
            " with that parser), or a litellm model"
        )
    return spec


async def plan_with_cli(
    config: Config,
    spec: WorkerSpec,
    goal: str,
    root: Path,
    on_usage: Callable[[Completion], None] | None = None,
    progress: PlanningProgress | None = None,
    max_attempts: int = MAX_ATTEMPTS,
) -> Plan:
    """The CLI's plan of `goal` over the repository at `root` (see the module docstring)."""
    ws = await asyncio.to_thread(Workspace.open, root)
    ws.set_worktree_root(config.worktree_root)
    owner = f".planner-{os.getpid()}"  # no run yet, and no run id starts with a dot
    folder = ws.worktrees_dir() / owner
    checkout = ws.scratch_path(owner, "base")
    try:
        commit = await asyncio.to_thread(ws.head_commit)
        await asyncio.to_thread(ws.add_scratch_worktree, checkout, commit)
        planning = _Planning(config, spec, ws, checkout, folder / "agent", goal, progress)
        return await planning.run(on_usage, max_attempts)
    finally:
        await asyncio.shield(asyncio.to_thread(_remove, ws, checkout, folder))


def _remove(ws: Workspace, checkout: Path, folder: Path) -> None:
    ws.remove_worktree(checkout)
    shutil.rmtree(folder, ignore_errors=True)


class _Planning:
    """One planning conversation with the CLI: its worker, job and report."""

    def __init__(
        self,
        config: Config,
        spec: WorkerSpec,
        ws: Workspace,
        checkout: Path,
        agent_dir: Path,
        goal: str,
        progress: PlanningProgress | None,
    ) -> None:
        dialect = DIALECTS[spec.parser]
        self.cli = dialect.cli
        self.ws, self.checkout, self.goal, self.progress = ws, checkout, goal, progress
        self.roles = load_roles()
        argv = read_only_argv(dialect.name, spec.argv, agent_dir, PLAN_SCHEMA)
        self.worker = CodingCliWorker(
            replace(spec, argv=tuple(argv)),
            dialect,
            price=lambda model, i, o: cost_usd(model, i, o, config.prices) if model else None,
            stall_s=config.stall_s,
            limit_wait_s=config.limit_wait_s,
            refusal_is_error=False,  # a refused write is what read-only means
        )
        enforced = enforces_schema(dialect.name)
        answer = ENFORCED if enforced else IN_PROMPT + json.dumps(PLAN_SCHEMA, indent=1)
        self.prompt = PROMPT.format(goal=goal, roles=role_summaries(self.roles), answer=answer)
        run = Sandbox.for_run(config, ws.root, ws.common_dir, ws.worktree_roots())
        self.job = WorkerJob(
            run_id=checkout.parent.parent.name,
            task=Task(id="plan", title=f"Plan: {goal}", prompt=self.prompt),
            attempt=1,
            worktree=checkout,
            timeout_s=config.task_timeout_s,
            env=base_env(ws.agent_env()),
            agent_dir=agent_dir,
            # Its own folder writable (temp files, a CLI's home); the checkout only shown.
            sandbox=run and run.for_task(agent_dir).showing(checkout),
        )

    async def run(self, on_usage: Callable[[Completion], None] | None, attempts: int) -> Plan:
        """Ask, check, and send the problems back to the same session until a plan holds."""
        self.worker.preflight()  # not installed: WorkerError, bad input before anything
        report = PlanningReport(self.progress, on_usage)
        say = report.say
        say(f"{self.cli} plans, read-only, in a scratch checkout of HEAD")
        job, problems = self.job, []
        for attempt in range(1, attempts + 1):
            try:
                result = await self.worker.run(job, report)
            except WorkerError as exc:
                raise PlannerError(f"{self.cli} failed to plan", [str(exc)]) from None
            await asyncio.to_thread(self._discard_changes, say)
            try:
                return self._check(result.summary)
            except PlanError as exc:
                problems = exc.problems
            say(f"{self.cli}'s plan was rejected: " + "; ".join(problems))
            repair = REPAIR.format(problems="\n- ".join(problems))
            # Its own session, when it has one; else a new one told everything again.
            prompt = repair if result.session else f"{self.prompt}\n\n{repair}"
            task = replace(job.task, prompt=prompt)
            job = replace(job, task=task, attempt=attempt + 1, resume_session=result.session)
        raise PlannerError(f"no valid plan from {self.cli} after {attempts} attempts", problems)

    def _check(self, answer: str) -> Plan:
        data = answer_json(answer)
        problems = schema_problems(data, PLAN_SCHEMA)
        if problems:
            raise PlanError(problems)
        return check_answer(data, self.goal, self.ws.root, self.roles)

    def _discard_changes(self, say: Callable[[str], None]) -> None:
        """What it changed in its checkout despite the read-only flags (none was ever seen):
        said, and thrown away, so a later attempt reads the code as it is."""
        changed = self.ws.git("status", "--porcelain", cwd=self.checkout).out.splitlines()
        if changed:
            say(f"{self.cli} changed its read-only checkout; discarded: " + ", ".join(changed))
            self.ws.git("reset", "-q", "--hard", cwd=self.checkout)
            self.ws.git("clean", "-qfdx", cwd=self.checkout)


def answer_json(text: str) -> dict[str, Any]:
    """The JSON object a CLI answered with (a code fence or words around it tolerated), or
    PlanError saying what came instead."""
    text = text.strip()
    fenced = re.search(r"```(?:json)?\s*\n(.*?)\n\s*```", text, re.DOTALL)
    outermost = text[text.find("{") : text.rfind("}") + 1]
    candidates = [text, fenced.group(1) if fenced else "", outermost]
    for candidate in candidates:
        with contextlib.suppress(ValueError):
            data = json.loads(candidate)
            if isinstance(data, dict):
                return data
    shown = text if len(text) <= 300 else text[:300] + "…"
    raise PlanError([f"the answer is not a JSON object with the plan: {shown!r}"])


def schema_problems(data: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """What in `data` breaks the plan's schema (required keys, types), at most ten lines."""
    problems: list[str] = []
    _check_value(data, schema, "the plan", problems)
    return problems[:10]


_TYPES: dict[str, type | tuple[type, ...]] = {
    "object": dict, "array": list, "string": str, "integer": int, "number": (int, float),
    "boolean": bool,
}  # fmt: skip


def _check_value(value: Any, schema: Mapping[str, Any], where: str, problems: list[str]) -> None:
    kind = schema.get("type")
    expected = _TYPES.get(kind) if isinstance(kind, str) else None
    if expected is not None and not isinstance(value, expected):
        problems.append(f"{where}: must be {'an' if kind in ('object', 'array') else 'a'} {kind}")
        return
    if isinstance(value, dict):
        missing = [k for k in schema.get("required", ()) if k not in value]
        if missing:
            problems.append(f"{where}: missing {', '.join(repr(k) for k in missing)}")
        for key, sub in (schema.get("properties") or {}).items():
            if key in value:
                _check_value(value[key], sub, f"{where}, '{key}'", problems)
    elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for n, item in enumerate(value):
            label = f"task '{item['id']}'" if isinstance(item, dict) and "id" in item else ""
            _check_value(item, schema["items"], label or f"{where}[{n}]", problems)


@dataclass
class PlanningReport:
    """The Reporter a planning CLI's parser talks to: its words, reads and usage go to the
    PlanningProgress, its usage also to `on_usage` as Completions."""

    progress: PlanningProgress | None
    on_usage: Callable[[Completion], None] | None = None

    def say(self, text: str) -> None:
        if self.progress is not None:
            self.progress.said(text)

    def output(self, text: str, stream: str = "stdout") -> None:
        if stream == "llm" and text.strip():
            self.say(text)

    def usage(
        self,
        model: str,
        tokens_in: int,
        tokens_out: int,
        cost_usd: float | None,
        latency_s: float = 0.0,
        simulated: bool = False,
    ) -> None:
        completion = Completion(
            text="",
            tool_calls=[],
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost_usd=cost_usd,
            latency_s=latency_s,
            model=model,
            simulated=simulated,
        )
        if self.on_usage is not None:
            self.on_usage(completion)
        if self.progress is not None:
            self.progress.spent(tokens_in, tokens_out, cost_usd)

    def tool(self, tool: str, args: str = "", ok: bool = True, error: str = "") -> None:
        what = looked_at(tool, args)
        if what and ok and self.progress is not None:
            self.progress.read(what)

    def finding(self, text: str) -> None:
        pass

    def file_changed(self, path: str, change: str = "modified") -> None:
        self.say(f"it says it {change} {path} (in its read-only checkout)")

    def session(self, session_id: str, resumed: bool = False) -> None:
        pass

    def waiting(self, reason: str, retry_in_s: float) -> None:
        self.say(f"{reason}: waiting {retry_in_s:.0f} s")

    def stalled(self, silent_s: float) -> None:
        self.say(f"silent for {silent_s:.0f} s: stopped")


# Each CLI's read tools, as its parser reports them: what the tool's arguments name.
_READS = {"Read": "file_path", "read_file": "file_path", "read_many_files": "paths"}
_SEARCHES = {
    "Grep": "grep", "grep_search": "grep", "search_file_content": "grep", "Glob": "glob",
    "glob": "glob", "list_directory": "ls", "LS": "ls",
}  # fmt: skip
_ARG = re.compile(r"(\w+)=(.*?)(?=, \w+=|$)")
_SHELL = re.compile(r"^\S*sh -l?c '(.*)'$", re.DOTALL)


def looked_at(tool: str, args: str) -> str | None:
    """What a tool call of a CLI (as its parser reports it: a name, `key=value, …`) looked
    at: `src/x.py`, `src/x.py:10-49`, `grep def total src`, a shell command; None when the
    tool is not one that reads."""
    values: dict[str, str] = dict(_ARG.findall(args))
    if tool in _READS:
        what = values.get(_READS[tool], args)
        start, limit = values.get("offset", ""), values.get("limit", "")
        if start.isdigit() and limit.isdigit():  # lines start .. start + limit - 1
            return f"{what}:{start}-{int(start) + int(limit) - 1}"
        return what
    if tool in _SEARCHES:
        named = [values.get(k, "") for k in ("pattern", "path", "dir_path", "glob")]
        return " ".join([_SEARCHES[tool], *(v for v in named if v)]) or None
    if tool == "shell":  # Codex: every read is a command, wrapped in `bash -lc '…'`
        found = _SHELL.match(args)
        return found.group(1).replace("'\\''", "'") if found else args
    return None
