"""Front-end entry points the CLI calls: a new run, a resume, the launcher, a replay, a watch.

All are coroutines: the run's store and git work belong to the caller's event loop, and the
Textual app runs in that same loop (no threads between the engine and the screen).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message

from maestro_tui.ui.app import MaestroApp

if TYPE_CHECKING:
    from maestro_tui.config import Config
    from maestro_tui.domain.plan import Plan
    from maestro_tui.engine.orchestrator import Orchestrator
    from maestro_tui.llm.client import Completion
    from maestro_tui.session.lifecycle import MergeHints, RunSession
    from maestro_tui.session.preparing import Outlet, Prepare, Prepared
    from maestro_tui.ui.screens.planning import Planning
    from maestro_tui.workspace.preflight import Preflight
    from maestro_tui.workspace.repo import Workspace

# (goal, model, agents, budget in USD, where to report) -> a run planned, ready to record
StartRun = Callable[[str, str, int, "float | None", "Outlet"], Awaitable["Prepared"]]


class Opening:
    """The session a RunScreen opens in its worker, and what came of it, for the CLI."""

    def __init__(self, open_session: Callable[[], Awaitable[tuple[RunSession, bool]]]) -> None:
        self._open = open_session
        self.session: RunSession | None = None
        self.error: Exception | None = None

    async def __call__(self) -> tuple[RunSession, bool]:
        try:
            self.session, start = await self._open()
        except Exception as exc:
            self.error = exc
            raise
        return self.session, start


async def _run_app(
    app: MaestroApp, opening: Opening | None = None, planning: Planning[Prepared] | None = None
) -> int:
    from maestro_tui.session.outcome import exit_code, next_step

    try:
        result = await app.run_async()
    finally:
        if opening is not None and opening.session is not None:
            await opening.session.aclose()  # a no-op when the screen closed it already
    if planning is not None and planning.error is not None:
        raise planning.error  # as `opening.error` below: bad input, said as it always was
    if opening is not None and opening.error is not None:
        # Raised here, with the terminal ours again: the CLI reports it as it always has
        # (bad input: the message, exit code 2, and nothing written).
        raise opening.error
    session = opening.session if opening is not None else None
    if session is not None:
        hint = next_step(session.state)  # say how to go on
        if hint:
            print(hint)
    if isinstance(result, int):
        return result
    if app.return_code:
        return app.return_code  # the app itself failed
    return exit_code(session.state) if session is not None else 0


async def run_new(
    *,
    ws: Workspace,
    config: Config,
    plan: Plan,
    db_path: Path,
    review_plan: bool,
    planner_usage: Sequence[Completion] = (),
    env: Mapping[str, str] | None = None,
    merge_hints: MergeHints | None = None,
    base: str | None = None,
    watch_themes: bool = True,
    preflight: Preflight | None = None,
    before_start: Callable[[Orchestrator], None] | None = None,
) -> int:
    """Record a new run and show it (after the plan review, unless told not to).

    The inputs are checked before the app starts (~20 ms), so bad input is reported as
    before, with nothing written; the run is recorded in the dashboard's worker.
    """
    from maestro_tui.session.inputs import check_run_inputs

    workers = check_run_inputs(ws, config, plan, base)  # bad input: nothing is written

    async def record() -> tuple[RunSession, bool]:
        from maestro_tui.session.lifecycle import start_session

        session = await start_session(
            ws=ws,
            config=config,
            plan=plan,
            db_path=db_path,
            workers=workers,
            env=env,
            planner_usage=planner_usage,
            merge_hints=merge_hints,
            base=base,
            preflight=preflight,
            before_start=before_start,
        )
        return session, True

    return await _show(Opening(record), review_plan=review_plan, watch_themes=watch_themes)


async def _record(prepared: Prepared, db_path: Path) -> tuple[RunSession, bool]:
    """Record a planned run (its inputs checked first: bad input writes nothing)."""
    from maestro_tui.session.inputs import check_run_inputs
    from maestro_tui.session.lifecycle import start_session

    p = prepared
    workers = check_run_inputs(p.ws, p.config, p.plan, p.base)
    session = await start_session(db_path=db_path, workers=workers, **p.session_inputs())
    return session, True


def planned_run_app(
    prepare: Prepare,
    *,
    goal: str,
    db_path: Path,
    review_plan: bool,
    simulated: bool = False,
    watch_themes: bool = True,
) -> tuple[MaestroApp, Opening, Planning[Prepared]]:
    """The app of `run_planned`, and what it makes: the planning, then the run's opening."""
    from maestro_tui.ui.screens.planning import Planning, PlanningScreen
    from maestro_tui.ui.screens.run import RunScreen

    planning: Planning[Prepared] = Planning(prepare)

    async def record() -> tuple[RunSession, bool]:
        assert planning.result is not None
        return await _record(planning.result, db_path)

    opening = Opening(record)

    def planned(_: Prepared) -> None:
        # A mode of its own: the planning screen is the app's first, which Textual cannot
        # switch away from; in its own stack the dashboard is the root, and quitting it ends
        # the app as it always has.
        app.add_mode("run", lambda: RunScreen(opener=opening, review_plan=review_plan))
        app.switch_mode("run")

    def screen() -> PlanningScreen:
        return PlanningScreen(planning, planned, goal=goal, simulated=simulated)

    app = MaestroApp(screen, watch_themes=watch_themes)
    return app, opening, planning


async def run_planned(
    prepare: Prepare,
    *,
    goal: str,
    db_path: Path,
    review_plan: bool,
    simulated: bool = False,
    watch_themes: bool = True,
) -> int:
    """Plan a new run on screen from the first frame (its preflight, then the planner), then
    record it and show it in place, after the plan review unless told not to.

    Nothing is recorded until the plan is made: a cancel leaves nothing, and bad input found
    on the way (a refused preflight, a planner that gave no plan) is raised after the app.
    """
    app, opening, planning = planned_run_app(
        prepare,
        goal=goal,
        db_path=db_path,
        review_plan=review_plan,
        simulated=simulated,
        watch_themes=watch_themes,
    )
    return await _run_app(app, opening, planning)


async def _show(
    opening: Opening,
    *,
    review_plan: bool = False,
    earlier_logs: bool = False,
    watch_themes: bool = True,
) -> int:
    """The dashboard, shown at once, opening its run with `opening` in a worker."""
    from maestro_tui.ui.screens.run import RunScreen

    def screen() -> RunScreen:
        return RunScreen(opener=opening, review_plan=review_plan, earlier_logs=earlier_logs)

    return await _run_app(MaestroApp(screen, watch_themes=watch_themes), opening)


async def run_resume(
    db_path: Path,
    run_ref: str,
    *,
    max_agents: int | None = None,
    budgets: Mapping[str, float | None] | None = None,
    retry_task: str | None = None,
    resolve_task: str | None = None,
    watch_themes: bool = True,
) -> int:
    """Finish an interrupted run (or review its waiting merges) in the dashboard, which shows
    at once and reopens the run (and its agents' last lines) in workers."""

    async def reopen() -> tuple[RunSession, bool]:
        from maestro_tui.session.lifecycle import resume

        return await resume(
            db_path,
            run_ref,
            max_agents=max_agents,
            budgets=budgets,
            retry_task=retry_task,
            resolve_task=resolve_task,
        )

    return await _show(Opening(reopen), earlier_logs=True, watch_themes=watch_themes)


class LauncherApp(MaestroApp):
    """The launcher's flows: start a run, resume one, replay one — each on its own screen."""

    def __init__(
        self,
        db_path: Path,
        repo: Path,
        start: StartRun | None = None,
        *,
        watch_themes: bool = True,
    ) -> None:
        from maestro_tui.ui.screens.launcher import LauncherScreen

        model, need_model = _configured_model(repo)
        super().__init__(
            lambda: LauncherScreen(db_path, repo, model=model, need_model=need_model),
            watch_themes=watch_themes,
        )
        self.db_path, self.repo = db_path, repo
        self._start = start or self._plan

    def _failed(self, what: str, exc: BaseException) -> None:
        self.notify(
            str(exc) or type(exc).__name__, title=f"cannot {what}", severity="error", timeout=20
        )

    async def on_launcher_screen_start_run(self, message: Message) -> None:
        """Plan the goal on the planning screen; the run is recorded once the plan is made,
        and its plan review follows in place."""
        from maestro_tui.ui.screens.planning import Planning, PlanningScreen
        from maestro_tui.ui.screens.run import RunScreen

        goal, model, agents, budget = (
            message.goal,  # type: ignore[attr-defined]
            message.model,  # type: ignore[attr-defined]
            message.agents,  # type: ignore[attr-defined]
            message.budget_usd,  # type: ignore[attr-defined]
        )

        async def plan(outlet: Outlet) -> Prepared:
            return await self._start(goal, model, agents, budget, outlet)

        def planned(prepared: Prepared) -> None:
            opening = Opening(lambda: _record(prepared, self.db_path))
            self.switch_screen(RunScreen(opener=opening, review_plan=True))

        screen = PlanningScreen(Planning(plan), planned, goal=goal, simulated=model == "demo")
        await self.push_screen(screen)

    async def _plan(
        self, goal: str, model: str, agents: int, budget: float | None, outlet: Outlet
    ) -> Prepared:
        """The preflight and the plan, as `run GOAL` makes them (the engine is imported now)."""
        from maestro_tui.session.preparing import plan_launch

        return await plan_launch(self.repo, goal, model, agents, budget, outlet)

    async def on_launcher_screen_resume_run(self, message: Message) -> None:
        self.run_worker(self._resume(message.run_id), group="launch", exclusive=True)  # type: ignore[attr-defined]

    async def _resume(self, run_id: str) -> None:
        from maestro_tui.session.lifecycle import resume
        from maestro_tui.ui.screens.run import RunScreen

        try:
            session, start = await resume(self.db_path, run_id)
        except Exception as exc:
            self._failed(f"resume {run_id}", exc)
            return
        await self.push_screen(RunScreen(session, start=start, earlier_logs=True))

    async def on_launcher_screen_open_compare(self, message: Message) -> None:
        from maestro_tui.ui.screens.compare import CompareScreen

        await self.push_screen(CompareScreen(self.db_path, message.run_ids))  # type: ignore[attr-defined]

    async def on_launcher_screen_open_replay(self, message: Message) -> None:
        from maestro_tui.ui.screens.replay import ReplayScreen

        await self.push_screen(ReplayScreen(self.db_path, message.run_id))  # type: ignore[attr-defined]


def _configured_model(repo: Path) -> tuple[str, bool]:
    """maestro.toml's [llm] model here, and whether the form must name one (nothing there
    plans a goal); a bad maestro.toml is said when the run starts."""
    from maestro_tui.config import ConfigError, load_config

    try:
        config = load_config(repo)
    except ConfigError:
        return "", False
    return config.model, not (config.planner or config.effective_planner_model)


async def run_launcher(db_path: Path, repo: Path) -> int:
    """The launcher: a goal form beside the history of past runs."""
    return await _run_app(LauncherApp(db_path, repo))


async def run_replay(db_path: Path, run_id: str) -> int:
    """Replay a recorded run in the dashboard, on its own clock."""
    from maestro_tui.ui.screens.replay import ReplayScreen

    return await _run_app(MaestroApp(lambda: ReplayScreen(db_path, run_id)))


async def run_watch(
    db_path: Path, run_id: str, *, stay: bool = False, watch_themes: bool = True
) -> int:
    """`maestro-tui watch RUN`: the run's exit code once it ends, 0 if closed before."""
    from maestro_tui.store import Store, StoreError
    from maestro_tui.ui.screens.follow import FollowScreen

    store = await Store.open_read_only(db_path)
    try:
        summary = await store.get_run(run_id)
        if summary is None:
            raise StoreError(f"no run '{run_id}' in {store.path}: see maestro-tui runs --db FILE")
        app = MaestroApp(
            lambda: FollowScreen(store, db_path, summary.run_id, stay=stay),
            watch_themes=watch_themes,
        )
        result = await app.run_async()
    finally:
        await store.close()
    if isinstance(result, int):
        return result
    return app.return_code or 0
