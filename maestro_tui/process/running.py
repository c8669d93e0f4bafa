"""Run a program without a shell and stream its output by line, surviving what agents do.

- Lines of any length (a 5 MB line, invalid UTF-8) reach `on_line` whole; only the tail kept
  for error messages is shortened.
- The program runs under the reaper (reaper.py): when it exits, whatever it left running is
  stopped, even processes that left its process group, and named in `ProcessResult.stopped`.
- When the main process has exited, its pipes get a short grace, then we stop waiting on
  them: a process that escaped the reaper cannot hold a run open.
- A timeout, a cancellation or a stall (no output for `stall_s`) stops the whole group.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from maestro_tui.process.lines import LineSplitter, decode, shorten
from maestro_tui.process.programs import resolve_program
from maestro_tui.process.sandbox import Sandbox
from maestro_tui.process.spawn import Child, spawn

LineSink = Callable[[str, str], None]  # (line, stream)
StallSink = Callable[[float], None]  # seconds of silence

REAPER = Path(__file__).with_name("reaper.py")
READ_CHUNK = 1 << 16
EXIT_GRACE_S = 2.0  # how long the pipes may stay open after the main process exited
STOP_GRACE_S = 2.0  # between SIGTERM and SIGKILL


@dataclass(frozen=True)
class ProcessResult:
    exit_code: int | None  # None when we stopped it (timeout, stall)
    timed_out: bool
    duration_s: float
    tail: str  # the last lines of stdout and stderr, interleaved as they came (shortened)
    stalled: bool = False  # stopped after `stall_s` without output
    # "PID COMMAND" of each process stopped because the program left it running (or because
    # we stopped the program: then the program itself too).
    stopped: tuple[str, ...] = field(default=())


def _under_reaper(program: str, argv: Sequence[str], report_fd: int) -> list[str]:
    return [
        sys.executable, "-I", "-S", str(REAPER), str(report_fd), str(STOP_GRACE_S / 2), "--",
        program, *argv[1:],
    ]  # fmt: skip


async def run_streaming(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout_s: float | None = None,
    on_line: LineSink | None = None,
    tail_lines: int = 200,
    stdin: bytes | None = None,
    stall_s: float | None = None,
    on_stall: StallSink | None = None,
    sandbox: Sandbox | None = None,
) -> ProcessResult:
    """Run `argv` in its own session under the reaper (and in `sandbox`, when given);
    cancellation, timeout and a stall stop everything it started."""
    program = resolve_program(argv, env)
    if sandbox is None:
        return await _run(
            [program, *argv[1:]], cwd, env, timeout_s, on_line, tail_lines, stdin, stall_s,
            on_stall,
        )  # fmt: skip
    outside = os.environ if env is None else env
    async with sandbox.confined([program, *argv[1:]], cwd, outside) as (confined, inside):
        return await _run(
            confined, cwd, inside, timeout_s, on_line, tail_lines, stdin, stall_s, on_stall
        )


async def _run(
    argv: Sequence[str],
    cwd: Path,
    env: Mapping[str, str] | None,
    timeout_s: float | None,
    on_line: LineSink | None,
    tail_lines: int,
    stdin: bytes | None,
    stall_s: float | None,
    on_stall: StallSink | None,
) -> ProcessResult:
    program = argv[0]  # found already
    started = time.monotonic()
    report_r, report_w = os.pipe()
    try:
        proc = await spawn(
            _under_reaper(program, argv, report_w),
            cwd=cwd,
            env=env,
            stdin=stdin is not None,
            pass_fds=(report_w,),
        )
    except BaseException:
        os.close(report_r)
        raise
    finally:
        os.close(report_w)
    run = _Run(proc, on_line, tail_lines)
    timed_out = stalled = False
    code: int | None = None
    try:
        async with asyncio.timeout(timeout_s):
            code, stalled = await run.until_done(stdin, stall_s, on_stall)
    except TimeoutError:
        timed_out = True
    except BaseException:
        await kill_group(proc, run.exited)
        run.close()
        os.close(report_r)
        raise
    if code is None:
        await kill_group(proc, run.exited)
    run.close()
    stopped = await asyncio.to_thread(_read_report, report_r)
    return ProcessResult(
        exit_code=code,
        timed_out=timed_out,
        duration_s=time.monotonic() - started,
        tail="\n".join(run.tail),
        stalled=stalled,
        stopped=stopped,
    )


class _Run:
    """The pumps, the exit watch and the stall watch of one process."""

    def __init__(self, proc: Child, on_line: LineSink | None, tail_lines: int) -> None:
        self.proc = proc
        self.exited = proc.exited
        self.on_line = on_line
        self.tail: deque[str] = deque(maxlen=tail_lines)
        self.last_output = time.monotonic()
        self._pumps: list[asyncio.Task[None]] = []

    async def until_done(
        self, stdin: bytes | None, stall_s: float | None, on_stall: StallSink | None
    ) -> tuple[int | None, bool]:
        """(exit code, stalled): None and True when it went silent for `stall_s`."""
        proc = self.proc
        self._pumps = [
            asyncio.create_task(self._pump(proc.stdout, "stdout")),
            asyncio.create_task(self._pump(proc.stderr, "stderr")),
        ]
        if stdin is not None:
            proc.send(stdin)
        exited = asyncio.create_task(self.exited.wait())
        watch = asyncio.create_task(self._stall_watch(stall_s)) if stall_s else None
        try:
            waiting = {exited, *([watch] if watch else [])}
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if watch is not None and watch in done and exited not in done:
                if on_stall is not None:
                    on_stall(watch.result())
                return None, True
            code = proc.returncode
            # The main process is gone; what it left holding the pipes gets a short grace: the
            # pipes are read for as long as output keeps coming, and no longer than that.
            while True:
                _, pending = await asyncio.wait(self._pumps, timeout=EXIT_GRACE_S)
                if not pending or time.monotonic() - self.last_output >= EXIT_GRACE_S:
                    return code, False
        finally:
            for task in (exited, watch):
                if task is not None and not task.done():
                    task.cancel()

    async def _pump(self, stream: asyncio.StreamReader | None, name: str) -> None:
        if stream is None:
            return
        splitter = LineSplitter()
        while True:
            data = await stream.read(READ_CHUNK)
            if not data:
                last = splitter.flush()
                if last is not None:
                    self._line(decode(last), name)
                return
            self.last_output = time.monotonic()
            for raw in splitter.feed(data):
                self._line(decode(raw), name)

    def _line(self, line: str, stream: str) -> None:
        self.tail.append(shorten(line))
        if self.on_line:
            self.on_line(line, stream)

    async def _stall_watch(self, stall_s: float) -> float:
        """Returns the silence, in seconds, once there has been no output for `stall_s`."""
        while True:
            silent = time.monotonic() - self.last_output
            if silent >= stall_s:
                return silent
            await asyncio.sleep(stall_s - silent)

    def close(self) -> None:
        """Stop reading: cancel the pumps and close the pipes."""
        for pump in self._pumps:
            pump.cancel()
        self.proc.close()


def _read_report(fd: int) -> tuple[str, ...]:
    """The reaper's report: one "PID COMMAND" per process it stopped."""
    chunks = []
    try:
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    finally:
        os.close(fd)
    text = b"".join(chunks).decode("utf-8", "replace")
    return tuple(line for line in text.splitlines() if line.strip())


async def kill_group(
    proc: Child,
    exited: asyncio.Event | None = None,
    grace_s: float = STOP_GRACE_S,
) -> None:
    """SIGTERM the process group (the reaper then stops everything below it, wherever it
    went), then SIGKILL whatever is left after a grace period."""
    if proc.returncode is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # children it left behind
        return
    gone = exited.wait() if exited is not None else proc.wait()
    waiting = asyncio.ensure_future(gone)
    try:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(waiting), grace_s)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(waiting), grace_s)
    finally:
        waiting.cancel()
