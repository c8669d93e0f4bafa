"""Background work runs below the event loop's priority: git work in worker threads and the
processes it starts, and the programs agents and tests run (in sessions of their own)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from pathlib import Path

from maestro_tui.process import run_streaming
from maestro_tui.process.priority import BACKGROUND_NICE, use_background_executor

NICE = [sys.executable, "-c", "import os; print(os.nice(0))"]


def thread_nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


async def test_worker_threads_and_what_they_start_run_below_the_loop() -> None:
    loop_nice = thread_nice()
    use_background_executor()
    use_background_executor()  # once per loop: the same pool
    worker_nice = await asyncio.to_thread(thread_nice)
    started = await asyncio.to_thread(subprocess.run, NICE, capture_output=True, text=True)
    names = await asyncio.gather(*(asyncio.to_thread(lambda: threading.current_thread().name)
                                   for _ in range(4)))  # fmt: skip
    assert thread_nice() == loop_nice  # the loop's own thread keeps its priority
    assert worker_nice == loop_nice + BACKGROUND_NICE
    assert int(started.stdout) == loop_nice + BACKGROUND_NICE
    assert all(name.startswith("maestro-bg") for name in names)


def autogroup() -> str:
    """Our scheduling group, `/autogroup-N nice K`; empty where the kernel reports none (CI's
    sandbox): there plain nice values apply."""
    path = Path("/proc/self/autogroup")
    return path.read_text().strip() if path.exists() else ""


async def test_programs_run_in_a_session_scheduled_below_ours(tmp_path: Path) -> None:
    lines: list[str] = []
    probe = (
        "import os, pathlib; print(os.nice(0)); ag = pathlib.Path('/proc/self/autogroup');"
        "print(ag.exists() and ag.read_text().strip() or '-')"
    )
    result = await run_streaming(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        on_line=lambda line, _stream: lines.append(line),
    )
    assert result.exit_code == 0
    # The program runs at background nice wherever it is weighed by nice values ...
    assert int(lines[0]) == thread_nice() + BACKGROUND_NICE
    ours = await asyncio.to_thread(autogroup)
    if not ours or lines[1] == "-":
        return  # no autogroup reported here (CI's sandbox shows none)
    # ... and under autogroup its own session is its own group, weighed at background nice.
    assert lines[1].split()[0] != ours.split()[0]
    assert lines[1].split()[-1] == str(BACKGROUND_NICE)
