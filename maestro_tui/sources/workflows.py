"""Workflows: reusable task templates that expand over the repository's files into a Plan.

A workflow is a TOML table: ``[workflows.NAME]`` in maestro.toml, or a whole file
``workflows/NAME.toml`` at the repository root (the name is the file's stem). Built-ins ship
in ``maestro_tui/sources/builtin_workflows/``. Later sources win: built-in < ``workflows/`` <
maestro.toml.

Keys (all optional except as noted)::

    description = "Add tests for every module"
    match = ["src/**/*.py"]        # globs over the repo's files (git ls-files, ignored left out)
    exclude = ["**/__init__.py"]   # globs taken back out
    per = "file"                   # "file": a task per file; "directory": a task per directory
    batch = 1                      # files (or directories) per task
    role = "tester"                # the role of each expanded task (default "coder")
    title = "Tests for {module}"   # default "{workflow}: {file}"
    prompt = "Write tests for {module} in {file}."   # required with match
    files = ["{file}", "tests/test_{stem}.py"]       # files each task may change (default {file})
    id_prefix = "tests"            # expanded ids are PREFIX-<path slug> (default: the name)
    budget_tokens = 40000          # per expanded task
    candidates = 1                 # ensemble size per expanded task
    worker = "claude"              # a [workers.NAME] to run them (default: the run's)
    total_budget_tokens = 500000   # for the whole workflow

    [[stages]]                     # a chain: each stage depends on the one before
    id = "analyze"                 # required; also: title, role, prompt (required), files,
    prompt = "Reproduce: {goal}"   #   budget_tokens, candidates, worker

    [[then]]                       # tasks after everything above (e.g. a final review)
    id = "review"                  # same keys as a stage
    role = "reviewer"
    prompt = "Review the changes."

Globs match the whole repo-relative path; ``**`` spans directories, and a pattern without a
``/`` matches a file name in any directory (as in .gitignore). Placeholders in expanded
titles, prompts and files: ``{file}`` (the path, or directory with per = "directory"),
``{files}`` (all paths of the task), ``{module}`` (dotted: ``src/pkg/mod.py`` → ``pkg.mod``),
``{slug}`` (``pkg_mod``), ``{stem}`` (``mod``, or the directory's name), ``{dir}``,
``{goal}`` and ``{workflow}``; in stages and ``then`` tasks only ``{goal}`` and
``{workflow}``. Write ``{{`` for a literal brace.
In a batch, ``{file}``, ``{module}`` and ``{stem}`` are the members joined with ", ".
"""

from __future__ import annotations

import difflib
import re
import string
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from maestro_tui.domain.plan import ROLES, Plan, PlanError, Task, validate_plan
from maestro_tui.sources.paths import (
    Unit,
    batched_units,
    matching,
    path_slug,
    unique_id,
    unit_fields,
)
from maestro_tui.workspace.files import list_repo_files

WORKFLOWS_DIR = "workflows"
FILE_FIELDS = frozenset({"file", "files", "module", "slug", "stem", "dir", "goal", "workflow"})
STEP_FIELDS = frozenset({"goal", "workflow"})
_STEP_KEYS = ("id", "title", "role", "prompt", "files", "budget_tokens", "candidates", "worker")
_TOP_KEYS = (
    *("description", "match", "exclude", "per", "batch", "role", "title", "prompt", "files"),
    *("id_prefix", "budget_tokens", "candidates", "worker", "total_budget_tokens"),
    *("stages", "then"),
)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class WorkflowError(ValueError):
    """A workflow that cannot be loaded or expanded; each problem names the file and key."""

    def __init__(self, problems: str | list[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Step:
    """A fixed task of a workflow: one stage, or one task of `then`."""

    id: str
    prompt: str
    title: str = ""
    role: str = "coder"
    files: tuple[str, ...] = ()
    budget_tokens: int | None = None
    candidates: int = 1
    worker: str | None = None


@dataclass(frozen=True)
class ExpandedPlan:
    """A workflow's plan, with what the engine needs beyond it.

    `task_budgets` and `candidates` list only tasks that set them (the rest: run defaults,
    one candidate).
    """

    plan: Plan
    task_budgets: Mapping[str, int]
    total_budget_tokens: int | None
    candidates: Mapping[str, int]


@dataclass(frozen=True)
class Workflow:
    """A named template; `expand` turns it into a validated plan for one repository."""

    name: str
    source: str  # where it was defined, for messages
    description: str = ""
    match: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    per: str = "file"
    batch: int = 1
    template: Step | None = None  # the expanded tasks' title/role/prompt/files/budget
    id_prefix: str = ""
    stages: tuple[Step, ...] = ()
    then: tuple[Step, ...] = ()
    total_budget_tokens: int | None = None

    def expand(self, root: Path, goal: str = "") -> ExpandedPlan:
        """The plan for `root` (goal fills {goal}); WorkflowError if it matches nothing or
        does not validate."""
        where = f"workflow '{self.name}' ({self.source})"
        if not goal.strip() and self.uses_goal:
            raise WorkflowError(f"{where} needs a goal: its prompts use {{goal}}")
        tasks: list[Task] = []
        budgets: dict[str, int] = {}
        candidates: dict[str, int] = {}
        base = {"goal": goal, "workflow": self.name}

        def add(
            step: Step, fields: Mapping[str, str], files: Sequence[str], deps: Iterable[str]
        ) -> None:
            task = Task(
                id=step.id,
                title=(step.title or step.id).format_map(fields),
                prompt=step.prompt.format_map(fields),
                role=step.role,
                files=tuple(files),
                depends_on=tuple(deps),
                worker=step.worker,
            )
            tasks.append(task)
            if step.budget_tokens is not None:
                budgets[step.id] = step.budget_tokens
            if step.candidates > 1:
                candidates[step.id] = step.candidates

        if self.template is not None:
            groups = self._groups(root)
            if not groups:
                raise WorkflowError(
                    f"{where}: match {list(self.match)} (exclude {list(self.exclude)}) "
                    f"matched no files in {root}"
                )
            ids: set[str] = set()
            for n, group in enumerate(groups, start=1):
                label = group[0][0] if self.batch == 1 else f"{n:02d}"
                task_id = unique_id(f"{self.id_prefix or self.name}-{path_slug(label)}", ids)
                fields = {**base, **unit_fields(group)}
                files = _group_files(self.template.files, group, base)
                add(replace(self.template, id=task_id), fields, files, ())
        expanded = [t.id for t in tasks]
        previous: list[str] = expanded
        for stage in self.stages:
            add(stage, base, [f.format_map(base) for f in stage.files], previous)
            previous = [stage.id]
        after = [*expanded, *([self.stages[-1].id] if self.stages else [])]
        for step in self.then:
            add(step, base, [f.format_map(base) for f in step.files], after)
        plan = Plan(goal=goal or self.description or self.name, tasks=tuple(tasks))
        try:
            validate_plan(plan, repo_root=root)
        except PlanError as exc:
            raise WorkflowError([f"{where}: {p}" for p in exc.problems]) from exc
        return ExpandedPlan(plan, budgets, self.total_budget_tokens, candidates)

    @property
    def uses_goal(self) -> bool:
        """Its prompts, titles or files name {goal}: `run --workflow NAME GOAL` needs one."""
        steps = [*self.stages, *self.then, *([self.template] if self.template else [])]
        texts = [t for s in steps for t in (s.prompt, s.title, *s.files)]
        return any("goal" in _placeholders(t) for t in texts)

    def _groups(self, root: Path) -> list[list[Unit]]:
        """The units matched in `root`, batched."""
        names = matching(list_repo_files(Path(root)), self.match, self.exclude)
        return batched_units(names, self.per, self.batch)


def _group_files(
    templates: Sequence[str], group: Sequence[Unit], base: Mapping[str, str]
) -> list[str]:
    if not templates:
        return [f for _, files in group for f in files]
    out: list[str] = []
    for unit in group:
        fields = {**base, **unit_fields([unit])}
        out.extend(f for f in (t.format_map(fields) for t in templates) if f not in out)
    return out


def _placeholders(template: str) -> set[str]:
    """The field names a template uses; ValueError for a malformed one."""
    return {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}


# --- loading ---------------------------------------------------------------------------------


class _Reader:
    """Collects every problem of one workflow, each naming where it is and the key."""

    def __init__(self, where: str, roles: Iterable[str]) -> None:
        self.where = where
        self.roles = tuple(roles)
        self.problems: list[str] = []

    def bad(self, key: str, message: str) -> None:
        self.problems.append(f"{self.where}: {key} {message}")

    def unknown(self, table: Mapping[str, Any], known: Sequence[str], at: str = "") -> None:
        for key in (k for k in table if k not in known):
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            self.bad(f"{at}{key}", f"is not a workflow key{hint}")

    def text(self, table: Mapping[str, Any], key: str, at: str = "", fields: Any = None) -> str:
        value = table.get(key, "")
        if not isinstance(value, str):
            self.bad(at + key, f"must be a string, got {value!r}")
            return ""
        if fields is not None:
            self.template(at + key, value, fields)
        return value

    def template(self, key: str, value: str, fields: frozenset[str]) -> None:
        try:
            used = _placeholders(value)
        except ValueError as exc:
            self.bad(key, f"is not a valid template ({exc}); write {{{{ for a literal brace")
            return
        for name in sorted(used - fields):
            allowed = ", ".join("{" + f + "}" for f in sorted(fields))
            self.bad(key, f"uses unknown placeholder {{{name}}} (allowed: {allowed})")

    def globs(self, table: Mapping[str, Any], key: str, at: str = "", fields: Any = None) -> Any:
        value = table.get(key, [])
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.bad(at + key, f"must be a list of non-empty strings, got {value!r}")
            return ()
        for item in value if fields is not None else ():
            self.template(at + key, item, fields)
        return tuple(value)

    def integer(self, table: Mapping[str, Any], key: str, lo: int, at: str = "") -> int | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < lo:
            self.bad(at + key, f"must be an integer of at least {lo}, got {value!r}")
            return None
        return value

    def step(self, table: Mapping[str, Any], at: str, fields: frozenset[str], sid: str) -> Step:
        if at:  # a stage or then-task; the top-level keys are checked by parse_workflow
            self.unknown(table, _STEP_KEYS, at)
        role = self.text(table, "role", at) or "coder"
        if role not in self.roles:
            close = difflib.get_close_matches(role, self.roles, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            self.bad(at + "role", f"'{role}' is not a known role{hint}: {', '.join(self.roles)}")
        prompt = self.text(table, "prompt", at, fields)
        if not prompt.strip():
            self.bad(at + "prompt", "is required: say what the task must do")
        worker = self.text(table, "worker", at) or None
        return Step(
            id=sid or self.text(table, "id", at),
            prompt=prompt,
            title=self.text(table, "title", at, fields),
            role=role,
            files=self.globs(table, "files", at, fields),
            budget_tokens=self.integer(table, "budget_tokens", 1, at),
            candidates=self.integer(table, "candidates", 1, at) or 1,
            worker=worker,
        )

    def steps(self, table: Mapping[str, Any], key: str) -> tuple[Step, ...]:
        raw = table.get(key, [])
        if not isinstance(raw, list) or not all(isinstance(t, Mapping) for t in raw):
            self.bad(key, f"must be an array of tables ([[{key}]]), got {raw!r}")
            return ()
        out = []
        for n, entry in enumerate(raw, start=1):
            step = self.step(entry, f"{key}[{n}].", STEP_FIELDS, "")
            if not _NAME.fullmatch(step.id):
                self.bad(f"{key}[{n}].id", "is required: letters, digits, '-', '_' and '.'")
            out.append(step)
        return tuple(out)


def parse_workflow(
    name: str, table: Mapping[str, Any], source: str, roles: Iterable[str] = ROLES
) -> Workflow:
    """A Workflow from one parsed table; WorkflowError listing every problem, each located."""
    r = _Reader(f"{source}: workflow '{name}'", roles)
    if not _NAME.fullmatch(name):
        r.bad("name", "may hold only letters, digits, '-', '_' and '.'")
    r.unknown(table, _TOP_KEYS)
    per = table.get("per", "file")
    if per not in ("file", "directory"):
        r.bad("per", f"must be 'file' or 'directory', got {per!r}")
    match = r.globs(table, "match")
    template = None
    if match or "prompt" in table:
        template = r.step(table, "", FILE_FIELDS, sid="expanded")
        template = replace(template, title=template.title or "{workflow}: {file}")
        if not match:
            r.bad("match", "is required with a top-level prompt: which files to expand over")
    stages, then = r.steps(table, "stages"), r.steps(table, "then")
    if template is None and not stages and not then:
        r.bad("match", "or [[stages]] is required: a workflow needs something to expand")
    ids = [s.id for s in (*stages, *then)]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        r.bad("id", f"'{dup}' is used by more than one stage or then-task")
    workflow = Workflow(
        name=name,
        source=source,
        description=r.text(table, "description"),
        match=match,
        exclude=r.globs(table, "exclude"),
        per=per if per in ("file", "directory") else "file",
        batch=r.integer(table, "batch", 1) or 1,
        template=template,
        id_prefix=r.text(table, "id_prefix"),
        stages=stages,
        then=then,
        total_budget_tokens=r.integer(table, "total_budget_tokens", 1),
    )
    if r.problems:
        raise WorkflowError(r.problems)
    return workflow


def _read_toml(path: Any, label: str) -> Any:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise WorkflowError(f"{label}: cannot read: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise WorkflowError(f"{label}: not valid TOML: {exc}") from exc


def load_workflows(
    repo_root: Path,
    config_tables: Mapping[str, Any] | None = None,
    roles: Iterable[str] = ROLES,
    config_label: str = "maestro.toml",
) -> dict[str, Workflow]:
    """Built-ins, then REPO/workflows/*.toml, then maestro.toml's [workflows.NAME] tables;
    a later one of the same name wins. WorkflowError lists every problem of every source."""
    files = [
        (f, f"built-in {f.name}")
        for f in resources.files("maestro_tui.sources.builtin_workflows").iterdir()
    ]
    folder = Path(repo_root) / WORKFLOWS_DIR
    if folder.is_dir():
        files += [(f, f"{WORKFLOWS_DIR}/{f.name}") for f in folder.iterdir()]
    found: dict[str, Workflow] = {}
    problems: list[str] = []
    sources: list[tuple[str, Any, str]] = []
    for path, label in sorted(files, key=lambda f: (not f[1].startswith("built-in"), f[1])):
        if path.name.endswith(".toml"):
            try:
                sources.append((path.name[: -len(".toml")], _read_toml(path, label), label))
            except WorkflowError as exc:
                problems.extend(exc.problems)
    for name, table in (config_tables or {}).items():
        sources.append((name, table, f"{config_label} [workflows.{name}]"))
    for name, table, label in sources:
        if not isinstance(table, Mapping):
            problems.append(f"{label}: must be a table, got {table!r}")
            continue
        try:
            found[name] = parse_workflow(name, table, label, tuple(roles))
        except WorkflowError as exc:
            problems.extend(exc.problems)
    if problems:
        raise WorkflowError(problems)
    return found
