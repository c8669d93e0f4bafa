"""Background work runs below the event loop's priority: git work in worker threads and the
processes it starts, and the programs agents and tests run (in sessions of their own)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading

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
