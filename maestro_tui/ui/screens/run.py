"""RunScreen: a live run on the Dashboard widget, and the human's controls.

The screen can open its own session: it shows at once, "opening…", and opens the run (git,
SQLite, the model wiring) in a worker, so the first frame does not wait for any of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.widgets import Footer
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from maestro_tui.domain.plan import Plan, PlanError
from maestro_tui.domain.replan import replan_reasons
from maestro_tui.domain.state import RunState, RunStatus
from maestro_tui.session.outcome import EXIT_INTERRUPTED, exit_code
from maestro_tui.ui.bridge import FLUSH_INTERVAL_S, FlushPacer, RunBridge
from maestro_tui.ui.screens.modals import ConfirmModal
from maestro_tui.ui.screens.run_controls import RunControls
from maestro_tui.ui.widgets.dashboard import Dashboard

STOP_WAIT_S = 10.0  # for a cancelled run to record that it stopped

if TYPE_CHECKING:
    from maestro_tui.session.lifecycle import RunSession

# Opens the run's session; says whether there is anything to run (a resumed run may have
# only merges to review).
Opener = Callable[[], Awaitable[tuple["RunSession", bool]]]


class RunScreen(RunControls):
    """A live run: the dashboard, opening the run, the run's worker; the keys are RunControls'."""

    def __init__(
        self,
        session: RunSession | None = None,
        *,
        opener: Opener | None = None,
        review_plan: bool = False,
        start: bool = True,
        earlier_logs: bool = False,
    ) -> None:
        """Show `session`, or open one with `opener` once the screen shows (give one of them).

        `earlier_logs`: a resumed run; its agents' last lines are loaded from the store too.
        """
        super().__init__()
        if (session is None) == (opener is None):
            raise ValueError("give a session or an opener")
        self.session = session
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
        self._run_done = asyncio.Event()
        self._run_done.set()  # no run going yet

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
        if self.session is not None:
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
        self.session, self._start = await self._opener()
        if self._session_closed:  # quit while it opened: close it at once
            await self.session.aclose()
            return
        self._follow_session()

    def _follow_session(self) -> None:
        """Follow the session's bus from now on; review the plan first, or start the run."""
        assert self.session is not None
        self.session.notifier.attach_terminal(self._to_terminal)
        self.bridge = RunBridge(self.dashboard, self.orch.state)
        self.dashboard.reset(self.orch.state, {})
        self._unsubscribe = self.orch.bus.subscribe(self.bridge)
        if self._earlier_logs:
            self._load_earlier_logs()
        if self._review_plan and not self.orch.state.plan_approved:
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
        """Run the orchestrator in this event loop; merges wait for the human, not for exit."""
        self._run_done.clear()
        self.run_worker_ = self._run()
        return self.run_worker_

    @work(exclusive=True, group="run", exit_on_error=False, name="run")
    async def _run(self) -> RunState:
        try:
            return await self.orch.run(wait_for_review=True)
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
            status = self.orch.state.status.value
            hint = ", or r to re-plan what is left" if replan_reasons(self.orch.state) else ""
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
        earlier = await output_tails(self.session.store, self.orch.state.run_id, TAIL_LINES)
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
            PlanReviewScreen(self.orch.plan, self.orch.ws.root), self._plan_reviewed
        )

    async def _plan_reviewed(self, plan: Plan | None) -> None:
        if plan is None:
            # Backed out: the run is recorded as cancelled and never starts.
            self.orch.finish(RunStatus.CANCELLED)
            await self.close(code=0)
            return
        if plan.to_dict() != self.orch.plan.to_dict():
            try:
                self.orch.revise_plan(plan)
            except PlanError as exc:
                self.notify(str(exc), title="plan not accepted", severity="error")
                self._review_plan_first()
                return
        self.start_run()

    async def close(self, code: int | None = None) -> None:
        """Stop the run (it ends interrupted, resumable), close the session, leave."""
        if self._session_closed:
            return
        self._session_closed = True
        opening = self.open_worker
        if opening is not None and opening.state in (WorkerState.PENDING, WorkerState.RUNNING):
            opening.cancel()
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await opening.wait()
        if self.session is None:  # quit before the run was open: nothing to stop or close
            self._leave(EXIT_INTERRUPTED if code is None else code)
            return
        await self._stop_run()
        if self.bridge is not None:
            self.bridge.flush()
        if self._unsubscribe is not None:
            self._unsubscribe()
        await self.session.aclose()
        self.session.notifier.attach_terminal(None)
        self._leave(exit_code(self.orch.state) if code is None else code)

    async def on_unmount(self) -> None:
        """The app is going without `close`: a browser tab or its server closed, or SIGTERM.

        Stop the run all the same, so it is recorded as interrupted (resumable), not left
        "running" as after a crash. Textual cancels workers at exit but does not wait for them.
        """
        if self._session_closed or self.session is None:
            return
        self._session_closed = True
        await self._stop_run()
        if self._unsubscribe is not None:
            self._unsubscribe()
        await self.session.aclose()

    def _leave(self, code: int) -> None:
        if len(self.app.screen_stack) > 1 and self.app.screen is self:
            self.app.pop_screen()
        else:
            self.app.exit(code, return_code=code)

    def action_quit(self) -> None:
        """q: leave; a run still going is asked about, then stopped so it can be resumed."""
        if not self.run_active:
            self.run_worker(self.close(), group="close", exclusive=True)
            return
        question = (
            f"The run is still going.\nQuit now? It stops where it is and can be resumed:\n"
            f"maestro-tui resume {self.orch.state.run_id}"
        )

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.run_worker(self.close(), group="close", exclusive=True)

        self.app.push_screen(ConfirmModal(question, yes="Quit", no="Stay"), confirmed)
