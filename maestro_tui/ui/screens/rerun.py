"""Re-run from a task, from a replay or a finished run: what runs again, what is taken over,
and what to change; then the new run on its dashboard.

`f` on the task list asks here rather than printing a command to copy: the user is looking
at the run and the task, so the re-run starts in the same window and shows at once, like a
run started from the launcher. Its command line is shown too, for a script or a CI job, and
`q` on the new run comes back to where `f` was pressed.
"""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Input, Label, Static

from maestro_tui.session.lifecycle import RunSession, start_session
from maestro_tui.session.rerun import RerunRequest, prepare_rerun, ready_rerun
from maestro_tui.ui.screens.modals import MODALS_CSS


class RerunModal(ModalScreen[RerunRequest | None]):
    """The re-run's scope (read in a worker) and the changes to make; Enter starts it."""

    CSS_PATH = MODALS_CSS
    DEFAULT_CSS = """
    RerunModal { align: center middle; background: $background 60%; }
    RerunModal > #dialog {
        width: 96; max-width: 95%; height: auto; padding: 1 2;
        border: thick $accent; background: $surface;
    }
    RerunModal #scope { height: auto; max-height: 12; color: $foreground-muted; }
    RerunModal #fields { height: auto; margin-top: 1; }
    RerunModal #fields Label { width: 10; padding-top: 1; }
    RerunModal #fields > Horizontal { height: auto; }
    RerunModal #fields Input { width: 1fr; }
    RerunModal #command { color: $text-accent; margin-top: 1; height: auto; }
    """
    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, db_path: Path, run_id: str, task_id: str) -> None:
        super().__init__()
        self.db_path, self.run_id, self.task_id = db_path, run_id, task_id

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(f"Re-run {self.run_id} from [b]{self.task_id}[/b]", id="question")
            yield Static("reading the run …", id="scope")
            with Vertical(id="fields"):
                for field, hint in (
                    ("worker", "as before (a worker of maestro.toml: claude, codex, llm …)"),
                    ("model", "as before (e.g. gpt-4o-mini, anthropic/claude-sonnet-4-5)"),
                    ("set", "SECTION.KEY=VALUE …, e.g. merge.policy=review critic.rounds=1"),
                ):
                    with Horizontal():
                        yield Label(field.capitalize())
                        yield Input(placeholder=hint, id=field)
            yield Static("", id="command")
            yield Label("", id="error")
            with Horizontal(id="buttons"):
                yield Button("Cancel [esc]", id="cancel")
                yield Button("Start [enter]", id="start", variant="primary", disabled=True)

    def on_mount(self) -> None:
        self.query_one("#worker", Input).focus()
        self._show_command()
        self.preview()

    @property
    def request(self) -> RerunRequest:
        values = {f: self.query_one(f"#{f}", Input).value.strip() for f in ("worker", "model")}
        assignments = tuple(shlex.split(self.query_one("#set", Input).value))
        return RerunRequest(
            self.run_id,
            (self.task_id,),
            worker=values["worker"] or None,
            model=values["model"] or None,
            assignments=assignments,
        )

    @work(exclusive=True, group="rerun-preview", exit_on_error=False)
    async def preview(self) -> None:
        """What runs again and what is taken over (nothing is written)."""
        try:
            prepared = await prepare_rerun(self.db_path, RerunRequest(self.run_id, (self.task_id,)))
        except Exception as exc:  # noqa: BLE001 - shown to the user, who backs out
            self.query_one("#scope", Static).update(f"cannot re-run: {exc}")
            return
        self.query_one("#scope", Static).update("\n".join(prepared.summary()[1:]))
        self.query_one("#start", Button).disabled = False

    @on(Input.Changed)
    def _show_command(self) -> None:
        try:
            text = self.request.command()
        except ValueError as exc:  # an unclosed quote in the settings
            text = f"settings: {exc}"
        self.query_one("#command", Static).update(text)

    @on(Input.Submitted)
    @on(Button.Pressed, "#start")
    def action_start(self) -> None:
        if self.query_one("#start", Button).disabled:
            return
        try:
            request = self.request
        except ValueError as exc:
            self.query_one("#error", Label).update(f"settings: {exc}")
            return
        self.dismiss(request)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


Opener = Callable[[], Awaitable[tuple[RunSession, bool]]]


def rerun_from(
    screen: Screen[Any],
    db_path: Path,
    run_id: str,
    task_id: str | None,
    dashboard: Callable[[Opener], Screen[Any]],
) -> None:
    """Ask about a re-run from `task_id`, then open it on a `dashboard` (a RunScreen that
    opens its session itself) over `screen`."""
    if task_id is None:
        screen.notify("select a task first: the re-run starts from it", severity="warning")
        return

    def chosen(request: RerunRequest | None) -> None:
        if request is None:
            return
        screen.notify(request.command(), title="re-run started", timeout=10)
        screen.app.push_screen(dashboard(lambda: open_rerun(db_path, request)))

    screen.app.push_screen(RerunModal(db_path, run_id, task_id), chosen)


async def open_rerun(db_path: Path, request: RerunRequest) -> tuple[RunSession, bool]:
    """Prepare, check (the tests on the base with the taken-over results) and record it."""
    prepared, found = await ready_rerun(db_path, request, say=lambda _text: None)
    session = await start_session(**prepared.session_inputs(db_path), preflight=found)
    return session, True
