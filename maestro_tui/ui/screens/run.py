"""RunScreen: a live run on the Dashboard widget, and the human's controls.

The screen can open its own session: it shows at once, "opening…", and opens the run (git,
SQLite, the model wiring) in a worker, so the first frame does not wait for any of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, cast

from textual import work
from textual.app import ComposeResult
from textual.widgets import Footer
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from maestro_tui.domain.plan import Plan, PlanError
from maestro_tui.domain.replan import replan_reasons
from maestro_tui.domain.state import RunState
from maestro_tui.session.client import EngineGone
from maestro_tui.session.outcome import EXIT_INTERRUPTED, exit_code
from maestro_tui.ui.bridge import FLUSH_INTERVAL_S, FlushPacer, RunBridge
from maestro_tui.ui.screens.modals import ConfirmModal, LeaveModal
from maestro_tui.ui.screens.run_controls import RunControls
from maestro_tui.ui.widgets.dashboard import Dashboard
from maestro_tui.ui.widgets.status_bar import StatusBar

STOP_WAIT_S = 10.0  # for a cancelled run to record that it stopped

if TYPE_CHECKING:
    from maestro_tui.engine.orchestrator import Orchestrator
    from maestro_tui.session.handle import RunHandle
    from maestro_tui.session.lifecycle import RunSession

# Opens the run: a session this process drives, or a run attached to its engine; says whether
# there is anything to run (a resumed run may have only merges to review).
Opener = Callable[[], Awaitable[tuple["RunSession | RunHandle", bool]]]


def as_handle(opened: RunSession | RunHandle) -> RunHandle:
    """The front end's face of a run: a session this process drives becomes a LocalRun."""
    from maestro_tui.session.attached import AttachedRun
    from maestro_tui.session.local_run import LocalRun

    if isinstance(opened, LocalRun | AttachedRun):
        return opened
    return LocalRun(cast("RunSession", opened))  # a session (or a test's stand-in for one)


class RunScreen(RunControls):
    """A live run: the dashboard, opening the run, the run's worker; the keys are RunControls'."""

    def __init__(
        self,
        session: RunSession | RunHandle | None = None,
        *,
        opener: Opener | None = None,
        review_plan: bool = False,
        start: bool = True,
        earlier_logs: bool = False,
    ) -> None:
        """Show `session` (a session this process drives, or a run attached to its engine),
        or open one with `opener` once the screen shows (give one of them).

        `earlier_logs`: a resumed run; its agents' last lines are loaded from the store too.
        """
        super().__init__()
        if (session is None) == (opener is None):
            raise ValueError("give a session or an opener")
        self.run = as_handle(session) if session is not None else None
        self._opener = opener
        self._review_plan = review_plan
        self._start = start
        self._earlier_logs = earlier_logs
        self.bridge: RunBridge | None = None
        self._pacer = FlushPacer()
        self._unsubscribe: Callable[[], None] | None = None
        self.run_worker_: Worker[RunState] | None = None
        self.open_worker: Worker[None] | None = None
        self.open_error: BaseException | None = None
        self._session_closed = False
        self.left_going = False  # left with the run going on in the background
        self._run_done = asyncio.Event()
        self._run_done.set()  # no run going yet

    @property
    def session(self) -> RunSession | None:
        """The session, when this process drives the run (not when attached to its engine)."""
        from maestro_tui.session.local_run import LocalRun

        return self.run.session if isinstance(self.run, LocalRun) else None

    @property
    def orch(self) -> Orchestrator:
        """The orchestrator, when this process drives the run."""
        if self.session is None:
            raise RuntimeError("no orchestrator here: the run is opening, or driven elsewhere")
        return self.session.orch

    def compose(self) -> ComposeResult:
        yield Dashboard(id="dashboard")
        yield Footer()

    @property
    def run_active(self) -> bool:
        """The run's worker is still going (tasks run or merges wait for the human)."""
        return self.run_worker_ is not None and self.run_worker_.state in (
            WorkerState.PENDING,
            WorkerState.RUNNING,
        )

    def on_mount(self) -> None:
        self.set_interval(FLUSH_INTERVAL_S, self._flush)
        self.dashboard.graph.focus()
        if self.run is not None:
            self._follow_session()
        else:
            self.dashboard.show_opening()
            self.open_worker = self._open()

    def _flush(self) -> None:
        """The timer's tick: feed what arrived, paced by what showing the last batch cost."""
        if self.bridge is None or not self._pacer.ready(time.monotonic()):
            return
        if self.bridge.flush():
            self._pacer.flushed(time.monotonic())
            self.call_after_refresh(lambda: self._pacer.shown(time.monotonic()))

    @work(exclusive=True, group="open", exit_on_error=False, name="open")
    async def _open(self) -> None:
        """Open the session (the opener records or reopens the run), then show and start it."""
        assert self._opener is not None
        opened, self._start = await self._opener()
        self.run = as_handle(opened)
        if self._session_closed:  # quit while it opened: close it at once
            await self.run.aclose()
            return
        self._follow_session()

    def _follow_session(self) -> None:
        """Follow the run's events from now on; review the plan first, or start the run."""
        run = self.live
        run.attach_terminal(self._to_terminal)
        self.bridge = RunBridge(self.dashboard, run.state)
        self.dashboard.reset(run.state, run.tails)
        self._unsubscribe = run.subscribe(self.bridge)
        if run.detached:  # never a surprise that it goes on without this screen
            bar = self.dashboard.query_one(StatusBar)
            bar.where = "⟳ in the background · q leaves it going"
            bar.show(run.state)
        elif self._earlier_logs:
            self._load_earlier_logs()
        if self._review_plan and not run.state.plan_approved:
            self._review_plan_first()
        elif self._start:
            self.start_run()

    def _to_terminal(self, text: str) -> None:
        """Raw escape sequences (the bell, desktop notifications) out between frames, through
        the driver, the way Textual's own clipboard copy writes OSC 52."""
        driver = self.app._driver
        if driver is not None and not self.app.is_headless:
            driver.write(text)

    # --- the run -------------------------------------------------------------------------

    def start_run(self) -> Worker[RunState]:
        """Drive the run (here, or by its engine, followed); merges wait for the human."""
        self._run_done.clear()
        self.run_worker_ = self._run()
        return self.run_worker_

    @work(exclusive=True, group="run", exit_on_error=False, name="run")
    async def _run(self) -> RunState:
        try:
            return await self.live.drive()
        finally:
            self._run_done.set()  # after the run recorded how it stopped

    async def _stop_run(self) -> None:
        """Cancel the run and wait until it has recorded that it stopped (interrupted). A
        cancelled Worker reports CANCELLED at once, before its coroutine has unwound."""
        worker = self.run_worker_
        # Once is enough: a second cancel (Textual cancels every worker as the app exits)
        # would interrupt the run's own clean-up before it records that it stopped.
        if worker is not None and not worker.is_cancelled:
            worker.cancel()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._run_done.wait(), STOP_WAIT_S)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is self.open_worker and event.state is WorkerState.ERROR:
            self._open_failed(event.worker.error)
            return
        if event.worker is not self.run_worker_:
            return
        if event.state is WorkerState.SUCCESS:
            status = self.live.state.status.value
            hint = ", or r to re-plan what is left" if replan_reasons(self.live.state) else ""
            self.notify(f"run {status} — press q to quit{hint}", title="run finished")
        elif event.state is WorkerState.ERROR:
            self.notify(
                str(event.worker.error),
                title="the run stopped on an error",
                severity="error",
                timeout=30,
            )

    @work(group="earlier-logs", exit_on_error=False, name="earlier logs")
    async def _load_earlier_logs(self) -> None:
        """The log tails the run had when it stopped, read from the store beside the run."""
        from maestro_tui.engine.history import TAIL_LINES, output_tails

        assert self.session is not None
        earlier = await output_tails(self.session.store, self.live.run_id, TAIL_LINES)
        if earlier:
            self.dashboard.logs.prepend(earlier)

    def _open_failed(self, error: BaseException | None) -> None:
        """The run could not be opened: leave, keeping the error for whoever opened the screen
        (the CLI reports bad input with exit code 2, as it would have without the screen)."""
        self.open_error = error
        self._session_closed = True
        if len(self.app.screen_stack) > 1 and self.app.screen is self:
            self.notify(str(error), title="cannot open the run", severity="error", timeout=20)
            self.app.pop_screen()
        else:
            self.app.exit(None, return_code=1)

    def _review_plan_first(self) -> None:
        # The review screens are imported when first needed: not before the first frame.
        from maestro_tui.ui.screens.plan_review import PlanReviewScreen

        self.app.push_screen(
            PlanReviewScreen(self.live.plan, self.live.ws.root), self._plan_reviewed
        )

    async def _plan_reviewed(self, plan: Plan | None) -> None:
        if plan is None:
            # Backed out: the run is recorded as cancelled and never starts.
            await self.send("cancel_plan")
            await self.close(code=0, stop=False)
            return
        if plan.to_dict() != self.live.plan.to_dict():
            try:
                await self.send("revise_plan", plan=plan.to_dict())
            except PlanError as exc:
                self.notify(str(exc), title="plan not accepted", severity="error")
                self._review_plan_first()
                return
        self.start_run()

    async def close(self, code: int | None = None, *, stop: bool = True) -> None:
        """Leave. A run this process drives is stopped (interrupted, resumable); a run its
        engine drives is stopped only when `stop`, else it goes on in the background."""
        if self._session_closed:
            return
        self._session_closed = True
        opening = self.open_worker
        if opening is not None and opening.state in (WorkerState.PENDING, WorkerState.RUNNING):
            opening.cancel()
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await opening.wait()
        run = self.run
        if run is None:  # quit before the run was open: nothing to stop or close
            self._leave(EXIT_INTERRUPTED if code is None else code)
            return
        await self._let_go(run, stop)
        if self.bridge is not None:
            self.bridge.flush()
        run.attach_terminal(None)
        if self.left_going:
            code = 0 if code is None else code
        self._leave(exit_code(run.state) if code is None else code)

    async def _let_go(self, run: RunHandle, stop: bool) -> None:
        """Stop the run or leave it going; stop following it; close what this screen holds."""
        if run.detached:
            self.left_going = run.running and not stop
            if stop and run.running:
                with contextlib.suppress(EngineGone):
                    await run.send("stop", reason="stopped from the dashboard")
                    # its engine ends once the run has recorded that it stopped
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._run_done.wait(), STOP_WAIT_S)
        await self._stop_run()  # here: the run itself; attached: only the following
        if self._unsubscribe is not None:
            self._unsubscribe()
        await run.aclose()

    async def on_unmount(self) -> None:
        """The app is going without `close`: a browser tab or its server closed, a lost SSH
        connection, or SIGTERM. A run this process drives is stopped all the same, so it is
        recorded as interrupted (resumable), not left "running" as after a crash; a run its
        engine drives goes on. Textual cancels workers at exit but does not wait for them.
        """
        if self._session_closed or self.run is None:
            return
        self._session_closed = True
        await self._let_go(self.run, stop=False)

    def _leave(self, code: int) -> None:
        if len(self.app.screen_stack) > 1 and self.app.screen is self:
            self.app.pop_screen()
        else:
            self.app.exit(code, return_code=code)

    def action_quit(self) -> None:
        """q: leave. A run its engine drives is asked about: leave it going (the default) or
        stop it; a run this process drives is stopped, after asking, so it can be resumed."""
        if not self.run_active:
            self.run_worker(self.close(), group="close", exclusive=True)
            return
        run = self.live
        if run.detached:
            question = (
                f"Run {run.run_id} goes on in the background when you leave.\n"
                f"Attach again with: maestro-tui attach {run.run_id}"
            )

            def chosen(choice: str | None) -> None:
                if choice is not None:
                    close = self.close(stop=choice == "stop")
                    self.run_worker(close, group="close", exclusive=True)

            self.app.push_screen(LeaveModal(question), chosen)
            return
        question = (
            f"The run is still going.\nQuit now? It stops where it is and can be resumed:\n"
            f"maestro-tui resume {run.run_id}"
        )

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.run_worker(self.close(), group="close", exclusive=True)

        self.app.push_screen(ConfirmModal(question, yes="Quit", no="Stay"), confirmed)
