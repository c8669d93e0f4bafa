"""The MCP session: one server process's work, recorded as a run of kind "mcp".

The session's plan is the workflow: one task per stage, each depending on the one before, so
`runs`, the launcher's history and replay show it like any run. Entering a stage starts its
task (a new attempt per visit), leaving it finishes the task with the agent's summary; every
tool call is a ToolCalled event, every model call an LLMUsage event of the current stage.

The record is opened at the first tool call, not at start-up: agent CLIs start their MCP
servers on every launch, and a session that was never used leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path

from maestro_tui.config import Config, load_config
from maestro_tui.domain import events as ev
from maestro_tui.domain.dag import topological_layers
from maestro_tui.domain.plan import Plan, Task
from maestro_tui.domain.stages import RULES, STAGES, Stage, Workflow, WorkflowRefused
from maestro_tui.domain.state import RunState, RunStatus, reduce
from maestro_tui.engine.bus import EventBus
from maestro_tui.engine.context import task_context
from maestro_tui.engine.orchestrator import new_run_id
from maestro_tui.engine.reporter import TaskReporter
from maestro_tui.engine.runlock import run_lock
from maestro_tui.store.db import Store, StoreError
from maestro_tui.workspace.files import repo_map
from maestro_tui.workspace.repo import Workspace

KIND = "mcp"
WORKER = "mcp"  # the TaskStarted.worker of a stage: the calling agent, through these tools
MAP_MAX_AGE_S = 2.0
STORE_FLUSH_S = 0.5  # an older repo map is served once more while a fresh one is made


class ToolError(Exception):
    """A call that cannot go ahead; the message goes back to the agent as the tool's error."""


def stage_plan(goal: str) -> Plan:
    """The session's plan: the five stages, each after the one before."""
    tasks: list[Task] = []
    previous: tuple[str, ...] = ()
    for stage in STAGES:
        rule = RULES[stage]
        tasks.append(
            Task(
                id=stage.value,
                title=rule.title,
                prompt=rule.instructions,
                role=rule.role,
                depends_on=previous,
            )
        )
        previous = (stage.value,)
    return Plan(goal=goal, tasks=tuple(tasks))


class McpSession:
    """The recorded session; `open` makes the record, `close` ends it."""

    def __init__(self, repo: Path, db_path: Path) -> None:
        self.repo = repo
        self.db_path = db_path
        self.client = ""  # the agent's name, from the MCP handshake
        # What runs this session started have spent: the fleet fills this in.
        self.spent_elsewhere: Callable[[], float] = lambda: 0.0
        self._stack = AsyncExitStack()
        self._lock = asyncio.Lock()
        self._ws: Workspace | None = None
        self._config: Config | None = None
        self._store: Store | None = None
        self._bus: EventBus | None = None
        self.state = RunState()
        self.workflow = Workflow()
        self._map = ""
        self._map_at = 0.0
        self._map_task: asyncio.Task[None] | None = None

    # --- opening and closing -----------------------------------------------------------------

    @property
    def opened(self) -> bool:
        return self._bus is not None

    async def open(self) -> None:
        """Record the session (at most once): its run, its plan, and the analyze stage."""
        async with self._lock:
            if self._bus is not None:
                return
            try:
                ws = await asyncio.to_thread(Workspace.open, self.repo)
                config = await asyncio.to_thread(load_config, ws.root)
                ws.set_worktree_root(config.worktree_root)
            except Exception as exc:  # bad repo or maestro.toml: every tool says so
                raise ToolError(
                    f"{exc} (maestro-tui mcp serves the repository it starts in)"
                ) from None
            stack = self._stack
            # Committed every half second (not 50 ms as a run's): a session's events come a few
            # per tool call, and each commit costs the tool calls around it more than it saves.
            try:
                store = await Store.open(self.db_path, flush_interval=STORE_FLUSH_S)
            except StoreError as exc:
                raise ToolError(str(exc)) from None
            stack.push_async_callback(store.close)
            run_id = new_run_id()
            stack.enter_context(run_lock(self.db_path, run_id))
            from maestro_tui.llm.models import secrets_in_environment

            bus = EventBus(run_id)
            bus.redact(secrets_in_environment(config))
            bus.subscribe(store.append)
            bus.subscribe(self._follow)
            budgets = {s: (r.consults, r.ensembles) for s, r in RULES.items()}
            budgets.update({Stage(k): v for k, v in config.mcp_stage_budgets.items()})
            self.workflow = Workflow(budgets=budgets)
            self._ws, self._config, self._store, self._bus = ws, config, store, bus
            goal = "MCP session" + (f" of {self.client}" if self.client else "")
            bus.emit(
                ev.RunStarted,
                goal=goal,
                repo=str(ws.root),
                base_branch=ws.current_branch(),
                base_commit=ws.head_commit(),
                integration_branch="",
                merge_policy="",
                max_agents=1,
                budget_usd=config.mcp_budget_usd,
                kind=KIND,
            )
            plan = stage_plan(goal)
            layers = tuple(tuple(layer) for layer in topological_layers(plan.graph()))
            bus.emit(ev.PlanProposed, plan=plan.to_dict(), layers=layers)
            bus.emit(ev.PlanApproved)
            self._enter(Stage.ANALYZE, "")

    def _follow(self, event: ev.Event) -> None:
        self.state = reduce(self.state, event)

    async def close(self) -> None:
        """End the session's record: its stage is done, the run succeeded (it did what it was
        asked); the store is flushed and the lock released."""
        if self._map_task is not None:
            self._map_task.cancel()
        if self._bus is not None and self.workflow.current is not None:
            self._leave("the session ended")
            self._bus.emit(
                ev.RunFinished, status=RunStatus.SUCCEEDED.value, merged=0, failed=0, waiting=0
            )
        await self._stack.aclose()

    # --- what the tools use --------------------------------------------------------------------

    @property
    def ws(self) -> Workspace:
        assert self._ws is not None, "open() first"
        return self._ws

    @property
    def config(self) -> Config:
        assert self._config is not None, "open() first"
        return self._config

    @property
    def store(self) -> Store:
        assert self._store is not None, "open() first"
        return self._store

    @property
    def bus(self) -> EventBus:
        assert self._bus is not None, "open() first"
        return self._bus

    @property
    def run_id(self) -> str:
        return self.bus.run_id

    @property
    def stage(self) -> Stage:
        assert self.workflow.current is not None
        return self.workflow.current

    def reporter(self, purpose: str = "consult", candidate: int | None = None) -> TaskReporter:
        """Reports of the current stage's visit: its log lines, model calls and tool calls."""
        visit = self.workflow.visits.get(self.stage, 1)
        return TaskReporter(self.bus, self.stage.value, visit, candidate=candidate, purpose=purpose)

    def enter(self, stage: Stage, summary: str) -> bool:
        """Move the workflow to `stage` (WorkflowRefused if it may not go there); the stage left
        is finished with `summary`. True if this is a new visit."""
        moved = self.workflow.enter(stage)
        if moved is self.workflow:
            return False
        self._leave(summary)
        self._enter(stage, summary)
        return True

    def _leave(self, summary: str) -> None:
        stage = self.workflow.current
        if stage is not None:
            visit = self.workflow.visits.get(stage, 1)
            self.bus.emit(ev.TaskFinished, task=stage.value, attempt=visit, summary=summary)

    def _enter(self, stage: Stage, summary: str) -> None:
        self.workflow = self.workflow.enter(stage)
        visit = self.workflow.visits[stage]
        self.bus.emit(ev.TaskStarted, task=stage.value, attempt=visit, worker=WORKER)

    def spend(self, kind: str) -> None:
        """Count a consult or an ensemble against the stage, or ToolError with its budget."""
        try:
            self.workflow = self.workflow.spend(kind)
        except WorkflowRefused as exc:
            raise ToolError(str(exc)) from None

    def refund(self, kind: str) -> None:
        self.workflow = self.workflow.refund(kind)

    # --- money -----------------------------------------------------------------------------------

    def spent_usd(self) -> float:
        """This session's model calls plus what the runs it started have spent."""
        return self.state.cost_usd + self.spent_elsewhere()

    def check_budget(self) -> None:
        """ToolError once the session has spent its [mcp] budget_usd."""
        limit = self.config.mcp_budget_usd
        spent = self.spent_usd()
        if limit is not None and spent >= limit:
            raise ToolError(
                f"the MCP session has spent ${spent:.4f} of its budget of ${limit:.4f}"
                " ([mcp] budget_usd in maestro.toml): raise it to go on"
            )

    def budget_left(self) -> float | None:
        limit = self.config.mcp_budget_usd
        return None if limit is None else max(0.0, limit - self.spent_usd())

    def note_spending(self) -> None:
        """A warning event at 80 % of the budget and an exceeded one at 100 %, once each."""
        limit = self.config.mcp_budget_usd
        if limit is None:
            return
        used = self.spent_usd()
        if used >= 0.8 * limit and "usd" not in self.state.budget_warned:
            self.bus.emit(ev.BudgetWarning, kind="usd", used=used, limit=limit)
        if used >= limit and "usd" not in self.state.budget_exceeded:
            self.bus.emit(ev.BudgetExceeded, kind="usd", used=used, limit=limit)

    # --- context -----------------------------------------------------------------------------

    def run_context(self, stage: Stage) -> str:
        """What a worker on this stage's task would be told: standards, earlier stages' summaries
        and findings (the same `task_context`)."""
        task = stage_plan("").by_id[stage.value]
        return task_context(task, self.state, self.ws.root, self.config.standards_file)

    async def repo_map(self) -> str:
        """The repository map; one older than MAP_MAX_AGE_S is served while a fresh one is made,
        so a call waits for git and the file parse only the first time."""
        if not self._map:
            await self._refresh_map()
        elif time.monotonic() - self._map_at > MAP_MAX_AGE_S and self._map_task is None:
            self._map_task = asyncio.get_running_loop().create_task(self._refresh_map())
        return self._map

    async def _refresh_map(self) -> None:
        try:
            self._map = await asyncio.to_thread(repo_map, self.ws.root, self.config.exclude)
            self._map_at = time.monotonic()
        finally:
            self._map_task = None
