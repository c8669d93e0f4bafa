"""Starting a program without stopping the event loop while it starts.

asyncio starts a subprocess on the event loop's own thread, and a start returns only once
the child has called exec. On a busy machine the child waits for a core first: with 200
agents and their tests on two cores, starts took p95 20 ms and up to 90 ms, 4 s of a 45 s
run in all, during which no other agent moved and the dashboard took no key. Here the start
runs in a worker thread (it waits without the GIL), then the pipes are handed to the loop as
asyncio streams, and the exit is watched through a pidfd: nothing blocks the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from maestro_tui.process.priority import background_pool, lower_session

# Starts only, each a few ms: a pool of its own, so they never queue behind git work in the
# default executor. The programs run at background priority (priority.py).
_STARTERS = 4
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _starter_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = background_pool(_STARTERS, "maestro-start")
        return _pool


def _forget_pool() -> None:
    global _pool
    _pool = None  # a forked child has none of the threads: it starts its own pool


os.register_at_fork(after_in_child=_forget_pool)


class Child:
    """A running program: its output as asyncio streams, its exit as an event."""

    def __init__(
        self,
        popen: subprocess.Popen[bytes],
        stdout: asyncio.StreamReader,
        stderr: asyncio.StreamReader,
        transports: list[asyncio.BaseTransport],
        stdin: asyncio.WriteTransport | None,
    ) -> None:
        self._popen = popen
        self.pid = popen.pid
        self.stdout = stdout
        self.stderr = stderr
        self._transports = transports
        self._stdin = stdin
        self.exited = asyncio.Event()
        _watch_exit(popen, self.exited)

    @property
    def returncode(self) -> int | None:
        """The exit code once it has exited (−N when a signal N ended it), else None."""
        return self._popen.returncode if self.exited.is_set() else None

    async def wait(self) -> int:
        await self.exited.wait()
        code = self._popen.returncode
        assert code is not None
        return code

    def send(self, data: bytes) -> None:
        """Write `data` to its stdin and close it; written as fast as the program reads, and
        dropped if it exits first."""
        if self._stdin is not None:
            self._stdin.write(data)
            self._stdin.close()
            self._stdin = None

    def close(self) -> None:
        """Close our ends of its pipes."""
        for transport in self._transports:
            transport.close()


async def spawn(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None,
    stdin: bool,
    pass_fds: Sequence[int] = (),
) -> Child:
    """Start `argv` in a session of its own (its process group is its pid), stdout and stderr
    piped; stdin piped when `stdin`, else /dev/null."""
    loop = asyncio.get_running_loop()

    def start() -> subprocess.Popen[bytes]:
        popen = subprocess.Popen(
            list(argv),
            cwd=str(cwd),
            env=dict(env) if env is not None else None,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            pass_fds=tuple(pass_fds),
        )
        lower_session(popen.pid)  # its session is a scheduling group of its own (priority.py)
        return popen

    started = loop.run_in_executor(_starter_pool(), start)
    try:
        popen = await asyncio.shield(started)
    except asyncio.CancelledError:
        started.add_done_callback(_stop_orphan)  # it may start after all: stop it then
        raise
    try:
        return await _connect(loop, popen)
    except BaseException:
        _stop(popen)
        raise


async def _connect(loop: asyncio.AbstractEventLoop, popen: subprocess.Popen[bytes]) -> Child:
    transports: list[asyncio.BaseTransport] = []
    readers = []
    for pipe in (popen.stdout, popen.stderr):
        reader = asyncio.StreamReader(limit=1 << 16, loop=loop)
        transport, _ = await loop.connect_read_pipe(
            partial(asyncio.StreamReaderProtocol, reader), pipe
        )
        transports.append(transport)
        readers.append(reader)
    stdin: asyncio.WriteTransport | None = None
    if popen.stdin is not None:
        stdin, _ = await loop.connect_write_pipe(asyncio.Protocol, popen.stdin)
        transports.append(stdin)
    return Child(popen, readers[0], readers[1], transports, stdin)


def _watch_exit(popen: subprocess.Popen[bytes], exited: asyncio.Event) -> None:
    """Set `exited` once the process has exited and been reaped."""
    loop = asyncio.get_running_loop()
    try:
        fd = os.pidfd_open(popen.pid)
    except (AttributeError, OSError):  # no pidfd (kernel < 5.3): a thread waits instead

        def wait() -> None:
            popen.wait()
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(exited.set)

        threading.Thread(target=wait, name=f"maestro-wait-{popen.pid}", daemon=True).start()
        return

    def readable() -> None:
        if popen.poll() is None:  # pidfds are readable at exit only; be sure
            return
        loop.remove_reader(fd)
        os.close(fd)
        exited.set()

    loop.add_reader(fd, readable)


def _stop(popen: subprocess.Popen[bytes]) -> None:
    """Kill a program we will not follow, and reap it in the background."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(popen.pid, signal.SIGKILL)
    for pipe in (popen.stdin, popen.stdout, popen.stderr):
        if pipe is not None:
            pipe.close()
    threading.Thread(target=popen.wait, name=f"maestro-reap-{popen.pid}", daemon=True).start()


def _stop_orphan(started: asyncio.Future[subprocess.Popen[bytes]]) -> None:
    if not started.cancelled() and started.exception() is None:
        _stop(started.result())
