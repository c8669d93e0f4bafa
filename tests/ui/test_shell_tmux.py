"""`!` in a real terminal: a shell in a task's checkout, and the dashboard back after `exit`."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import pytest

from tests.ui.conftest import git, make_project, task, writes
from tests.ui.test_tui_tmux import ROOT, Tmux, tmux  # noqa: F401 (the fixture)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("tmux") is None, reason="tmux is not installed: apt-get install tmux"
    ),
]

PLAN = (
    'goal = "two files"\n\n'
    + task("first", writes("a.txt", "a"))
    + task("second", writes("b.txt", "b"), depends_on=("first",))
)


def test_a_shell_in_a_settled_task_and_back(tmux: Tmux, tmp_path: Path) -> None:  # noqa: F811
    repo = make_project(tmp_path)
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN)
    db = tmp_path / "runs.db"
    command = " ".join(
        [sys.executable, "-m", "maestro_tui", "run", "--plan", str(plan), "--repo", str(repo),
         "--db", str(db), "--yes"]
    )  # fmt: skip
    tmux("new-session", "-d", "-s", "ui", "-x", "160", "-y", "48", "-c", str(ROOT), "cat")
    tmux(
        "respawn-pane", "-k", "-t", "ui", "-c", str(ROOT),
        f"env -u COLUMNS -u LINES TERM=xterm-256color SHELL=/bin/sh PS1='shell$ ' {command}",
    )  # fmt: skip
    tmux.wait_for("tasks 2/2 done")
    tmux("send-keys", "-t", "ui", "!")  # a shell in the selected task (the first, merged)
    screen = tmux.wait_for("Leave with `exit`")
    assert "a shell in task 'first'" in screen and "nothing you do here is kept" in screen
    scratch = next(line.strip() for line in screen.splitlines() if "scratch/shell-first" in line)
    tmux("send-keys", "-t", "ui", "touch x && ls", "Enter")
    tmux.wait_for("a.txt")  # the task's work is there to look at
    assert (Path(scratch) / "x").exists()
    tmux("send-keys", "-t", "ui", "exit", "Enter")
    tmux.wait_for("tasks 2/2 done")  # the dashboard is back
    deadline = time.monotonic() + 10
    while Path(scratch).exists():  # the scratch checkout goes when the shell ends
        assert time.monotonic() < deadline, "the scratch checkout was left behind"
        time.sleep(0.1)
    run_branch = git(repo, "branch", "--list", "maestro/*").split()[-1]
    assert "x" not in git(repo, "ls-tree", "--name-only", run_branch).split()
    tmux("send-keys", "-t", "ui", "q")
