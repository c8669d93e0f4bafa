"""What each CLI command does, headless. cli.py parses and maps errors to exit codes."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from maestro_tui.agents.base import Worker
from maestro_tui.agents.registry import make_worker
from maestro_tui.config import Config, ConfigError, load_config
from maestro_tui.domain import events as ev
from maestro_tui.domain.plan import Plan, Task, validate_plan
from maestro_tui.domain.state import RunState, RunStatus
from maestro_tui.engine.bus import EventBus, Subscriber
from maestro_tui.engine.orchestrator import Orchestrator, RunSetup, new_run_id
from maestro_tui.engine.runlock import run_lock
from maestro_tui.exit_codes import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REVIEW,
    EXIT_TASK_FAILED,
)
from maestro_tui.headless import Printer
from maestro_tui.store.db import Store
from maestro_tui.workspace.repo import Workspace

EXIT_FOR_STATUS = {
    RunStatus.SUCCEEDED: EXIT_OK,
    RunStatus.FAILED: EXIT_TASK_FAILED,
    RunStatus.CANCELLED: EXIT_TASK_FAILED,
    RunStatus.WAITING: EXIT_REVIEW,
    RunStatus.INTERRUPTED: EXIT_INTERRUPTED,
    RunStatus.BUDGET_EXHAUSTED: EXIT_TASK_FAILED,
}


class UserError(Exception):
    """Bad input found by a command itself (exit code 2)."""


@dataclass
class Output:
    stream: TextIO = sys.stdout
    as_json: bool = False
    show_output: bool = True


class WorkerPool:
    """Builds each named worker once; every task's worker is checked before the run starts."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._made: dict[str, Worker] = {}

    def name_for(self, task: Task) -> str:
        return task.worker or self._config.default_worker

    def check(self, plan: Plan) -> None:
        for task in plan.tasks:
            name = self.name_for(task)
            if name not in self._config.workers:
                known = ", ".join(sorted(self._config.workers)) or "none"
                raise ConfigError(
                    f"task '{task.id}' asks for worker '{name}', which is not defined"
                    f" (known: {known}); add [workers.{name}] to maestro.toml"
                )
            preflight = getattr(self(task), "preflight", None)
            if preflight is not None:
                preflight()

    def for_model(self, task: Task, model: str) -> Worker:
        """An LLM worker on a given model (an ensemble candidate's own model)."""
        from maestro_tui.config import WorkerSpec

        key = f"llm:{model}"
        if key not in self._made:
            spec = WorkerSpec(name=key, kind="llm", model=model)
            self._made[key] = make_worker(spec, self._config)
        return self._made[key]

    def __call__(self, task: Task) -> Worker:
        name = self.name_for(task)
        if name not in self._made:
            self._made[name] = make_worker(self._config.workers[name], self._config)
        return self._made[name]


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


def final_status(state: RunState) -> RunStatus:
    """The status a run ended with, or would end with now if it has not finished."""
    return state.status if state.status in EXIT_FOR_STATUS else state.outcome()


def exit_code(state: RunState) -> int:
    """The CLI's exit code for where a run stands: 0 / 1 / 3 / 130."""
    return EXIT_FOR_STATUS.get(final_status(state), EXIT_TASK_FAILED)


def _exit_code(state: RunState, out: Output) -> int:
    """The exit code, after telling a person how to go on with an unfinished run."""
    status = final_status(state)
    if status is RunStatus.WAITING and not out.as_json:
        waiting = len(state.waiting_merges)
        print(
            f"{waiting} merge(s) wait for review: maestro-tui merges {state.run_id}",
            file=out.stream,
        )
    if status is RunStatus.BUDGET_EXHAUSTED and not out.as_json:
        print(
            f"budget spent: raise it and go on with maestro-tui resume {state.run_id}"
            " --budget-usd AMOUNT",
            file=out.stream,
        )
    if status is RunStatus.INTERRUPTED and not out.as_json:
        print(f"run interrupted: maestro-tui resume {state.run_id}", file=out.stream)
    return exit_code(state)


class RunSession:
    """An orchestrator together with its store and run lock; closing it releases both."""

    def __init__(self, orch: Orchestrator, store: Store, stack: AsyncExitStack) -> None:
        self.orch = orch
        self.store = store
        self._stack = stack

    async def aclose(self) -> None:
        await self._stack.aclose()

    async def __aenter__(self) -> RunSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _models() -> Any:
    """The model wiring, imported when a run is set up (it is not needed for --help)."""
    from maestro_tui.llm import models

    return models


def check_run_inputs(ws: Workspace, config: Config, plan: Plan) -> WorkerPool:
    """Everything that can be wrong with a new run, found before anything is written."""
    validate_plan(plan, repo_root=ws.root)
    workers = WorkerPool(config)
    workers.check(plan)
    ws.check_clean_for(f for t in plan.tasks for f in t.files)
    return workers


async def start_session(
    *,
    ws: Workspace,
    config: Config,
    plan: Plan,
    db_path: Path,
    merge_policy: str,
    max_agents: int,
    subscribers: Sequence[Subscriber] = (),
    workers: WorkerPool | None = None,
    env: Mapping[str, str] | None = None,
) -> RunSession:
    """Record a new run (integration branch, RunStarted, PlanProposed); the plan is not approved."""
    workers = workers or check_run_inputs(ws, config, plan)
    run_id = new_run_id()
    stack = AsyncExitStack()
    try:
        store = await Store.open(db_path)
        stack.push_async_callback(store.close)
        stack.enter_context(run_lock(db_path, run_id))
        bus = EventBus(run_id)
        bus.redact(_models().secrets_in_environment(config))
        bus.subscribe(store.append)
        for subscriber in subscribers:
            bus.subscribe(subscriber)
        setup = RunSetup(
            ws=ws,
            config=config,
            workers=workers,
            bus=bus,
            env=dict(env or {}),
            critic=_models().make_critic(config),
            judge=_models().make_judge(config, plan),
        )
        orch = Orchestrator.start(setup, plan, merge_policy=merge_policy, max_agents=max_agents)
    except BaseException:
        await stack.aclose()
        raise
    return RunSession(orch, store, stack)


async def open_session(
    db_path: Path, run_ref: str, subscribers: Sequence[Subscriber] = ()
) -> RunSession:
    """Reopen a recorded run (for resume, approve, reject, land), holding its lock."""
    stack = AsyncExitStack()
    try:
        store = await Store.open(db_path)
        stack.push_async_callback(store.close)
        summary = await store.get_run(run_ref)
        if summary is None:
            raise UserError(f"no run '{run_ref}' in {db_path}: see `maestro-tui runs`")
        stack.enter_context(run_lock(db_path, summary.run_id))
        ws = Workspace.open(Path(summary.repo))
        config = load_config(ws.root)
        events = await store.load_events(summary.run_id)
        last = events[-1] if events else None
        bus = EventBus(
            summary.run_id,
            next_seq=(last.seq + 1) if last else 1,
            start_ts=last.ts if last else 0.0,
        )
        bus.redact(_models().secrets_in_environment(config))
        bus.subscribe(store.append)
        for subscriber in subscribers:
            bus.subscribe(subscriber)
        setup = RunSetup(ws, config, WorkerPool(config), bus, critic=_models().make_critic(config))
        orch = Orchestrator.restore(setup, events)
        setup.judge = _models().make_judge(config, orch.plan)
    except BaseException:
        await stack.aclose()
        raise
    return RunSession(orch, store, stack)


def _printers(out: Output | None) -> list[Subscriber]:
    if out is None:
        return []
    return [Printer(out.stream, as_json=out.as_json, show_output=out.show_output)]


def _say(out: Output, text: str) -> None:
    if not out.as_json:
        print(text, file=out.stream, flush=True)


def forecast(config: Config, plan: Plan) -> str | None:
    """A labelled cost estimate when the plan's workers are models; None for CLI workers."""
    kinds = {config.workers[t.worker or config.default_worker].kind for t in plan.tasks}
    if not kinds & {"llm", "demo"}:
        return None
    from maestro_tui.llm.forecast import describe_estimate, estimate_cost
    from maestro_tui.llm.models import resolve_model

    model = resolve_model("demo" if kinds == {"demo"} else config.model, "coder")
    return describe_estimate(estimate_cost(plan, model, config.prices)) + " (an estimate)"


def record_usage(bus: EventBus, usage: Sequence[Any]) -> None:
    """Planner calls made before the run existed, as LLMUsage events of no task."""
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
        )


async def run_plan(
    *,
    ws: Workspace,
    config: Config,
    plan: Plan,
    db_path: Path,
    out: Output,
    confirm: Callable[[Plan], bool] | None = None,
    planner_usage: Sequence[Any] = (),
    env: Mapping[str, str] | None = None,
    tui: bool = False,
    merge_hints: Callable[[Any], list[str]] | None = None,
) -> int:
    """Validate everything first, so bad input writes nothing; then record and run the plan.

    With `tui`, the dashboard shows the run (and the plan review unless `confirm` is None);
    otherwise events are printed and `confirm` asks on the terminal.
    """
    workers = check_run_inputs(ws, config, plan)
    estimate = forecast(config, plan)
    if estimate and not tui:
        _say(out, estimate)
    if not tui and confirm is not None and not confirm(plan):
        print("run not started", file=out.stream)
        return EXIT_OK
    session = await start_session(
        ws=ws,
        config=config,
        plan=plan,
        db_path=db_path,
        merge_policy=config.merge_policy,
        max_agents=config.max_agents,
        subscribers=() if tui else _printers(out),
        workers=workers,
        env=env,
    )
    if merge_hints is not None:
        session.orch.merge_queue.extra_reasons = merge_hints
    if tui:
        from maestro_tui.ui.entry import run_live

        record_usage(session.orch.bus, planner_usage)
        code = await run_live(session, review_plan=confirm is not None)
        return _after_tui(code, session, out)
    async with session:
        record_usage(session.orch.bus, planner_usage)
        state = await drive(session.orch)
        await print_metrics(session, out)
    return _exit_code(state, out)


def _after_tui(code: int, session: RunSession, out: Output) -> int:
    """Once the terminal is back: say how to go on when the run is not finished."""
    if code in (EXIT_REVIEW, EXIT_INTERRUPTED) or session.orch.state.budget_exceeded:
        _exit_code(session.orch.state, out)
    return code


async def print_metrics(session: RunSession, out: Output) -> None:
    """The run's coordination metrics, next to their targets, after the last event."""
    from maestro_tui.domain.metrics import compute_metrics, format_metrics

    if out.as_json:
        return
    await session.store.flush()
    events = await session.store.load_events(session.orch.state.run_id)
    _say(out, "coordination metrics:")
    for line in format_metrics(compute_metrics(events, session.orch.state)):
        _say(out, "  " + line)


async def resume_run(
    db_path: Path,
    run_ref: str,
    out: Output,
    max_agents: int | None,
    budgets: dict[str, float | None] | None = None,
    tui: bool = False,
    retry_task: str | None = None,
) -> int:
    """Finish a run; with `retry_task`, first drop that task's waiting result to run it again."""
    if tui:
        from maestro_tui.ui.entry import run_resume

        session = await open_session(db_path, run_ref)
        if retry_task:
            _requeue(session, retry_task)
        for kind, limit in (budgets or {}).items():
            if limit is not None:
                session.orch.raise_budget(kind, limit)
        return _after_tui(await run_resume(session, max_agents=max_agents), session, out)
    async with await open_session(db_path, run_ref, _printers(out)) as session:
        orch = session.orch
        if retry_task:
            _requeue(session, retry_task)
        if orch.state.settled and orch.state.status is not RunStatus.INTERRUPTED:
            print(
                f"run {orch.state.run_id} has nothing left to do ({orch.state.status})",
                file=out.stream,
            )
            return _exit_code(orch.state, out)
        orch.resume()
        if max_agents:
            orch.set_max_agents(max_agents)
        for kind, limit in (budgets or {}).items():
            if limit is not None:
                orch.raise_budget(kind, limit)
        state = await drive(orch)
        await print_metrics(session, out)
    return _exit_code(state, out)


def _requeue(session: RunSession, task_id: str) -> None:
    try:
        session.orch.requeue(task_id)
    except KeyError as exc:
        raise UserError(exc.args[0]) from None


async def decide_merge(
    db_path: Path,
    run_ref: str,
    task_id: str,
    *,
    approve: bool,
    take: str | None,
    reason: str,
    out: Output,
) -> int:
    """approve / reject a merge waiting for review, from the command line."""
    async with await open_session(db_path, run_ref) as session:
        orch = session.orch
        try:
            if approve:
                head = await orch.approve(task_id, take)
                print(
                    f"merged {task_id} into {orch.state.integration_branch} → {head[:9]}",
                    file=out.stream,
                )
            else:
                await orch.reject(task_id, reason)
                print(f"rejected {task_id}; its branch is kept for inspection", file=out.stream)
        except KeyError as exc:
            raise UserError(exc.args[0]) from None
        state = orch.state
        if not state.settled and not state.waiting_merges:
            print(f"tasks remain: maestro-tui resume {state.run_id}", file=out.stream)
        elif state.settled:
            orch.finish(state.outcome())
    return EXIT_OK


async def land(db_path: Path, run_ref: str, into: str | None, out: Output) -> int:
    async with await open_session(db_path, run_ref) as session:
        s = session.orch.state
        target = into or s.base_branch
        if target in ("", "HEAD"):
            raise UserError("the run started on a detached HEAD: pass --into BRANCH")
        ws = session.orch.ws
        head = ws.fast_forward_or_merge(
            target, s.integration_branch, f"Land maestro run {s.run_id}: {s.goal}"
        )
        print(f"landed {s.integration_branch} into {target} → {head[:9]}", file=out.stream)
    return EXIT_OK
