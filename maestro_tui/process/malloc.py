"""Fewer malloc arenas for the orchestrator's process.

glibc gives threads that allocate at the same time arenas of their own, up to eight per core.
A run has dozens of threads (file watchers in anyio's pool, git work, program starts), and
each arena keeps its freed memory: with 200 agents at work, 2-3 MB of the orchestrator's
peak (bench_scale). Most of the process's allocations are Python's own, under the GIL, so
the threads seldom contend for the two arenas left.
"""

from __future__ import annotations

import ctypes
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
