"""What the UI tests share: one way to let the app settle, git projects run by
tests/support/fake_agent.py, the dashboard's fixtures and bus waiters, and reading what a
screen shows.

Helpers for particular screens' runs: tests/support/review_runs.py (a held merge
with conflicts, fixed fakes for the review screens), ensemble_runs.py (an ensemble held for
review).
"""

from __future__ import annotations

import asyncio
import html
import re
import subprocess
import sys
import tomllib
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input, TextArea
from textual.worker import WorkerState

from maestro_tui.config import load_config
from maestro_tui.domain import events as ev
from maestro_tui.domain.plan import parse_plan
from maestro_tui.session.lifecycle import RunSession, start_session
from maestro_tui.ui.app import MaestroApp
from maestro_tui.ui.screens.run import RunScreen
from maestro_tui.workspace.repo import Workspace

FAKE_AGENT = Path(__file__).parent.parent / "support" / "fake_agent.py"
GIT_ID = [
    "-c", "user.name=Test User", "-c", "user.email=test@example.invalid",
    "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false",
]  # fmt: skip
WAIT_S = 60.0  # an upper bound for one awaited event, not a sleep
LIVE = ("run",)  # a live run's own worker: it lasts until the run ends, nobody waits for it


# --- letting the app settle ------------------------------------------------------------------


async def settle(pilot: Pilot[Any], *, groups: Iterable[str] | None = None) -> None:
    """Wait until the app has done what it was asked: its workers (those of `groups`; by
    default every one but a live run's own) have finished, and the messages they posted and
    the refresh after them are handled. Workers those messages start are waited for too.
    Never a sleep."""
    wanted = set(groups) if groups is not None else None
    busy = (WorkerState.PENDING, WorkerState.RUNNING)
    for _ in range(20):  # a chain of workers, each started by the last one's message
        workers = [
            w
            for w in pilot.app.workers
            if w.state in busy
            and (w.group in wanted if wanted is not None else w.group not in LIVE)
        ]
        if not workers:
            break
        await pilot.app.workers.wait_for_complete(workers)
        await pilot.pause()
    await pilot.pause()


def notifications(app: App[Any]) -> list[str]:
    return [n.message for n in app._notifications]


def freeze_cursors(app: App[Any]) -> None:
    """Stop cursors blinking, so snapshots do not depend on when they are taken."""
    for widget in app.screen.query("Input, TextArea"):
        if isinstance(widget, Input | TextArea):
            widget.cursor_blink = False


# --- git projects ----------------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    """git's stdout, as it printed it (a file shown keeps its last newline)."""
    out = subprocess.run(
        ["git", *GIT_ID, "-C", str(repo), *args], capture_output=True, text=True, check=True
    )
    return out.stdout


def commit_all(repo: Path) -> Path:
    """Make `repo` a git repository with everything in it committed on main."""
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    return repo


def make_project(root: Path, *, test_command: str = "") -> Path:
    """A tiny committed Python project whose maestro.toml runs tests/support/fake_agent.py."""
    repo = root / "project"
    (repo / "calc").mkdir(parents=True)
    (repo / "calc" / "__init__.py").write_text("")
    (repo / "calc" / "ops.py").write_text("def add(a, b):\n    return a + b\n")
    (repo / "calc" / "settings.py").write_text("NAME = 'calc'\nVERSION = 1\nDEBUG = False\n")
    (repo / ".gitignore").write_text("__pycache__/\n")
    state = root / "fake-state"
    state.mkdir(exist_ok=True)
    tests = f'[tests]\ncommand = "{test_command}"\n' if test_command else ""
    (repo / "maestro.toml").write_text(
        f"""
[run]
default_worker = "fake"
retries = 0
retry_backoff_s = 0.05
{tests}
[plan]
overlaps = "parallel"  # tasks on one file run at once: the screens under test show conflicts

[workers.fake]
argv = ["{sys.executable}", "{FAKE_AGENT}", "{{prompt}}"]
env = {{ FAKE_STATE = "{state}" }}
"""
    )
    return commit_all(repo)


def task(task_id: str, prompt: str, *, depends_on: tuple[str, ...] = (), files: str = "") -> str:
    deps = ", ".join(f'"{d}"' for d in depends_on)
    return (
        f'[[tasks]]\nid = "{task_id}"\ntitle = "Task {task_id}"\nprompt = "{prompt}"\n'
        f"depends_on = [{deps}]\n" + (f'files = ["{files}"]\n' if files else "") + "\n"
    )


def writes(path: str, text: str, sleep: float = 0.0) -> str:
    """A fake-agent prompt: optionally wait, then write TEXT to PATH."""
    steps = [f"@sleep {sleep}"] if sleep else []
    steps.append(f"@write {path} :: {text}")
    return "\\n".join(steps)


# Layer one: two tasks that set the same line (a real conflict) and a slow one; then a chain.
CONFLICT_PLAN = 'goal = "extend calc"\n\n' + "".join(
    [
        task("version-two", writes("calc/settings.py", "VERSION = 2"), files="calc/settings.py"),
        task(
            "version-three",
            writes("calc/settings.py", "VERSION = 3", 0.3),
            files="calc/settings.py",
        ),
        task("docs", writes("docs/usage.md", "# Usage")),
        task("strings", writes("calc/strings.py", "X = 1"), depends_on=("docs",)),
    ]
)

# A slow task with a chain behind it, and two slow independent ones: time to press keys.
SLOW_PLAN = 'goal = "slow work"\n\n' + "".join(
    [
        task("slow", writes("slow.txt", "slow", 3.0)),
        task("after-slow", writes("after.txt", "after"), depends_on=("slow",)),
        task("last", writes("last.txt", "last"), depends_on=("after-slow",)),
        task("other", writes("other.txt", "other", 0.5)),
        task("third", writes("third.txt", "third", 0.5)),
    ]
)


class BusWatch:
    """Collects a run's events and lets a test await one: no sleeping, no polling."""

    def __init__(self) -> None:
        self.events: list[ev.Event] = []
        self._changed = asyncio.Event()

    def __call__(self, event: ev.Event) -> None:
        self.events.append(event)
        self._changed.set()

    def of_type(self, cls: type[ev.Event]) -> list[Any]:
        return [e for e in self.events if isinstance(e, cls)]

    async def wait_for(
        self, cls: type[ev.Event], where: Callable[[Any], bool] = lambda e: True
    ) -> Any:
        """The first event of type `cls` matching `where`, seen already or still to come."""
        async with asyncio.timeout(WAIT_S):
            while True:
                for e in self.events:
                    if isinstance(e, cls) and where(e):
                        return e
                self._changed.clear()
                await self._changed.wait()


async def start(
    repo: Path, db: Path, plan_text: str, *, agents: int
) -> tuple[RunSession, BusWatch]:
    """Record a new run (not started): the dashboard starts it."""
    watch = BusWatch()
    ws = Workspace.open(repo)
    session = await start_session(
        ws=ws,
        config=load_config(ws.root),
        plan=parse_plan(tomllib.loads(plan_text)),
        db_path=db,
        merge_policy="auto",
        max_agents=agents,
        subscribers=[watch],
    )
    return session, watch


@pytest.fixture
def ui_project(tmp_path: Path) -> Path:
    return make_project(tmp_path)


@pytest.fixture
async def slow_run(ui_project: Path, tmp_path: Path) -> AsyncIterator[tuple[RunSession, BusWatch]]:
    session, watch = await start(ui_project, tmp_path / "runs.db", SLOW_PLAN, agents=2)
    try:
        yield session, watch
    finally:
        await session.aclose()


def dashboard_app(session: Any, **kwargs: Any) -> MaestroApp:
    """The app on a dashboard, in Textual's own theme so edits to themes/ leave snapshots be."""
    return MaestroApp(
        lambda: RunScreen(session, **kwargs), watch_themes=False, theme="textual-dark"
    )


async def ready(pilot: Pilot[Any]) -> RunScreen:
    """The dashboard screen once settled: its run open and its bridge listening to the bus."""
    await settle(pilot)
    screen = pilot.app.screen_stack[0]
    assert isinstance(screen, RunScreen) and screen.bridge is not None
    return screen


async def shown(pilot: Pilot[Any]) -> None:
    """Drain the bridge now instead of waiting for its timer, then let the screen update."""
    screen = await ready(pilot)
    assert screen.bridge is not None
    screen.bridge.flush()
    await pilot.pause()


def row_text(pilot: Pilot[Any], task_id: str) -> str:
    """What the task graph shows on the task's row, as plain text."""
    screen = pilot.app.screen_stack[0]
    assert isinstance(screen, RunScreen)
    return " ".join(cell.plain for cell in screen.dashboard.graph.get_row(task_id))


def screen_text(app: App[Any]) -> str:
    """The screen as a person sees it, as plain text (from the app's own SVG screenshot)."""
    svg = app.export_screenshot()
    rows: dict[int, dict[int, str]] = {}
    for m in re.finditer(
        r'<text class="[^"]*-r\d+" x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)</text>', svg
    ):
        text = html.unescape(m[3]).replace("\xa0", " ")
        col, row = round(float(m[1]) / 12.2), round((float(m[2]) - 20) / 24.4)
        line = rows.setdefault(row, {})
        for i, ch in enumerate(text):
            line[col + i] = ch
    return "\n".join(
        "".join(rows[r].get(i, " ") for i in range(max(rows[r]) + 1)).rstrip() for r in sorted(rows)
    )
