"""PlanningScreen: a new run's preflight and its planner at work, from the first frame.

The preparation (the preflight, then the planner; or a re-plan of what a run has left) runs
in a worker on the app's loop and reports through the PlanningView's feed; a base whose own
tests fail is asked about in a modal. Once it is done, `then` takes its result and puts the
next screen in place (the dashboard and its plan review, or a revised plan's review).
Escape or q cancels it: nothing is recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from maestro_tui.session.outcome import EXIT_INTERRUPTED
from maestro_tui.ui.screens.modals import ConfirmModal
from maestro_tui.ui.widgets.planning_view import PlanningView

if TYPE_CHECKING:
    from maestro_tui.session.preparing import Outlet
    from maestro_tui.workspace.preflight import Preflight

T = TypeVar("T")
CANCEL_WAIT_S = 10.0  # for a cancelled preparation to stop what it started (tests, a CLI)


class Planning(Generic[T]):
    """A preparation a PlanningScreen runs, and what came of it, for whoever started it (the
    CLI raises `error` once the terminal is its own again, as it always reported bad input)."""

    def __init__(self, job: Callable[[Outlet], Awaitable[T]]) -> None:
        self._job = job
        self.result: T | None = None
        self.error: Exception | None = None
        self.cancelled = False

    async def __call__(self, outlet: Outlet) -> T:
        try:
            self.result = await self._job(outlet)
        except Exception as exc:
            self.error = exc
            raise
        return self.result


class PlanningScreen(Screen[Any]):
    """The goal, the planning view and a cancel key; `then(result)` when the plan is made."""

    DEFAULT_CSS = """
    PlanningScreen #planning-head { height: auto; padding: 0 1; margin-bottom: 1; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "cancel", tooltip="stop planning: nothing is recorded"),
        Binding("q", "cancel", "cancel", show=False),
    ]

    def __init__(
        self,
        planning: Planning[Any],
        then: Callable[[Any], object],
        *,
        goal: str,
        title: str = "Planning",
        simulated: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.planning = planning
        self._then = then
        self.goal = goal
        self.title_ = title
        self._simulated = simulated
        self._clock = clock
        self.worker: Worker[Any] | None = None
        self._left = False

    def compose(self) -> ComposeResult:
        head = Text.assemble(
            (f"{self.title_}  ", "bold"),
            (self.goal, ""),
            ("\nthe preflight and the planner's work show here; the plan review follows", "dim"),
        )
        yield Static(head, id="planning-head")
        yield PlanningView(simulated=self._simulated, clock=self._clock, id="planning")
        yield Footer()

    @property
    def view(self) -> PlanningView:
        return self.query_one(PlanningView)

    def on_mount(self) -> None:
        # After the first frame: whatever the preparation imports or does, it is not before it.
        self.call_after_refresh(self._begin)

    def _begin(self) -> None:
        if not self._left:
            self.worker = self._prepare()

    @work(exclusive=True, group="planning", exit_on_error=False, name="planning")
    async def _prepare(self) -> Any:
        from maestro_tui.session.preparing import Outlet

        feed = self.view.feed
        return await self.planning(Outlet(feed.say, feed, self._ask_red_base))

    async def _ask_red_base(self, found: Preflight) -> bool:
        """The preflight found the base's own tests failing: go on anyway? (in the worker)"""
        self.view.flush()  # the failing tests show behind the question
        failing = len(found.failing)
        what = f"{failing} test(s) fail" if failing else "The tests fail"
        question = (
            f"{what} on the base, before any agent changed anything.\n"
            "Run anyway? Failures already on the base are then not charged to any task."
        )
        modal: Screen[Any] = ConfirmModal(question, yes="Run anyway", no="Stop")
        return bool(await self.app.push_screen_wait(modal))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self.worker or self._left:
            return
        if event.state is WorkerState.SUCCESS:
            self.view.stop_clock()
            self._left = True
            self._then(event.worker.result)
        elif event.state is WorkerState.ERROR:
            self.view.stop_clock()
            self._failed(event.worker.error)

    def _failed(self, error: BaseException | None) -> None:
        """Planning failed: leave, keeping the error for whoever started it (the CLI reports
        it after the app, with the exit code it always had)."""
        if self._pushed:
            self.notify(str(error), title="cannot plan", severity="error", timeout=20)
        self._leave(1)

    @property
    def _pushed(self) -> bool:
        return len(self.app.screen_stack) > 1 and self.app.screen is self

    def _leave(self, code: int) -> None:
        self._left = True
        if self._pushed:
            self.app.pop_screen()
        else:
            self.app.exit(None if code == 1 else code, return_code=code)

    async def action_cancel(self) -> None:
        """Escape: stop planning; nothing has been recorded, and nothing is."""
        if self._left:
            return
        self.planning.cancelled = True
        self._left = True
        worker = self.worker
        if worker is not None and worker.state in (WorkerState.PENDING, WorkerState.RUNNING):
            worker.cancel()
            with contextlib.suppress(WorkerCancelled, WorkerFailed, TimeoutError):
                await asyncio.wait_for(worker.wait(), CANCEL_WAIT_S)
        self._leave(EXIT_INTERRUPTED)
