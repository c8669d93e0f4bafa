"""A run's engine in a process of its own, so a closed terminal or a lost SSH connection does
not stop the run; front ends attach to it through its command channel (session/control.py).

`spawn` starts `maestro-tui engine RUN` in a new session (no controlling terminal), its output
in the user's state directory, and waits until it listens. `serve` is that process: it opens
the run, answers commands, and drives the run to its end unless told to stop.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from maestro_tui.session.client import ControlClient, EngineGone
from maestro_tui.session.control import control_path

START_S = 30.0  # opening a run takes a second or two; a Ray cluster a few more


class EngineFailed(RuntimeError):
    """The engine process could not start the run; the message has the end of its log."""


def state_dir() -> Path:
    """Where engines keep their logs: $XDG_STATE_HOME/maestro-tui (~/.local/state/...)."""
    from platformdirs import user_state_path

    return user_state_path("maestro-tui")


def log_path(run_id: str) -> Path:
    return state_dir() / "engines" / f"{run_id}.log"


def engine_options(
    *,
    new: bool = False,
    max_agents: int | None = None,
    budgets: Mapping[str, float | None] | None = None,
    retry_task: str | None = None,
    resolve_task: str | None = None,
) -> list[str]:
    """The `maestro-tui engine` flags that carry what the command line asked for."""
    argv = ["--new"] if new else []
    for flag, value in (
        ("--agents", max_agents),
        ("--budget-usd", (budgets or {}).get("usd")),
        ("--budget-tokens", (budgets or {}).get("tokens")),
        ("--retry-task", retry_task),
        ("--resolve-task", resolve_task),
    ):
        if value is not None:
            argv += [flag, str(value)]
    return argv


async def spawn(db_path: Path, run_id: str, cwd: Path, options: Sequence[str] = ()) -> int:
    """Start the run's engine in the background; return its pid once it takes commands."""
    log = log_path(run_id)
    argv = [sys.executable, "-m", "maestro_tui", "engine", run_id, "--db", str(db_path)]
    proc = start_detached([*argv, *options], cwd, log)
    await wait_ready(proc, control_path(db_path, run_id), log)
    return proc.pid


def start_detached(argv: list[str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        out.write(f"\n--- engine started {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
        out.flush()
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=True,  # no terminal: a hang-up does not reach it
            close_fds=True,
        )


async def wait_ready(proc: subprocess.Popen[bytes], path: Path, log: Path) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_S
    while True:
        if proc.poll() is not None:
            raise EngineFailed(
                f"the run's engine stopped as it started (exit {proc.returncode}):\n"
                f"{_tail(log)}\n(its whole log: {log})"
            )
        try:
            client = await ControlClient.connect(path)
        except EngineGone:
            if loop.time() > deadline:
                proc.kill()
                raise EngineFailed(
                    f"the run's engine did not answer within {START_S:g} s; its log: {log}"
                ) from None
            await asyncio.sleep(0.05)
            continue
        await client.aclose()
        return


def _tail(log: Path, lines: int = 15) -> str:
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
