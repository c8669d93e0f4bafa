"""The store's end of the writer process (writer.py): start it, send requests, await replies.

Everything here runs on the event loop: the pipes are asyncio's, so sending a batch costs
the loop a pickle and a write into the pipe's buffer, and no thread ever waits for the GIL.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import fcntl
import pickle
import sqlite3
import sys
from pathlib import Path
from typing import Any

from maestro_tui.store import bulk
from maestro_tui.store.writer import HEADER, frame

# -P: the directory the user started in is not put on sys.path, so a stray `sqlite3.py`
# there cannot stand in for the real one.
_BOOT = "from maestro_tui.store.writer import main; main()"
PIPE_BYTES = 1 << 20  # Linux's default limit for a pipe an unprivileged user sizes
_STDERR_KEPT = 4000  # characters of a dead writer's stderr quoted in the error


class WriterError(Exception):
    """A request failed in the writer process; `kind` names the exception it raised there."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}" if message else kind)
        self.kind, self.message = kind, message


class WriterGone(Exception):
    """The writer process ended before it answered."""


class WriterHandle:
    """One writer process. `request` sends and awaits the reply; `close` ends it."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self._proc = proc
        self._replies: collections.deque[asyncio.Future[Any]] = collections.deque()
        self._gone: WriterGone | None = None
        self._reader = asyncio.get_running_loop().create_task(
            self._read_replies(), name=f"maestro-store-replies:{proc.pid}"
        )

    @property
    def pid(self) -> int:
        return self._proc.pid

    @classmethod
    async def start(cls, path: Path, max_vars: int) -> WriterHandle:
        flag = "1" if bulk.UPDATE_FROM else "0"
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-P",
            "-c",
            _BOOT,
            str(path),
            str(max_vars),
            flag,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _widen(proc.stdin)
        return cls(proc)

    def send(self, kind: str, body: Any) -> asyncio.Future[Any]:
        """Send one request now; the future gets its value or its WriterError/WriterGone."""
        reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self._gone is not None:
            reply.set_exception(self._gone)
            return reply
        stdin = self._proc.stdin
        assert stdin is not None
        self._replies.append(reply)
        stdin.write(frame((kind, body)))
        return reply

    async def drain(self) -> None:
        """Wait until the pipe has taken what was sent (the loop holds the rest meanwhile)."""
        stdin = self._proc.stdin
        assert stdin is not None
        with contextlib.suppress(ConnectionError):  # the reply says what became of it
            await stdin.drain()

    async def request(self, kind: str, body: Any) -> Any:
        reply = self.send(kind, body)
        await self.drain()
        return await reply

    async def _read_replies(self) -> None:
        stdout = self._proc.stdout
        assert stdout is not None
        try:
            while True:
                (size,) = HEADER.unpack(await stdout.readexactly(HEADER.size))
                reply = pickle.loads(await stdout.readexactly(size))  # noqa: S301 - our child
                waiter = self._replies.popleft()
                if waiter.done():
                    continue
                if reply[0] == "ok":
                    waiter.set_result(reply[1])
                else:
                    waiter.set_exception(_error(reply[1], reply[2]))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        self._gone = await self._why_gone()
        while self._replies:
            waiter = self._replies.popleft()
            if not waiter.done():
                waiter.set_exception(self._gone)

    async def _why_gone(self) -> WriterGone:
        code = await self._proc.wait()
        err = b""
        if self._proc.stderr is not None:
            with contextlib.suppress(Exception):
                err = await self._proc.stderr.read()
        tail = err.decode(errors="replace").strip()[-_STDERR_KEPT:]
        how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
        return WriterGone(f"the database writer process {how}" + (f": {tail}" if tail else ""))

    async def close(self) -> None:
        """End the process once it has answered everything sent, and wait for it."""
        stdin = self._proc.stdin
        if stdin is not None and not stdin.is_closing():
            stdin.close()
            with contextlib.suppress(ConnectionError):
                await stdin.wait_closed()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        await self._proc.wait()


def _widen(stdin: asyncio.StreamWriter | None) -> None:
    """Let the pipe hold a whole batch (~300 KB for 2000 rows): the loop then hands it over in
    one write instead of 64 KB a turn (Linux; elsewhere, or above the system's limit, the
    pipe keeps its size)."""
    setsize = getattr(fcntl, "F_SETPIPE_SZ", None)
    pipe = stdin.get_extra_info("pipe") if stdin is not None else None
    if setsize is None or pipe is None:
        return
    with contextlib.suppress(OSError):
        fcntl.fcntl(pipe.fileno(), setsize, PIPE_BYTES)


def _error(kind: str, message: str) -> Exception:
    """The writer's exception, as the same sqlite3 class where it was one."""
    cls = getattr(sqlite3, kind, None)
    if isinstance(cls, type) and issubclass(cls, sqlite3.Error):
        return cls(message)
    return WriterError(kind, message)
