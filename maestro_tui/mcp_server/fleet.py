"""Run control for the calling agent: fleets started, watched, decided and resumed through the
session layer — the same engine, store, merge queue and gate as the TUI and the CLI.

A run started here goes on in the server's event loop between tool calls, waiting for the
agent's decisions on held merges (as the TUI waits for the human's). When the server stops,
its runs are paused safely and can be resumed, here or with `maestro-tui resume RUN`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from maestro_tui.domain.state import RunState, RunStatus, TaskStatus, fold
from maestro_tui.mcp_server.session import McpSession, ToolError
from maestro_tui.session.lifecycle import RunSession, bad_input_errors, open_session, resume


@dataclass
class LiveRun:
    """A run this server drives: its session, the task running it, and a flag for news."""

    session: RunSession
    cost_before: float  # what the run had spent before this server took it on
    news: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    error: str = ""

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    @property
    def state(self) -> RunState:
        return self.session.state


class Fleet:
    """The runs of one MCP session; `close` pauses those still going."""

    def __init__(self, mcp: McpSession) -> None:
        self.mcp = mcp
        self.runs: dict[str, LiveRun] = {}  # every run this session started or took on
        mcp.spent_elsewhere = self.spent_usd

    def spent_usd(self) -> float:
        return sum(max(0.0, r.state.cost_usd - r.cost_before) for r in self.runs.values())

    # --- starting ---------------------------------------------------------------------------

    async def start(
        self,
        goal: str | None,
        plan: Mapping[str, Any] | None,
        agents: int | None,
        budget_usd: float | None,
        merge: str | None,
        model: str | None,
    ) -> dict[str, Any]:
        """Plan (or take) the plan, record the run, and set it going in the background."""
        from maestro_tui.config import with_overrides
        from maestro_tui.domain.plan import parse_plan
        from maestro_tui.llm.planner import PlannerError
        from maestro_tui.session.lifecycle import start_session
        from maestro_tui.session.plans import check_planner, make_plan

        mcp = self.mcp
        budget = self._budget(budget_usd)
        if not goal and plan is None:
            raise ToolError("give a goal (the planner model plans it) or a plan")
        changes = {"max_agents": agents, "merge_policy": merge, "budget_usd": budget}
        if model:
            changes.update(model=model, planner_model=model)
        try:
            config = with_overrides(
                mcp.config, **{k: v for k, v in changes.items() if v is not None}
            )
            usage: list[Any] = []
            if plan is not None:
                the_plan = parse_plan(plan, goal=goal or plan.get("goal") or None)
            else:
                assert goal is not None
                check_planner(config)
                the_plan, usage = await make_plan(config, goal, mcp.ws.root)
            session = await start_session(
                ws=mcp.ws, config=config, plan=the_plan, db_path=mcp.db_path, planner_usage=usage
            )
        except bad_input_errors() + (PlannerError,) as exc:
            raise ToolError(str(exc)) from None
        live = self._launch(session)
        run_id = session.state.run_id
        tasks = len(session.state.tasks)
        mcp.reporter("run").output(f"started run {run_id}: {tasks} tasks", "tool")
        return {**describe(live.state, live), "started": True}

    def _budget(self, asked: float | None) -> float | None:
        """The run's budget: as asked, within what is left of the session's."""
        self.mcp.check_budget()
        left = self.mcp.budget_left()
        if asked is not None and left is not None and asked > left:
            raise ToolError(
                f"budget_usd ${asked:.4f} is more than the ${left:.4f} left of this MCP"
                " session's [mcp] budget_usd"
            )
        return asked if asked is not None else left

    def _launch(self, session: RunSession) -> LiveRun:
        live = LiveRun(session, session.state.cost_usd)
        session.orch.bus.subscribe(lambda _event: live.news.set())
        self.runs[session.state.run_id] = live
        live.task = asyncio.get_running_loop().create_task(
            self._drive(live), name=f"maestro-run:{session.state.run_id}"
        )
        return live

    async def _drive(self, live: LiveRun) -> None:
        try:
            await live.session.orch.run(wait_for_review=True)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the run stops here; its events say how far it got
            live.error = f"{type(exc).__name__}: {exc}"
        finally:
            with contextlib.suppress(Exception):
                await live.session.aclose()
            live.news.set()

    async def close(self) -> None:
        """Pause every run still going (it records RunPaused and can be resumed)."""
        tasks = [r.task for r in self.runs.values() if r.task is not None and r.running]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- watching ---------------------------------------------------------------------------

    def _live(self, run_ref: str) -> LiveRun | None:
        found = [r for k, r in self.runs.items() if k.startswith(run_ref) and r.running]
        return found[0] if len(found) == 1 else None

    async def _recorded(self, run_ref: str) -> RunState:
        try:
            summary = await self.mcp.store.get_run(run_ref)
        except bad_input_errors() as exc:
            raise ToolError(str(exc)) from None
        if summary is None:
            raise ToolError(f"no run '{run_ref}' in {self.mcp.db_path}")
        live = self.runs.get(summary.run_id)
        if live is not None:
            return live.state
        return fold(await self.mcp.store.load_events(summary.run_id))

    async def status(self, run_ref: str, wait_s: float = 0.0) -> dict[str, Any]:
        """The run as it stands; with `wait_s`, once there is news (a merge waits that was not
        waiting when the call began, or the run ended), or when the time is up."""
        live = self._live(run_ref)
        if live is not None and wait_s:
            before = {t.id for t in live.state.waiting_merges}
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait_s):
                    while live.running and not {t.id for t in live.state.waiting_merges} - before:
                        live.news.clear()
                        await live.news.wait()
        if live is not None:
            return describe(live.state, live)
        return describe(await self._recorded(run_ref), self.runs.get(run_ref))

    async def merges(self, run_ref: str, every: bool = False) -> dict[str, Any]:
        live = self._live(run_ref)
        state = live.state if live is not None else await self._recorded(run_ref)
        shown = [
            t
            for t in state.tasks.values()
            if t.status is TaskStatus.WAITING or (every and t.commit and t.status.settled)
        ]
        return {
            "run_id": state.run_id,
            "merges": [
                {
                    "task": t.id,
                    "title": t.title,
                    "status": t.status.value,
                    "commit": t.commit,
                    "reasons": list(t.wait_reasons),
                    "conflict_files": list(t.conflict_files),
                    "tests_passed": t.tests_passed,
                    "lines_changed": t.insertions + t.deletions,
                    "summary": t.summary,
                }
                for t in shown
            ],
        }

    # --- deciding ---------------------------------------------------------------------------

    async def decide(
        self, run_ref: str, task: str, decision: str, take: str | None, reason: str
    ) -> dict[str, Any]:
        """approve / reject / retry a waiting merge, in the live run or in a recorded one."""
        from maestro_tui.engine.merge import MergeNeedsResolution

        live = self._live(run_ref)
        try:
            if live is not None:
                orch = live.session.orch
                if decision == "approve":
                    await orch.merges.approve(task, take)
                elif decision == "reject":
                    await orch.merges.reject(task, reason)
                else:
                    orch.merges.retry(task)
                return describe(live.state, live)
            return await self._decide_recorded(run_ref, task, decision, take, reason)
        except MergeNeedsResolution as exc:
            files = ", ".join(exc.files)
            raise ToolError(
                f"task '{task}' conflicts with the integration branch in {files}: approve with"
                " take = ours | theirs, resolve it in the TUI's merge review, or reject it"
            ) from None
        except (KeyError, ValueError) as exc:
            raise ToolError(str(exc.args[0]) if exc.args else str(exc)) from None
        except bad_input_errors() as exc:
            raise ToolError(str(exc)) from None

    async def _decide_recorded(
        self, run_ref: str, task: str, decision: str, take: str | None, reason: str
    ) -> dict[str, Any]:
        db = self.mcp.db_path
        if decision == "retry":
            session, start = await resume(db, run_ref, retry_task=task)
            return await self._take_on(session, start)
        async with await open_session(db, run_ref) as session:
            orch = session.orch
            if decision == "approve":
                await orch.merges.approve(task, take)
            else:
                await orch.merges.reject(task, reason)
            state = orch.state
            if state.settled:
                orch.finish(state.outcome())
            return describe(orch.state, None)

    async def resume(
        self, run_ref: str, budget_usd: float | None, agents: int | None
    ) -> dict[str, Any]:
        """Go on with an interrupted run (or one out of budget), in the background."""
        self._budget(budget_usd)
        if self._live(run_ref) is not None:
            raise ToolError(f"run {run_ref} is already running here")
        try:
            session, start = await resume(
                self.mcp.db_path, run_ref, max_agents=agents, budgets={"usd": budget_usd}
            )
        except bad_input_errors() as exc:
            raise ToolError(str(exc)) from None
        return await self._take_on(session, start)

    async def _take_on(self, session: RunSession, start: bool) -> dict[str, Any]:
        if not start:
            await session.aclose()
            return {**describe(session.state, None), "note": "nothing left to run"}
        live = self._launch(session)
        self.mcp.reporter("run").output(f"took on run {session.state.run_id}", "tool")
        return describe(live.state, live)


def describe(state: RunState, live: LiveRun | None) -> dict[str, Any]:
    """A run as the agent sees it: status, tasks, waiting merges, money, and what to do next."""
    waiting = [t.id for t in state.waiting_merges]
    running = live is not None and live.running
    status = state.status.value
    out: dict[str, Any] = {
        "run_id": state.run_id,
        "goal": state.goal,
        "status": status,
        "live": running,
        "integration_branch": state.integration_branch,
        "tasks": {t.id: t.status.value for t in state.tasks.values()},
        "waiting_merges": waiting,
        "cost_usd": round(state.cost_usd, 6),
        "tokens": state.tokens,
        "budget_usd": state.budget_usd,
    }
    if live is not None and live.error:
        out["error"] = live.error
    if waiting:
        out["next"] = "decide each with maestro_decide_merge (approve, reject or retry)"
    elif status in ("interrupted", "budget_exhausted"):
        out["next"] = "maestro_resume_run (with a budget_usd if it ran out)"
    elif not running and state.status in (RunStatus.RUNNING, RunStatus.PLANNING):
        out["next"] = (
            "recorded as running, but not by this server: it runs elsewhere, or it crashed"
            " (then maestro_resume_run goes on)"
        )
    elif status == "succeeded":
        out["next"] = (
            f"the results are on {state.integration_branch}; your branch is untouched until"
            f" `maestro-tui land {state.run_id}`"
        )
    elif running:
        out["next"] = "maestro_run_status with wait_s waits for news"
    return out
