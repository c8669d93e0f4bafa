"""`maestro-tui demo` in a real terminal (tmux): the planning view within a second of start,
the preflight and the planner on it, and a cancel that leaves no run."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ui.test_tui_tmux import ROOT, Tmux

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("tmux") is None, reason="tmux is not installed: apt-get install tmux"
    ),
]
FIRST_FRAME_S = 1.0


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    t = Tmux(f"maestro-planning-{os.getpid()}")
    try:
        yield t
    finally:
        subprocess.run([*t.base, "kill-server"], capture_output=True)


def test_the_demo_opens_on_the_planning_view_at_once(tmux: Tmux, tmp_path: Path) -> None:
    db, exit_file = tmp_path / "runs.db", tmp_path / "exit"
    command = " ".join(
        [
            sys.executable, "-m", "maestro_tui", "demo", "--dir", str(tmp_path / "demo"),
            "--db", str(db),
        ]
    )  # fmt: skip
    # Sized first, then started in it (see test_tui_tmux); COLUMNS/LINES would win over it.
    tmux("new-session", "-d", "-s", "ui", "-x", "160", "-y", "48", "-c", str(ROOT), "cat")
    started = time.monotonic()
    tmux(
        "respawn-pane", "-k", "-t", "ui", "-c", str(ROOT),
        f"env -u COLUMNS -u LINES TERM=xterm-256color {command}; echo $? > {exit_file}; cat",
    )  # fmt: skip
    screen = tmux.wait_for("esc cancel", timeout=10)
    first_frame = time.monotonic() - started
    assert "Planning  Harden the shop package" in screen
    assert first_frame <= FIRST_FRAME_S, f"the planning view took {first_frame:.2f} s"

    # The demo's planner takes its time (~20 s at pace 1): what it does shows meanwhile.
    screen = tmux.wait_for("planning with demo/planner …")
    assert "preflight: the base's tests are green" in screen
    assert "demo repository:" in screen and "(simulated)" in screen and "elapsed 0:" in screen

    tmux("send-keys", "-t", "ui", "Escape")  # cancel
    deadline = time.monotonic() + 30
    while not (exit_file.exists() and exit_file.read_text().strip()):
        assert time.monotonic() < deadline, tmux.screen()
        time.sleep(0.1)
    assert exit_file.read_text().strip() == "130"
    if db.exists():  # nothing recorded
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT count(*) FROM runs").fetchone() == (0,)
    print(f"planning view after {first_frame:.2f} s")
