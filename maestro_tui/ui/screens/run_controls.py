"""The human's controls on a live run: pause, cancel, concurrency, budget, the merge queue,
messages to agents, a shell in a worktree, and jumping to what needs a person."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import SuspendNotSupported
from textual.binding import Binding
from textual.screen import Screen

from maestro_tui.config.settings import MAX_AGENTS
from maestro_tui.domain.attention import NoticeKind, needs_you
from maestro_tui.domain.state import TaskStatus
from maestro_tui.engine.executors import NothingToSee, checkout_for, release
from maestro_tui.engine.steering import SteerRefused
from maestro_tui.session.client import EngineGone
from maestro_tui.ui.bridge import RunBridge
from maestro_tui.ui.screens.modals import ConfirmModal, NumberModal, TextModal
from maestro_tui.ui.shell import run_shell
from maestro_tui.ui.widgets.dashboard import Dashboard
from maestro_tui.ui.widgets.keys_panel import first_stop, toggle_keys_panel
from maestro_tui.ui.widgets.merge_table import MergeQueueTable
from maestro_tui.workspace.repo import WorkspaceError

if TYPE_CHECKING:
    from maestro_tui.session.handle import RunHandle


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


class RunControls(Screen[None]):
    """The keys of a live run's screen; RunScreen supplies the run they act on."""

    DEFAULT_CSS = "RunControls { layers: default keys; }"  # the keys panel over the rest
    BINDING_GROUP_TITLE = "dashboard"
    BINDINGS = [
        Binding("p", "toggle_pause", "pause", tooltip="pause / continue dispatch"),
        Binding("x", "cancel_task", "cancel", tooltip="cancel the selected task"),
        Binding("s", "steer", "say", tooltip="say something to the selected agent"),
        Binding(
            "exclamation_mark",
            "shell",
            "shell",
            key_display="!",
            show=False,
            tooltip="a shell in the selected task's worktree",
        ),
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
        Binding("n", "next_needing", "needs you", tooltip="jump to the next thing that needs you"),
        Binding(
            "f",
            "rerun_from",
            "rerun from",
            show=False,
            tooltip="once the run has ended: re-run from the selected task",
        ),
        Binding(
            "r",
            "replan",
            "re-plan",
            show=False,
            tooltip="a new plan of what is left (a task failed for good, a rejection, 80 % of"
            " the budget)",
        ),
        Binding("question_mark", "toggle_keys", "keys", key_display="?"),
        Binding("q", "quit", "quit"),
        *_agent_bindings(),
    ]
    BINDINGS = first_stop(BINDINGS)  # no Input on this screen: the keys act at once

    run: RunHandle | None  # None while the run opens
    bridge: RunBridge | None

    @property
    def live(self) -> RunHandle:
        """The run the keys act on; only once it is open."""
        if self.run is None:
            raise RuntimeError("the run is still opening")
        return self.run

    @property
    def dashboard(self) -> Dashboard:
        return self.query_one(Dashboard)

    @property
    def run_active(self) -> bool:
        raise NotImplementedError

    # --- the human's controls --------------------------------------------------------------

    def _needs_run(self, what: str) -> bool:
        if self.run is None:
            self.notify(f"cannot {what}: the run is still opening", severity="warning")
            return False
        if not (self.run.running and self.run_active):
            self.notify(f"cannot {what}: the run is not running", severity="warning")
            return False
        return True

    async def send(self, cmd: str, **args: Any) -> Any:
        """A command to the run (its engine, here or in its own process); None, said on
        screen, when the engine is gone."""
        try:
            return await self.live.send(cmd, **args)
        except EngineGone:
            self.notify("the run's engine has stopped", severity="warning")
            return None

    async def action_toggle_pause(self) -> None:
        """p: stop starting new tasks (running ones go on), or start again."""
        if not self._needs_run("pause"):
            return
        await self.send("unpause" if self.live.state.paused else "pause")

    def action_cancel_task(self) -> None:
        """x: cancel the task under the cursor, after asking; its dependents are blocked."""
        task_id = self.dashboard.graph.selected_task_id
        if task_id is None or not self._needs_run("cancel a task"):
            return
        view = self.live.state.tasks.get(task_id)
        if view is None or view.status.settled:
            self.notify(f"task '{task_id}' has already settled", severity="warning")
            return
        question = f"Cancel task '{task_id}'?\nTasks that depend on it will be blocked."

        async def confirmed(yes: bool | None) -> None:
            if yes and await self.send("cancel_task", task=task_id) is False:
                self.notify(f"task '{task_id}' had already settled", severity="warning")

        self.app.push_screen(ConfirmModal(question, yes="Cancel task", no="Keep"), confirmed)

    async def action_steer(self) -> None:
        """s: a message to the selected task's agent, which takes it while it works."""
        task_id = self.dashboard.graph.selected_task_id
        if task_id is None or not self._needs_run("message an agent"):
            return
        delivery = await self.send("steer_delivery", task=task_id)
        if delivery is None:
            view = self.live.state.tasks.get(task_id)
            why = (
                "its worker cannot take a message while it works"
                if view is not None and view.status is TaskStatus.RUNNING
                else "it is not running"
            )
            self.notify(f"cannot reach {task_id}'s agent: {why}", severity="warning")
            return

        async def said(text: str | None) -> None:
            if not text:
                return
            try:
                await self.send("steer", task=task_id, text=text)
            except SteerRefused as exc:
                self.notify(str(exc), title="not delivered", severity="warning")

        prompt = f"Say to {task_id}'s agent (it takes it {delivery}):"
        self.app.push_screen(TextModal(prompt, optional=False), said)

    async def action_shell(self) -> None:
        """!: a shell in the selected task's worktree (a scratch copy once it has settled)."""
        task_id = self.dashboard.graph.selected_task_id
        if task_id is None:
            return
        try:
            checkout = await checkout_for(self.live.ws, self.live.state, task_id)
        except (NothingToSee, WorkspaceError) as exc:
            self.notify(str(exc), title="no shell", severity="warning")
            return
        try:
            await run_shell(self.app, checkout)
        except SuspendNotSupported:
            self.notify("this terminal cannot hand itself to a shell", severity="warning")
        finally:
            await release(self.live.ws, checkout)

    async def action_set_agents(self, delta: int) -> None:
        """+ / -: one agent more or fewer at a time (running ones finish either way)."""
        if self.run is None:
            self._needs_run("change concurrency")
            return
        n = max(1, min(MAX_AGENTS, self.run.state.max_agents + delta))
        if n != self.run.state.max_agents and self._needs_run("change concurrency"):
            await self.send("set_max_agents", n=n)

    def action_raise_budget(self) -> None:
        """b: set a higher $ budget (the run goes on if it had stopped for money)."""
        if self.run is None:
            self._needs_run("raise the budget")
            return
        state = self.run.state
        current = state.budget_usd
        suggestion = round(max(current or 0.0, state.cost_usd) * 1.5 + 1.0, 2)
        prompt = f"New budget in US$ (spent ${state.cost_usd:.4f}" + (
            f" of ${current:.2f})" if current is not None else ", no budget yet)"
        )

        async def chosen(value: float | None) -> None:
            if value is not None:
                await self.send("raise_budget", kind="usd", limit=value)

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

    def action_next_needing(self) -> None:
        """n: the next thing that waits for you (a merge to decide, a spent budget)."""
        if self.bridge is not None:
            self.bridge.flush()  # the tables show what the state says
        items = needs_you(self.live.state)
        if not items:
            self.notify("nothing needs you right now")
            return
        graph, merges = self.dashboard.graph, self.dashboard.merges
        ids = [item.task for item in items]
        current = merges.selected_task_id if merges.has_focus else graph.selected_task_id
        item = items[(ids.index(current) + 1) % len(items) if current in ids else 0]
        if item.task is None:
            self.notify(item.reason, title="needs you")
            return
        graph.select_task(item.task)
        if item.kind is NoticeKind.MERGE_WAITING:
            merges.move_cursor(row=merges.get_row_index(item.task))
            merges.focus()
            self.notify(f"{item.reason}: enter (or m) to review it", title=item.task)
        else:
            graph.focus()
            self.notify(item.reason, title=item.task)

    @on(MergeQueueTable.ReviewRequested)
    def _review_requested(self, event: MergeQueueTable.ReviewRequested) -> None:
        self.open_review(event.task_id)

    def open_review(self, task_id: str) -> None:
        """Push the merge review (diff, conflicts, approve/reject/retry) for one waiting task."""

        def reviewed(result: str | None) -> None:
            if result:
                self.notify(f"{task_id}: {result}")

        from maestro_tui.ui.screens.merge_review import MergeReviewScreen

        self.app.push_screen(MergeReviewScreen(self.live, task_id), reviewed)

    def action_show_agent(self, n: int) -> None:
        """0: every agent's log; 1–9: the Nth running agent's log."""
        if not self.dashboard.logs.show_nth(n):
            self.notify(f"no running agent number {n}", timeout=2)

    def action_rerun_from(self) -> None:
        """f: once the run has ended, re-run it from the selected task, on a new dashboard."""
        from maestro_tui.ui.screens.rerun import rerun_from

        if self.run is None or self.run_active:
            self.notify("re-run from a task once this run has ended", severity="warning")
            return
        task = self.dashboard.graph.selected_task_id
        state, path = self.run.state, self.run.db_path
        rerun_from(self, path, state.run_id, task, lambda o: type(self)(opener=o))  # type: ignore[call-arg]

    def action_replan(self) -> None:
        """r: once the run has stopped, a new plan of what is left, reviewed, then run."""
        from maestro_tui.ui.screens.replan import replan

        replan(self)  # type: ignore[arg-type]  # RunScreen supplies start_run

    def action_toggle_keys(self) -> None:
        """?: the keys panel, this screen's keys first."""
        toggle_keys_panel(self)
