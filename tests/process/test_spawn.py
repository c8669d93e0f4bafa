"""Programs start without stopping the event loop, and a start that is cancelled leaves no
process behind."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from maestro_tui.process.spawn import spawn
from tests.process.test_hostile_agents import gone

SLOW_START_S = 0.4


@pytest.fixture
def slow_starts(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
    """Every start waits SLOW_START_S first, as a start on a machine short of cores does
    (it returns only once the child has exec'd); records (pid, thread name)."""
    started: list[tuple[int, str]] = []
    real = subprocess.Popen

    def popen(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        time.sleep(SLOW_START_S)
        proc = real(*args, **kwargs)
        started.append((proc.pid, threading.current_thread().name))
        return proc

    monkeypatch.setattr(subprocess, "Popen", popen)  # what spawn starts its children with
    return started


def wait_for(ok: Any, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not ok() and time.monotonic() < deadline:
        time.sleep(0.05)
    return bool(ok())


async def ticks_during(coro: Any) -> tuple[Any, int]:
    """Run `coro`, counting 10 ms ticks of the loop meanwhile."""
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            await asyncio.sleep(0.01)
            ticks += 1

    running = asyncio.create_task(ticker())
    try:
        return await coro, ticks
    finally:
        stop.set()
        await running


async def test_the_loop_keeps_turning_while_a_program_starts(
    tmp_path: Path, slow_starts: list[tuple[int, str]]
) -> None:
    child, ticks = await ticks_during(
        spawn([sys.executable, "-c", "print('hi')"], cwd=tmp_path, env=None, stdin=False)
    )
    # A start on the loop's thread would have stopped every tick for SLOW_START_S.
    assert ticks >= SLOW_START_S / 0.01 / 2
    assert slow_starts[0][1] != threading.main_thread().name
    assert await child.stdout.read() == b"hi\n"
    assert await child.wait() == 0
    child.close()


async def test_a_start_cancelled_midway_leaves_no_process(
    tmp_path: Path, slow_starts: list[tuple[int, str]]
) -> None:
    starting = asyncio.create_task(
        spawn(["sleep", "30"], cwd=tmp_path, env=None, stdin=False)
    )  # fmt: skip
    await asyncio.sleep(SLOW_START_S / 4)
    starting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await starting
    # The start goes on in its thread: the program appears, then is stopped and reaped.
    await asyncio.to_thread(wait_for, lambda: bool(slow_starts))
    (pid, _), = slow_starts  # fmt: skip
    assert await asyncio.to_thread(wait_for, lambda: gone(pid)), "left running"


async def test_exit_codes_signals_and_stdin(tmp_path: Path) -> None:
    child = await spawn(["sh", "-c", "exit 3"], cwd=tmp_path, env=None, stdin=False)
    assert await child.wait() == 3 and child.returncode == 3
    child.close()

    child = await spawn(["sh", "-c", "kill -9 $$"], cwd=tmp_path, env=None, stdin=False)
    assert await child.wait() == -9
    child.close()

    child = await spawn(["cat"], cwd=tmp_path, env=None, stdin=True)
    child.send(b"x" * 300_000)  # more than a pipe holds: written as cat reads
    out = await child.stdout.read()
    assert out == b"x" * 300_000 and await child.wait() == 0
    child.close()


async def test_the_exit_is_seen_while_a_grandchild_still_holds_the_pipes(tmp_path: Path) -> None:
    child = await spawn(
        ["sh", "-c", "sleep 30 & echo $!"], cwd=tmp_path, env=None, stdin=False
    )  # fmt: skip
    grandchild = int((await child.stdout.readline()).decode())
    try:
        await asyncio.wait_for(child.exited.wait(), 5)
        assert child.returncode == 0 and not child.stdout.at_eof()
    finally:
        psutil.Process(grandchild).kill()
        child.close()


async def test_without_pidfds_a_thread_sees_the_exit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_pidfd(pid: int) -> int:
        raise OSError(38, "Function not implemented")  # a kernel older than 5.3

    monkeypatch.setattr(os, "pidfd_open", no_pidfd)  # what spawn waits on its children with
    child = await spawn(["sh", "-c", "exit 5"], cwd=tmp_path, env=None, stdin=False)
    assert await asyncio.wait_for(child.wait(), 10) == 5
    child.close()
