"""LauncherScreen: a form to start a run beside the history of past runs and the scoreboard."""

from __future__ import annotations

from datetime import datetime, tzinfo
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Static, TabbedContent, TabPane

from maestro_tui.config.settings import MAX_AGENTS
from maestro_tui.ui.widgets.run_history import RunHistory
from maestro_tui.ui.widgets.scoreboard import Scoreboard

DEFAULT_AGENTS = 4
MODEL_HINT = "none set: e.g. openai/gpt-4o"  # fits the field


class FormError(ValueError):
    """What is wrong with the form, and the id of the field to fix."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def parse_form(
    goal: str, model: str, agents: str, budget: str, need_model: bool = True
) -> tuple[str, str, int, float | None]:
    """The form's values, checked: (goal, model, agents, budget in $ or None for no budget).
    `need_model`: maestro.toml names nothing that plans, so the model field must."""
    goal = goal.strip()
    if not goal:
        raise FormError("Say what the agents should do: the goal is empty.", "goal")
    model = model.strip()
    if not model and need_model:
        raise FormError(
            "Name a model to plan and work with: a litellm model such as"
            " anthropic/claude-sonnet-4-5 (its key in the environment), or demo for the"
            " offline demo, which only knows its sample repository.",
            "model",
        )
    try:
        count = int(agents.strip() or DEFAULT_AGENTS)
    except ValueError:
        raise FormError(
            f"Agents must be a whole number from 1 to {MAX_AGENTS}.", "agents"
        ) from None
    if not 1 <= count <= MAX_AGENTS:
        raise FormError(f"Agents must be from 1 to {MAX_AGENTS}, not {count}.", "agents")
    budget = budget.strip().lstrip("$").strip()
    if not budget:
        return goal, model, count, None
    try:
        usd = float(budget)
    except ValueError:
        raise FormError(
            "Budget must be an amount in dollars, like 2.50 (or empty).", "budget"
        ) from None
    if not usd > 0 or usd == float("inf"):
        raise FormError("Budget must be more than $0 (leave it empty for no budget).", "budget")
    return goal, model, count, usd


class LauncherScreen(Screen[None]):
    """Start a run, or pick a past one to replay or resume. The app acts on the messages."""

    # Not CSS_PATH: Textual loads that only for pushed screens, and this one may be the first.
    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")
    BINDINGS = [
        Binding("ctrl+s", "start", "start run"),
        Binding("ctrl+r", "refresh", "refresh runs"),
        Binding("ctrl+q", "app.quit", "quit"),
    ]

    class StartRun(Message):
        """Start a new run with these settings (the form was valid)."""

        def __init__(self, goal: str, model: str, agents: int, budget_usd: float | None) -> None:
            super().__init__()
            self.goal = goal
            self.model = model
            self.agents = agents
            self.budget_usd = budget_usd

    class OpenReplay(Message):
        """Replay this past run (Enter or `r` on its row)."""

        def __init__(self, run_id: str) -> None:
            super().__init__()
            self.run_id = run_id

    class OpenCompare(Message):
        """Compare these runs, the first as the baseline (marked in the history, then `c`)."""

        def __init__(self, run_ids: list[str]) -> None:
            super().__init__()
            self.run_ids = run_ids

    class ResumeRun(Message):
        """Resume this interrupted run, or review its waiting merges (`u` on its row)."""

        def __init__(self, run_id: str) -> None:
            super().__init__()
            self.run_id = run_id

    def __init__(
        self,
        db_path: Path,
        repo: Path,
        *,
        now: datetime | None = None,
        tz: tzinfo | None = None,
        model: str = "",
        need_model: bool = True,
    ) -> None:
        """`now` and `tz` pin the history's dates (for tests); by default, the clock, local.
        `model`: maestro.toml's [llm] model, shown in the form; `need_model`: nothing there
        plans a goal, so the form asks for a model."""
        super().__init__()
        self.db_path = db_path
        self.repo = repo
        self.model = model
        self.need_model = need_model
        self._now = now
        self._tz = tz

    def compose(self) -> ComposeResult:
        with Horizontal(id="launcher"):
            with Vertical(id="new-run"):
                yield Static(f"[b]New run[/b] in [i]{self.repo}[/i]", id="repo")
                yield Label("Goal")
                yield Input(placeholder="what should the agents do?", id="goal")
                yield Label("Model")
                yield Input(self.model, placeholder=MODEL_HINT, id="model")
                with Horizontal(id="numbers"):
                    with Vertical():
                        yield Label(f"Agents (1–{MAX_AGENTS})")
                        yield Input(str(DEFAULT_AGENTS), type="integer", id="agents")
                    with Vertical():
                        yield Label("Budget $ (optional)")
                        yield Input(placeholder="no budget", id="budget")
                yield Static("", id="form-error")
                yield Button("Start", variant="primary", id="start")
            with TabbedContent(id="history-tabs"):
                with TabPane("past runs", id="runs-tab"):
                    yield RunHistory(self.db_path, now=self._now, tz=self._tz, id="history")
                with TabPane("scoreboard", id="scores-tab"):
                    yield Scoreboard(self.db_path, self.repo, id="scoreboard")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#new-run").border_title = "start"
        self.query_one("#goal", Input).focus()

    def _value(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value

    def action_start(self) -> None:
        """Check the form; post StartRun, or show what to fix and post nothing."""
        error = self.query_one("#form-error", Static)
        try:
            goal, model, agents, budget = parse_form(
                self._value("goal"),
                self._value("model"),
                self._value("agents"),
                self._value("budget"),
                need_model=self.need_model,
            )
        except FormError as exc:
            error.update(str(exc))
            error.add_class("-shown")
            for field in ("goal", "model", "agents", "budget"):
                self.query_one(f"#{field}", Input).set_class(field == exc.field, "-invalid")
            self.query_one(f"#{exc.field}", Input).focus()
            return
        error.update("")
        error.remove_class("-shown")
        for field in ("goal", "model", "agents", "budget"):
            self.query_one(f"#{field}", Input).remove_class("-invalid")
        self.post_message(self.StartRun(goal, model, agents, budget))

    def action_refresh(self) -> None:
        """Read the past runs again."""
        self.query_one(RunHistory).load()

    @on(Button.Pressed, "#start")
    def _start_pressed(self) -> None:
        self.action_start()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_start()

    @on(RunHistory.ReplayChosen)
    def _replay(self, event: RunHistory.ReplayChosen) -> None:
        event.stop()
        self.post_message(self.OpenReplay(event.run_id))

    @on(RunHistory.CompareChosen)
    def _compare(self, event: RunHistory.CompareChosen) -> None:
        event.stop()
        self.post_message(self.OpenCompare(event.run_ids))

    @on(TabbedContent.TabActivated, pane="#scores-tab")
    def _scores_shown(self) -> None:
        """The scoreboard is read when its tab is first shown, not with the launcher."""
        board = self.query_one(Scoreboard)
        if board.board is None:
            board.load()
        board.table.focus()

    @on(RunHistory.ResumeChosen)
    def _resume(self, event: RunHistory.ResumeChosen) -> None:
        event.stop()
        self.post_message(self.ResumeRun(event.run_id))
