"""A re-run: the same plan on the same base commit as a recorded run, with one thing changed,
paying only for the part under study. Shared by the CLI (`maestro-tui rerun`) and the TUI.

`prepare_rerun` reads the run re-run (its plan, the settings it recorded, how each task
ended), decides what runs again and what is taken over (domain/rerun.py), applies the
taken-over results onto its base commit in the order they merged there (one commit each, no
branch moved yet), and applies the changes asked for. Nothing is written. `take_over` is then
the `before_start` of the new session: it moves the new integration branch onto those
commits and records the link (RerunOf) and each task taken over (TaskTakenOver).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maestro_tui.config import Config, ConfigError, WorkerSpec, load_config
from maestro_tui.config.snapshot import settings_from_json, with_assignments
from maestro_tui.domain import events as ev
from maestro_tui.domain.plan import Plan, parse_plan
from maestro_tui.domain.rerun import RerunScope, ScopeError, rerun_scope
from maestro_tui.domain.state import RunState, fold
from maestro_tui.engine.orchestrator import Orchestrator
from maestro_tui.session.inputs import UserError, check_run_inputs
from maestro_tui.session.preflight import Preflight, check_tests
from maestro_tui.store.db import Store
from maestro_tui.store.records import RunSummary
from maestro_tui.workspace.repo import MERGED_TASK_TRAILER, Workspace, WorkspaceError
from maestro_tui.workspace.results import apply_change, merges_in_order


@dataclass(frozen=True)
class RerunRequest:
    """What the user asked for: which run, from which tasks, with what changed."""

    run: str
    from_tasks: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()
    worker: str | None = None
    model: str | None = None
    assignments: tuple[str, ...] = ()  # --set SECTION.KEY=VALUE

    @property
    def changes(self) -> tuple[str, ...]:
        out = [f"worker={self.worker}"] if self.worker else []
        out += [f"model={self.model}"] if self.model else []
        return (*out, *self.assignments)

    def command(self, run_id: str | None = None) -> str:
        """The same request as a command line."""
        parts = ["maestro-tui", "rerun", run_id or self.run]
        parts += [a for t in self.from_tasks for a in ("--from", t)]
        parts += [a for t in self.keep for a in ("--keep", t)]
        parts += ["--worker", self.worker] if self.worker else []
        parts += ["--model", self.model] if self.model else []
        parts += [a for s in self.assignments for a in ("--set", s)]
        return " ".join(parts)


@dataclass(frozen=True)
class Takeover:
    """Tasks taken over with one commit onto the new branch (None: nothing to merge)."""

    tasks: tuple[str, ...]
    commit: str | None
    source_commits: dict[str, str | None]  # task -> its result in the run re-run


@dataclass
class PreparedRerun:
    """Everything a re-run starts from, checked; nothing written yet."""

    request: RerunRequest
    source: RunSummary
    ws: Workspace
    config: Config
    env: dict[str, str]
    plan: Plan
    base_commit: str
    scope: RerunScope
    takeovers: list[Takeover]
    head: str  # the base commit with every taken-over result on it
    notes: list[str] = field(default_factory=list)

    def summary(self) -> list[str]:
        """What the user is told before it starts."""
        s = self.scope
        lines = [
            f"re-run of {self.source.run_id} on {self.base_commit[:9]}"
            + (f", with {', '.join(self.request.changes)}" if self.request.changes else ""),
            f"taken over as they merged ({len(s.taken_over)}): {', '.join(s.taken_over) or '-'}",
            f"runs again ({len(s.rerun)}): {', '.join(s.rerun) or '-'}",
        ]
        by_why: dict[str, list[str]] = {}
        for task in s.rerun:
            by_why.setdefault(s.why.get(task, ""), []).append(task)
        lines += [f"  {', '.join(tasks)}: {why}" for why, tasks in by_why.items()]
        return lines + self.notes

    def session_inputs(self, db_path: Path) -> dict[str, Any]:
        """The arguments of `start_session` (or the TUI's `run_new`) that record it."""
        return {
            "ws": self.ws,
            "config": self.config,
            "plan": self.plan,
            "db_path": db_path,
            "env": self.env,
            "base": self.base_commit,
            "before_start": self.take_over,
        }

    def take_over(self, orch: Orchestrator) -> None:
        """The new session's `before_start`: its branch onto the taken-over results, and the
        link to the run re-run, recorded."""
        branch = orch.state.integration_branch
        if self.head != self.base_commit and not self.ws.update_branch(
            branch, self.head, self.base_commit, f"maestro: take over from {self.source.run_id}"
        ):
            raise WorkspaceError(f"{branch} moved before the taken-over results were put on it")
        s = self.scope
        orch.bus.emit(
            ev.RerunOf,
            source=self.source.run_id,
            base_branch=self.source.base_branch,
            from_tasks=self.request.from_tasks,
            rerun=s.rerun,
            taken_over=s.taken_over,
            changes=self.request.changes,
            why_rerun=tuple((t, s.why.get(t, "")) for t in s.rerun),
        )
        for takeover in self.takeovers:
            for task in takeover.tasks:
                orch.bus.emit(
                    ev.TaskTakenOver,
                    task=task,
                    source=self.source.run_id,
                    source_commit=takeover.source_commits.get(task),
                    commit=takeover.commit,
                )


async def ready_rerun(
    db_path: Path,
    request: RerunRequest,
    say: Callable[[str], None],
    ask: Callable[[Preflight], bool] | None = None,
) -> tuple[PreparedRerun, Preflight | None]:
    """Prepare the re-run and say what it will do; check its inputs as a new run's are, and
    try the tests on the base with the taken-over results on it (the preflight). Bad input
    raises UserError with nothing written."""
    prepared = await prepare_rerun(db_path, request)
    for line in prepared.summary():
        say(line)
    check_run_inputs(prepared.ws, prepared.config, prepared.plan, prepared.base_commit)
    found = await check_tests(prepared.ws, prepared.config, prepared.head, prepared.env, say, ask)
    return prepared, found


async def prepare_rerun(db_path: Path, request: RerunRequest) -> PreparedRerun:
    """Read the run, decide the scope, apply the taken-over results; UserError for bad input."""
    store = await Store.open(db_path)
    try:
        source = await store.get_run(request.run)
        if source is None:
            raise UserError(f"no run '{request.run}' in {db_path}: see `maestro-tui runs`")
        if source.kind != "run":
            raise UserError(f"run {source.run_id} is an MCP session: it has no plan to re-run")
        events = await store.load_events(source.run_id)
    finally:
        await store.close()
    state = fold(events)
    plan_data = next((e.plan for e in reversed(events) if isinstance(e, ev.PlanProposed)), None)
    started = next((e for e in events if isinstance(e, ev.RunStarted)), None)
    if plan_data is None or started is None:
        raise UserError(f"run {source.run_id} has no plan recorded: nothing to re-run")
    # git work below: in a thread, so that the TUI keeps drawing meanwhile
    ws = await asyncio.to_thread(Workspace.open, Path(source.repo))
    notes: list[str] = []
    config, env = _settings(ws, events, notes)
    plan = parse_plan(plan_data, goal=state.goal)
    try:
        scope = rerun_scope(
            plan.graph(),
            {t.id: t.status.value for t in state.tasks.values()},
            request.from_tasks,
            request.keep,
        )
        config = with_assignments(config, request.assignments)
    except (ScopeError, ConfigError) as exc:
        raise UserError(str(exc)) from None
    base = started.base_commit
    scope, takeovers, head = await asyncio.to_thread(
        _take_over, ws, state, plan, scope, base, notes
    )
    plan, config = _changed(plan, config, scope, request)  # once the scope is final
    return PreparedRerun(
        request, source, ws, config, env, plan, base, scope, takeovers, head, notes
    )


def _settings(
    ws: Workspace, events: Sequence[ev.Event], notes: list[str]
) -> tuple[Config, dict[str, str]]:
    recorded = next((e for e in events if isinstance(e, ev.RunConfigured)), None)
    if recorded is not None:
        try:
            return settings_from_json(recorded.settings)
        except ConfigError as exc:
            notes.append(f"{exc}: using maestro.toml as it is now")
    else:
        notes.append("that run recorded no settings (an older maestro-tui): using maestro.toml")
    return load_config(ws.root), {}


def _changed(
    plan: Plan, config: Config, scope: RerunScope, request: RerunRequest
) -> tuple[Plan, Config]:
    """The plan and settings with --worker and --model applied to the tasks that run again."""
    rerun = set(scope.rerun)
    if request.worker is not None:
        if request.worker not in config.workers:
            raise UserError(
                f"--worker {request.worker}: no such worker; known: "
                + ", ".join(sorted(config.workers))
                + f" (add [workers.{request.worker}] to maestro.toml)"
            )
        tasks = tuple(
            dataclasses.replace(t, worker=request.worker) if t.id in rerun else t
            for t in plan.tasks
        )
        plan = Plan(goal=plan.goal, tasks=tasks)
    if request.model is not None:
        workers = dict(config.workers)
        for name in {t.worker or config.task_worker for t in plan.tasks if t.id in rerun}:
            spec = workers[name]
            if spec.kind == "demo":  # the demo worker is pinned to the demo model
                spec = WorkerSpec(name=name, kind="llm")
            workers[name] = dataclasses.replace(spec, model=request.model)
        config = dataclasses.replace(config, workers=workers)
    return plan, config


def _take_over(
    ws: Workspace, state: RunState, plan: Plan, scope: RerunScope, base: str, notes: list[str]
) -> tuple[RerunScope, list[Takeover], str]:
    """Apply the taken-over results onto `base` in the order they merged; a result that no
    longer applies (it conflicts without what runs again) runs again, with its dependents."""
    graph = plan.graph()
    while True:
        merged = {t for t in scope.taken_over if state.tasks[t].status.value == "merged"}
        if merged and ws.branch_head(state.integration_branch) is None:
            raise UserError(
                f"{state.integration_branch} is gone: the results of {', '.join(sorted(merged))}"
                " cannot be taken over; re-run every task (no --from, no --keep)"
            )
        order = merges_in_order(ws, state.integration_branch, base) if merged else []
        head, takeovers, done = base, [], set()
        failed: tuple[str, str] | None = None
        for commit, subject, tasks in order:
            take = [t for t in tasks if t in merged and t not in done]
            if not take:
                continue
            whole = set(tasks) <= merged  # the merge as it was, else each task's own commit
            for group in [take] if whole else [[t] for t in take]:
                change = commit if whole else state.tasks[group[0]].commit
                message = _message(group, state.run_id, subject)
                applied = apply_change(ws, change or commit, head, message)
                if applied.commit is None:
                    paths = ", ".join(applied.conflicts)
                    why = f"its result conflicts in {paths} without the tasks that run again"
                    failed = (group[0], why)
                    break
                sources = {t: state.tasks[t].commit for t in group}
                takeovers.append(Takeover(tuple(group), applied.commit, sources))
                head = applied.commit
                done.update(group)
            if failed:
                break
        if failed is None and (missing := sorted(merged - done)):
            failed = (missing[0], f"its merge is not on {state.integration_branch}")
        if failed is not None:
            notes.append(f"{failed[0]} runs again after all: {failed[1]}")
            scope = scope.demote(failed[0], failed[1], graph)
            continue
        nothing = [t for t in scope.taken_over if t not in merged]
        if nothing:
            takeovers.append(Takeover(tuple(nothing), None, dict.fromkeys(nothing)))
        return scope, takeovers, head


def _message(tasks: Sequence[str], source: str, subject: str) -> str:
    trailers = [f"Maestro-Run: {source}"]
    trailers += [f"{MERGED_TASK_TRAILER}: {t}" for t in tasks]
    trailers.append(f"Maestro-Taken-Over-From: {source}")
    return (
        f"Take over {', '.join(tasks)} from run {source}\n\n{subject}\n\n"
        + "\n".join(trailers)
        + "\n"
    )
