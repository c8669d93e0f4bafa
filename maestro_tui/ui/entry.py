"""Front-end entry points the CLI calls: a new run, a resume, the launcher, a replay, a watch.

All are coroutines: the run's store and git work belong to the caller's event loop, and the
Textual app runs in that same loop (no threads between the engine and the screen).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from maestro_tui.ui.app import MaestroApp
from maestro_tui.ui.launcher_app import LauncherApp
from maestro_tui.ui.opening import Opened, Opening, record, resume_detached, run_app, show

__all__ = [  # the entry points the CLI calls, and the app and opening they are made of
    "LauncherApp",
    "Opening",
    "planned_run_app",
    "run_attach",
    "run_launcher",
    "run_new",
    "run_planned",
    "run_replay",
    "run_resume",
    "run_watch",
]

if TYPE_CHECKING:
    from maestro_tui.config import Config
    from maestro_tui.domain.plan import Plan
    from maestro_tui.engine.orchestrator import Orchestrator
    from maestro_tui.llm.client import Completion
    from maestro_tui.session.lifecycle import MergeHints
    from maestro_tui.session.preparing import Prepare, Prepared
    from maestro_tui.ui.screens.planning import Planning
    from maestro_tui.workspace.preflight import Preflight
    from maestro_tui.workspace.repo import Workspace


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
    detach: bool = False,
) -> int:
    """Record a new run and show it (after the plan review, unless told not to); with
    `detach`, its engine runs in a process of its own, which goes on if the terminal goes.

    The inputs are checked before the app starts (~20 ms), so bad input is reported as
    before, with nothing written; the run is recorded in the dashboard's worker.
    """
    from maestro_tui.session.inputs import check_run_inputs

    workers = check_run_inputs(ws, config, plan, base)  # bad input: nothing is written

    async def record_run() -> Opened:
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
        if detach and merge_hints is None:
            from maestro_tui.ui.background import hand_off

            return await hand_off(session), True
        return session, True

    return await show(Opening(record_run), review_plan=review_plan, watch_themes=watch_themes)


def planned_run_app(
    prepare: Prepare,
    *,
    goal: str,
    db_path: Path,
    review_plan: bool,
    simulated: bool = False,
    watch_themes: bool = True,
    detach: bool = False,
) -> tuple[MaestroApp, Opening, Planning[Prepared]]:
    """The app of `run_planned`, and what it makes: the planning, then the run's opening."""
    from maestro_tui.ui.screens.planning import Planning, PlanningScreen
    from maestro_tui.ui.screens.run import RunScreen

    planning: Planning[Prepared] = Planning(prepare)

    async def record_planned() -> Opened:
        assert planning.result is not None
        return await record(planning.result, db_path, detach)

    opening = Opening(record_planned)

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
    detach: bool = False,
) -> int:
    """Plan a new run on screen from the first frame (its preflight, then the planner), then
    record it and show it in place, after the plan review unless told not to; with `detach`,
    its engine runs in a process of its own, which goes on if the terminal goes.

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
        detach=detach,
    )
    return await run_app(app, opening, planning)


async def run_resume(
    db_path: Path,
    run_ref: str,
    *,
    max_agents: int | None = None,
    budgets: Mapping[str, float | None] | None = None,
    retry_task: str | None = None,
    resolve_task: str | None = None,
    watch_themes: bool = True,
    detach: bool = False,
) -> int:
    """Finish an interrupted run (or review its waiting merges) in the dashboard, which shows
    at once and reopens the run (and its agents' last lines) in workers; with `detach`, an
    engine of its own resumes it in the background and the dashboard attaches to it."""
    first: dict[str, Any] = {
        "max_agents": max_agents,
        "budgets": budgets,
        "retry_task": retry_task,
        "resolve_task": resolve_task,
    }

    async def reopen() -> Opened:
        from maestro_tui.session.lifecycle import resume

        if detach and (attached := await resume_detached(db_path, run_ref, first)):
            return attached, True
        return await resume(db_path, run_ref, **first)

    return await show(Opening(reopen), earlier_logs=True, watch_themes=watch_themes)


async def run_attach(db_path: Path, run_ref: str | None, repo: Path) -> int:
    """`attach`: the dashboard of a run its engine drives in the background; a run nobody
    drives is offered for resuming, a finished one is shown as it ended."""
    from maestro_tui.session.attached import AttachedRun
    from maestro_tui.session.finding import FINAL, find_run, not_attachable
    from maestro_tui.ui.background import ask_to_resume, resume_in_background

    found = await find_run(db_path, run_ref, repo)
    run_id = found.run.run_id
    if found.engine:

        async def attach() -> Opened:
            return await AttachedRun.attach(db_path, run_id), True

        return await show(Opening(attach), review_plan=True)
    if found.pid is None and found.run.status in FINAL:
        return await run_watch(db_path, run_id, stay=True)
    if found.pid is None and ask_to_resume(found):

        async def resumed() -> Opened:
            return await resume_in_background(db_path, found), True

        return await show(Opening(resumed), review_plan=True)
    raise not_attachable(found)


async def run_launcher(db_path: Path, repo: Path, *, detach: bool = False) -> int:
    """The launcher: a goal form beside the history of past runs; with `detach`, the runs it
    starts or resumes go on in the background."""
    return await run_app(LauncherApp(db_path, repo, detach=detach))


async def run_replay(db_path: Path, run_id: str) -> int:
    """Replay a recorded run in the dashboard, on its own clock."""
    from maestro_tui.ui.screens.replay import ReplayScreen

    return await run_app(MaestroApp(lambda: ReplayScreen(db_path, run_id)))


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
