"""The demo's conflict, resolved from the keyboard in a real terminal while other agents keep
merging: `n` to it, Enter to review, `e` to edit, `g` to test, `a` to approve. Then git holds
an integration branch whose every commit passes the tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import events_of
from tests.ui.test_tui_tmux import ROOT, Tmux, tmux  # noqa: F401 (the fixture)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("tmux") is None, reason="tmux is not installed: apt-get install tmux"
    ),
]

# The person at the editor, scripted: keep both sides' edits of each hunk, as one would.
EDITOR = """\
import sys
from pathlib import Path
from maestro_tui.llm.demo.edits import resolve_conflicts
path = Path(sys.argv[1])
path.write_text(resolve_conflicts(path.read_text()))
"""


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    return done.stdout


def test_resolve_the_demo_conflict_from_the_keyboard(tmux: Tmux, tmp_path: Path) -> None:  # noqa: F811
    editor = tmp_path / "editor.py"
    editor.write_text(EDITOR)
    repo, db = tmp_path / "shop", tmp_path / "runs.db"
    command = (
        f"env -u COLUMNS -u LINES TERM=xterm-256color EDITOR='{sys.executable} {editor}' "
        f"{sys.executable} -m maestro_tui demo --pace 0.15 --dir {repo} --db {db}"
        f"; echo $? > {tmp_path / 'exit'}; cat"
    )
    tmux("new-session", "-d", "-s", "ui", "-x", "160", "-y", "48", "-c", str(ROOT), "cat")
    tmux("respawn-pane", "-k", "-t", "ui", "-c", str(ROOT), command)
    tmux.wait_for("1 needs you", timeout=90)  # the pricing conflict waits for a person
    tmux("send-keys", "-t", "ui", "n")  # jump to it
    tmux.wait_for("enter (or m) to review it")
    tmux("send-keys", "-t", "ui", "Enter")  # review it
    tmux.wait_for("conflicts · file 1/1 · shop/pricing.py")
    tmux("send-keys", "-t", "ui", "e")  # resolve it in $EDITOR
    tmux.wait_for("edited by hand")
    tmux("send-keys", "-t", "ui", "g")  # test the resolution, on the branch as it is now
    tmux.wait_for("the tests pass as resolved", timeout=60)
    tmux("send-keys", "-t", "ui", "a")  # approve: it lands through the gate
    tmux.wait_for("run succeeded", timeout=120)
    tmux("send-keys", "-t", "ui", "q")
    exit_file = tmp_path / "exit"
    deadline = time.monotonic() + 30
    while not (exit_file.exists() and exit_file.read_text().strip()):
        assert time.monotonic() < deadline, tmux.screen()
        time.sleep(0.1)
    assert exit_file.read_text().strip() == "0"
    finished = events_of(db)[-1]
    assert finished["type"] == "RunFinished" and finished["status"] == "succeeded"
    # 12 of 13: the final review changes nothing ("done, no changes" is not a merge).
    assert (finished["merged"], finished["failed"], finished["waiting"]) == (12, 0, 0)

    branch = next(b.strip(" *") for b in _git(repo, "branch", "--list", "maestro/*").splitlines())
    pricing = _git(repo, "show", f"{branch}:shop/pricing.py")
    assert "raise ValueError" in pricing and "percent: float" in pricing
    commits = _git(repo, "rev-list", "--first-parent", branch).split()
    assert len(commits) >= 13
    check = tmp_path / "check"
    _git(repo, "worktree", "add", "-q", "--detach", str(check), branch)
    for commit in commits:  # every tree the integration branch ever held is green
        _git(check, "checkout", "-q", "--detach", commit)
        tests = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            cwd=check, capture_output=True, text=True,
        )  # fmt: skip
        assert tests.returncode in (0, 5), (commit, tests.stdout[-1500:])
