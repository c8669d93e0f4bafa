"""The launcher's app: start a run, resume one, replay or attach to one, each on its own
screen."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message

from maestro_tui.ui.app import MaestroApp
from maestro_tui.ui.opening import Opening, record, resume_detached

if TYPE_CHECKING:
    from maestro_tui.session.preparing import Outlet, Prepared

# (goal, model, agents, budget in USD, where to report) -> a run planned, ready to record
StartRun = Callable[[str, str, int, "float | None", "Outlet"], Awaitable["Prepared"]]


class LauncherApp(MaestroApp):
    """The launcher's flows: start a run, resume one, replay one — each on its own screen."""

    def __init__(
        self,
        db_path: Path,
        repo: Path,
        start: StartRun | None = None,
        *,
        watch_themes: bool = True,
        detach: bool = False,
    ) -> None:
        from maestro_tui.ui.screens.launcher import LauncherScreen

        model, need_model = _configured_model(repo)
        super().__init__(
            lambda: LauncherScreen(db_path, repo, model=model, need_model=need_model),
            watch_themes=watch_themes,
        )
        self.db_path, self.repo = db_path, repo
        self.detach = detach  # runs started or resumed here go on in the background
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
            opening = Opening(lambda: record(prepared, self.db_path, self.detach))
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
            attached = await resume_detached(self.db_path, run_id, {}) if self.detach else None
            opened, start = (attached, True) if attached else await resume(self.db_path, run_id)
        except Exception as exc:
            self._failed(f"resume {run_id}", exc)
            return
        await self.push_screen(RunScreen(opened, start=start, earlier_logs=True))

    async def on_launcher_screen_open_compare(self, message: Message) -> None:
        from maestro_tui.ui.screens.compare import CompareScreen

        await self.push_screen(CompareScreen(self.db_path, message.run_ids))  # type: ignore[attr-defined]

    async def on_launcher_screen_open_replay(self, message: Message) -> None:
        """Enter on a run: attach to it if its engine drives it in the background, else its
        replay."""
        from maestro_tui.session.control import control_path
        from maestro_tui.session.liveness import driver_pid
        from maestro_tui.ui.screens.replay import ReplayScreen

        run_id: str = message.run_id  # type: ignore[attr-defined]
        if driver_pid(self.db_path, run_id) and control_path(self.db_path, run_id).exists():
            self.run_worker(self._attach_to(run_id), group="launch", exclusive=True)
            return
        await self.push_screen(ReplayScreen(self.db_path, run_id))

    async def _attach_to(self, run_id: str) -> None:
        from maestro_tui.session.attached import AttachedRun
        from maestro_tui.ui.screens.run import RunScreen

        try:
            attached = await AttachedRun.attach(self.db_path, run_id)
        except Exception as exc:
            self._failed(f"attach to {run_id}", exc)
            return
        await self.push_screen(RunScreen(attached, review_plan=True))


def _configured_model(repo: Path) -> tuple[str, bool]:
    """maestro.toml's [llm] model here, and whether the form must name one (nothing there
    plans a goal); a bad maestro.toml is said when the run starts."""
    from maestro_tui.config import ConfigError, load_config

    try:
        config = load_config(repo)
    except ConfigError:
        return "", False
    return config.model, not (config.planner or config.effective_planner_model)
