"""`maestro-tui run` in a real terminal (tmux): what a person sees during a run with a conflict."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ui.conftest import CONFLICT_PLAN, make_project

ROOT = Path(__file__).parent.parent.parent
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("tmux") is None, reason="tmux is not installed: apt-get install tmux"
    ),
]


class Tmux:
    """One private tmux server (its own socket), so the test never touches the user's."""

    def __init__(self, name: str) -> None:
        self.base = ["tmux", "-L", name, "-f", "/dev/null"]

    def __call__(self, *args: str) -> str:
        out = subprocess.run([*self.base, *args], capture_output=True, text=True, check=True)
        return out.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "ui")

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        """Poll the terminal until `text` shows (tmux has no event to wait on)."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never showed; the screen:\n{screen}")
            time.sleep(0.1)


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    t = Tmux(f"maestro-test-{os.getpid()}")
    try:
        yield t
    finally:
        subprocess.run([*t.base, "kill-server"], capture_output=True)


def test_a_run_in_the_terminal_shows_tasks_and_the_waiting_merge(
    tmux: Tmux, tmp_path: Path
) -> None:
    repo = make_project(tmp_path)
    plan = tmp_path / "plan.toml"
    plan.write_text(CONFLICT_PLAN)
    db, exit_file = tmp_path / "runs.db", tmp_path / "exit"
    command = " ".join(
        [
            sys.executable, "-m", "maestro_tui", "run", "--plan", str(plan), "--repo",
            str(repo), "--db", str(db), "--agents", "4", "--yes",
        ]
    )  # fmt: skip
    # The pane is sized first, then the app starts in it: a detached session's pane is
    # resized after its first process starts, and that process may miss the SIGWINCH.
    # COLUMNS/LINES (set under pytest) would override the real size of the pane.
    tmux("new-session", "-d", "-s", "ui", "-x", "160", "-y", "48", "-c", str(ROOT), "cat")
    raw = tmp_path / "raw-output"  # every byte the app writes, escape sequences included
    tmux("pipe-pane", "-o", "-t", "ui", f"cat >> {raw}")
    tmux(
        "respawn-pane",
        "-k",
        "-t",
        "ui",
        "-c",
        str(ROOT),
        f"env -u COLUMNS -u LINES TERM=xterm-256color {command}; echo $? > {exit_file}; cat",
    )
    screen = tmux.wait_for("merge queue · 1 waiting")
    screen = tmux.wait_for("✓ merged     strings")
    for task_id in ("version-two", "version-three", "docs", "strings"):
        assert task_id in screen
    assert screen.count("◆ waiting") == 1  # the loser of the conflict
    assert "conflict" in screen and "calc/settings.py" in screen
    assert "tasks 3/4 done" in screen
    assert "q quit" in screen  # the footer
    # The waiting merge rang the bell and sent a desktop notification through tmux (OSC 9 in
    # tmux's passthrough, every ESC doubled), between frames.
    deadline = time.monotonic() + 10
    notification = "\x1bPtmux;\x1b\x1b]9;maestro-tui: version-"
    while notification not in raw.read_text(errors="replace"):
        assert time.monotonic() < deadline, "no OSC 9 notification in the terminal's output"
        time.sleep(0.1)
    written = raw.read_text(errors="replace")
    assert ": merge waits for you: conflicts with the integration branch" in written
    assert "\x07\x1bPtmux;" in written  # the bell came with it

    tmux("send-keys", "-t", "ui", "q")  # quit while the merge waits…
    tmux.wait_for("goes on in the background when you leave")  # its engine is its own
    tmux("send-keys", "-t", "ui", "s")  # …and stop it
    deadline = time.monotonic() + 30
    while not (exit_file.exists() and exit_file.read_text().strip()):
        assert time.monotonic() < deadline, tmux.screen()
        time.sleep(0.1)
    assert exit_file.read_text().strip() == "130"  # interrupted: `maestro-tui resume` ends it
