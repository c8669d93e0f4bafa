"""Runs for the review screens' tests: a real run holding a conflicting merge, a fixed fake
engine for snapshots, and a host app that records what a screen dismisses with.

Imported by test_merge_review.py, test_merge_review_ensemble.py and test_plan_review.py;
what every UI test shares (settle, git, notifications…) is in conftest.py.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from textual.app import App
from textual.screen import Screen

from maestro_tui.config import load_config
from maestro_tui.domain import events as ev
from maestro_tui.domain.plan import Plan, Task
from maestro_tui.domain.state import RunState, TaskStatus, TaskView
from maestro_tui.engine.merge import Resolution, TrialMerge
from maestro_tui.engine.orchestrator import Orchestrator
from maestro_tui.session.commands import command_sender
from maestro_tui.session.handle import Merges
from maestro_tui.session.lifecycle import RunSession, start_session
from maestro_tui.workspace.merge import ConflictFile, parse_hunks
from maestro_tui.workspace.repo import Workspace
from tests.ui.conftest import FAKE_AGENT, commit_all, git


def settings(version: int, color: str) -> str:
    """calc/settings.py with two lines far enough apart to conflict as two hunks."""
    return (
        f"NAME = 'calc'\nVERSION = {version}\nDEBUG = False\nA = 1\nB = 2\nC = 3\nD = 4\n"
        f"E = 5\nCOLOR = '{color}'\n"
    )


def names(greeting: str) -> str:
    return f"GREETING = '{greeting}'\n"


def _write(path: str, text: str) -> str:
    """A fake-agent instruction writing `text` (its newlines escaped) to `path`."""
    return f"@write {path} :: " + text.rstrip("\n").replace("\n", "\\n")


def make_project(tmp_path: Path, red_when_mixed: bool = False) -> Path:
    """A committed repo whose maestro.toml runs tests/support/fake_agent.py as the worker."""
    repo = tmp_path / "project"
    (repo / "calc").mkdir(parents=True)
    (repo / "calc" / "settings.py").write_text(settings(1, "red"))
    (repo / "calc" / "names.py").write_text(names("hi"))
    report = tmp_path / "report_tests.py"  # a test command that is fast and says what it ran
    report.write_text(
        "import pathlib, sys\n"
        "text = pathlib.Path('calc/settings.py').read_text()\n"
        # One side's version with the other side's colour: a mix no task made, and red.
        f"red = {red_when_mixed} and (('VERSION = 2' in text and 'green' in text)"
        " or ('VERSION = 3' in text and 'blue' in text))\n"
        "print('collected 2 items')\n"
        "print('1 failed, 1 passed in 0.01s' if red else '2 passed in 0.01s')\n"
        "sys.exit(1 if red else 0)\n"
    )
    (repo / "maestro.toml").write_text(
        f"""
[run]
default_worker = "fake"
retries = 0

[tests]
command = "{sys.executable} {report}"

[plan]
overlaps = "parallel"  # left and right run at once and conflict: the review's subject

[workers.fake]
argv = ["{sys.executable}", "{FAKE_AGENT}", "{{prompt}}"]
"""
    )
    return commit_all(repo)


CONFLICT_PLAN = Plan(
    goal="settle the version and colours",
    tasks=(
        Task(
            "left",
            "Version two in blue, saying hello",
            "\n".join((_write("calc/settings.py", settings(2, "blue")),
                       _write("calc/names.py", names("hello")))),
            files=("calc/settings.py", "calc/names.py"),
        ),
        Task(
            "right",
            "Version three in green, saying hey",
            "\n".join((_write("calc/settings.py", settings(3, "green")),
                       _write("calc/names.py", names("hey")))),
            files=("calc/settings.py", "calc/names.py"),
        ),
    ),
)  # fmt: skip
SIDES = {"left": (2, "blue", "hello"), "right": (3, "green", "hey")}


@dataclass
class ConflictRun:
    """A finished run: one task merged, the other held with conflicts in two files."""

    session: RunSession
    repo: Path
    events: list[ev.Event]
    held: str  # the task waiting for review ("theirs" in the merge)
    merged: str  # the task merged first ("ours": already on the integration branch)

    @property
    def orch(self) -> Any:
        return self.session.orch

    @property
    def branch(self) -> str:
        return str(self.orch.state.integration_branch)

    def show(self, path: str, rev: str | None = None) -> str:
        return git(self.repo, "show", f"{rev or self.branch}:{path}")

    def of_type(self, cls: type[ev.Event]) -> list[Any]:
        return [e for e in self.events if isinstance(e, cls)]


@asynccontextmanager
async def conflict_run(tmp_path: Path, red_when_mixed: bool = False) -> AsyncIterator[ConflictRun]:
    """Run CONFLICT_PLAN for real, two agents at once, until the conflicting merge waits.
    `red_when_mixed`: the tests fail on one side's version with the other side's colour."""
    repo = make_project(tmp_path, red_when_mixed)
    ws = Workspace.open(repo)
    events: list[ev.Event] = []
    session = await start_session(
        ws=ws, config=load_config(repo), plan=CONFLICT_PLAN, db_path=tmp_path / "runs.db",
        merge_policy="auto", max_agents=2, subscribers=[events.append],
    )  # fmt: skip
    try:
        state = await session.orch.run()
        held = [t.id for t in state.waiting_merges]
        assert len(held) == 1, state
        merged = "right" if held[0] == "left" else "left"
        yield ConflictRun(session, repo, events, held[0], merged)
    finally:
        await session.aclose()


class ReviewHost(App[None]):
    """Pushes one screen on mount and records what it dismisses with."""

    def __init__(self, make_screen: Callable[[], Screen[Any]]) -> None:
        super().__init__()
        self._make_screen = make_screen
        self.results: list[Any] = []

    def on_mount(self) -> None:
        self.push_screen(self._make_screen(), self.results.append)


# --- a fixed, typed stand-in for the engine, for snapshots -------------------------------

SNAP_DIFF = """\
diff --git a/calc/settings.py b/calc/settings.py
index 1111111..2222222 100644
--- a/calc/settings.py
+++ b/calc/settings.py
@@ -1,9 +1,9 @@
 NAME = 'calc'
-VERSION = 1
+VERSION = 3
 DEBUG = False
 A = 1
 B = 2
 C = 3
 D = 4
 E = 5
-COLOR = 'red'
+COLOR = 'green'
diff --git a/calc/names.py b/calc/names.py
index 3333333..4444444 100644
--- a/calc/names.py
+++ b/calc/names.py
@@ -1 +1 @@
-GREETING = 'hi'
+GREETING = 'hey'
"""

SNAP_SETTINGS = """\
NAME = 'calc'
<<<<<<< ours
VERSION = 2
||||||| base
VERSION = 1
=======
VERSION = 3
>>>>>>> theirs
DEBUG = False
A = 1
B = 2
C = 3
D = 4
E = 5
<<<<<<< ours
COLOR = 'blue'
||||||| base
COLOR = 'red'
=======
COLOR = 'green'
>>>>>>> theirs
"""


def conflict_file(path: str, text: str) -> ConflictFile:
    return ConflictFile(path, parse_hunks(text), text)


@dataclass
class FakeMerges:
    """Answers like `Orchestrator.merges` for one conflicting merge, with fixed texts."""

    diff: str = SNAP_DIFF
    conflicts: tuple[ConflictFile, ...] = ()
    calls: list[tuple[str, Any]] = field(default_factory=list)

    async def diff_for(self, task_id: str) -> str:
        return self.diff

    async def conflicts_for(self, task_id: str) -> tuple[ConflictFile, ...]:
        return self.conflicts

    async def approve(self, task_id: str, resolution: str | Mapping[str, str] | None = None) -> str:
        self.calls.append(("approve", resolution))
        return "0" * 40

    async def reject(self, task_id: str, reason: str = "") -> None:
        self.calls.append(("reject", reason))

    async def retry(self, task_id: str) -> None:
        self.calls.append(("retry", task_id))

    async def pick_candidate(self, task_id: str, candidate: int) -> None:
        self.calls.append(("pick", candidate))

    async def trial(self, task_id: str, resolution: Resolution = None) -> TrialMerge:
        raise AssertionError("the fake reviews never test a merge")

    async def resolve_with_agent(self, task_id: str) -> None:
        raise AssertionError("the fake reviews never hand a conflict to an agent")


@dataclass
class FakeReview:
    """Answers like an Orchestrator holding one conflicting merge."""

    state: RunState
    merges: FakeMerges = field(default_factory=FakeMerges)


def fake_review() -> FakeReview:
    task = TaskView(
        id="version-three", title="Bump the version to 3", role="coder", prompt="",
        files=("calc/settings.py", "calc/names.py"), depends_on=(), status=TaskStatus.WAITING,
        summary="Set VERSION to 3 and the colour to green, as the release notes ask.",
        tests_passed=True, n_passed=12, n_failed=0,
        test_tail="tests/test_ops.py ....\ntests/test_settings.py ........\n12 passed in 0.31s",
        files_changed=("calc/settings.py", "calc/names.py"), insertions=3, deletions=3,
        conflict_files=("calc/settings.py",),
        wait_reasons=("conflicts with the integration branch in calc/settings.py",),
    )  # fmt: skip
    state = RunState(run_id="snapshot", tasks={task.id: task})
    conflicts = (conflict_file("calc/settings.py", SNAP_SETTINGS),)
    return FakeReview(state, FakeMerges(conflicts=conflicts))


def fake_ensemble_review() -> FakeReview:
    """The same held merge, made by an ensemble of three: candidate 3 chosen, 1 failed tests."""
    review = fake_review()
    task = replace(
        review.state.tasks["version-three"],
        candidates=((1, "a" * 40, False, 2), (2, "b" * 40, True, 9), (3, "c" * 40, True, 4)),
        chosen_candidate=3,
        conflict_files=(),
        wait_reasons=("merge policy is review",),
    )
    review.state = RunState(run_id="snapshot", tasks={task.id: task})
    review.merges.conflicts = ()
    return review


class OrchestratorTarget:
    """A real orchestrator as the review screen reaches it in the app: its state, and its
    merges through the command table (session/commands.py), as a front end sends them."""

    def __init__(self, orch: Orchestrator) -> None:
        self.orch = orch
        self.merges = Merges(command_sender(orch))

    @property
    def state(self) -> RunState:
        return self.orch.state
