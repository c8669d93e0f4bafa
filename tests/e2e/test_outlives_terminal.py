"""Issue 21 as a person meets it: `maestro-tui demo` in a real terminal (tmux) whose session is
then killed, as a lost SSH connection or a closed tab does. The run goes on to its end in its
engine's process, `runs` tells the truth all along, and `attach` afterwards shows it finished."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from maestro_tui.session.liveness import driver_pid

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux (apt-get install tmux)"),
]
WAIT_S = 180.0


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Callable[..., str]]:
    socket = tmp_path / "tmux.sock"

    def run(*args: str) -> str:
        done = subprocess.run(
            ["tmux", "-S", str(socket), *args], capture_output=True, text=True, check=False
        )
        return done.stdout

    yield run
    run("kill-server")


def _until(check: Callable[[], object], what: str, screen: Callable[[], str]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{screen()}"
        time.sleep(0.2)


def _maestro(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "maestro_tui", *args],
        capture_output=True, text=True, env=env, check=False, timeout=120,
    )  # fmt: skip


def test_a_run_outlives_its_terminal_and_attach_finds_it_finished(
    tmux: Callable[..., str], tmp_path: Path
) -> None:
    db, shop = tmp_path / "runs.db", tmp_path / "shop"
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TMUX")},
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
        "MAESTRO_DEMO_PACE": "0.5",
        "TERM": "xterm-256color",
    }
    exports = " ".join(f"{k}={v}" for k, v in env.items() if k.startswith(("XDG_", "MAESTRO")))
    # Its one conflict goes back to its agent: nothing waits for a person who has gone.
    demo = f"demo --dir {shop} --db {db} --on-conflict agent"
    command = f"env {exports} {sys.executable} -m maestro_tui {demo}"
    tmux("new-session", "-d", "-s", "ssh", "-x", "160", "-y", "48", command)

    def screen() -> str:
        return tmux("capture-pane", "-p", "-t", "ssh")

    _until(lambda: "► running" in screen(), "agents at work on the dashboard", screen)
    run_id = next(
        word for line in screen().splitlines() if " run " in line for word in line.split()
        if word.count("-") == 2 and word[:8].isdigit()
    )  # fmt: skip
    tmux("kill-session", "-t", "ssh")  # the terminal is gone, and the TUI with it
    listed = _maestro("runs", "--db", str(db), env=env).stdout
    assert f"{run_id}   run  running" in listed  # its engine goes on: truthfully running
    assert driver_pid(db, run_id) is not None
    _until(lambda: driver_pid(db, run_id) is None, "the run to end", lambda: listed)
    listed = _maestro("runs", "--db", str(db), env=env).stdout
    line = next(line for line in listed.splitlines() if run_id in line)
    assert "succeeded" in line and "13/0/0 of 13" in line, listed
    attached = _maestro("attach", run_id, "--headless", "--db", str(db), env=env)
    assert attached.returncode == 0, attached  # the run's own exit code: it succeeded
    assert f"run {run_id} has finished: succeeded" in attached.stdout
    log = (tmp_path / "state" / "maestro-tui" / "engines" / f"{run_id}.log").read_text()
    assert "listening at" in log and "succeeded" in log
