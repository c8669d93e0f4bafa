"""Fewer malloc arenas for the orchestrator's process, and fewer pauses of its collector.

glibc gives threads that allocate at the same time arenas of their own, up to eight per core.
A run has dozens of threads (file watchers in anyio's pool, git work, program starts), and
each arena keeps its freed memory: with 200 agents at work, 2-3 MB of the orchestrator's
peak (bench_scale). Most of the process's allocations are Python's own, under the GIL, so
the threads seldom contend for the two arenas left.
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys

ARENAS = 2
M_ARENA_MAX = -8  # glibc's malloc.h


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap the arenas threads created from now on may get. Does nothing where the C library
    is not glibc, or when the user chose a cap (MALLOC_ARENA_MAX); True if it was set."""
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    return bool(mallopt(M_ARENA_MAX, arenas))


# Objects allocated between young-generation collections (Python's default: 700). A run of
# 200 agents allocates fast; at 700 the collector ran full collections ~40 times a minute,
# each a pause of the event loop (bench_scale). At 10,000: twice.
GC_YOUNG_THRESHOLD = 10_000


def fewer_collections(young: int = GC_YOUNG_THRESHOLD) -> None:
    """Young collections every `young` allocations at least (the older generations follow);
    for a process whose event loop serves a person: the dashboard's, the engine's."""
    now, middle, old = gc.get_threshold()
    gc.set_threshold(max(young, now), middle, old)
