"""Opening a run's dashboard: the run a RunScreen opens in its worker (a session this process
drives, or a run attached to its engine), the app around it, and what is said after it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from maestro_tui.ui.app import MaestroApp

if TYPE_CHECKING:
    from maestro_tui.session.handle import RunHandle
    from maestro_tui.session.lifecycle import RunSession
    from maestro_tui.session.preparing import Prepared
    from maestro_tui.ui.screens.planning import Planning

Opened = tuple["RunSession | RunHandle", bool]


class Opening:
    """The run a RunScreen opens in its worker (a session this process drives, or a run
    attached to its engine), and what came of it, for the CLI."""

    def __init__(self, open_session: Callable[[], Awaitable[Opened]]) -> None:
        self._open = open_session
        self.session: RunSession | RunHandle | None = None
        self.error: Exception | None = None

    async def __call__(self) -> Opened:
        try:
            self.session, start = await self._open()
        except Exception as exc:
            self.error = exc
            raise
        return self.session, start


async def run_app(
    app: MaestroApp, opening: Opening | None = None, planning: Planning[Prepared] | None = None
) -> int:
    from maestro_tui.session.outcome import EXIT_OK, exit_code, next_step
    from maestro_tui.ui.background import goes_on

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
    if (going := goes_on(session)) is not None:
        print(going)  # left going on in the background: never a surprise
        return result if isinstance(result, int) else EXIT_OK
    if session is not None:
        hint = next_step(session.state)  # say how to go on
        if hint:
            print(hint)
    if isinstance(result, int):
        return result
    if app.return_code:
        return app.return_code  # the app itself failed
    return exit_code(session.state) if session is not None else 0


async def record(prepared: Prepared, db_path: Path, detach: bool = False) -> Opened:
    """Record a planned run (its inputs checked first: bad input writes nothing); with
    `detach`, hand it to an engine of its own and attach to that. A run with merge hints (the
    inbox's labels, which live only in this process) stays here."""
    from maestro_tui.session.inputs import check_run_inputs
    from maestro_tui.session.lifecycle import start_session

    p = prepared
    workers = check_run_inputs(p.ws, p.config, p.plan, p.base)
    session = await start_session(db_path=db_path, workers=workers, **p.session_inputs())
    if detach and p.merge_hints is None:
        from maestro_tui.ui.background import hand_off

        return await hand_off(session), True
    return session, True


async def show(
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

    return await run_app(MaestroApp(screen, watch_themes=watch_themes), opening)


async def resume_detached(
    db_path: Path, run_ref: str, first: Mapping[str, Any]
) -> RunHandle | None:
    """The run resumed by an engine of its own, attached to; None when it is not to go on
    there (it has finished: shown here; or another process drives it: refused here)."""
    from maestro_tui.session.finding import FINAL, find_run
    from maestro_tui.ui.background import resume_in_background

    found = await find_run(db_path, run_ref, None)
    if found.pid is not None or found.run.status in FINAL:
        return None
    return await resume_in_background(db_path, found, **first)
