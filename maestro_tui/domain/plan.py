"""Plans: the tasks of a run and their dependencies, loaded from TOML or JSON and validated."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from maestro_tui.domain.dag import find_cycle

ROLES = ("coder", "tester", "doc_writer", "refactorer", "reviewer", "critic")
TASK_KEYS = {
    "id", "title", "role", "prompt", "files", "depends_on", "after", "worker", "candidates",
    "models", "select", "budget_tokens",
}  # fmt: skip
SELECTIONS = ("tests_first", "llm_judge", "vote")
MAX_CANDIDATES = 8


class PlanError(ValueError):
    """A plan that cannot run; `problems` lists each one, naming the task at fault."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid plan:\n  - " + "\n  - ".join(problems))


@dataclass(frozen=True)
class Task:
    """One small unit of work for one agent."""

    id: str
    title: str
    prompt: str
    role: str = "coder"
    files: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    # Ordered after these tasks only because they name a file this one names ([plan] overlaps):
    # it starts once they have settled, whatever their outcome, and needs none of their work.
    after: tuple[str, ...] = ()
    worker: str | None = None
    # An ensemble: this many independent candidates, each in its own worktree (optionally on
    # its own model); one is selected, the others stay as branches to inspect.
    candidates: int = 1
    models: tuple[str, ...] = ()
    select: str = "tests_first"
    budget_tokens: int | None = None  # this task's own token budget (a workflow stage's)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "role": self.role,
            "prompt": self.prompt,
            "files": list(self.files),
            "depends_on": list(self.depends_on),
        }
        if self.after:
            data["after"] = list(self.after)
        if self.worker:
            data["worker"] = self.worker
        if self.candidates != 1:
            data["candidates"] = self.candidates
        if self.models:
            data["models"] = list(self.models)
        if self.select != "tests_first":
            data["select"] = self.select
        if self.budget_tokens is not None:
            data["budget_tokens"] = self.budget_tokens
        return data


@dataclass(frozen=True)
class Plan:
    """A goal and the DAG of tasks that reaches it."""

    goal: str
    tasks: tuple[Task, ...]
    by_id: Mapping[str, Task] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {t.id: t for t in self.tasks})

    def to_dict(self) -> dict[str, Any]:
        return {"goal": self.goal, "tasks": [t.to_dict() for t in self.tasks]}

    def graph(self) -> dict[str, tuple[str, ...]]:
        """Task id -> ids it waits for (depends on, or runs after), for domain.dag."""
        return {t.id: (*t.depends_on, *t.after) if t.after else t.depends_on for t in self.tasks}


def _str_list(value: Any, where: str, key: str, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    problems.append(f"{where}: '{key}' must be a list of strings, got {value!r}")
    return ()


def parse_plan(data: Mapping[str, Any], goal: str | None = None) -> Plan:
    """Build a Plan from plain data (a parsed TOML/JSON document or a submit_plan call)."""
    problems: list[str] = []
    if not isinstance(data, Mapping):
        raise PlanError(
            [f"a plan must be an object with a 'tasks' list, got {type(data).__name__}"]
        )
    raw_tasks = data.get("tasks")
    if not isinstance(raw_tasks, list) or not raw_tasks:
        raise PlanError(["the plan has no tasks: give a non-empty 'tasks' list"])
    tasks: list[Task] = []
    for n, raw in enumerate(raw_tasks, start=1):
        task = _parse_task(raw, n, problems)
        if task is not None:
            tasks.append(task)
    if problems:
        raise PlanError(problems)
    plan_goal = goal if goal is not None else data.get("goal", "")
    return Plan(goal=str(plan_goal or ""), tasks=tuple(tasks))


def _parse_task(raw: Any, n: int, problems: list[str]) -> Task | None:
    """The plan's task number `n`; what is wrong with it goes to `problems` (None: no task)."""
    if not isinstance(raw, Mapping):
        problems.append(f"task #{n}: must be an object, got {type(raw).__name__}")
        return None
    task_id = raw.get("id")
    where = f"task '{task_id}'" if isinstance(task_id, str) and task_id else f"task #{n}"
    if not isinstance(task_id, str) or not task_id.strip():
        problems.append(f"{where}: missing 'id'")
        return None
    unknown = sorted(set(raw) - TASK_KEYS)
    if unknown:
        problems.append(f"{where}: unknown key(s) {', '.join(unknown)}")
    prompt, title, role, worker = _text_fields(raw, task_id, where, problems)
    candidates, budget = _count_fields(raw, where, problems)
    return Task(
        id=task_id.strip(),
        title=title,
        prompt=prompt,
        role=role,
        files=_str_list(raw.get("files"), where, "files", problems),
        depends_on=_str_list(raw.get("depends_on"), where, "depends_on", problems),
        after=_str_list(raw.get("after"), where, "after", problems),
        worker=worker,
        candidates=candidates,
        models=_str_list(raw.get("models"), where, "models", problems),
        select=str(raw.get("select", "tests_first")),
        budget_tokens=budget,
    )


def _text_fields(
    raw: Mapping[str, Any], task_id: str, where: str, problems: list[str]
) -> tuple[str, str, str, str | None]:
    """A task's prompt, title, role and worker; a wrong type is a problem, and a default."""
    prompt = raw.get("prompt", "")
    if not isinstance(prompt, str):
        problems.append(f"{where}: 'prompt' must be a string")
        prompt = ""
    title = raw.get("title") or task_id
    role = raw.get("role") or "coder"
    worker = raw.get("worker")
    if not isinstance(title, str) or not isinstance(role, str):
        problems.append(f"{where}: 'title' and 'role' must be strings")
        title, role = str(title), str(role)
    if worker is not None and not isinstance(worker, str):
        problems.append(f"{where}: 'worker' must be a string")
        worker = None
    return prompt, title, role, worker


def _count_fields(
    raw: Mapping[str, Any], where: str, problems: list[str]
) -> tuple[int, int | None]:
    """A task's number of candidates and its own token budget, checked as _text_fields."""
    candidates = raw.get("candidates", 1)
    if not isinstance(candidates, int) or isinstance(candidates, bool):
        problems.append(f"{where}: 'candidates' must be a whole number")
        candidates = 1
    budget = raw.get("budget_tokens")
    if budget is not None and (not isinstance(budget, int) or budget < 1):
        problems.append(f"{where}: 'budget_tokens' must be a positive whole number")
        budget = None
    return candidates, budget


def validate_plan(plan: Plan, repo_root: Path | None = None) -> Plan:
    """Check a plan can run; raise PlanError naming every offending task. Returns the plan."""
    problems: list[str] = []
    seen: set[str] = set()
    for task in plan.tasks:
        if task.id in seen:
            problems.append(f"task '{task.id}': duplicate id")
        seen.add(task.id)
        if not task.prompt.strip():
            problems.append(f"task '{task.id}': empty prompt")
        if not all(c.isalnum() or c in "-_." for c in task.id) or task.id.startswith("."):
            problems.append(
                f"task '{task.id}': id may hold only letters, digits, '-', '_' and '.'"
                " (it names a git branch)"
            )
        for dep in task.depends_on:
            if dep == task.id:
                problems.append(f"task '{task.id}': depends on itself")
            elif dep not in plan.by_id:
                problems.append(f"task '{task.id}': unknown dependency '{dep}'")
        for earlier in task.after:
            if earlier == task.id or earlier not in plan.by_id:
                what = "itself" if earlier == task.id else f"unknown task '{earlier}'"
                problems.append(f"task '{task.id}': runs after {what}")
        if not 1 <= task.candidates <= MAX_CANDIDATES:
            problems.append(
                f"task '{task.id}': candidates must be from 1 to {MAX_CANDIDATES},"
                f" got {task.candidates}"
            )
        if len(task.models) > task.candidates:
            problems.append(f"task '{task.id}': more models than candidates")
        if task.select not in SELECTIONS:
            problems.append(
                f"task '{task.id}': select must be one of {', '.join(SELECTIONS)},"
                f" got '{task.select}'"
            )
        for name in task.files:
            reason = _outside_reason(name, repo_root)
            if reason:
                problems.append(f"task '{task.id}': file '{name}' {reason}")
    if not problems:
        cycle = find_cycle(plan.graph())
        if cycle:
            problems.append("dependency cycle: " + " -> ".join(cycle))
    if problems:
        raise PlanError(problems)
    return plan


def _outside_reason(name: str, repo_root: Path | None) -> str | None:
    path = PurePosixPath(name)
    if path.is_absolute() or name.startswith("~"):
        return "is an absolute path; use a path relative to the repository"
    if ".." in path.parts:
        return "is outside the repository ('..')"
    if repo_root is not None:
        root = repo_root.resolve()
        resolved = (root / name).resolve()
        if resolved != root and root not in resolved.parents:
            return "resolves outside the repository (symlink?)"
    return None


def load_plan(path: Path, goal: str | None = None) -> Plan:
    """Read a plan file (.toml or .json); errors say which file and what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanError([f"cannot read plan file {path}: {exc.strerror or exc}"]) from exc
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            data = tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PlanError([f"{path} is not valid {path.suffix.lstrip('.').upper()}: {exc}"]) from exc
    return parse_plan(data, goal=goal)


def plan_to_toml(plan: Plan) -> str:
    """Write a plan as TOML in the format load_plan reads."""
    lines = [f"goal = {_toml_str(plan.goal)}", ""]
    for task in plan.tasks:
        lines.append("[[tasks]]")
        for key, value in task.to_dict().items():
            if key == "after":
                lines.append("# after: not a dependency; these name a file this task names")
            lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, str):
        return _toml_str(value)
    if isinstance(value, Iterable):
        return "[" + ", ".join(_toml_str(str(v)) for v in value) + "]"
    return str(value)


def _toml_str(value: str) -> str:
    if "\n" in value and "'''" not in value:
        return "'''\n" + value + "'''"
    return json.dumps(value, ensure_ascii=False)
