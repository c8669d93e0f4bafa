"""Front-end entry points the CLI calls: a live run, a resume, the launcher, a replay.

All are coroutines: the run's store and git work belong to the caller's event loop, and the
Textual app runs in that same loop (no threads between the engine and the screen).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message

from maestro_tui.domain.state import RunStatus
from maestro_tui.ui.app import MaestroApp

if TYPE_CHECKING:
    from maestro_tui.commands import RunSession

StartRun = Callable[[str, str, int, "float | None"], Awaitable["RunSession"]]


async def _run_app(app: MaestroApp, session: RunSession | None = None) -> int:
    from maestro_tui.ui.screens.dashboard import exit_code

    try:
        result = await app.run_async()
    finally:
        if session is not None:
            await session.aclose()  # a no-op when the screen closed it already
    if isinstance(result, int):
        return result
    if app.return_code:
        return app.return_code  # the app itself failed
    return exit_code(session.orch.state) if session is not None else 0


async def run_live(session: RunSession, *, review_plan: bool, watch_themes: bool = True) -> int:
    """Show a started run (plan recorded, not approved) and run it; returns the CLI exit code."""
    from maestro_tui.ui.screens.dashboard import DashboardScreen

    app = MaestroApp(
        lambda: DashboardScreen(session, review_plan=review_plan), watch_themes=watch_themes
    )
    return await _run_app(app, session)


def prepare_resume(session: RunSession, max_agents: int | None = None) -> bool:
    """Send interrupted tasks back to the queue; False when the run has nothing left to do."""
    orch = session.orch
    if orch.state.settled and orch.state.status is not RunStatus.INTERRUPTED:
        return False
    orch.resume()
    if max_agents:
        orch.set_max_agents(max_agents)
    return True


async def run_resume(
    session: RunSession, *, max_agents: int | None = None, watch_themes: bool = True
) -> int:
    """Finish an interrupted run (or review its waiting merges) in the dashboard."""
    from maestro_tui.ui.screens.dashboard import DashboardScreen

    start = prepare_resume(session, max_agents)
    app = MaestroApp(lambda: DashboardScreen(session, start=start), watch_themes=watch_themes)
    return await _run_app(app, session)


class LauncherApp(MaestroApp):
    """The launcher's flows: start a run, resume one, replay one — each on its own screen."""

    def __init__(
        self, db_path: Path, repo: Path, start: StartRun, *, watch_themes: bool = True
    ) -> None:
        from maestro_tui.ui.screens.launcher import LauncherScreen

        super().__init__(lambda: LauncherScreen(db_path, repo), watch_themes=watch_themes)
        self.db_path, self.repo, self._start = db_path, repo, start

    def _failed(self, what: str, exc: BaseException) -> None:
        self.notify(
            str(exc) or type(exc).__name__, title=f"cannot {what}", severity="error", timeout=20
        )

    async def on_launcher_screen_start_run(self, message: Message) -> None:
        args = (message.goal, message.model, message.agents, message.budget_usd)  # type: ignore[attr-defined]
        self.run_worker(self._start_run(*args), group="launch", exclusive=True)

    async def _start_run(self, goal: str, model: str, agents: int, budget: float | None) -> None:
        from maestro_tui.ui.screens.dashboard import DashboardScreen

        try:
            session = await self._start(goal, model, agents, budget)
        except Exception as exc:
            self._failed("start the run", exc)
            return
        await self.push_screen(DashboardScreen(session, review_plan=True))

    async def on_launcher_screen_resume_run(self, message: Message) -> None:
        self.run_worker(self._resume(message.run_id), group="launch", exclusive=True)  # type: ignore[attr-defined]

    async def _resume(self, run_id: str) -> None:
        from maestro_tui.commands import open_session
        from maestro_tui.ui.screens.dashboard import DashboardScreen

        try:
            session = await open_session(self.db_path, run_id)
            start = prepare_resume(session)
        except Exception as exc:
            self._failed(f"resume {run_id}", exc)
            return
        await self.push_screen(DashboardScreen(session, start=start))

    async def on_launcher_screen_open_replay(self, message: Message) -> None:
        from maestro_tui.ui.screens.replay import ReplayScreen

        await self.push_screen(ReplayScreen(self.db_path, message.run_id))  # type: ignore[attr-defined]


async def run_launcher(db_path: Path, repo: Path, start: StartRun) -> int:
    """The launcher: a goal form beside the history of past runs. `start` records a new run."""
    return await _run_app(LauncherApp(db_path, repo, start))


async def run_replay(db_path: Path, run_id: str) -> int:
    """Replay a recorded run in the dashboard, on its own clock."""
    from maestro_tui.ui.screens.replay import ReplayScreen

    return await _run_app(MaestroApp(lambda: ReplayScreen(db_path, run_id)))
