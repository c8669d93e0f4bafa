"""RunScreen: a live run on the Dashboard widget, and the human's controls.

The screen can open its own session: it shows at once, "opening…", and opens the run (git,
SQLite, the model wiring) in a worker, so the first frame does not wait for any of it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from maestro_tui.domain.plan import Plan, PlanError
from maestro_tui.domain.state import RunState, RunStatus
from maestro_tui.session.outcome import EXIT_INTERRUPTED, exit_code
from maestro_tui.ui.bridge import FLUSH_INTERVAL_S, RunBridge
from maestro_tui.ui.screens.modals import ConfirmModal, NumberModal
from maestro_tui.ui.widgets.dashboard import Dashboard
from maestro_tui.ui.widgets.keys_panel import KeysPanel
from maestro_tui.ui.widgets.merge_table import MergeQueueTable

if TYPE_CHECKING:
    from maestro_tui.engine.orchestrator import Orchestrator
    from maestro_tui.session.lifecycle import RunSession

MAX_AGENTS = 64
# Opens the run's session; says whether there is anything to run (a resumed run may have
# only merges to review).
Opener = Callable[[], Awaitable[tuple["RunSession", bool]]]


LOGS = Binding.Group("logs: 0 all agents, 1–9 the Nth running one")
AGENTS = Binding.Group("agents")  # + and -, one footer key and one row of the keys panel


def _agent_bindings() -> list[Binding]:
    keys = [
        Binding(
            "0",
            "show_agent(0)",
            "all logs",
            show=False,
            tooltip="show all agents' logs",
            group=LOGS,
        )
    ]
    keys += [
        Binding(str(n), f"show_agent({n})", f"agent {n} log", show=False, group=LOGS)
        for n in range(1, 10)
    ]
    return keys


class RunScreen(Screen[None]):
    """A live run: the dashboard, the run's worker, and the human's controls."""

    BINDING_GROUP_TITLE = "dashboard"
    BINDINGS = [
        Binding("p", "toggle_pause", "pause/resume", tooltip="pause / resume dispatch"),
        Binding("x", "cancel_task", "cancel task"),
        Binding(
            "plus,equals_sign",
            "set_agents(1)",
            "agents",
            key_display="+",
            tooltip="more agents",
            group=AGENTS,
        ),
        Binding(
            "minus",
            "set_agents(-1)",
            "agents",
            key_display="-",
            tooltip="fewer agents",
            group=AGENTS,
        ),
        Binding("b", "raise_budget", "budget", tooltip="raise the budget"),
        Binding("m", "merge_queue", "merges", tooltip="open the merge queue"),
        Binding("question_mark", "toggle_keys", "keys", key_display="?"),
        Binding("q", "quit", "quit"),
        *_agent_bindings(),
    ]

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
        self._unsubscribe: Callable[[], None] | None = None
        self.run_worker_: Worker[RunState] | None = None
        self.open_worker: Worker[None] | None = None
        self.open_error: BaseException | None = None
        self._session_closed = False

    @property
    def orch(self) -> Orchestrator:
        """The run's orchestrator; only once the session is open."""
        if self.session is None:
            raise RuntimeError("the run is still opening")
        return self.session.orch

    def compose(self) -> ComposeResult:
        yield Dashboard(id="dashboard")
        yield Footer()

    @property
    def dashboard(self) -> Dashboard:
        return self.query_one(Dashboard)

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
        if self.bridge is not None:
            self.bridge.flush()

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
        self.bridge = RunBridge(self.dashboard, self.orch.state)
        self.dashboard.reset(self.orch.state, {})
        self._unsubscribe = self.orch.bus.subscribe(self.bridge)
        if self._earlier_logs:
            self._load_earlier_logs()
        if self._review_plan and not self.orch.state.plan_approved:
            self._review_plan_first()
        elif self._start:
            self.start_run()

    # --- the run -------------------------------------------------------------------------

    def start_run(self) -> Worker[RunState]:
        """Run the orchestrator in this event loop; merges wait for the human, not for exit."""
        self.run_worker_ = self._run()
        return self.run_worker_

    @work(exclusive=True, group="run", exit_on_error=False, name="run")
    async def _run(self) -> RunState:
        return await self.orch.run(wait_for_review=True)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is self.open_worker and event.state is WorkerState.ERROR:
            self._open_failed(event.worker.error)
            return
        if event.worker is not self.run_worker_:
            return
        if event.state is WorkerState.SUCCESS:
            status = self.orch.state.status.value
            self.notify(f"run {status} — press q to quit", title="run finished")
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
        from maestro_tui.engine.replayer import TAIL_LINES, output_tails

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
        worker = self.run_worker_
        if worker is not None and self.run_active:
            worker.cancel()
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await worker.wait()
        if self.bridge is not None:
            self.bridge.flush()
        if self._unsubscribe is not None:
            self._unsubscribe()
        await self.session.aclose()
        self._leave(exit_code(self.orch.state) if code is None else code)

    def _leave(self, code: int) -> None:
        if len(self.app.screen_stack) > 1 and self.app.screen is self:
            self.app.pop_screen()
        else:
            self.app.exit(code, return_code=code)

    # --- the human's controls --------------------------------------------------------------

    def _needs_run(self, what: str) -> bool:
        if self.session is None:
            self.notify(f"cannot {what}: the run is still opening", severity="warning")
            return False
        if self.orch.scheduler is None or not self.run_active:
            self.notify(f"cannot {what}: the run is not running", severity="warning")
            return False
        return True

    def action_toggle_pause(self) -> None:
        """p: stop starting new tasks (running ones go on), or start again."""
        if not self._needs_run("pause"):
            return
        if self.orch.state.paused:
            self.orch.resume_dispatch()
        else:
            self.orch.pause()

    def action_cancel_task(self) -> None:
        """x: cancel the task under the cursor, after asking; its dependents are blocked."""
        task_id = self.dashboard.graph.selected_task_id
        if task_id is None or not self._needs_run("cancel a task"):
            return
        view = self.orch.state.tasks.get(task_id)
        if view is None or view.status.settled:
            self.notify(f"task '{task_id}' has already settled", severity="warning")
            return
        question = f"Cancel task '{task_id}'?\nTasks that depend on it will be blocked."

        def confirmed(yes: bool | None) -> None:
            if yes and not self.orch.cancel_task(task_id):
                self.notify(f"task '{task_id}' had already settled", severity="warning")

        self.app.push_screen(ConfirmModal(question, yes="Cancel task", no="Keep"), confirmed)

    def action_set_agents(self, delta: int) -> None:
        """+ / -: one agent more or fewer at a time (running ones finish either way)."""
        if self.session is None:
            self._needs_run("change concurrency")
            return
        n = max(1, min(MAX_AGENTS, self.orch.state.max_agents + delta))
        if n != self.orch.state.max_agents and self._needs_run("change concurrency"):
            self.orch.set_max_agents(n)

    def action_raise_budget(self) -> None:
        """b: set a higher $ budget (the run goes on if it had stopped for money)."""
        if self.session is None:
            self._needs_run("raise the budget")
            return
        state = self.orch.state
        current = state.budget_usd
        suggestion = round(max(current or 0.0, state.cost_usd) * 1.5 + 1.0, 2)
        prompt = f"New budget in US$ (spent ${state.cost_usd:.4f}" + (
            f" of ${current:.2f})" if current is not None else ", no budget yet)"
        )

        def chosen(value: float | None) -> None:
            if value is not None:
                self.orch.raise_budget("usd", value)

        minimum = max(state.cost_usd, current or 0.0)
        self.app.push_screen(NumberModal(prompt, value=suggestion, minimum=minimum), chosen)

    def action_merge_queue(self) -> None:
        """m: focus the merge queue; pressed again on it, review the merge under the cursor."""
        merges = self.dashboard.merges
        if merges.has_focus and merges.selected_task_id:
            self.open_review(merges.selected_task_id)
        elif merges.waiting_count:
            merges.focus()
        else:
            self.notify("no merge waits for review")

    @on(MergeQueueTable.ReviewRequested)
    def _review_requested(self, event: MergeQueueTable.ReviewRequested) -> None:
        self.open_review(event.task_id)

    def open_review(self, task_id: str) -> None:
        """Push the merge review (diff, conflicts, approve/reject/retry) for one waiting task."""

        def reviewed(result: str | None) -> None:
            if result:
                self.notify(f"{task_id}: {result}")

        from maestro_tui.ui.screens.merge_review import MergeReviewScreen

        self.app.push_screen(MergeReviewScreen(self.orch, task_id), reviewed)

    def action_show_agent(self, n: int) -> None:
        """0: every agent's log; 1–9: the Nth running agent's log."""
        if not self.dashboard.logs.show_nth(n):
            self.notify(f"no running agent number {n}", timeout=2)

    def action_toggle_keys(self) -> None:
        """?: the keys panel, this screen's keys first."""
        if self.query(KeysPanel):
            self.query(KeysPanel).remove()
        else:
            self.mount(KeysPanel())

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
