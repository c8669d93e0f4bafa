"""A run's lifecycle, shared by both front ends: check, start, reopen, resume, drive, close.

Nothing here knows which front end drives the run: the TUI and the headless commands both
start and reopen runs through these functions, and differ only in what they subscribe.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from maestro_tui.config import Config, load_config
from maestro_tui.config.snapshot import settings_json
from maestro_tui.domain import events as ev
from maestro_tui.domain.overlaps import arrange_overlaps
from maestro_tui.domain.plan import Plan, Task, parse_plan
from maestro_tui.domain.state import RunState, RunStatus, fold
from maestro_tui.engine.bus import EventBus, Subscriber
from maestro_tui.engine.merge import Candidate
from maestro_tui.engine.orchestrator import Orchestrator, RunSetup, new_run_id
from maestro_tui.engine.runlock import run_lock
from maestro_tui.session.inputs import (
    UserError,
    bad_input_errors,
    check_run_inputs,
    check_sandbox,
)
from maestro_tui.session.setup import (
    RunSession,
    TerminalWriter,
    assemble,
    connect_executor,
    open_store,
    set_up_process,
)
from maestro_tui.session.workers import WorkerPool
from maestro_tui.store.db import Store
from maestro_tui.workspace.repo import Workspace

if TYPE_CHECKING:
    from maestro_tui.llm.client import Completion
    from maestro_tui.store.records import RunSummary
    from maestro_tui.workspace.preflight import Preflight

MergeHints = Callable[[Candidate], list[str]]

__all__ = [
    "MergeHints",
    "RunSession",
    "TerminalWriter",
    "UserError",
    "bad_input_errors",
    "check_run_inputs",
    "drive",
    "open_session",
    "resume",
    "start_session",
    "take_over",
]


async def start_session(
    *,
    ws: Workspace,
    config: Config,
    plan: Plan,
    db_path: Path,
    subscribers: Sequence[Subscriber] = (),
    workers: WorkerPool | None = None,
    env: Mapping[str, str] | None = None,
    planner_usage: Sequence[Completion] = (),
    merge_hints: MergeHints | None = None,
    merge_policy: str | None = None,
    max_agents: int | None = None,
    terminal: TerminalWriter | None = None,
    base: str | None = None,
    preflight: Preflight | None = None,
    before_start: Callable[[Orchestrator], None] | None = None,
) -> RunSession:
    """Record a new run (integration branch, RunStarted, PlanProposed, RunConfigured); the
    plan is not approved.

    The planner's calls, made before the run existed, are recorded as its first usage; the
    preflight's test run on the base is what the merge gate knows of the base. Tasks that
    name a common file are ordered first under [plan] overlaps = "serialize".
    `before_start` acts on the recorded run before anything runs (a re-run takes tasks over).
    """
    from maestro_tui.llm import models  # the model wiring; not needed for --help

    set_up_process()
    plan = arrange_overlaps(plan, config.plan_overlaps)  # as the review showed it, if it did
    workers = workers or check_run_inputs(ws, config, plan, base)
    ws.set_worktree_root(config.worktree_root)
    stack = AsyncExitStack()
    try:
        bus = EventBus(new_run_id())
        executor = await connect_executor(ws, config, bus, stack)  # a bad cluster: before any write
        store = await open_store(db_path, stack)
        stack.enter_context(run_lock(db_path, bus.run_id))
        critic, judge = models.make_critic(config), models.make_judge(config, plan)
        setup = RunSetup(ws, config, workers, bus, dict(env or {}), critic, judge, executor)
        policy, agents = merge_policy or config.merge_policy, max_agents or config.max_agents

        def record(setup: RunSetup) -> Orchestrator:
            return Orchestrator.start(
                setup, plan, merge_policy=policy, max_agents=agents, base=base
            )

        session = assemble(stack, store, setup, record, subscribers, terminal)
        orch = session.orch
        named = {t.id: workers(t).name for t in plan.tasks}
        bus.emit(ev.RunConfigured, settings=settings_json(config, env or {}), workers=named)
        if before_start is not None:
            before_start(orch)
        if merge_hints is not None:
            orch.merge_queue.extra_reasons = merge_hints
        _first_usage(bus, orch, planner_usage, preflight)
    except BaseException:
        await stack.aclose()
        raise
    return session


def _first_usage(
    bus: EventBus, orch: Orchestrator, usage: Sequence[Completion], preflight: Preflight | None
) -> None:
    """The planner's calls, recorded as the run's; and the preflight's test run on the base,
    recorded, and known to the merge gate."""
    record_usage(bus, usage)
    if preflight is None:
        return
    r = preflight.result
    bus.emit(
        ev.BaseTested,
        commit=preflight.commit,
        passed=r.passed,
        n_passed=r.n_passed,
        n_failed=r.n_failed,
        duration_s=round(r.duration_s, 3),
        gate_width=orch.merge_queue.fit_gate(r.duration_s),
    )
    trials = orch.merge_queue.trials
    if trials is not None:
        trials.seed(preflight.commit, preflight.tree, r, "preflight")


async def open_session(
    db_path: Path,
    run_ref: str,
    subscribers: Sequence[Subscriber] = (),
    terminal: TerminalWriter | None = None,
    *,
    max_agents: int | None = None,
    as_recorded: bool = False,
) -> RunSession:
    """Reopen a recorded run (to resume it, decide a merge or land it), holding its lock;
    `max_agents`: how many agents at once if it runs here, when not as it was recorded;
    `as_recorded`: with the settings the run recorded (its flags, the demo's environment),
    not maestro.toml as it is now."""
    from maestro_tui.llm import models

    set_up_process()
    stack = AsyncExitStack()
    try:
        store = await open_store(db_path, stack)
        summary = await _recorded(store, db_path, run_ref)
        stack.enter_context(run_lock(db_path, summary.run_id))
        ws = Workspace.open(Path(summary.repo))
        events = await store.load_events(summary.run_id)
        config, env = _settings(ws, events, as_recorded)
        ws.set_worktree_root(config.worktree_root)
        await asyncio.to_thread(check_sandbox, ws, config)
        plan, state = recorded_run(summary.run_id, events)
        last = events[-1] if events else None
        bus = EventBus(
            summary.run_id,
            next_seq=(last.seq + 1) if last else 1,
            start_ts=last.ts if last else 0.0,
        )
        critic, judge = models.make_critic(config), models.make_judge(config, plan)
        setup = RunSetup(
            ws, config, WorkerPool(config), bus, env=env, critic=critic, judge=judge,
            max_agents=max_agents,
        )  # fmt: skip

        def reopen(setup: RunSetup) -> Orchestrator:
            return Orchestrator(setup, plan, state)

        return assemble(stack, store, setup, reopen, subscribers, terminal)
    except BaseException:
        await stack.aclose()
        raise


def _settings(
    ws: Workspace, events: Sequence[ev.Event], as_recorded: bool
) -> tuple[Config, dict[str, str]]:
    """maestro.toml as it is now, or the run's recorded settings (RunConfigured)."""
    from maestro_tui.config.snapshot import settings_from_json

    recorded = [e for e in events if isinstance(e, ev.RunConfigured)]
    if as_recorded and recorded:
        return settings_from_json(recorded[-1].settings)
    return load_config(ws.root), {}


async def take_over(
    db_path: Path, run_ref: str, subscribers: Sequence[Subscriber] = ()
) -> RunSession:
    """A run a front end has just recorded and hands to this process, its engine: opened
    with its recorded settings, on its cluster if it runs on one."""
    session = await open_session(db_path, run_ref, subscribers, as_recorded=True)
    try:
        orch = session.orch
        executor = await connect_executor(orch.ws, orch.config, orch.bus, session._stack)
        if executor is not None:
            orch.use_executor(executor)
    except BaseException:
        await session.aclose()
        raise
    return session


async def _recorded(store: Store, db_path: Path, run_ref: str) -> RunSummary:
    """The recorded run `run_ref` names, if it is a run (not an MCP session)."""
    summary = await store.get_run(run_ref)
    if summary is None:
        raise UserError(f"no run '{run_ref}' in {db_path}: see `maestro-tui runs`")
    if summary.kind != "run":
        raise UserError(
            f"run {summary.run_id} is an MCP session (an agent calling maestro's tools):"
            f" it has no tasks to resume, merge or land; replay it with"
            f" `maestro-tui replay {summary.run_id}`"
        )
    return summary


def recorded_run(run_id: str, events: Sequence[ev.Event]) -> tuple[Plan, RunState]:
    """A run's plan and state from its stored events; ValueError when it has no plan."""
    plans = [e.plan for e in events if isinstance(e, ev.PlanProposed | ev.PlanRevised)]
    if not plans:
        raise ValueError(f"run {run_id} has no plan recorded: nothing to resume")
    state = fold(events)
    return parse_plan(plans[-1], goal=state.goal), state


async def resume(
    db_path: Path,
    run_ref: str,
    *,
    subscribers: Sequence[Subscriber] = (),
    max_agents: int | None = None,
    budgets: Mapping[str, float | None] | None = None,
    retry_task: str | None = None,
    resolve_task: str | None = None,
    terminal: TerminalWriter | None = None,
) -> tuple[RunSession, bool]:
    """Reopen a run to finish it: drop `retry_task`'s waiting result so it runs again, raise
    budgets, and send interrupted tasks back to the queue.

    Returns the session and whether there is anything to run; a run with nothing left can
    still be shown (its waiting merges reviewed, say).
    """
    session = await open_session(db_path, run_ref, subscribers, terminal, max_agents=max_agents)
    try:
        orch = session.orch
        if retry_task:
            try:
                orch.merges.requeue(retry_task)
            except KeyError as exc:
                raise UserError(exc.args[0]) from None
        if resolve_task:
            try:
                await orch.merges.resolve_with_agent(resolve_task)
            except (KeyError, ValueError) as exc:
                raise UserError(exc.args[0] if isinstance(exc, KeyError) else str(exc)) from None
        for kind, limit in (budgets or {}).items():
            if limit is not None:
                orch.raise_budget(kind, limit)
        state = orch.state
        if state.settled and state.status is not RunStatus.INTERRUPTED:
            return session, False
        # Only a run that goes on needs the cluster: reviewing or landing one does not.
        executor = await connect_executor(orch.ws, orch.config, orch.bus, session._stack)
        if executor is not None:
            orch.use_executor(executor)
        orch.resume()
    except BaseException:
        await session.aclose()
        raise
    return session, True


async def drive(orch: Orchestrator, *, wait_for_review: bool = False) -> RunState:
    """Run to the end; SIGINT/SIGTERM pause the run safely (it can be resumed)."""
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, main.cancel)
    try:
        return await orch.run(wait_for_review=wait_for_review)
    except asyncio.CancelledError:
        main.uncancel()
        return orch.state
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


def forecast(config: Config, plan: Plan) -> str | None:
    """A labelled cost estimate of the plan's model work: LLM workers on their model, coding
    CLIs on theirs (as set, or as their own variable or config says) with the prompt they send
    every turn; None when no task runs on a model we can name (plain commands)."""
    from maestro_tui.agents.coding_cli import DIALECTS
    from maestro_tui.llm.forecast import describe_estimate, estimate_cost
    from maestro_tui.llm.models import resolve_model
    from maestro_tui.process import base_env

    groups: dict[tuple[str, int], list[Task]] = {}
    kinds = {config.workers[t.worker or config.task_worker].kind for t in plan.tasks}
    for task in plan.tasks:
        spec = config.workers[task.worker or config.task_worker]
        dialect = DIALECTS.get(spec.parser)
        if spec.kind in ("llm", "demo"):
            llm = "demo" if kinds == {"demo"} else (spec.model or config.model)
            key = (resolve_model(llm, "coder"), 0)
        elif spec.kind == "command" and dialect is not None:
            env = base_env(spec.env, spec.pass_env)
            model = spec.model or env.get(dialect.model_variable, "")
            key = (model or dialect.configured_model(env), dialect.prompt_tokens)
        else:
            continue
        groups.setdefault(key, []).append(task)
    if not groups:
        return None
    low = high = 0.0
    unknown: list[str] = []
    for (model, prompt_tokens), tasks in groups.items():
        part = replace(plan, tasks=tuple(tasks))
        estimate = estimate_cost(part, model, config.prices, prompt_tokens) if model else None
        if estimate is None:
            unknown.append(f"{len(tasks)} task(s) on {model or 'an unnamed model'}")
            continue
        low, high = low + estimate[0], high + estimate[1]
    if len(unknown) == len(groups):
        return describe_estimate(None) + " (an estimate)"
    text = describe_estimate((low, high)) + " (an estimate)"
    return text + (f"; unknown for {', '.join(unknown)}" if unknown else "")


def record_usage(bus: EventBus, usage: Sequence[Completion]) -> None:
    """Model calls made before the run existed (the planner's), as LLMUsage events of no task."""
    for c in usage:
        bus.emit(
            ev.LLMUsage,
            task=None,
            model=c.model,
            tokens_in=c.tokens_in,
            tokens_out=c.tokens_out,
            cost_usd=c.cost_usd,
            latency_s=c.latency_s,
            simulated=c.simulated,
            purpose="planner",
        )
