"""The orchestrator's threads share two malloc arenas instead of one each (glibc)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from maestro_tui.process.malloc import ARENAS, limit_malloc_arenas

# Eight threads malloc at once, then glibc's malloc_info counts the arenas ("heaps").
PROBE = """
import ctypes, sys, threading
from maestro_tui.process.malloc import limit_malloc_arenas
if sys.argv[1] == "limited":
    assert limit_malloc_arenas()
libc = ctypes.CDLL(None)
libc.malloc.restype = libc.fopen.restype = ctypes.c_void_p
start = threading.Barrier(8)
def work():
    start.wait()
    for _ in range(200):
        libc.malloc(2048)
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
out = libc.fopen(sys.argv[2].encode(), b"w")
libc.malloc_info(0, ctypes.c_void_p(out))
libc.fclose(ctypes.c_void_p(out))
"""


def arenas(mode: str, tmp_path: Path) -> int:
    info = tmp_path / f"{mode}.xml"
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    subprocess.run([sys.executable, "-c", PROBE, mode, str(info)], env=env, check=True)
    return info.read_text().count("<heap nr=")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_threads_allocating_at_once_share_two_arenas(tmp_path: Path) -> None:
    unlimited = arenas("unlimited", tmp_path)
    if unlimited <= ARENAS:
        pytest.skip(f"the threads never contended here ({unlimited} arenas without a cap)")
    assert arenas("limited", tmp_path) <= ARENAS


def test_a_cap_the_user_chose_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    assert limit_malloc_arenas() is False
