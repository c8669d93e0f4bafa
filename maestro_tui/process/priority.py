"""Background work at a lower CPU priority than the event loop.

The event loop's thread runs the dashboard, the scheduler and every agent's conversation; the
git work in worker threads and the programs agents and tests run are background to it. With
200 agents on two cores, the loop's thread spent 8 s of a 45 s run runnable but waiting for a
core, behind git processes started from worker threads (children of our process, so in its
scheduling group) and the programs' sessions (each its own group under Linux's autogroup
scheduling, which ignores a process's nice value between groups). Lowering them leaves the
loop first in line, and leaves the user's own programs ahead of the agents' builds too.

Nothing here is needed for correctness: where the platform has no per-thread nice or no
autogroup, the calls do nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor

BACKGROUND_NICE = 10  # added to the loop's; what `nice` gives a command by default

_installed: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


def lower_this_thread(nice: int = BACKGROUND_NICE) -> None:
    """Lower the calling thread's priority (Linux: nice is per thread, and the processes it
    starts inherit it)."""
    with contextlib.suppress(AttributeError, OSError):
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + nice)


def lower_session(pid: int, nice: int = BACKGROUND_NICE) -> None:
    """Lower the scheduling group of the session led by `pid` (Linux autogroup): a program
    started in a session of its own is otherwise weighed like our whole process."""
    with contextlib.suppress(OSError), open(f"/proc/{pid}/autogroup", "w") as fh:
        fh.write(str(nice))


def background_pool(workers: int | None = None, name: str = "maestro-bg") -> ThreadPoolExecutor:
    """A thread pool whose threads (and the processes they start) run at lower priority."""
    return ThreadPoolExecutor(workers, thread_name_prefix=name, initializer=lower_this_thread)


def use_background_executor() -> None:
    """Make the running loop's default executor (`asyncio.to_thread`) a background pool.
    Once per loop; a default executor it had already is shut down once its work is done."""
    loop = asyncio.get_running_loop()
    if loop in _installed:
        return
    _installed.add(loop)
    previous = getattr(loop, "_default_executor", None)
    loop.set_default_executor(background_pool())
    if isinstance(previous, ThreadPoolExecutor):
        previous.shutdown(wait=False)
