"""Run a program without a shell, stream its output by line, and kill its whole group on timeout."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

LineSink = Callable[[str, str], None]  # (line, stream)

# The environment a child gets when the caller passes none: enough to find programs and
# write temp files, nothing secret.
SAFE_ENV_KEYS = ("PATH", "HOME", "LANG", "LC_ALL", "TERM", "TMPDIR", "USER", "SHELL", "TZ")


def base_env(
    extra: Mapping[str, str] | None = None, passthrough: Sequence[str] = ()
) -> dict[str, str]:
    """An explicit environment: safe basics, the named variables, then `extra`."""
    env = {k: os.environ[k] for k in (*SAFE_ENV_KEYS, *passthrough) if k in os.environ}
    env.update(extra or {})
    return env


@dataclass(frozen=True)
class ProcessResult:
    exit_code: int | None  # None when it was killed on timeout
    timed_out: bool
    duration_s: float
    tail: str  # the last lines of stdout and stderr, interleaved as they came


class ProgramNotFound(FileNotFoundError):
    """The program of an argv is not installed (or not on PATH)."""


def resolve_program(argv: Sequence[str], env: Mapping[str, str] | None = None) -> str:
    program = argv[0]
    path = (env or {}).get("PATH", os.environ.get("PATH", ""))
    found = shutil.which(program, path=path) if os.sep not in program else program
    if not found or not Path(found).exists():
        raise ProgramNotFound(program)
    return found


async def run_streaming(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout_s: float | None = None,
    on_line: LineSink | None = None,
    tail_lines: int = 200,
    stdin: bytes | None = None,
) -> ProcessResult:
    """Run `argv` in its own process group; cancellation and timeout kill the group."""
    resolve_program(argv, env)
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=str(cwd),
        env=dict(env) if env is not None else None,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    tail: deque[str] = deque(maxlen=tail_lines)

    async def pump(stream: asyncio.StreamReader | None, name: str) -> None:
        if stream is None:
            return
        while True:
            raw = await stream.readline()
            if not raw:
                return
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            tail.append(line)
            if on_line:
                on_line(line, name)

    async def feed() -> None:
        if stdin is not None and proc.stdin:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                proc.stdin.write(stdin)
                await proc.stdin.drain()
                proc.stdin.close()

    async def whole() -> int:
        await asyncio.gather(feed(), pump(proc.stdout, "stdout"), pump(proc.stderr, "stderr"))
        return await proc.wait()

    timed_out = False
    try:
        code: int | None = await asyncio.wait_for(whole(), timeout_s)
    except TimeoutError:
        timed_out = True
        code = None
        await kill_group(proc)
    except BaseException:
        await kill_group(proc)
        raise
    return ProcessResult(code, timed_out, time.monotonic() - started, "\n".join(tail))


async def kill_group(proc: asyncio.subprocess.Process, grace_s: float = 2.0) -> None:
    """SIGTERM the process group, then SIGKILL whatever is left after a grace period."""
    if proc.returncode is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # children it left behind
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(asyncio.shield(proc.wait()), grace_s)
    except TimeoutError:
        pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(proc.wait(), grace_s)
